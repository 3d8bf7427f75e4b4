"""The job cache in the cluster store: every master records and reads the same jobs.

Same methods and answers as master/jobcache.py's SQLite cache (it is a
subclass so that readers typed for JobCache take it). Two masters writing
the same job or return meet on primary keys: a job row is written once
(a second identical write is ignored), a minion's return to a job is one
row (the newest wins). While the store is unreachable the daemon's writes
go to a spool on disk (master/store/spool.py) and are written when it is
back, logged once a minute meanwhile.
"""

from __future__ import annotations

import logging
import re
import time
from collections import OrderedDict
from collections.abc import Iterator
from typing import Any

from common import codec
from common.ratelog import RateLog
from master.jobcache import TARGET_SCAN, JobCache, jid_at, job_list
from master.store.pglink import PgLink, StoreDown, StoreError
from master.store.spool import Spool

log = logging.getLogger(__name__)
# Expected lists of recent jobs kept in memory, to judge returns while the store is away.
RECENT_JOBS = 1_000
MAX_MINIONS = 1_000_000
# While records wait in the spool, the store is tried again at most this often.
FLUSH_SECONDS = 2.0


def glob_regex(pattern: str) -> str:
    """A shell glob as a PostgreSQL regular expression anchored at both ends."""
    out, i = ["^"], 0
    while i < len(pattern):
        ch = pattern[i]
        close = pattern.find("]", i + 2) if ch == "[" else -1
        if ch == "*":
            out.append(".*")
        elif ch == "?":
            out.append(".")
        elif close > 0:
            body = pattern[i + 1:close].replace("\\", "\\\\")
            out.append("[" + ("^" + body[1:] if body.startswith("!") else body) + "]")
            i = close
        else:
            out.append(re.sub(r"([^\w\s])", r"\\\1", ch))
        i += 1
    return "".join(out) + "$"


class PgJobCache(JobCache):
    """The job cache on PostgreSQL; `spool` set by the daemon only."""

    def __init__(self, link: PgLink, master_id: str = "", spool: Spool | None = None) -> None:
        self.link = link
        self.master_id = master_id
        self.spool = spool
        self.ratelog = RateLog(log)
        self._recent: OrderedDict[str, list[str]] = OrderedDict()
        self._next_flush = 0.0

    def close(self) -> None:
        self.link.close()

    # -- writes (spooled while the store is away) ---------------------------
    def _write(self, record: list[Any]) -> None:
        if self.spool is None:
            self._apply(record)
            return
        if self.spool.size() and not self.flush():
            self._queue(record)  # keep the order: older records first
            return
        try:
            self._apply(record)
        except StoreDown as exc:
            self._queue(record, str(exc))

    def _queue(self, record: list[Any], why: str = "") -> None:
        assert self.spool is not None
        kept = self.spool.put(record)
        self.ratelog.warning("spool", "cluster store unreachable%s: writes queued in %s "
                             "(%d bytes)%s", f" ({why})" if why else "", self.spool.path,
                             self.spool.size(), "" if kept else "; spool full, one dropped")

    def flush(self) -> bool:
        """Write the spooled records; True when none is left (tried every FLUSH_SECONDS)."""
        if self.spool is None or not self.spool.size():
            return True
        now = time.monotonic()
        if now < self._next_flush:
            return False
        self._next_flush = now + FLUSH_SECONDS
        done = self.spool.replay(self._apply_logged)
        if done:
            log.info("cluster store back: %d queued writes stored", done)
        return not self.spool.size()

    def _apply_logged(self, record: list[Any]) -> None:
        try:
            self._apply(record)
        except StoreDown:
            raise
        except StoreError as exc:  # a record the store refuses: dropped, not retried forever
            log.error("queued %s write dropped: %s", record[0], exc)

    def _apply(self, record: list[Any]) -> None:
        kind, args = record[0], record[1:]
        if kind == "job":
            self._insert_job(*args)
        elif kind == "ret":
            self._insert_return(*args)
        elif kind == "grains":
            self.link.count(
                "INSERT INTO saline_minions (id, grains, seen) VALUES (%s, %s, %s)"
                " ON CONFLICT (id) DO UPDATE SET grains = EXCLUDED.grains,"
                " seen = EXCLUDED.seen", args)
        elif kind == "forget":
            self.link.count("DELETE FROM saline_minions WHERE id = %s", args)

    def _insert_job(self, jid: str, *row: Any) -> None:
        done = self.link.count(
            'INSERT INTO saline_jobs (jid, fun, arg, kwarg, tgt, tgt_type, expected, started,'
            ' "user", master) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)'
            " ON CONFLICT (jid) DO NOTHING", (jid, *row))
        if not done:
            same = self.link.rows("SELECT 1 FROM saline_jobs WHERE jid = %s AND fun = %s"
                                  " AND master = %s", (jid, row[0], row[-1]))
            if not same:
                raise StoreError(f"job id {jid} is already taken by another job (UNIQUE)")

    def _insert_return(self, jid: str, minion: str, ret: bytes, ok: bool, rc: int,
                       ts: float) -> bool:
        return self.link.count(
            "INSERT INTO saline_returns (jid, minion, ret, success, retcode, ts)"
            " SELECT %s, %s, %s, %s, %s, %s WHERE EXISTS"
            " (SELECT 1 FROM saline_jobs WHERE jid = %s)"
            " ON CONFLICT (jid, minion) DO UPDATE SET ret = EXCLUDED.ret,"
            " success = EXCLUDED.success, retcode = EXCLUDED.retcode, ts = EXCLUDED.ts",
            (jid, minion, ret, ok, rc, ts, jid)) > 0

    def add_job(self, job: dict[str, Any], expected: list[str], user: str) -> None:
        self._remember(job["jid"], expected)
        self._write(["job", job["jid"], job["fun"], codec.dumps(job["arg"]),
                     codec.dumps(job["kwarg"]), codec.dumps(job["tgt"]), job["tgt_type"],
                     codec.dumps(expected), time.time(), user, self.master_id])

    def add_return(self, jid: str, minion: str, ret: dict[str, Any]) -> bool:
        row = (jid, minion, codec.dumps(ret.get("return")), bool(ret.get("success")),
               int(ret.get("retcode") or 0), time.time())
        if self.spool is not None and self.spool.size():
            self._write(["ret", *row])
            return True
        try:
            return self._insert_return(*row)
        except StoreDown as exc:
            if self.spool is None:
                raise
            self._queue(["ret", *row], str(exc))
            return True

    def save_grains(self, minion: str, grains: dict[str, Any]) -> None:
        self._write(["grains", minion, codec.dumps(grains), time.time()])

    def forget_minion(self, minion: str) -> None:
        self._write(["forget", minion])

    def _remember(self, jid: str, expected: list[str]) -> None:
        self._recent[jid] = list(expected)
        while len(self._recent) > RECENT_JOBS:
            self._recent.popitem(last=False)

    # -- reads ----------------------------------------------------------------
    def expected(self, jid: str) -> list[str] | None:
        if jid in self._recent:
            return self._recent[jid]
        try:
            rows = self.link.rows("SELECT expected FROM saline_jobs WHERE jid = %s", (jid,))
        except StoreDown:
            return None
        if not rows:
            return None
        try:
            expected = codec.loads(rows[0][0])
        except codec.ProtocolError:
            return None
        return [m for m in expected if isinstance(m, str)] if isinstance(expected, list) else None

    def list_jobs(self, limit: int = 50, since: float | None = None, fun: str | None = None,
                  tgt: str | None = None, before: str | None = None) -> list[dict[str, Any]]:
        where, params = ["TRUE"], []
        if since is not None:
            where.append("j.jid >= %s AND j.started >= %s")
            params += [jid_at(since - 60), since]
        if fun:
            where.append("j.fun ~ %s")
            params.append(glob_regex(fun))
        if before:
            where.append("j.jid < %s")
            params.append(before)
        rows = self.link.rows(
            'SELECT j.jid, j.fun, j.arg, j.tgt, j.tgt_type, j.expected, j.started, j."user",'
            " (SELECT count(*) FROM saline_returns r WHERE r.jid = j.jid)"
            f" FROM saline_jobs j WHERE {' AND '.join(where)} ORDER BY j.jid DESC LIMIT %s",
            (*params, limit if not tgt else TARGET_SCAN))
        return job_list(rows, tgt, limit)

    def job_header(self, jid: str) -> dict[str, Any] | None:
        rows = self.link.rows(
            'SELECT fun, arg, kwarg, tgt, tgt_type, expected, started, "user"'
            " FROM saline_jobs WHERE jid = %s", (jid,))
        if not rows:
            return None
        row = rows[0]
        return {
            "jid": jid, "fun": row[0], "arg": codec.loads(row[1]), "kwarg": codec.loads(row[2]),
            "tgt": codec.loads(row[3]), "tgt_type": row[4], "expected": codec.loads(row[5]),
            "started": row[6], "user": row[7],
        }

    def iter_returns(self, jid: str) -> Iterator[tuple[str, Any, bool, int, float]]:
        with self.link.transaction() as conn, conn.cursor(name="saline_returns") as cur:
            cur.itersize = 200  # a large job is read a few hundred returns at a time
            cur.execute("SELECT minion, ret, success, retcode, ts FROM saline_returns"
                        " WHERE jid = %s ORDER BY minion", (jid,))
            for minion, ret, ok, rc, ts in cur:
                yield minion, codec.loads(bytes(ret)), bool(ok), rc, ts

    def recent_jobs(self, fun_glob: str, since: float, limit: int
                    ) -> list[tuple[str, str, float, Any]]:
        rows = self.link.rows(
            "SELECT jid, fun, started, kwarg FROM saline_jobs WHERE jid >= %s AND started >= %s"
            " AND fun ~ %s ORDER BY jid DESC LIMIT %s",
            (jid_at(since - 60), since, glob_regex(fun_glob), limit))
        return [(jid, fun, started, codec.loads(bytes(kwarg)))
                for jid, fun, started, kwarg in reversed(rows)]

    def all_grains(self) -> dict[str, Any]:
        grains: dict[str, Any] = {}
        rows = self.link.rows("SELECT id, grains FROM saline_minions ORDER BY id LIMIT %s",
                              (MAX_MINIONS,))
        for minion, data in rows:
            try:
                grains[minion] = codec.loads(bytes(data))
            except codec.ProtocolError:
                grains[minion] = None
        return grains

    def prune(self, keep_hours: float) -> int:
        cutoff = time.time() - keep_hours * 3600
        # Returns go with their job (ON DELETE CASCADE).
        return self.link.count("DELETE FROM saline_jobs WHERE started < %s", (cutoff,))
