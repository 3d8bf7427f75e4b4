"""The cluster store while masters run: key changes heard within a second
(LISTEN/NOTIFY), writes queued on disk while the store is down and written
when it is back, and two masters writing the same job without duplicates."""

from __future__ import annotations

import asyncio
import stat
import time
from pathlib import Path
from typing import Any

import pytest

from common.crypto import KeyPair
from master.store import PgStore, open_store
from tests.pgserver import PgServer, needs_pg, pg_server

pytestmark = needs_pg


def _opts(root: Path, dsn: str, port: int) -> dict[str, Any]:
    return {"pki_dir": str(root / "pki"), "cachedir": str(root / "cache"),
            "cluster_store": dsn, "interface": "127.0.0.1", "publish_port": port,
            "ret_port": port + 1}


def _daemon(root: Path, dsn: str, port: int) -> PgStore:
    store = open_store(_opts(root, dsn, port), daemon=True)
    assert isinstance(store, PgStore) and store.listener is not None
    assert store.listener.listening.wait(10)
    return store


def test_a_key_change_on_one_master_is_heard_on_the_other_within_1s(
        pg: PgServer, tmp_path: Path) -> None:
    dsn = pg.fresh_dsn()
    a, b = _daemon(tmp_path / "a", dsn, 4505), _daemon(tmp_path / "b", dsn, 4605)
    try:
        keys_a, keys_b = a.keys(), b.keys()
        pub = KeyPair.generate().public
        assert keys_a.register("m1", pub, auto_accept=False) == "pending"

        async def heard(change: str) -> float:
            # B's key watch: wakes on the notification, then reads the store's copy.
            start = time.monotonic()
            if change == "accept":
                keys_a.move("m1", "accepted", ("pending",))
            else:
                keys_a.delete("m1")
            while time.monotonic() - start < 5:
                await keys_b.changed(5.0)
                if ("m1" in keys_b.ids("accepted")) == (change == "accept"):
                    return time.monotonic() - start
            raise AssertionError(f"{change} never heard")

        for change in ("accept", "delete"):
            took = asyncio.run(heard(change))
            assert took < 1.0, f"{change} took {took:.3f} s"
        assert keys_b.stamp("m1") is None and keys_b.state_of("m1") is None
    finally:
        a.close()
        b.close()


def test_writes_wait_on_disk_while_the_store_is_down(tmp_path: Path) -> None:
    # Its own server: this test stops it.
    for server in pg_server():
        dsn = server.fresh_dsn()
        store = _daemon(tmp_path, dsn, 4705)
        try:
            cache, keys = store.jobs(), store.keys()
            pub = KeyPair.generate().public
            keys.register("m1", pub, auto_accept=True)
            cache.add_job({"jid": "1", "fun": "test.ping", "arg": [], "kwarg": {}, "tgt": "*",
                           "tgt_type": "glob"}, ["m1", "m2"], "")
            server.stop()
            # Known keys are still answered from the copy in memory.
            assert keys.accepted("m1") == pub and keys.stamp("m1") is not None
            assert cache.add_return("1", "m1", {"return": True, "success": True})
            cache.add_job({"jid": "2", "fun": "test.ping", "arg": [], "kwarg": {}, "tgt": "*",
                           "tgt_type": "glob"}, ["m2"], "")
            assert cache.add_return("2", "m2", {"return": "late", "success": True})
            cache.save_grains("m2", {"os": "Debian"})
            assert cache.expected("2") == ["m2"]  # judged from memory while away
            spool = tmp_path / "cache" / "store-spool.bin"
            assert stat.S_IMODE(spool.stat().st_mode) == 0o600 and spool.stat().st_size > 0
            server.start()
            deadline = time.monotonic() + 15
            while spool.exists():
                assert time.monotonic() < deadline, "the spool was never written"
                store.tick(lambda: 0)
                time.sleep(0.2)
            reader = open_store(_opts(tmp_path / "r", dsn, 4805)).jobs(readonly=True)
            assert reader.get_job("1")["returns"]["m1"]["return"] is True  # type: ignore[index]
            assert reader.get_job("2")["returns"]["m2"]["return"] == "late"  # type: ignore[index]
            assert reader.all_grains() == {"m2": {"os": "Debian"}}
        finally:
            store.close()


def test_two_masters_writing_one_job_keep_one_row_per_return(
        pg: PgServer, tmp_path: Path) -> None:
    dsn = pg.fresh_dsn()
    a = open_store(_opts(tmp_path / "a", dsn, 4905))
    b = open_store(_opts(tmp_path / "b", dsn, 5005))
    try:
        ca, cb = a.jobs(), b.jobs()
        job = {"jid": "7", "fun": "test.ping", "arg": [], "kwarg": {}, "tgt": "*",
               "tgt_type": "glob"}
        ca.add_job(job, ["m1", "m2"], "")
        ca.add_job(job, ["m1", "m2"], "")  # written again (a replayed spool): ignored
        assert ca.add_return("7", "m1", {"return": 1, "success": True})
        assert cb.add_return("7", "m1", {"return": 2, "success": True})
        assert cb.add_return("7", "m2", {"return": 3, "success": True})
        got = cb.get_job("7")
        assert got is not None and got["returns"] == {
            "m1": {"return": 2, "success": True, "retcode": 0},
            "m2": {"return": 3, "success": True, "retcode": 0}}
        assert [j["returned"] for j in ca.list_jobs()] == [2]
    finally:
        a.close()
        b.close()


def test_a_lost_store_is_not_dialled_from_the_daemon_until_the_listener_is_back(
        pg: PgServer) -> None:
    from master.store.pglink import PgLink, StoreDown

    back = False
    link = PgLink(pg.fresh_dsn(), reachable=lambda: back)
    assert link.rows("SELECT 1") == [(1,)]  # never lost yet: connects at once
    link.down_since = 1.0  # as after a failure
    link.close()
    link._next_try = 0.0  # past the retry interval: only the listener's word holds it back
    with pytest.raises(StoreDown, match="retrying"):
        link.rows("SELECT 1")
    back = True
    link._next_try = 0.0
    assert link.rows("SELECT 1") == [(1,)] and link.up
