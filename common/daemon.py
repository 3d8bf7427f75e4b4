"""Running a daemon in the background (`start -d`) and saying when it is up.

`detach` forks twice (the daemon is no session leader, so it can never get
a terminal back), moves to ``/`` and points stdin and stdout at /dev/null.
Until the daemon calls `ready`, its stderr is a pipe to the command that
started it: that command prints the first error if the daemon dies while
starting (a port in use, a bad key file) and exits 1, or exits 0 once the
daemon says it is up. From then on stderr is /dev/null too and the daemon
logs only to its log file. `ready` also tells systemd (``Type=notify``).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import select
import socket
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from common import logs, pidfile

READY = b"\0ready\n"
PID_TAG = b"\0pid "
START_TIMEOUT = 60.0
_TEXT_LINE = re.compile(r"^\S+ \S+ \[(\w+)\s*\] [\w.]+: (.*)$")

_detached = False


@dataclass
class Start:
    """What the starting command saw: ``ready``, ``exited`` or ``timeout``."""

    outcome: str
    pid: int | None = None
    lines: list[str] = field(default_factory=list)


class Starting:
    """The starting command's end of a detached daemon's start-up pipe."""

    def __init__(self, fd: int, child: int) -> None:
        self.fd = fd
        self.child = child

    def wait(self, timeout: float = START_TIMEOUT) -> Start:
        """Read the pipe until the daemon is ready, has exited or `timeout` passed."""
        with contextlib.suppress(ChildProcessError):
            os.waitpid(self.child, 0)  # the first child, which exits at once
        buf, outcome = b"", "timeout"
        deadline = time.monotonic() + timeout
        try:
            while READY not in buf:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                if not select.select([self.fd], [], [], left)[0]:
                    continue
                chunk = os.read(self.fd, 65536)
                if not chunk:
                    outcome = "exited"
                    break
                buf += chunk
            else:
                outcome = "ready"
        finally:
            os.close(self.fd)
        return _parse_start(outcome, buf)


def detach() -> Starting | None:
    """Fork into the background: None in the daemon, what to wait on in the caller."""
    global _detached
    sys.stdout.flush()
    sys.stderr.flush()
    read_end, write_end = os.pipe()
    child = os.fork()
    if child:
        os.close(write_end)
        return Starting(read_end, child)
    try:
        os.close(read_end)
        os.setsid()
        if os.fork():
            os._exit(0)  # the first child ends; the daemon is adopted by init
        os.chdir("/")
        os.umask(0o022)
        null = os.open(os.devnull, os.O_RDWR)
        os.dup2(null, 0)
        os.dup2(null, 1)
        os.dup2(write_end, 2)
        os.close(null)
        os.close(write_end)
        os.write(2, PID_TAG + f"{os.getpid()}\n".encode())
    except BaseException as exc:  # never return into the caller's code from a child
        with contextlib.suppress(OSError):
            os.write(2, f"cannot detach: {exc}\n".encode())
        os._exit(1)
    _detached = True
    return None


def refuse_second(kind: str, pid_path: Path) -> bool:
    """True, said on stderr, when a `kind` daemon already runs from `pid_path`."""
    pid = pidfile.running_daemon(kind, pid_path)
    if pid is not None:
        print(f"{kind}: error: the {kind} is already running (pid {pid})", file=sys.stderr)
    return pid is not None


def background(wanted: bool) -> Start | None:
    """With `wanted` (`start -d`), go to the background: how the start went, in the caller.

    None in the daemon itself, and when `wanted` is false (a foreground start).
    """
    starting = detach() if wanted else None
    return starting.wait() if starting is not None else None


def stop_command(kind: str, pid_path: Path) -> int:
    """`kind stop`: stop the daemon `pid_path` names and say how it went; the exit code."""
    code, line = pidfile.stop(kind, pid_path)
    print(line if not code else f"{kind}: {line}", file=sys.stderr if code else sys.stdout)
    return code


def _parse_start(outcome: str, buf: bytes) -> Start:
    start = Start(outcome)
    for raw in buf.split(b"\n"):
        if raw.startswith(PID_TAG):
            start.pid = int(raw[len(PID_TAG):])
        elif raw.strip() and not raw.startswith(b"\0"):
            start.lines.append(raw.decode(errors="replace"))
    return start


def ready() -> None:
    """Say this daemon is up: to `start -d` (then stderr goes to /dev/null) and to systemd."""
    global _detached
    _notify_systemd(b"READY=1")
    if not _detached:
        return
    _detached = False
    logs.drop_console()
    sys.stderr.flush()
    with contextlib.suppress(OSError):
        os.write(2, READY)
    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, 2)
    os.close(null)


def _notify_systemd(message: bytes) -> None:
    # sd_notify(3) without libsystemd: one datagram to $NOTIFY_SOCKET, which
    # is removed so that commands the daemon runs do not inherit it.
    address = os.environ.pop("NOTIFY_SOCKET", "")
    if not address:
        return
    if address.startswith("@"):
        address = "\0" + address[1:]
    with contextlib.suppress(OSError), socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.connect(address)
        sock.sendall(message)


def parse_line(line: str) -> tuple[str, str]:
    """(level, message) of one line the daemon wrote while starting; level "" if unknown."""
    if line.startswith("{"):
        with contextlib.suppress(ValueError, AttributeError):
            record = json.loads(line)
            return str(record.get("level", "")), str(record.get("message", line))
    match = _TEXT_LINE.match(line)
    if match:
        return match.group(1), match.group(2)
    head, sep, rest = line.partition(": error: ")
    if sep and " " not in head:
        return "ERROR", rest
    return "", line


def first_error(lines: list[str]) -> str | None:
    """The line that best says why a daemon did not start: its first error, else its last line."""
    for line in lines:
        level, message = parse_line(line)
        if level in ("ERROR", "CRITICAL"):
            return message
    return lines[-1].strip() if lines else None


def report(kind: str, start: Start, log_file: str | None) -> int:
    """Print how `start -d` went (one line) and return the exit code."""
    where = f"; see {log_file}" if log_file else ""
    if start.outcome == "ready":
        for line in start.lines:
            level, message = parse_line(line)
            if level in ("WARNING", "ERROR", "CRITICAL"):
                print(f"{kind}: {level.lower()}: {message}", file=sys.stderr)
        print(f"{kind} started in the background (pid {start.pid}); log: {log_file or 'none'}")
        return 0
    if start.outcome == "timeout":
        print(f"{kind}: error: still not up (pid {start.pid}){where}", file=sys.stderr)
        return 1
    why = first_error(start.lines) or "the daemon exited while starting"
    print(f"{kind}: error: {why}{where}", file=sys.stderr)
    return 1
