"""Targets reach exactly the right real minions, and list targets reach no other."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from tests.cluster import Cluster

FLEET = {
    "web1": {"role": "web", "env": "prod", "disks": ["sda", "sdb"]},
    "web2": {"role": "web", "env": "dev", "disks": ["vda"]},
    "db1": {"role": "db", "env": "prod", "tuning": {"shared_buffers": 4096}},
}


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    cluster = Cluster(tmp_path_factory.mktemp("fleet"), auto_accept=True,
                      nodegroups={"prod": "G@env:prod"})
    try:
        cluster.start_master()
        for minion_id, grains in FLEET.items():
            cluster.add_minion(minion_id, grains=grains)
        cluster.wait_answer(list(FLEET))
        yield cluster
    finally:
        cluster.close()


@pytest.mark.parametrize(("flags", "expected"), [
    (["-G", "role:web"], ["web1", "web2"]),
    (["-G", "role:WEB"], ["web1", "web2"]),
    (["-G", "disks:sdb"], ["web1"]),
    (["-G", "tuning:shared_buffers:4096"], ["db1"]),
    (["-G", "tuning/shared_buffers/40*", "--delimiter", "/"], ["db1"]),
    (["-P", "env:pr.d"], ["web1", "db1"]),
    (["-C", "G@env:prod and not web*"], ["db1"]),
    (["-C", "( web* or db1 ) and not G@env:dev"], ["web1", "db1"]),
    (["-C", "E@^web and L@web2,db1"], ["web2"]),
    (["-C", "S@127.0.0.0/8 and G@role:db"], ["db1"]),
    (["-N", "prod"], ["web1", "db1"]),
    (["-E", "web"], ["web1", "web2"]),
    (["-L", "db1,web2"], ["db1", "web2"]),
    (["-L", "db1, web2"], ["db1"]),  # Salt keeps the space: " web2" is no id
    (["web?"], ["web1", "web2"]),
])
def test_targets_reach_exactly_the_matching_minions(
    fleet: Cluster, flags: list[str], expected: list[str]
) -> None:
    tgt_flags, target = flags[:-1], flags[-1]
    if "--delimiter" in flags:
        tgt_flags, target = ["-G", "--delimiter", "/"], flags[1]
    data, proc = fleet.run_json(*tgt_flags, target, "grains.get", "id")
    assert proc.returncode == 0, proc.stderr
    assert data == {m: m for m in expected}
    preview = fleet.master_cmd("run", "--preview", "--out", "json", *tgt_flags, target)
    assert sorted(json.loads(preview.stdout)) == sorted(expected)


def test_list_targets_never_reach_other_minions(fleet: Cluster) -> None:
    proc = fleet.master_cmd("run", "-L", "web1", "test.ping")
    assert proc.returncode == 0
    listed = max(json.loads(fleet.master_cmd("jobs", "list", "--out", "json").stdout))
    assert f"job {listed}: test.ping" in fleet.minion_log("web1")
    for other in ("web2", "db1"):
        assert listed not in fleet.minion_log(other)
    # Control: a grain target is broadcast, so the others see it and decline.
    proc = fleet.master_cmd("run", "-G", "role:db", "test.ping")
    assert proc.returncode == 0
    broadcast = max(json.loads(fleet.master_cmd("jobs", "list", "--out", "json").stdout))
    assert f"job {broadcast} is not for this minion" in fleet.minion_log("web1")


@pytest.mark.parametrize(("flags", "message"), [
    (["-C", "G@role:web and ( web1"], "unbalanced '('"),
    (["-C", "R@%foo"], "R@"),
    (["-C", "not not web1"], "not"),
    (["-S", "127.0.0.1/8"], "host bits"),
    (["-C", "web1 and"], "and"),
    (["-C", ""], "empty"),
    (["-E", "web(["], "web(["),
    (["-S", "10.0.0.0/33"], "10.0.0.0/33"),
    (["-N", "nosuch"], "nosuch"),
])
def test_bad_targets_are_refused_and_nothing_is_published(
    fleet: Cluster, flags: list[str], message: str
) -> None:
    before = fleet.master_cmd("jobs", "list", "--out", "json").stdout
    proc = fleet.master_cmd("run", *flags, "test.ping")
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], proc.stderr
    assert fleet.master_cmd("jobs", "list", "--out", "json").stdout == before
