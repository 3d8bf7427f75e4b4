"""Copy a single master's keys, tokens, job cache and key pair into a cluster store.

Every row is written with ON CONFLICT DO NOTHING (grains: only when newer),
so running it again copies nothing twice; the counts say what was copied
and what the store held already. The source is read, never changed.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from master.keys import STATES, FileKeys
from master.store import schema
from master.store.pglink import PgLink

BATCH = 500


def migrate(pki: Path, cachedir: Path, dsn: str, source_id: str) -> dict[str, Any]:
    """Copy everything; per kind of row, how many were copied and how many were there."""
    link = PgLink(dsn)
    try:
        schema.ensure(link)
        report: dict[str, Any] = {"keys": _keys(link, pki), "tokens": _tokens(link, pki)}
        db = cachedir / "jobs.sqlite"
        if db.exists():
            src = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
            try:
                report.update(_jobs(link, src, source_id))
            finally:
                src.close()
        report["master_key"] = _master_key(link, pki)
        return report
    finally:
        link.close()


def _copy(link: PgLink, sql: str, rows: Iterator[Sequence[Any]]) -> dict[str, int]:
    """Insert `rows` in batches with `sql` (which ignores conflicts); the counts."""
    copied = seen = 0
    batch: list[Sequence[Any]] = []

    def flush() -> None:
        nonlocal copied, seen
        with link.transaction() as conn:
            for row in batch:
                copied += conn.execute(sql, row).rowcount
        seen += len(batch)
        batch.clear()

    for row in rows:
        batch.append(row)
        if len(batch) >= BATCH:
            flush()
    if batch:
        flush()
    return {"copied": copied, "already": seen - copied}


def _keys(link: PgLink, pki: Path) -> dict[str, int]:
    if not pki.is_dir():
        return {"copied": 0, "already": 0}
    files = FileKeys(pki)
    now = time.time()

    def rows() -> Iterator[Sequence[Any]]:
        for state in STATES:
            for minion in files.list()[state]:
                keys = files.read(state, minion)
                if keys is not None:
                    yield (minion, state, keys.dumps(), now)

    return _copy(link, "INSERT INTO saline_keys (minion, state, pub, changed)"
                       " VALUES (%s, %s, %s, %s) ON CONFLICT DO NOTHING", rows())


def _tokens(link: PgLink, pki: Path) -> dict[str, int]:
    path = pki / "tokens.json"
    data = json.loads(path.read_text()) if path.exists() else {}
    rows = ((tid, t.get("hash", ""), t.get("created", 0.0), t.get("expires", 0.0),
             t.get("uses"), t.get("used", 0), t.get("match") or "*")
            for tid, t in (data.items() if isinstance(data, dict) else ()))
    return _copy(link, "INSERT INTO saline_tokens (id, hash, created, expires, uses, used,"
                       " match) VALUES (%s, %s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING",
                 rows)


def _jobs(link: PgLink, src: sqlite3.Connection, source_id: str) -> dict[str, Any]:
    jobs = src.execute("SELECT jid, fun, arg, kwarg, tgt, tgt_type, expected, started, user"
                       " FROM jobs ORDER BY jid")
    out: dict[str, Any] = {"jobs": _copy(
        link, 'INSERT INTO saline_jobs (jid, fun, arg, kwarg, tgt, tgt_type, expected, started,'
              ' "user", master) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)'
              " ON CONFLICT DO NOTHING", ((*row, source_id) for row in jobs))}
    rets = src.execute("SELECT jid, minion, ret, success, retcode, ts FROM returns"
                       " ORDER BY jid, minion")
    out["returns"] = _copy(
        link, "INSERT INTO saline_returns (jid, minion, ret, success, retcode, ts)"
              " VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING",
        ((jid, m, ret, bool(ok), rc, ts) for jid, m, ret, ok, rc, ts in rets))
    grains = src.execute("SELECT id, grains, seen FROM minions ORDER BY id")
    out["grains"] = _copy(
        link, "INSERT INTO saline_minions (id, grains, seen) VALUES (%s, %s, %s)"
              " ON CONFLICT (id) DO UPDATE SET grains = EXCLUDED.grains, seen = EXCLUDED.seen"
              " WHERE saline_minions.seen < EXCLUDED.seen", grains)
    return out


def _master_key(link: PgLink, pki: Path) -> str:
    pem, pub = pki / "master.pem", pki / "master.pub"
    if not pem.exists() or not pub.exists():
        return "none here: the first master to start makes the cluster's"
    done = link.count("INSERT INTO saline_master_key (name, private, public, created)"
                      " VALUES ('master', %s, %s, %s) ON CONFLICT (name) DO NOTHING",
                      (pem.read_text(), pub.read_text(), time.time()))
    if done:
        return "copied: this master's fingerprint is the cluster's"
    held = link.rows("SELECT private FROM saline_master_key WHERE name = 'master'")
    if held and held[0][0] == pem.read_text():
        return "already the cluster's"
    return ("the store holds another pair: this master takes it at start, and its minions "
            "must be told the new fingerprint (master_finger)")
