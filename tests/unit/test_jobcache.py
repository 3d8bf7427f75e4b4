"""Tests for master.jobcache against a real SQLite file in tmp_path."""

from __future__ import annotations

import stat
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from master.jobcache import JobCache


def _job(jid: str, fun: str = "test.ping", **extra: Any) -> dict[str, Any]:
    job = {"jid": jid, "fun": fun, "arg": [], "kwarg": {}, "tgt": "*", "tgt_type": "glob"}
    job.update(extra)
    return job


@pytest.fixture
def cache(tmp_path: Path) -> Iterator[JobCache]:
    jc = JobCache(tmp_path / "cache")
    yield jc
    jc.close()


def test_files_are_private(cache: JobCache, tmp_path: Path) -> None:
    assert stat.S_IMODE((tmp_path / "cache").stat().st_mode) == 0o700
    assert stat.S_IMODE((tmp_path / "cache" / "jobs.sqlite").stat().st_mode) == 0o600
    mode = cache.db.execute("PRAGMA journal_mode").fetchone()[0]
    assert mode == "wal"


def test_add_and_get_job(cache: JobCache) -> None:
    job = _job("20240101000000000001", "cmd.run", arg=["uname -a", 3],
               kwarg={"cwd": "/tmp"}, tgt=["m1", "m2"], tgt_type="list")
    before = time.time()
    cache.add_job(job, ["m1", "m2"], "alice")
    got = cache.get_job(job["jid"])
    assert got is not None
    assert {k: got[k] for k in ("jid", "fun", "arg", "kwarg", "tgt", "tgt_type")} == job
    assert got["expected"] == ["m1", "m2"]
    assert got["user"] == "alice"
    assert got["returns"] == {}
    assert before - 1 <= got["started"] <= time.time() + 1
    assert cache.get_job("nope") is None


def test_returns(cache: JobCache) -> None:
    cache.add_job(_job("1"), ["m1", "m2"], "")
    assert cache.add_return("1", "m2", {"return": {"x": [1, b"b"]}, "success": True})
    assert cache.add_return("1", "m1", {"return": "boom", "success": False, "retcode": 2})
    got = cache.get_job("1")
    assert got is not None
    assert list(got["returns"]) == ["m1", "m2"]  # ordered by minion
    assert got["returns"]["m1"] == {"return": "boom", "success": False, "retcode": 2}
    assert got["returns"]["m2"] == {"return": {"x": [1, b"b"]}, "success": True, "retcode": 0}


def test_second_return_replaces_first(cache: JobCache) -> None:
    cache.add_job(_job("1"), ["m1"], "")
    cache.add_return("1", "m1", {"return": 1, "success": False})
    cache.add_return("1", "m1", {"return": 2, "success": True})
    got = cache.get_job("1")
    assert got is not None
    assert got["returns"] == {"m1": {"return": 2, "success": True, "retcode": 0}}


def test_return_for_unknown_job_is_dropped(cache: JobCache) -> None:
    assert cache.add_return("999", "m1", {"return": True, "success": True}) is False
    cache.add_job(_job("999"), ["m1"], "")
    got = cache.get_job("999")
    assert got is not None
    assert got["returns"] == {}


def test_duplicate_jid_refused(cache: JobCache) -> None:
    cache.add_job(_job("1"), [], "")
    with pytest.raises(Exception, match="UNIQUE"):
        cache.add_job(_job("1"), [], "")


def test_list_jobs(cache: JobCache) -> None:
    for jid in ("20240101000000000002", "20240101000000000001", "20240101000000000003"):
        cache.add_job(_job(jid), ["m1", "m2", "m3"], "bob")
    cache.add_return("20240101000000000002", "m1", {"return": True, "success": True})
    cache.add_return("20240101000000000002", "m2", {"return": True, "success": True})
    jobs = cache.list_jobs()
    assert [j["jid"] for j in jobs] == [
        "20240101000000000003", "20240101000000000002", "20240101000000000001"
    ]
    assert [j["returned"] for j in jobs] == [0, 2, 0]
    assert all(j["expected"] == 3 and j["user"] == "bob" for j in jobs)
    assert [j["jid"] for j in cache.list_jobs(limit=1)] == ["20240101000000000003"]


def test_prune(cache: JobCache, monkeypatch: pytest.MonkeyPatch) -> None:
    real = time.time
    monkeypatch.setattr(time, "time", lambda: real() - 5 * 3600)
    cache.add_job(_job("old"), ["m1"], "")
    cache.add_return("old", "m1", {"return": True, "success": True})
    monkeypatch.undo()
    cache.add_job(_job("new"), ["m1"], "")
    cache.add_return("new", "m1", {"return": True, "success": True})

    assert cache.prune(24) == 0
    assert cache.prune(4) == 1
    assert cache.get_job("old") is None
    assert cache.db.execute("SELECT COUNT(*) FROM returns WHERE jid='old'").fetchone()[0] == 0
    got = cache.get_job("new")
    assert got is not None
    assert list(got["returns"]) == ["m1"]
    assert [j["jid"] for j in cache.list_jobs()] == ["new"]


def test_grains(cache: JobCache) -> None:
    assert cache.all_grains() == {}
    cache.save_grains("m1", {"os": "Debian", "roles": ["web"]})
    cache.save_grains("m2", {"os": "CentOS"})
    cache.save_grains("m1", {"os": "Ubuntu"})
    assert cache.all_grains() == {"m1": {"os": "Ubuntu"}, "m2": {"os": "CentOS"}}
    cache.forget_minion("m1")
    assert cache.all_grains() == {"m2": {"os": "CentOS"}}


def test_data_survives_reopen_and_readonly(tmp_path: Path) -> None:
    writer = JobCache(tmp_path / "c")
    writer.add_job(_job("1"), ["m1"], "")
    writer.add_return("1", "m1", {"return": "pong", "success": True})
    writer.save_grains("m1", {"id": "m1"})
    reader = JobCache(tmp_path / "c", readonly=True)
    try:
        got = reader.get_job("1")
        assert got is not None
        assert got["returns"]["m1"]["return"] == "pong"
        assert reader.all_grains() == {"m1": {"id": "m1"}}
        with pytest.raises(Exception, match="readonly"):
            reader.add_job(_job("2"), [], "")
    finally:
        reader.close()
        writer.close()
