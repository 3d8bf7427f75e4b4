"""A minion with several masters: real masters on 127.0.0.2 and 127.0.0.3, one store.

`master_type: str` (the default for a list): connected to both, answered
through either, and a return whose master died lands through the other.
`master_type: failover`: one master at a time, moving on when it stops
answering and back again, more than once.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cluster import Cluster, wait_for
from tests.pgserver import PgServer, needs_pg

pytestmark = needs_pg


@pytest.fixture
def pair(pg: PgServer, tmp_path: Path) -> Iterator[tuple[Cluster, Cluster]]:
    dsn = pg.fresh_dsn()
    a = Cluster(tmp_path / "a", interface="127.0.0.2", cluster_store=dsn, auto_accept=True)
    b = Cluster(tmp_path / "b", interface="127.0.0.3", cluster_store=dsn, auto_accept=True)
    try:
        a.start_master()
        b.start_master()
        yield a, b
    finally:
        a.close()
        b.close()


def _masters(a: Cluster, b: Cluster) -> list[str]:
    return [f"127.0.0.2:{a.ret_port}", f"127.0.0.3:{b.ret_port}"]


def _answers(cluster: Cluster, ids: list[str]) -> bool:
    data, _ = cluster.run_json("-t", "5", "-L", ",".join(ids), "test.ping")
    return data == {m: True for m in ids}


def test_str_minions_answer_both_masters_and_returns_outlive_a_master(
        pair: tuple[Cluster, Cluster]) -> None:
    a, b = pair
    ids = ["s1", "s2", "s3"]
    for m in ids:
        a.add_minion(m, master=_masters(a, b))
    wait_for(lambda: _answers(a, ids), 30, 0.5, "answers through A")
    wait_for(lambda: _answers(b, ids), 30, 0.5, "answers through B")

    # A job of A's, then A killed while it runs: the returns land through B.
    proc = a.master_cmd("run", "--async", "-L", ",".join(ids), "cmd.run", "sleep 4; echo done")
    jid = re.search(r"job ID: (\d+)", proc.stdout)
    assert jid, proc.stdout + proc.stderr
    wait_for(lambda: all(f"job {jid.group(1)}" in a.minion_log(m) for m in ids), 10,
             what="the minions to start A's job")
    assert a.master is not None
    a.master.kill()
    a.master.wait(10)
    a.master = None

    def landed() -> bool:
        shown = b.master_cmd("jobs", "show", jid.group(1), "--out", "json")
        if shown.returncode != 0:
            return False
        returns = json.loads(shown.stdout).get("returns") or {}
        return sorted(returns) == ids

    wait_for(landed, 40, 0.5, "A's returns in the job cache through B")
    assert _answers(b, ids)


def test_failover_minion_moves_on_and_back_more_than_once(
        pair: tuple[Cluster, Cluster]) -> None:
    a, b = pair
    a.add_minion("f1", master=_masters(a, b), master_type="failover",
                 master_alive_interval=2)
    wait_for(lambda: _answers(a, ["f1"]), 30, 0.5, "f1 on A")
    assert b.run_json("-t", "2", "f1", "test.ping")[0] != {"f1": True}  # one at a time

    for _ in range(2):
        a.stop_master()
        wait_for(lambda: _answers(b, ["f1"]), 40, 0.5, "f1 moved to B")
        a.start_master()
        b.stop_master()
        wait_for(lambda: _answers(a, ["f1"]), 40, 0.5, "f1 back on A")
        b.start_master()
    log = a.minion_log("f1")
    assert log.count("moving to 127.0.0.3") >= 2 and log.count("moving to 127.0.0.2") >= 2
    assert a.minions["f1"].poll() is None  # never exits


@pytest.mark.slow
@pytest.mark.timeout(400)
def test_both_masters_down_two_minutes_then_every_minion_back_within_15_s(
        pair: tuple[Cluster, Cluster]) -> None:
    a, b = pair
    ids = ["d1", "d2", "d3", "d4"]
    for m in ids[:2]:
        a.add_minion(m, master=_masters(a, b))
    for m in ids[2:]:
        a.add_minion(m, master=_masters(a, b), master_type="failover",
                     master_alive_interval=3)
    wait_for(lambda: _answers(a, ids[:2]) and _answers(b, ids[:2]), 30, 0.5, "str minions")
    wait_for(lambda: _answers(a, ids[2:]), 30, 0.5, "failover minions on A")

    a.stop_master()
    b.stop_master()
    time.sleep(120)  # the outage itself: what is tested is that nothing gives up
    assert all(proc.poll() is None for proc in a.minions.values())
    a.start_master()
    b.start_master()
    back = time.monotonic()
    wait_for(lambda: _answers(a, ids[:2]) and _answers(b, ids[:2]), 15, 0.5,
             "str minions back on both")
    wait_for(lambda: all(_answers(a, [m]) or _answers(b, [m]) for m in ids[2:]), 15, 0.5,
             "failover minions back, each on one master")
    assert time.monotonic() - back < 15
