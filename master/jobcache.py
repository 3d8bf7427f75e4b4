"""The job cache: jobs, per-minion returns and each minion's last grains.

An embedded SQLite database in WAL mode under ``cachedir``, so the CLI can
read jobs while the master writes them.
"""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path
from typing import Any

from common import codec
from common.crypto import ensure_private_dir

SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    jid TEXT PRIMARY KEY, fun TEXT NOT NULL, arg BLOB, kwarg BLOB,
    tgt BLOB, tgt_type TEXT, expected BLOB, started REAL, user TEXT);
CREATE TABLE IF NOT EXISTS returns (
    jid TEXT NOT NULL, minion TEXT NOT NULL, ret BLOB, success INTEGER,
    retcode INTEGER, ts REAL, PRIMARY KEY (jid, minion));
CREATE TABLE IF NOT EXISTS minions (id TEXT PRIMARY KEY, grains BLOB, seen REAL);
"""


class JobCache:
    """One SQLite connection to the cache database."""

    def __init__(self, cachedir: Path, readonly: bool = False) -> None:
        ensure_private_dir(Path(cachedir))
        path = Path(cachedir) / "jobs.sqlite"
        if readonly:
            self.db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        else:
            self.db = sqlite3.connect(path, isolation_level=None)
            path.chmod(0o600)
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=NORMAL")
            self.db.executescript(SCHEMA)

    def close(self) -> None:
        self.db.close()

    def add_job(self, job: dict[str, Any], expected: list[str], user: str) -> None:
        self.db.execute(
            "INSERT INTO jobs VALUES (?,?,?,?,?,?,?,?,?)",
            (job["jid"], job["fun"], codec.dumps(job["arg"]), codec.dumps(job["kwarg"]),
             codec.dumps(job["tgt"]), job["tgt_type"], codec.dumps(expected), time.time(), user),
        )

    def add_return(self, jid: str, minion: str, ret: dict[str, Any]) -> bool:
        """Store a return; False if it is for no known job (then it is dropped)."""
        if self.db.execute("SELECT 1 FROM jobs WHERE jid=?", (jid,)).fetchone() is None:
            return False
        self.db.execute(
            "INSERT OR REPLACE INTO returns VALUES (?,?,?,?,?,?)",
            (jid, minion, codec.dumps(ret.get("return")), int(bool(ret.get("success"))),
             int(ret.get("retcode") or 0), time.time()),
        )
        return True

    def expected(self, jid: str) -> list[str] | None:
        """The minions job `jid` was published to; None for an unknown job."""
        row = self.db.execute("SELECT expected FROM jobs WHERE jid=?", (jid,)).fetchone()
        if row is None:
            return None
        try:
            expected = codec.loads(row[0])
        except codec.ProtocolError:  # a damaged row: no minion can be proven targeted
            return None
        return [m for m in expected if isinstance(m, str)] if isinstance(expected, list) else None

    def list_jobs(self, limit: int = 50) -> list[dict[str, Any]]:
        """The newest jobs first, with how many minions returned."""
        rows = self.db.execute(
            "SELECT j.jid, j.fun, j.arg, j.tgt, j.tgt_type, j.expected, j.started, j.user,"
            " (SELECT COUNT(*) FROM returns r WHERE r.jid = j.jid)"
            " FROM jobs j ORDER BY j.jid DESC LIMIT ?",
            (limit,),
        ).fetchall()
        return [
            {"jid": r[0], "fun": r[1], "arg": codec.loads(r[2]), "tgt": codec.loads(r[3]),
             "tgt_type": r[4], "expected": len(codec.loads(r[5])), "started": r[6],
             "user": r[7], "returned": r[8]}
            for r in rows
        ]

    def get_job(self, jid: str) -> dict[str, Any] | None:
        """One job with every return it has so far."""
        row = self.db.execute(
            "SELECT fun, arg, kwarg, tgt, tgt_type, expected, started, user FROM jobs"
            " WHERE jid=?",
            (jid,),
        ).fetchone()
        if row is None:
            return None
        returns = {
            m: {"return": codec.loads(ret), "success": bool(ok), "retcode": rc}
            for m, ret, ok, rc in self.db.execute(
                "SELECT minion, ret, success, retcode FROM returns WHERE jid=? ORDER BY minion",
                (jid,),
            )
        }
        return {
            "jid": jid, "fun": row[0], "arg": codec.loads(row[1]), "kwarg": codec.loads(row[2]),
            "tgt": codec.loads(row[3]), "tgt_type": row[4], "expected": codec.loads(row[5]),
            "started": row[6], "user": row[7], "returns": returns,
        }

    def save_grains(self, minion: str, grains: dict[str, Any]) -> None:
        self.db.execute(
            "INSERT OR REPLACE INTO minions VALUES (?,?,?)",
            (minion, codec.dumps(grains), time.time()),
        )

    def all_grains(self) -> dict[str, Any]:
        """Each minion's last grains; a row that does not decode reads as None."""
        grains: dict[str, Any] = {}
        for minion, data in self.db.execute("SELECT id, grains FROM minions"):
            try:
                grains[minion] = codec.loads(data)
            except codec.ProtocolError:
                grains[minion] = None
        return grains

    def forget_minion(self, minion: str) -> None:
        self.db.execute("DELETE FROM minions WHERE id=?", (minion,))

    def prune(self, keep_hours: float) -> int:
        """Delete jobs (and their returns) older than `keep_hours`."""
        cutoff = time.time() - keep_hours * 3600
        old = [r[0] for r in self.db.execute("SELECT jid FROM jobs WHERE started < ?", (cutoff,))]
        for jid in old:
            self.db.execute("DELETE FROM returns WHERE jid=?", (jid,))
            self.db.execute("DELETE FROM jobs WHERE jid=?", (jid,))
        return len(old)
