"""The running minion's pid file and status file, in its ``sock_dir``.

``minion.pid`` is locked for the minion's life (a second minion on the same
directories refuses to start). ``minion.status`` (0600, replaced whole) says
where authentication stands, for `minion status` and `minion start -d
--wait-connected`: ``{"id", "pid", "status", "master", "time"}`` with status
``new`` (no answer from the master yet), ``pending``, ``rejected``,
``denied``, ``accepted`` or ``reauth``. A clean stop removes both files.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import json
import logging
import os
import time
from pathlib import Path
from typing import Any

from common import daemon, logs, masterlist
from common.atomic import write_atomic
from common.crypto import ensure_private_dir
from common.pidfile import AlreadyRunning, PidFile

log = logging.getLogger("minion.agent")
PID_NAME = "minion.pid"
STATUS_NAME = "minion.status"
POLL = 0.25


def pid_path(opts: dict[str, Any]) -> Path:
    return Path(opts["sock_dir"], PID_NAME)


def status_path(opts: dict[str, Any]) -> Path:
    return Path(opts["sock_dir"], STATUS_NAME)


def master_address(opts: dict[str, Any]) -> str:
    """`host:port` of the master the options name (several, comma-separated)."""
    try:
        masters = masterlist.parse(opts["master"], opts["master_port"])
    except masterlist.MasterListError:
        return str(opts["master"])
    return ", ".join(f"{host}:{port}" for host, port in masters)


def hold(opts: dict[str, Any]) -> bool:
    """Take this minion's pid file (removed again at exit); False, logged, if another has it."""
    ensure_private_dir(Path(opts["sock_dir"]))
    try:
        held = PidFile.hold(pid_path(opts), "minion")
    except AlreadyRunning as exc:
        log.error("%s", exc)
        return False
    atexit.register(_release, held, status_path(opts))
    return True


def _release(held: PidFile, status: Path) -> None:
    if (read(status) or {}).get("pid") == os.getpid():
        with contextlib.suppress(OSError):
            status.unlink()
    held.release()


def read(path: Path) -> dict[str, Any] | None:
    """The status file's content; None if there is none (or it is unreadable)."""
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


async def follow(minion: Any) -> None:
    """Say the minion is up (to `start -d`, systemd), then keep its status file current.

    Runs as one of the minion's tasks; SIGHUP from here on reopens the log.
    """
    logs.reopen_on_hup(asyncio.get_running_loop())
    daemon.ready()
    path, last = status_path(minion.opts), None
    while True:
        if minion.status != last:
            last = minion.status
            record = {"id": minion.id, "pid": os.getpid(), "status": last,
                      "master": master_address(minion.opts), "time": time.time()}
            try:
                write_atomic(path, json.dumps(record).encode(), 0o600, keep_owner=False)
            except OSError as exc:
                log.warning("cannot write %s: %s", path, exc)
        await asyncio.sleep(POLL)
