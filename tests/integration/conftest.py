from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests import sshd
from tests.cluster import Cluster, free_port
from tests.pgserver import PgServer, pg_server


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[Cluster]:
    c = Cluster(tmp_path, nodegroups={"front": "L@m1,m2", "back": "not N@front"})
    try:
        yield c
    finally:
        c.close()


@pytest.fixture
def three(cluster: Cluster) -> Cluster:
    """A running master with three accepted, answering minions m1..m3."""
    cluster.start_master()
    for m in ("m1", "m2", "m3"):
        cluster.add_minion(m)
    cluster.wait_pending("m1", "m2", "m3")
    proc = cluster.master_cmd("key", "accept", "--all", "-y")
    assert proc.returncode == 0, proc.stderr
    cluster.wait_answer(["m1", "m2", "m3"])
    return cluster


@pytest.fixture
def two(tmp_path: Path) -> Iterator[Cluster]:
    """A master (auto_accept) with two accepted, answering minions m1 and m2."""
    cluster = Cluster(tmp_path, auto_accept=True)
    try:
        cluster.start_master()
        cluster.add_minion("m1")
        cluster.add_minion("m2")
        cluster.wait_answer(["m1", "m2"], timeout=30)
        yield cluster
    finally:
        cluster.close()


@pytest.fixture(scope="module")
def pg() -> Iterator[PgServer]:
    """A throw-away PostgreSQL server for a test module (skips when it cannot run)."""
    yield from pg_server()


@pytest.fixture(scope="module")
def sshd_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[sshd.Sshd]:
    """A throw-away sshd on a free loopback port for a test module, stopped after it."""
    proc = sshd.Sshd(tmp_path_factory.mktemp("sshd"), free_port())
    try:
        yield proc
    finally:
        proc.stop()
