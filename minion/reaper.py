"""A watchdog that ends a minion's running commands when the minion dies.

Each command runs in its own process group (session). The reaper is a small
separate process told, over a pipe, which groups are live. When the pipe
closes (the minion exited, or was killed with SIGKILL and could clean up
nothing itself), it sends SIGTERM to every live group, and SIGKILL to what
is left after a short grace, so no job's children outlive the minion.
"""

from __future__ import annotations

import contextlib
import logging
import subprocess
import sys
import threading

log = logging.getLogger(__name__)

GRACE_SECONDS = 2.0

# Run with `python -I -S -c`: nothing from the project or site-packages, so
# it starts fast and cannot be broken by what the minion loads.
SCRIPT = r"""
import os, signal, sys, time
groups = set()
for line in sys.stdin.buffer:
    op, _, num = line.strip().partition(b" ")
    if num.isdigit():
        (groups.add if op == b"+" else groups.discard)(int(num))
def alive(g):
    try:
        os.killpg(g, 0)
        return True
    except OSError:
        return False
for g in list(groups):
    try:
        os.killpg(g, signal.SIGTERM)
    except OSError:
        groups.discard(g)
deadline = time.monotonic() + float(sys.argv[1])
while groups and time.monotonic() < deadline:
    groups = {g for g in groups if alive(g)}
    time.sleep(0.05)
for g in groups:
    try:
        os.killpg(g, signal.SIGKILL)
    except OSError:
        pass
"""


class Reaper:
    """The watchdog process, started on first use; thread-safe."""

    def __init__(self, grace: float = GRACE_SECONDS) -> None:
        self.grace = grace
        self._proc: subprocess.Popen[bytes] | None = None
        self._lock = threading.Lock()

    def watch(self, pgid: int) -> None:
        """Have process group `pgid` killed if this process dies before `unwatch`."""
        self._send(f"+ {pgid}\n")

    def unwatch(self, pgid: int) -> None:
        self._send(f"- {pgid}\n")

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    def _send(self, line: str) -> None:
        with self._lock:
            proc = self._proc
            if proc is None or proc.poll() is not None:
                proc = self._proc = self._start()
            if proc is None or proc.stdin is None:
                return
            try:
                proc.stdin.write(line.encode())
                proc.stdin.flush()
            except OSError as exc:
                log.warning("command reaper: %s; commands may outlive the minion", exc)

    def _start(self) -> subprocess.Popen[bytes] | None:
        try:
            # Its own session: a signal to the minion's group (Ctrl-C) does
            # not take the reaper with it before it has done its work.
            return subprocess.Popen(
                [sys.executable, "-I", "-S", "-c", SCRIPT, str(self.grace)],
                stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                start_new_session=True,
            )
        except OSError as exc:
            log.warning("cannot start the command reaper: %s; commands may outlive the minion",
                        exc)
            return None

    def close(self) -> None:
        """Close the pipe: the reaper ends the groups still live, then exits."""
        with self._lock:
            if self._proc is not None and self._proc.stdin is not None:
                with contextlib.suppress(OSError):
                    self._proc.stdin.close()
