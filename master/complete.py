"""The words `master completion functions|minions|tokens|jids` prints for the shell.

Everything comes from local files (the job cache, the key and token stores),
never from the running master, so completion answers at once even when the
master is down. Function names are those the minions returned to
`sys.list_functions` (every such job still in the job cache) plus the
functions of recent jobs; the last list found is also kept in
``cachedir/functions.txt`` so it outlives the jobs (`keep_jobs`).
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from pathlib import Path
from typing import Any

from common import codec

KINDS = ("functions", "minions", "tokens", "jids")
FUNCTIONS_FILE = "functions.txt"
# Enough for every module of a mixed fleet; a job cache keeps far more.
RECENT_JOBS = 200


def words(kind: str, opts: dict[str, Any]) -> list[str]:
    """The completion words of `kind` (see KINDS); nothing when a source is missing."""
    try:
        if kind == "functions":
            return functions(Path(opts["cachedir"]))
        if kind == "minions":
            return minions(Path(opts["pki_dir"]))
        if kind == "tokens":
            return tokens(Path(opts["pki_dir"]))
        return jids(Path(opts["cachedir"]))
    except (OSError, sqlite3.Error, ValueError):
        return []


def _jobs_db(cachedir: Path) -> sqlite3.Connection | None:
    path = cachedir / "jobs.sqlite"
    if not path.is_file():
        return None
    return sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=0.2)


def functions(cachedir: Path) -> list[str]:
    """Function names the minions listed, and those recent jobs ran."""
    listed: set[str] = set()
    ran: set[str] = set()
    db = _jobs_db(cachedir)
    if db is not None:
        with contextlib.closing(db):
            rows = db.execute(
                "SELECT r.ret FROM returns r JOIN jobs j ON r.jid = j.jid"
                " WHERE j.fun = 'sys.list_functions' ORDER BY r.jid DESC LIMIT ?",
                (RECENT_JOBS,)).fetchall()
            for (blob,) in rows:
                listed.update(_names(blob))
            ran.update(fun for (fun,) in db.execute(
                "SELECT DISTINCT fun FROM (SELECT fun FROM jobs ORDER BY jid DESC LIMIT ?)",
                (RECENT_JOBS,)))
    saved = cachedir / FUNCTIONS_FILE
    if listed:
        _save(saved, listed)
    else:
        with contextlib.suppress(OSError):
            listed.update(saved.read_text().split())
    return sorted(listed | {f for f in ran if "." in f})


def _names(blob: bytes) -> list[str]:
    """The function names in one stored `sys.list_functions` return."""
    try:
        value = codec.loads(blob)
    except codec.ProtocolError:
        return []
    if not isinstance(value, list):
        return []
    return [v for v in value if isinstance(v, str) and "." in v and v.isprintable()]


def _save(path: Path, names: set[str]) -> None:
    """Keep the list for later, only in a cachedir that is ours (not root's for the master)."""
    try:
        if path.parent.stat().st_uid != os.geteuid():
            return
        text = "\n".join(sorted(names)) + "\n"
        if path.is_file() and path.read_text() == text:
            return
        from common.atomic import write_atomic

        write_atomic(path, text.encode(), new_mode=0o600)
    except OSError:
        pass


def minions(pki_dir: Path) -> list[str]:
    """Every minion id with a key in any state."""
    found: set[str] = set()
    for state in ("accepted", "pending", "rejected", "denied"):
        with contextlib.suppress(FileNotFoundError):
            found.update(p.name for p in (pki_dir / state).iterdir()
                         if not p.name.startswith("."))
    return sorted(found)


def tokens(pki_dir: Path) -> list[str]:
    """The ids of the join tokens (what `key token revoke` takes)."""
    import json

    try:
        data = json.loads((pki_dir / "tokens.json").read_text())
    except FileNotFoundError:
        return []
    return sorted(data) if isinstance(data, dict) else []


def jids(cachedir: Path) -> list[str]:
    """The newest job ids in the job cache."""
    db = _jobs_db(cachedir)
    if db is None:
        return []
    with contextlib.closing(db):
        rows = db.execute("SELECT jid FROM jobs ORDER BY jid DESC LIMIT 50").fetchall()
    return [jid for (jid,) in rows]
