"""Running commands: the real subprocess runner and a fake for tests."""

from __future__ import annotations

import contextlib
import dataclasses
import os
import pwd
import signal
import subprocess
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Protocol

from minion.reaper import Reaper


@dataclasses.dataclass
class CommandResult:
    """What a finished (or timed-out) command left behind."""

    stdout: str
    stderr: str
    retcode: int
    pid: int = 0
    timed_out: bool = False


class CommandRunner(Protocol):
    def run(
        self,
        cmd: str | Sequence[str],
        *,
        shell: bool | str = False,
        cwd: str | None = None,
        env: Mapping[str, str] | None = None,
        stdin: str | None = None,
        timeout: float | None = None,
        runas: str | None = None,
    ) -> CommandResult: ...


def _demote(user: str) -> tuple[Callable[[], None], dict[str, str]]:
    """Return a pre-exec function dropping to `user`, and that user's HOME/USER."""
    try:
        pw = pwd.getpwnam(user)
    except KeyError:
        raise ValueError(f"runas: no such user {user!r}") from None

    def demote() -> None:
        os.initgroups(pw.pw_name, pw.pw_gid)
        os.setgid(pw.pw_gid)
        os.setuid(pw.pw_uid)

    return demote, {"HOME": pw.pw_dir, "USER": pw.pw_name, "LOGNAME": pw.pw_name}


class SubprocessRunner:
    """Run commands for real with subprocess; output is kept even on timeout."""

    def __init__(self) -> None:
        # Each live command and the thread (job) that started it.
        self._live: dict[subprocess.Popen[bytes], int] = {}
        self._lock = threading.Lock()
        # Each command is its own process group, which the reaper kills if
        # this process dies first (even by SIGKILL).
        self.reaper = Reaper()

    def terminate_all(self, thread: int | None = None) -> int:
        """Kill the process groups of running commands (all, or one job thread's)."""
        with self._lock:
            procs = [p for p, t in self._live.items() if thread is None or t == thread]
        for proc in procs:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
        return len(procs)

    def run(
        self,
        cmd: str | Sequence[str],
        *,
        shell: bool | str = False,
        cwd: str | None = None,
        env: Mapping[str, str] | None = None,
        stdin: str | None = None,
        timeout: float | None = None,
        runas: str | None = None,
    ) -> CommandResult:
        full_env = dict(os.environ)
        preexec = None
        if runas:
            preexec, user_env = _demote(runas)
            full_env.update(user_env)
        if env:
            full_env.update({str(k): str(v) for k, v in env.items()})
        if shell:
            shell_path = shell if isinstance(shell, str) else "/bin/sh"
            line = cmd if isinstance(cmd, str) else " ".join(cmd)
            argv: list[str] = [shell_path, "-c", line]
        else:
            import shlex

            argv = shlex.split(cmd) if isinstance(cmd, str) else list(cmd)
        try:
            proc = subprocess.Popen(
                argv,
                cwd=cwd,
                env=full_env,
                stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                preexec_fn=preexec,
                start_new_session=True,
            )
        except (OSError, ValueError) as exc:
            return CommandResult("", f"{argv[0]}: {exc}", 127)
        with self._lock:
            self._live[proc] = threading.get_ident()
        self.reaper.watch(proc.pid)
        try:
            data = stdin.encode() if stdin is not None else None
            out, err = proc.communicate(data, timeout=timeout)
            timed_out = False
        except subprocess.TimeoutExpired:
            # Kill the whole process group so children of a shell die too,
            # then collect whatever was printed before the deadline.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, 9)
            out, err = proc.communicate()
            timed_out = True
        finally:
            with self._lock:
                self._live.pop(proc, None)
            self.reaper.unwatch(proc.pid)
        retcode = proc.returncode if not timed_out else 124
        return CommandResult(
            _text(out), _text(err), retcode, pid=proc.pid, timed_out=timed_out
        )


def _text(data: bytes | None) -> str:
    if not data:
        return ""
    return data.decode("utf-8", errors="replace")


@dataclasses.dataclass
class FakeRunner:
    """A runner for tests: answers from a table and records every call."""

    table: dict[str, CommandResult] = dataclasses.field(default_factory=dict)
    calls: list[dict[str, object]] = dataclasses.field(default_factory=list)

    def run(
        self,
        cmd: str | Sequence[str],
        *,
        shell: bool | str = False,
        cwd: str | None = None,
        env: Mapping[str, str] | None = None,
        stdin: str | None = None,
        timeout: float | None = None,
        runas: str | None = None,
    ) -> CommandResult:
        line = cmd if isinstance(cmd, str) else " ".join(cmd)
        self.calls.append({"cmd": line, "shell": shell, "cwd": cwd, "env": env, "stdin": stdin})
        return self.table.get(line, CommandResult("", f"fake: no answer for {line!r}", 127))
