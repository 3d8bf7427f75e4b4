"""Pid files: one daemon per run directory, and finding that daemon again.

A daemon holds an exclusive lock on its pid file for its whole life, so a
second one started on the same directories refuses at once, and a pid file
left by a killed daemon (nobody holds its lock) never stops a new start. A
clean stop removes the file, only if it is still the one this process
locked. `stop` signals the daemon a pid file names, after checking that the
process is that daemon: a stale file whose pid now belongs to another
program or user is never signalled.
"""

from __future__ import annotations

import fcntl
import os
import signal
import time
from pathlib import Path

STOP_TIMEOUT = 10.0


class AlreadyRunning(Exception):
    """Another daemon holds this pid file."""


class PidFile:
    """A pid file this process holds locked, and removes when it stops."""

    def __init__(self, path: Path, fd: int) -> None:
        self.path = path
        self.fd = fd
        st = os.fstat(fd)
        self.inode = (st.st_dev, st.st_ino)

    @classmethod
    def hold(cls, path: Path, what: str) -> PidFile:
        """Lock `path` and write this process's pid in it; AlreadyRunning if another holds it.

        `what` names the daemon in the error: "another master (pid 12) is running in DIR".
        """
        for _ in range(5):
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                pid = os.read(fd, 32).decode(errors="replace").strip()
                os.close(fd)
                raise AlreadyRunning(
                    f"another {what} (pid {pid or '?'}) is running in {path.parent}"
                ) from None
            held = cls(path, fd)
            if held._still_named():
                os.ftruncate(fd, 0)
                os.write(fd, f"{os.getpid()}\n".encode())
                return held
            # The daemon that held it stopped and removed it between our open
            # and our lock: lock the file the path names now.
            os.close(fd)
        raise AlreadyRunning(f"cannot lock {path}: it keeps being replaced")

    def _still_named(self) -> bool:
        try:
            st = os.stat(self.path, follow_symlinks=False)
        except FileNotFoundError:
            return False
        return (st.st_dev, st.st_ino) == self.inode

    def release(self) -> None:
        """Remove the pid file (if the path still names ours) and unlock it."""
        if self.fd < 0:
            return
        if self._still_named():
            os.unlink(self.path)
        os.close(self.fd)
        self.fd = -1


def read_pid(path: Path) -> int | None:
    """The pid a pid file names; None if there is no file or no number in it."""
    try:
        text = path.read_text(errors="replace").strip()
    except (FileNotFoundError, NotADirectoryError):
        return None
    # Bounded: a pid file with a huge number must not crash os.kill.
    return int(text) if text.isdigit() and 0 < int(text) < 2**31 else None


def running(pid: int) -> bool:
    """Whether process `pid` exists and has not exited (a zombie has)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # exists, another user's
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    # The state follows the command name, which is in parentheses and may hold spaces.
    return stat.rsplit(")", 1)[-1].split()[:1] != ["Z"]


def not_the_daemon(pid: int, kind: str, owner: int, unknown_ok: bool = False) -> str | None:
    """Why process `pid` is not the `kind` daemon run by uid `owner`; None if it is.

    A process that cannot be inspected (/proc hidden) counts as not the
    daemon, unless `unknown_ok`.
    """
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None if unknown_ok else f"process {pid} cannot be inspected"
    if not any(kind.encode() in arg for arg in argv):
        return f"process {pid} is not a saline {kind}"
    uids = [line.split()[1] for line in status.splitlines() if line.startswith("Uid:")]
    if uids != [str(owner)]:
        return f"process {pid} belongs to another user than its pid file"
    return None


def running_daemon(kind: str, path: Path) -> int | None:
    """The pid of the running `kind` daemon that pid file `path` names, else None."""
    pid = read_pid(path)
    if pid is None or not running(pid):
        return None
    try:
        owner = path.stat().st_uid
    except OSError:
        return None
    return None if not_the_daemon(pid, kind, owner) else pid


def stop(kind: str, path: Path, timeout: float = STOP_TIMEOUT) -> tuple[int, str]:
    """SIGTERM the `kind` daemon `path` names and wait until it is gone: (exit code, line).

    Exit code 0 once it has stopped; 1 if it was not running, is not the
    daemon, could not be signalled or outlived `timeout`.
    """
    pid = read_pid(path)
    if pid is None:
        return 1, f"the {kind} is not running (no pid file at {path})"
    if not running(pid):
        return 1, f"the {kind} is not running (no process {pid})"
    why = not_the_daemon(pid, kind, path.stat().st_uid)
    if why is not None:
        return 1, f"{why}; not stopping it (is {path} stale?)"
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return 0, f"{kind} stopped (pid {pid})"
    except PermissionError:
        return 1, f"cannot stop the {kind} (pid {pid}): not permitted; run as its user or root"
    deadline = time.monotonic() + timeout
    while running(pid):
        if time.monotonic() > deadline:
            return 1, f"the {kind} (pid {pid}) did not stop within {timeout:g} s"
        time.sleep(0.05)
    return 0, f"{kind} stopped (pid {pid})"
