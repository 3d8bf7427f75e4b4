"""The job cache: jobs, per-minion returns and each minion's last grains.

An embedded SQLite database in WAL mode under ``cachedir``, so the CLI can
read jobs while the master writes them.
"""

from __future__ import annotations

import datetime
import fnmatch
import sqlite3
import time
from collections.abc import Iterable, Iterator, Sequence
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
CREATE TABLE IF NOT EXISTS timings (
    jid TEXT NOT NULL, minion TEXT NOT NULL, data BLOB, PRIMARY KEY (jid, minion));
CREATE INDEX IF NOT EXISTS jobs_by_start ON jobs (started);
"""
# How many rows `list_jobs` reads at most while looking for jobs whose target matches
# (the target is stored encoded, so that filter runs here, not in SQL).
TARGET_SCAN = 100_000



def job_list(rows: Iterable[Sequence[Any]], tgt: str | None, limit: int) -> list[dict[str, Any]]:
    """`jobs list` entries from rows of (jid, fun, arg, tgt, tgt_type, expected, started,
    user, returned), keeping those whose target matches the glob `tgt`, at most `limit`."""
    jobs = []
    for r in rows:
        target = codec.loads(r[3])
        if tgt and not fnmatch.fnmatchcase(target_text(target), tgt):
            continue
        jobs.append({"jid": r[0], "fun": r[1], "arg": codec.loads(r[2]), "tgt": target,
                     "tgt_type": r[4], "expected": len(codec.loads(r[5])),
                     "started": r[6], "user": r[7], "returned": r[8]})
        if len(jobs) >= limit:
            break
    return jobs

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

    def add_timings(self, jid: str, minion: str, timings: dict[str, float]) -> None:
        """Keep how long each phase of a minion's run took (`master ssh`: connect, auth,
        upload, run); `job_header` shows them."""
        self.db.execute("INSERT OR REPLACE INTO timings VALUES (?,?,?)",
                        (jid, minion, codec.dumps(timings)))

    def _timings(self, jid: str) -> dict[str, Any]:
        try:
            rows = self.db.execute("SELECT minion, data FROM timings WHERE jid=? ORDER BY minion",
                                   (jid,)).fetchall()
        except sqlite3.OperationalError:  # a cache from before the table, opened read-only
            return {}
        return {minion: codec.loads(data) for minion, data in rows}

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

    def list_jobs(self, limit: int = 50, since: float | None = None, fun: str | None = None,
                  tgt: str | None = None, before: str | None = None) -> list[dict[str, Any]]:
        """The newest jobs first, with how many minions returned.

        `since` keeps jobs published at or after that time, `fun` and `tgt` are globs
        on the function and the target, `before` a job id: only jobs published
        before it (the next page).
        """
        where: list[str] = ["1"]
        params: list[Any] = []
        if since is not None:  # the jid bound lets SQLite stop at the key, not scan on
            where.append("j.jid >= ? AND j.started >= ?")
            params += [jid_at(since - 60), since]
        if fun:
            where.append("j.fun GLOB ?")
            params.append(sql_glob(fun))
        if before:
            where.append("j.jid < ?")
            params.append(before)
        rows = self.db.execute(
            "SELECT j.jid, j.fun, j.arg, j.tgt, j.tgt_type, j.expected, j.started, j.user,"
            " (SELECT COUNT(*) FROM returns r WHERE r.jid = j.jid)"
            f" FROM jobs j WHERE {' AND '.join(where)} ORDER BY j.jid DESC"
            " LIMIT ?",
            (*params, limit if not tgt else TARGET_SCAN),
        )
        return job_list(rows, tgt, limit)

    def get_job(self, jid: str) -> dict[str, Any] | None:
        """One job with every return it has so far."""
        job = self.job_header(jid)
        if job is None:
            return None
        job["returns"] = {
            minion: {"return": ret, "success": ok, "retcode": rc}
            for minion, ret, ok, rc, _ in self.iter_returns(jid)
        }
        return job

    def job_header(self, jid: str) -> dict[str, Any] | None:
        """One job without its returns: function, arguments, target, who was expected."""
        row = self.db.execute(
            "SELECT fun, arg, kwarg, tgt, tgt_type, expected, started, user FROM jobs"
            " WHERE jid=?",
            (jid,),
        ).fetchone()
        if row is None:
            return None
        header = {
            "jid": jid, "fun": row[0], "arg": codec.loads(row[1]), "kwarg": codec.loads(row[2]),
            "tgt": codec.loads(row[3]), "tgt_type": row[4], "expected": codec.loads(row[5]),
            "started": row[6], "user": row[7],
        }
        timings = self._timings(jid)
        if timings:  # only jobs that kept them (master ssh): others look as they always did
            header["timings"] = timings
        return header

    def iter_returns(self, jid: str) -> Iterator[tuple[str, Any, bool, int, float]]:
        """Each return of job `jid` as (minion, return, success, retcode, time it
        arrived), by minion id, read one at a time so a large job is never held whole."""
        cursor = self.db.execute(
            "SELECT minion, ret, success, retcode, ts FROM returns WHERE jid=? ORDER BY minion",
            (jid,),
        )
        for minion, ret, ok, rc, ts in cursor:
            yield minion, codec.loads(ret), bool(ok), rc, ts

    def recent_jobs(self, fun_glob: str, since: float, limit: int
                    ) -> list[tuple[str, str, float, Any]]:
        """(jid, function, published, kwarg) of the newest `limit` jobs whose function
        matches `fun_glob`, published at or after `since`; oldest first."""
        rows = self.db.execute(
            "SELECT jid, fun, started, kwarg FROM jobs WHERE jid >= ? AND started >= ?"
            " AND fun GLOB ? ORDER BY jid DESC LIMIT ?",
            (jid_at(since - 60), since, sql_glob(fun_glob), limit),
        ).fetchall()
        return [(jid, fun, started, codec.loads(kwarg))
                for jid, fun, started, kwarg in reversed(rows)]

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
            self.db.execute("DELETE FROM timings WHERE jid=?", (jid,))
            self.db.execute("DELETE FROM jobs WHERE jid=?", (jid,))
        return len(old)


def sql_glob(pattern: str) -> str:
    """A shell glob as SQLite's GLOB reads it (``[!a]`` is written ``[^a]`` there)."""
    return pattern.replace("[!", "[^")


def target_text(tgt: Any) -> str:
    """A job's target as one string, for matching: a list target joined by commas."""
    if isinstance(tgt, list | tuple):
        return ",".join(str(t) for t in tgt)
    return str(tgt)


def jid_at(when: float) -> str:
    """The job id the master would have given a job published at `when` (jids are UTC
    times), a key bound for "published since"."""
    moment = datetime.datetime.fromtimestamp(max(when, 0), datetime.UTC)
    return moment.strftime("%Y%m%d%H%M%S%f")
