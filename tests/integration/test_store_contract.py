"""One contract, two backends: the embedded files/SQLite store and PostgreSQL.

Every test here runs against both (`store` is parametrised), so the cluster
store answers exactly as the single master's files do: key states and their
rules, join tokens, the job cache and the master key pair.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from common.crypto import KeyPair, PublicKeys
from common.ids import InvalidId
from master.keys import STATES, TooManyPending
from master.store import Store, open_store
from master.tokens import split_token
from tests.pgserver import needs_pg

FP = "ab" * 32


def _opts(tmp_path: Path, dsn: str) -> dict[str, Any]:
    return {"pki_dir": str(tmp_path / "pki"), "cachedir": str(tmp_path / "cache"),
            "cluster_store": dsn, "interface": "127.0.0.1", "publish_port": 4505,
            "ret_port": 4506}


@pytest.fixture(params=["files", pytest.param("postgresql", marks=needs_pg)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    dsn = request.getfixturevalue("pg").fresh_dsn() if request.param == "postgresql" else ""
    opened = open_store(_opts(tmp_path, dsn))
    yield opened
    opened.close()


def _keys() -> PublicKeys:
    return KeyPair.generate().public


def _job(jid: str, fun: str = "test.ping", **extra: Any) -> dict[str, Any]:
    return {"jid": jid, "fun": fun, "arg": [], "kwarg": {}, "tgt": "*", "tgt_type": "glob",
            **extra}


# -- keys ---------------------------------------------------------------------
@pytest.mark.parametrize(("auto_accept", "state"), [(False, "pending"), (True, "accepted")])
def test_register_new(store: Store, auto_accept: bool, state: str) -> None:
    keys = store.keys()
    pub = _keys()
    assert keys.register("m1", pub, auto_accept) == state
    assert keys.state_of("m1") == state and keys.read(state, "m1") == pub
    assert keys.list() == {s: (["m1"] if s == state else []) for s in STATES}
    assert set(keys.ids(state)) == {"m1"}
    assert (keys.stamp("m1") is not None) == (state == "accepted")


@pytest.mark.parametrize("state", ["pending", "accepted", "rejected"])
def test_different_key_is_denied_and_the_rightful_one_kept(store: Store, state: str) -> None:
    keys = store.keys()
    original, intruder = _keys(), _keys()
    keys.register("m1", original, state == "accepted")
    if state == "rejected":
        assert keys.move("m1", "rejected", ("pending",))
    assert keys.register("m1", intruder, True) == "denied"
    assert keys.read(state, "m1") == original and keys.read("denied", "m1") == intruder
    assert keys.register("m1", original, True) == state
    assert keys.register("m1", original, False) == state  # auto_accept never promotes


def test_denied_only_id_stays_denied_until_deleted(store: Store) -> None:
    keys = store.keys()
    keys.register("m1", _keys(), False)
    keys.register("m1", _keys(), False)
    assert keys.delete("m1") and not keys.delete("m1")
    assert keys.state_of("m1") is None
    fresh = _keys()
    assert keys.register("m1", fresh, False) == "pending"
    assert keys.admit("m1", fresh) == "accepted"  # a join token on a pending key
    assert keys.accepted("m1") == fresh


def test_move_and_stamp(store: Store) -> None:
    keys = store.keys()
    pub = _keys()
    keys.register("m1", pub, False)
    assert keys.move("m1", "accepted", ("pending", "rejected"))
    stamp = keys.stamp("m1")
    assert stamp is not None and keys.stamp("m1") == stamp
    assert not keys.move("m1", "accepted", ("pending", "rejected"))
    assert keys.move("m1", "rejected", ("accepted",))
    assert keys.stamp("m1") is None and keys.accepted("m1") is None
    assert keys.state_of("m1") == "rejected"
    assert not keys.move("nobody", "accepted", ("pending",))
    assert keys.fingerprints()["rejected"] == {"m1": pub.fingerprint()}


def test_pending_keys_are_capped(store: Store) -> None:
    keys = store.keys(max_pending=2)
    for i in range(2):
        assert keys.register(f"m{i}", _keys(), False) == "pending"
    with pytest.raises(TooManyPending, match="2 keys are pending"):
        keys.register("m2", _keys(), False)
    assert keys.state_of("m2") is None
    assert keys.register("a1", _keys(), True) == "accepted"


def test_a_second_store_object_sees_the_changes(store: Store) -> None:
    # What `master key accept` does from another process (or another master).
    keys = store.keys()
    keys.register("m1", _keys(), False)
    other = store.keys()
    assert other.move("m1", "accepted", ("pending",))
    deadline = time.monotonic() + 2
    while "m1" not in keys.ids("accepted"):
        assert time.monotonic() < deadline, "the change was never seen"
        time.sleep(0.05)


@pytest.mark.parametrize("bad_id", ["../x", "", "a/b", "..", "a\x00b"])
def test_invalid_ids_raise(store: Store, bad_id: str) -> None:
    keys = store.keys()
    for call in (lambda: keys.register(bad_id, _keys(), True), lambda: keys.state_of(bad_id),
                 lambda: keys.delete(bad_id), lambda: keys.stamp(bad_id)):
        with pytest.raises(InvalidId):
            call()


# -- tokens -------------------------------------------------------------------
def test_token_rules(store: Store) -> None:
    tokens = store.tokens()
    token_id, secret, fp = split_token(tokens.create(FP, 3600, 2, "web*"))
    assert fp == FP
    presented = f"{token_id}.{secret}"
    assert tokens.redeem(presented, "db1") == "token does not admit id 'db1'"
    assert tokens.redeem(f"{token_id}.wrong", "web1") == "unknown token"
    assert tokens.redeem(presented, "web1") is None
    assert tokens.redeem(presented, "web2") is None
    assert tokens.redeem(presented, "web3") == "token used up"
    listed = tokens.list()[token_id]
    assert (listed["uses_left"], listed["valid"], listed["match"]) == (0, False, "web*")
    assert tokens.revoke(token_id) and not tokens.revoke(token_id)
    assert tokens.redeem(presented, "web1") == "unknown token"


# -- job cache ----------------------------------------------------------------
def test_jobs_and_returns(store: Store) -> None:
    cache = store.jobs()
    job = _job("20240101000000000001", "cmd.run", arg=["uname -a", 3], kwarg={"cwd": "/tmp"},
               tgt=["m1", "m2"], tgt_type="list")
    cache.add_job(job, ["m1", "m2"], "alice")
    assert cache.add_return(job["jid"], "m2", {"return": {"x": [1, b"b"]}, "success": True})
    assert cache.add_return(job["jid"], "m1", {"return": 1, "success": False, "retcode": 2})
    assert cache.add_return(job["jid"], "m1", {"return": "boom", "success": False, "retcode": 2})
    assert not cache.add_return("999", "m1", {"return": True, "success": True})
    got = cache.get_job(job["jid"])
    assert got is not None
    assert {k: got[k] for k in ("jid", "fun", "arg", "kwarg", "tgt", "tgt_type")} == job
    assert (got["expected"], got["user"]) == (["m1", "m2"], "alice")
    assert list(got["returns"]) == ["m1", "m2"]
    assert got["returns"]["m1"] == {"return": "boom", "success": False, "retcode": 2}
    assert got["returns"]["m2"] == {"return": {"x": [1, b"b"]}, "success": True, "retcode": 0}
    assert cache.expected(job["jid"]) == ["m1", "m2"] and cache.expected("nope") is None
    assert cache.get_job("nope") is None


def test_duplicate_jid_refused(store: Store) -> None:
    cache = store.jobs()
    cache.add_job(_job("1"), [], "")
    with pytest.raises(Exception, match="UNIQUE"):
        cache.add_job(_job("1", "cmd.run"), [], "")


def test_list_filters_and_pages(store: Store) -> None:
    cache = store.jobs()
    for i, fun in enumerate(("test.ping", "state.apply", "state.highstate", "cmd.run")):
        cache.add_job(_job(f"2024010100000000000{i}", fun, tgt=f"web{i}"), ["m1", "m2"], "bob")
    cache.add_return("20240101000000000001", "m1", {"return": True, "success": True})
    jobs = cache.list_jobs()
    assert [j["jid"][-1] for j in jobs] == ["3", "2", "1", "0"]
    assert [j["returned"] for j in jobs] == [0, 0, 1, 0]
    assert [j["fun"] for j in cache.list_jobs(fun="state.*")] == ["state.highstate",
                                                                 "state.apply"]
    assert [j["fun"] for j in cache.list_jobs(fun="[!s]*.run")] == ["cmd.run"]
    assert [j["tgt"] for j in cache.list_jobs(tgt="web[12]")] == ["web2", "web1"]
    assert [j["jid"][-1] for j in cache.list_jobs(limit=2, before="20240101000000000002")] == [
        "1", "0"]
    recent = cache.recent_jobs("state.*", 0.0, 10)
    assert [(r[0][-1], r[1]) for r in recent] == [("1", "state.apply"), ("2", "state.highstate")]


def test_iter_returns_in_minion_order(store: Store) -> None:
    cache = store.jobs()
    cache.add_job(_job("1"), [f"m{i:03}" for i in range(450)], "")
    for i in reversed(range(450)):
        cache.add_return("1", f"m{i:03}", {"return": i, "success": True})
    got = list(cache.iter_returns("1"))
    assert [g[0] for g in got] == [f"m{i:03}" for i in range(450)]
    assert [g[1] for g in got] == list(range(450))


def test_prune(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    cache = store.jobs()
    real = time.time
    monkeypatch.setattr(time, "time", lambda: real() - 5 * 3600)
    cache.add_job(_job("old"), ["m1"], "")
    cache.add_return("old", "m1", {"return": True, "success": True})
    monkeypatch.undo()
    cache.add_job(_job("new"), ["m1"], "")
    assert cache.prune(24) == 0
    assert cache.prune(4) == 1
    assert cache.get_job("old") is None and list(cache.iter_returns("old")) == []
    assert [j["jid"] for j in cache.list_jobs()] == ["new"]


def test_grains(store: Store) -> None:
    cache = store.jobs()
    assert cache.all_grains() == {}
    cache.save_grains("m1", {"os": "Debian", "roles": ["web"]})
    cache.save_grains("m2", {"os": "CentOS"})
    cache.save_grains("m1", {"os": "Ubuntu"})
    assert cache.all_grains() == {"m1": {"os": "Ubuntu"}, "m2": {"os": "CentOS"}}
    cache.forget_minion("m1")
    assert cache.all_grains() == {"m2": {"os": "CentOS"}}


# -- the master key pair --------------------------------------------------------
def test_master_pair_is_kept(store: Store, tmp_path: Path) -> None:
    first = store.master_pair()
    again = store.master_pair()
    assert first.public == again.public
    pem = tmp_path / "pki" / "master.pem"
    assert pem.stat().st_mode & 0o777 == 0o600
