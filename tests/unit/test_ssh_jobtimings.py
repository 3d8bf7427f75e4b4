"""Per-host timings of `master ssh` jobs in the job cache (master/jobcache.py)."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest

from master.jobcache import JobCache

JID = "20240101000000000001"
JOB: dict[str, Any] = {"jid": JID, "fun": "test.ping", "arg": [], "kwarg": {},
       "tgt": "*", "tgt_type": "glob"}
TIMES = {"connect": 0.01, "auth": 0.2, "upload": 0.0, "run": 0.9}


def test_timings_kept_with_the_job_and_pruned_with_it(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    cache = JobCache(tmp_path / "cache")
    cache.add_job(JOB, ["h1", "h2"], "alice")
    cache.add_job({**JOB, "jid": "20240101000000000002"}, ["m1"], "alice")
    cache.add_return(JID, "h1", {"return": True, "success": True})
    cache.add_timings(JID, "h1", TIMES)
    cache.add_timings(JID, "h2", {**TIMES, "run": 1.5})
    header = cache.job_header(JID)
    assert header is not None
    assert header["timings"] == {"h1": TIMES, "h2": {**TIMES, "run": 1.5}}
    other = cache.job_header("20240101000000000002")
    assert other is not None and "timings" not in other  # other jobs look as before
    monkeypatch.setattr(time, "time", lambda: 4_000_000_000.0)
    assert cache.prune(1) == 2
    assert cache.db.execute("SELECT COUNT(*) FROM timings").fetchone()[0] == 0
    cache.close()


def test_a_cache_from_before_the_table_reads(tmp_path: Path) -> None:
    """A read-only open of a job cache written by an older saline (no timings table)."""
    writer = JobCache(tmp_path / "cache")
    writer.add_job(JOB, ["h1"], "alice")
    writer.close()
    db = sqlite3.connect(tmp_path / "cache" / "jobs.sqlite")
    db.execute("DROP TABLE timings")
    db.commit()
    db.close()
    reader = JobCache(tmp_path / "cache", readonly=True)
    header = reader.job_header(JID)
    assert header is not None and header["fun"] == "test.ping" and "timings" not in header
    reader.close()
