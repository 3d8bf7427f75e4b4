"""Report the minion's health: uptime, load, memory, CPUs, disks and processes.

Shapes follow Salt's ``status`` module. Everything is read from /proc,
``os`` and psutil; no command is run.
"""

from __future__ import annotations

import datetime
import fnmatch
import os
import re
import time
from typing import Any

import psutil

from minion.context import Context

__all__ = [
    "cpuinfo",
    "diskusage",
    "loadavg",
    "meminfo",
    "nproc",
    "pid",
    "procs",
    "uptime",
    "w",
]


def _read(path: str) -> str:
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            return fh.read()
    except OSError:
        return ""


def _uptime_seconds() -> float:
    text = _read("/proc/uptime")
    if text:
        return float(text.split()[0])
    return time.time() - psutil.boot_time()


def uptime(ctx: Context) -> dict[str, Any]:
    """Return how long the minion's host has been up, and how many users are logged in.

    The shape is Salt's: ``{seconds, since_iso, since_t, days, time, users}``,
    where ``time`` is the part of the uptime under a day as ``H:MM``.

    CLI Example:

        master run '*' status.uptime
    """
    now = time.time()
    seconds = int(_uptime_seconds())
    up = datetime.timedelta(seconds=seconds)
    return {
        "seconds": seconds,
        "since_iso": datetime.datetime.fromtimestamp(now - seconds).isoformat(),
        "since_t": int(now - seconds),
        "days": up.days,
        "time": f"{up.seconds // 3600}:{up.seconds % 3600 // 60:02d}",
        "users": len(psutil.users()),
    }


def loadavg(ctx: Context) -> dict[str, float]:
    """Return the load averages over the last 1, 5 and 15 minutes.

    CLI Example:

        master run '*' status.loadavg
    """
    one, five, fifteen = os.getloadavg()
    return {"1-min": one, "5-min": five, "15-min": fifteen}


def parse_meminfo(text: str) -> dict[str, dict[str, str]]:
    """Salt's ``{Key: {value, unit}}`` from /proc/meminfo text (unit only when given)."""
    info: dict[str, dict[str, str]] = {}
    for line in text.splitlines():
        comps = line.split()
        if len(comps) < 2:
            continue
        entry = {"value": comps[1]}
        if len(comps) > 2:
            entry["unit"] = comps[2]
        info[comps[0].rstrip(":")] = entry
    return info


def meminfo(ctx: Context) -> dict[str, dict[str, str]]:
    """Return /proc/meminfo as ``{Key: {value, unit}}`` (values are strings, as in Salt).

    CLI Example:

        master run '*' status.meminfo
    """
    return parse_meminfo(_read("/proc/meminfo"))


def parse_cpuinfo(text: str) -> dict[str, Any]:
    """Salt's flat dict from /proc/cpuinfo: the last CPU's fields, ``flags`` as a list."""
    info: dict[str, Any] = {}
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        key = key.strip()
        if not sep or not key:
            continue
        info[key] = value.split() if key == "flags" else value.strip()
    return info


def cpuinfo(ctx: Context) -> dict[str, Any]:
    """Return the fields of /proc/cpuinfo, with ``flags`` split into a list.

    CLI Example:

        master run '*' status.cpuinfo
    """
    return parse_cpuinfo(_read("/proc/cpuinfo"))


def _unescape(field: str) -> str:
    """Undo the octal escapes (``\\040`` for a space) of /proc/mounts fields."""
    return re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), field)


def _mounts_of_types(patterns: set[str]) -> set[str]:
    found = set()
    for line in _read("/proc/mounts").splitlines():
        comps = line.split()
        if len(comps) >= 3 and any(fnmatch.fnmatchcase(comps[2], p) for p in patterns):
            found.add(_unescape(comps[1]))
    return found


def diskusage(ctx: Context, *paths: str) -> dict[str, dict[str, int]]:
    """Return the available and total bytes of file systems.

    paths
        Paths (starting with ``/``) and file-system types (globs such as
        ``ext*``); with none, every mounted file system.

    CLI Example:

        master run '*' status.diskusage / ext4
    """
    selected = {p for p in paths if p.startswith("/")}
    types = {p for p in paths if not p.startswith("/")} if paths else {"*"}
    if types:
        selected |= _mounts_of_types(types)
    usage: dict[str, dict[str, int]] = {}
    for path in sorted(selected):
        try:
            st = os.statvfs(path)
        except OSError as exc:
            if path in paths:
                raise ValueError(f"{path}: cannot read disk usage: {exc.strerror}") from None
            continue
        usage[path] = {"available": st.f_bavail * st.f_frsize, "total": st.f_blocks * st.f_frsize}
    return usage


def _command_line(proc: psutil.Process) -> str:
    try:
        argv = proc.cmdline()
    except (psutil.AccessDenied, psutil.ZombieProcess):
        argv = []
    return " ".join(argv) if argv else f"[{proc.name()}]"


def procs(ctx: Context) -> dict[str, dict[str, str]]:
    """Return the running processes as ``{pid: {user, cmd}}`` (pids as strings, as in Salt).

    CLI Example:

        master run '*' status.procs
    """
    found: dict[str, dict[str, str]] = {}
    for proc in psutil.process_iter():
        try:
            with proc.oneshot():
                found[str(proc.pid)] = {"user": proc.username(), "cmd": _command_line(proc)}
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    return found


def _idle(terminal: str | None, now: float) -> str:
    if not terminal:
        return "?"
    try:
        seconds = int(now - os.stat(f"/dev/{terminal}").st_atime)
    except OSError:
        return "?"
    if seconds < 60:
        return f"{max(seconds, 0)}s"
    if seconds < 3600:
        return f"{seconds // 60}:{seconds % 60:02d}"
    return f"{seconds // 3600}:{seconds % 3600 // 60:02d}m"


def _what(pid: int | str | None) -> str:
    if not pid:
        return ""
    try:
        return _command_line(psutil.Process(int(pid)))
    except psutil.Error:
        return ""


def w(ctx: Context) -> list[dict[str, Any]]:
    """Return who is logged in and what they run, like the ``w`` command.

    Each entry is ``{user, tty, from, login, idle, pid, what}``; ``login`` is
    the ISO time the session started.

    CLI Example:

        master run '*' status.w
    """
    now = time.time()
    return [
        {
            "user": user.name,
            "tty": user.terminal or "",
            "from": user.host or "",
            "login": datetime.datetime.fromtimestamp(user.started).isoformat(timespec="minutes"),
            "idle": _idle(user.terminal, now),
            "pid": int(user.pid) if user.pid else None,
            "what": _what(user.pid),
        }
        for user in psutil.users()
    ]


def pid(ctx: Context, sig: str) -> str:
    """Return the pids of processes whose command line matches a regex, one a line.

    The answer is a newline-separated string, as in Salt (empty if none match).

    sig
        A regular expression searched for in ``user pid command-line``.

    CLI Example:

        master run '*' status.pid nginx
    """
    try:
        pattern = re.compile(sig)
    except re.error as exc:
        raise ValueError(f"sig: not a valid regular expression: {exc}") from None
    me = os.getpid()
    pids = []
    for pid_, entry in procs(ctx).items():
        if int(pid_) != me and pattern.search(f"{entry['user']} {pid_} {entry['cmd']}"):
            pids.append(int(pid_))
    return "\n".join(str(p) for p in sorted(pids))


def nproc(ctx: Context) -> int:
    """Return the number of CPUs this minion may use (as the ``nproc`` command does).

    CLI Example:

        master run '*' status.nproc
    """
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1
