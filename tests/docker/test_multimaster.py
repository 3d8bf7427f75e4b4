"""Three masters over one PostgreSQL store, ten minions, and one master's network cut.

Everything runs in containers on one private network (tests/docker/cluster_hosts.py):
the store `db`, masters `m1`, `m2`, `m3` sharing it, eight minions with
`master: [m1, m2, m3]` (str: connected to all three) and two with
`master: [m3, m1, m2]`, `master_type: failover` (on m3 while it answers).
Keys are accepted once, on m1. Then m3 is taken off the network with
`docker network disconnect`, as a cable pulled or a partition would: its
peers' packets go nowhere, nothing closes a connection. Jobs started
after that reach every minion through m1 (the str minions at once, the
failover ones once they have moved on) and through m2; m3 answers again
once it is back on the network. Last, m2 is put back at another address
under the same name, as a master started again elsewhere would be: the
minions dial its name again and find it.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.docker.cluster_hosts import Site, master_image, store_image, wait_until

MASTERS = ["m1", "m2", "m3"]
STR_IDS = [f"s{n:02d}" for n in range(1, 9)]
FAILOVER_IDS = ["f01", "f02"]
ALL_IDS = sorted(STR_IDS + FAILOVER_IDS)
ALIVE_INTERVAL = 4  # master_alive_interval: failover moves on, str dials again
START_TIMEOUT = 90


@pytest.fixture(scope="module")
def site(minion_image: str) -> Iterator[Site]:
    """The store, three masters and ten minions, keys accepted on m1, all answering."""
    group = Site(store_image(), master_image(minion_image), minion_image)
    try:
        group.start_store()
        for alias in MASTERS:
            group.start_master(alias)
        wait_until(lambda: _cluster_up(group), START_TIMEOUT, "three masters in cluster status")
        for minion_id in STR_IDS:
            group.start_minion(minion_id, master=MASTERS, master_alive_interval=ALIVE_INTERVAL,
                               grains={"mode": "str"})
        for minion_id in FAILOVER_IDS:
            group.start_minion(minion_id, master=["m3", "m1", "m2"], master_type="failover",
                               master_alive_interval=ALIVE_INTERVAL,
                               grains={"mode": "failover"})
        listed = group.master("m1", "key", "list", "--wait-for", ",".join(ALL_IDS),
                              "--wait", str(START_TIMEOUT), timeout=START_TIMEOUT + 30)
        assert listed.returncode == 0, listed.stdout + listed.stderr
        accepted = group.master("m1", "key", "accept", "--all", "-y")
        assert accepted.returncode == 0, accepted.stderr
        yield group
    except BaseException:
        for alias in [*MASTERS, STR_IDS[0], FAILOVER_IDS[0]]:
            if alias in group.names:
                print(f"--- {alias}\n{group.logs(alias)}")
        raise
    finally:
        group.close()


def _cluster_up(site: Site) -> bool:
    proc = site.master("m1", "cluster", "status", "--out", "json")
    if proc.returncode != 0:
        return False
    masters = json.loads(proc.stdout)["masters"]
    return len(masters) == len(MASTERS) and all(m["up"] for m in masters)


def _answers(site: Site, master: str, ids: list[str], *job: str,
             timeout: float = 15) -> dict[str, Any]:
    """Returns of one job of `master` to `ids` (test.ping unless `job` says), by minion."""
    data, _ = site.run(master, "-t", str(timeout), "-L", ",".join(ids),
                       *(job or ("test.ping",)), timeout=timeout + 30)
    return data


def _all_answer(site: Site, master: str, ids: list[str]) -> bool:
    return _answers(site, master, ids, timeout=3) == dict.fromkeys(ids, True)


def _run_all(site: Site, master: str, target: str, *job: str,
             timeout: float = 20) -> dict[str, Any]:
    """A job of `master` on `target` that must reach every one of its minions (exit 0)."""
    data, proc = site.run(master, "-t", str(timeout), target, *job, timeout=timeout + 30)
    assert proc.returncode == 0, f"{master}: {' '.join(job)}: {proc.stdout}{proc.stderr}"
    return data


def test_every_master_reaches_the_minions_it_serves(site: Site) -> None:
    # Keys accepted once, on m1, hold on every master of the store.
    wait_until(lambda: all(_all_answer(site, m, STR_IDS) for m in MASTERS),
               START_TIMEOUT, "the str minions answering all three masters")
    wait_until(lambda: _all_answer(site, "m3", ALL_IDS), START_TIMEOUT,
               "all ten answering m3")
    for alias in MASTERS:
        keys = json.loads(site.master(alias, "key", "list", "--out", "json").stdout)
        assert sorted(keys["accepted"]) == ALL_IDS, (alias, keys)

    # m3 holds every minion: '*' there reaches all ten; the failover ones
    # are on m3 only, so the other masters name them as not connected.
    assert _run_all(site, "m3", "*", "test.ping") == dict.fromkeys(ALL_IDS, True)
    data, proc = site.run("m1", "-t", "5", "*", "test.ping")
    assert proc.returncode != 0
    assert {m: data[m] for m in STR_IDS} == dict.fromkeys(STR_IDS, True)
    assert all(data[m] is not True for m in FAILOVER_IDS), data


def test_jobs_after_a_master_is_cut_off_still_reach_every_minion(site: Site) -> None:
    wait_until(lambda: _all_answer(site, "m3", ALL_IDS), START_TIMEOUT, "all ten on m3")
    site.cut("m3")
    cut_at = time.monotonic()
    try:
        _after_the_cut(site, cut_at)
    finally:
        site.rejoin("m3")
    back_at = time.monotonic()

    # m3 back on the network: the str minions answer it again, and it
    # beats in the store again.
    wait_until(lambda: _all_answer(site, "m3", STR_IDS), START_TIMEOUT,
               "the str minions answering m3 again")
    print(f"m3 answered again {time.monotonic() - back_at:.1f} s after it rejoined")
    wait_until(lambda: _cluster_up(site), 30, "m3 up again in cluster status")


def _after_the_cut(site: Site, cut_at: float) -> None:
    # Started at once: the str minions answer m1 and m2 without waiting for
    # anything to notice that m3 is gone.
    assert _run_all(site, "m1", "-L", ",".join(STR_IDS), "test.ping") == dict.fromkeys(
        STR_IDS, True)
    shown = _run_all(site, "m2", "-L", ",".join(STR_IDS), "cmd.run", "hostname")
    assert shown == {m: m for m in STR_IDS}
    # The cut is real: m3 reaches nobody.
    assert True not in _answers(site, "m3", STR_IDS, timeout=3).values()

    # The failover minions hear nothing from m3 for master_alive_interval
    # and move to the next in their list, m1.
    wait_until(lambda: _all_answer(site, "m1", FAILOVER_IDS), 6 * ALIVE_INTERVAL,
               "the failover minions moving to m1", interval=0.2)
    print(f"failover minions answering m1 {time.monotonic() - cut_at:.1f} s after the cut")

    # From here on every job of m1 reaches all ten.
    for job in (("test.ping",), ("cmd.run", "hostname"), ("grains.item", "mode"),
                ("test.ping",)):
        data = _run_all(site, "m1", "*", *job)
        assert sorted(data) == ALL_IDS, (job, data)
        if job[0] == "cmd.run":
            assert data == {m: m for m in ALL_IDS}
        if job[0] == "grains.item":
            assert all(data[m] == {"mode": "str" if m in STR_IDS else "failover"}
                       for m in ALL_IDS), data
    # m2 reaches every str minion, and shows m1's returns from the one job cache.
    assert _run_all(site, "m2", "-G", "mode:str", "test.ping") == dict.fromkeys(STR_IDS, True)
    listed = json.loads(site.master("m2", "jobs", "list", "--fun", "grains.item",
                                    "--out", "json").stdout)
    assert len(listed) == 1, listed
    shown = json.loads(site.master("m2", "jobs", "show", *listed, "--out", "json").stdout)
    assert sorted(shown["returns"]) == ALL_IDS, shown
    # m3 stopped beating in the store: the others show it down.
    wait_until(lambda: _down(site, "m1") == ["m3"], 30, "m3 shown DOWN in cluster status")


def _down(site: Site, alias: str) -> list[str]:
    proc = site.master(alias, "cluster", "status", "--out", "json")
    return sorted(m["host"] for m in json.loads(proc.stdout)["masters"] if not m["up"])


def test_a_master_back_at_another_address_is_found_again(site: Site) -> None:
    # A master started again elsewhere under the same name: the minions'
    # connections to its old address go nowhere and nothing closes them;
    # they dial its name again after master_alive_interval of silence.
    wait_until(lambda: _all_answer(site, "m2", STR_IDS), START_TIMEOUT, "the str minions on m2")
    old = site.address("m2")
    site.cut("m2")
    new = site.spare_address()
    site.rejoin("m2", new)
    back_at = time.monotonic()
    assert site.address("m2") == new != old
    assert _run_all(site, "m1", "-G", "mode:str", "test.ping") == dict.fromkeys(STR_IDS, True)
    wait_until(lambda: _all_answer(site, "m2", STR_IDS), 5 * ALIVE_INTERVAL + 20,
               "the str minions answering m2 at its new address")
    print(f"m2 at {new} answered {time.monotonic() - back_at:.1f} s after it came back")
    wait_until(lambda: _cluster_up(site), 30, "m2 up again in cluster status")
