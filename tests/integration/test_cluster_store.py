"""Two real masters on 127.0.0.2 and 127.0.0.3 sharing one PostgreSQL store.

A key accepted on one master is accepted on the other, a minion connected to
the other is answered, a job published on one shows its returns on the
other, `master cluster status` lists both, a key deleted on one shuts the
minion out of the other, and a store that is down at start is one line and
exit 2. Also `master store migrate` from a single master, run twice.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cluster import Cluster, free_port, wait_for
from tests.pgserver import PgServer, needs_pg, pg_server

pytestmark = needs_pg


@pytest.fixture
def pair(pg: PgServer, tmp_path: Path) -> Iterator[tuple[Cluster, Cluster]]:
    dsn = pg.fresh_dsn()
    a = Cluster(tmp_path / "a", interface="127.0.0.2", cluster_store=dsn)
    b = Cluster(tmp_path / "b", interface="127.0.0.3", cluster_store=dsn)
    try:
        a.start_master()
        b.start_master()
        yield a, b
    finally:
        a.close()
        b.close()


def _json(cluster: Cluster, *args: str) -> dict:  # type: ignore[type-arg]
    proc = cluster.master_cmd(*args, "--out", "json")
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)  # type: ignore[no-any-return]


def test_a_key_accepted_on_a_is_accepted_on_b(pair: tuple[Cluster, Cluster]) -> None:
    a, b = pair
    b.add_minion("m1", master="127.0.0.3")
    a.wait_pending("m1")  # the minion spoke only to B: A sees its key in the store
    proc = a.master_cmd("key", "accept", "m1", "-y")
    assert proc.returncode == 0, proc.stderr
    assert b.keys()["accepted"] == ["m1"]
    b.wait_answer(["m1"], timeout=20)
    # One key pair for the cluster: minions pin one fingerprint.
    fa = _json(a, "key", "fingerprint")["local"]["master.pub"]
    assert fa == _json(b, "key", "fingerprint")["local"]["master.pub"]

    # Deleted on A: B rotates its session key and stops answering for m1.
    deleted = time.monotonic()
    assert a.master_cmd("key", "delete", "m1", "-y").returncode == 0
    wait_for(lambda: "session key rotated" in b.master_log(), timeout=5,
             what="B rotating its session key")
    assert time.monotonic() - deleted < 3
    data, _ = b.run_json("-t", "2", "*", "test.ping")
    assert data == {}


def test_a_job_published_on_a_shows_on_b(pair: tuple[Cluster, Cluster]) -> None:
    a, b = pair
    a.add_minion("m2", master="127.0.0.2")
    a.wait_pending("m2")
    assert a.master_cmd("key", "accept", "m2", "-y").returncode == 0
    a.wait_answer(["m2"], timeout=20)
    proc = a.master_cmd("run", "--async", "-L", "m2", "test.echo", "hello")
    jid = re.search(r"job ID: (\d+)", proc.stdout)
    assert jid, proc.stdout + proc.stderr

    def returned() -> bool:
        job = _json(b, "jobs", "show", jid.group(1))
        return bool(job["returns"].get("m2", {}).get("return") == "hello")

    wait_for(returned, timeout=15, what="the return on B")
    listed = _json(b, "jobs", "list")
    assert listed[jid.group(1)]["Returned"] == "1/1"

    status = _json(a, "cluster", "status")["masters"]
    assert all(m["publish"] == m["ret"] for m in status)  # jobs go down the return connection
    assert sorted(m["ret"] for m in status) == sorted(
        [f"127.0.0.2:{a.ret_port}", f"127.0.0.3:{b.ret_port}"])
    assert all(m["up"] for m in status)
    # m2 is connected to A only; the count comes with A's heartbeats.
    wait_for(lambda: {m["ret"]: m["connected"] for m in _json(
        b, "cluster", "status")["masters"]}[f"127.0.0.2:{a.ret_port}"] == 1,
        timeout=10, what="A's heartbeat counting m2")
    text = b.master_cmd("cluster", "status")
    assert text.returncode == 0 and text.stdout.count(": up, jobs and returns 127.0.0.") == 2


def test_store_down_at_start_is_one_line_and_exit_2(tmp_path: Path) -> None:
    dead = f"postgresql://saline:pw@127.0.0.1:{free_port()}/saline"
    lone = Cluster(tmp_path / "c", interface="127.0.0.2", cluster_store=dead)
    proc = lone.master_cmd("start", timeout=30)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "cluster store" in lines[0] and "unreachable" in lines[0]
    assert ":pw@" not in proc.stderr  # the password is never shown
    proc = lone.master_cmd("key", "list")
    assert proc.returncode == 1 and "unreachable" in proc.stderr


def test_migrate_a_single_master_twice(pg: PgServer, tmp_path: Path) -> None:
    single = Cluster(tmp_path / "s", interface="127.0.0.2")
    try:
        single.start_master()
        single.add_minion("m3", master="127.0.0.2")
        single.wait_pending("m3")
        assert single.master_cmd("key", "accept", "m3", "-y").returncode == 0
        single.wait_answer(["m3"], timeout=20)
        token = single.master_cmd("key", "token", "create", "--ttl", "1h")
        assert token.returncode == 0, token.stderr
        fingerprint = _json(single, "key", "fingerprint")["local"]["master.pub"]
    finally:
        single.close()
    dsn = pg.fresh_dsn()
    first = _json(single, "store", "migrate", "--to", dsn)
    assert first["keys"] == {"copied": 1, "already": 0}
    assert first["tokens"] == {"copied": 1, "already": 0}
    assert first["jobs"]["copied"] >= 1 and first["returns"]["copied"] >= 1
    assert first["master_key"].startswith("copied")
    again = _json(single, "store", "migrate", "--to", dsn)
    assert again["keys"] == {"copied": 0, "already": 1}
    assert again["jobs"]["copied"] == 0 and again["returns"]["copied"] == 0
    assert again["master_key"] == "already the cluster's"

    # The same master, now on the store: same keys, jobs and fingerprint.
    conf = single.master_dir / "master"
    conf.write_text(conf.read_text() + f"cluster_store: '{dsn}'\n")
    (single.master_dir / "cache" / "jobs.sqlite").unlink()
    assert single.keys()["accepted"] == ["m3"]
    assert _json(single, "key", "fingerprint")["local"]["master.pub"] == fingerprint
    assert len(_json(single, "jobs", "list")) == first["jobs"]["copied"]
    assert len(_json(single, "key", "token", "list")) == 1


def test_store_lost_while_running_keeps_serving_and_writes_later(tmp_path: Path) -> None:
    for server in pg_server():  # its own server: this test stops it
        _lose_the_store(server, tmp_path)


def _lose_the_store(server: PgServer, tmp_path: Path) -> None:
    lone = Cluster(tmp_path / "l", interface="127.0.0.2", cluster_store=server.fresh_dsn())
    try:
        lone.start_master()
        lone.add_minion("m4", master="127.0.0.2")
        lone.wait_pending("m4")
        assert lone.master_cmd("key", "accept", "m4", "-y").returncode == 0
        lone.wait_answer(["m4"], timeout=20)
        server.stop()
        data, proc = lone.run_json("-t", "5", "m4", "test.echo", "while away")
        assert data == {"m4": "while away"}, proc.stderr
        wait_for(lambda: "cluster store unreachable" in lone.master_log(), timeout=10,
                 what="the outage logged")
        spool = lone.master_dir / "cache" / "store-spool.bin"
        assert spool.exists() and spool.stat().st_mode & 0o777 == 0o600
        server.start()
        wait_for(lambda: not spool.exists(), timeout=20, what="the spool written")
        jobs = _json(lone, "jobs", "list")
        jid = next(j for j, v in jobs.items() if v["Arguments"] == ["while away"])
        job = _json(lone, "jobs", "show", jid)
        assert job["returns"]["m4"]["return"] == "while away"
        assert lone.master_log().count("cluster store unreachable") == 1  # once a minute
    finally:
        lone.close()
