"""Tests for master.tracker: acks, returns and waiting (asyncio, no sleeps)."""

from __future__ import annotations

import asyncio
import time

import pytest

from master import tracker as tracker_mod
from master.tracker import Tracker, Trackers


def test_ack_and_ret() -> None:
    t = Tracker("1", ["m1", "m2"])
    t.ack("m1")
    t.ack("m1")
    assert t.acked == {"m1"}
    assert t.events == []
    t.ret("m2", {"return": True, "success": True})
    t.ret("m2", {"return": False, "success": False})  # a second return is ignored
    assert t.returned == {"m2"}
    assert t.acked == {"m1", "m2"}  # a return implies an ack
    assert t.events == [{"minion": "m2", "return": True, "success": True}]


def test_wait_returns_at_once_when_events_are_past_cursor() -> None:
    async def main() -> float:
        t = Tracker("1", ["m1"])
        t.ret("m1", {"return": 1})
        start = time.monotonic()
        await t.wait(0, timeout=5)
        return time.monotonic() - start

    assert asyncio.run(main()) < 1


def test_wait_times_out_without_event() -> None:
    async def main() -> float:
        t = Tracker("1", ["m1"])
        t.ret("m1", {"return": 1})
        start = time.monotonic()
        await t.wait(1, timeout=0.1)  # nothing past cursor 1
        return time.monotonic() - start

    assert 0.09 <= asyncio.run(main()) < 2


def test_wait_zero_timeout() -> None:
    async def main() -> None:
        await asyncio.wait_for(Tracker("1", []).wait(0, timeout=0), 1)

    asyncio.run(main())


@pytest.mark.parametrize("action", ["ret", "ack"])
def test_wait_wakes_on_new_event(action: str) -> None:
    async def main() -> float:
        t = Tracker("1", ["m1"])
        waiter = asyncio.create_task(t.wait(0, timeout=5))
        await asyncio.sleep(0)  # let the waiter start waiting
        assert not waiter.done()
        start = time.monotonic()
        if action == "ret":
            t.ret("m1", {"return": True})
        else:
            t.ack("m1")
        await asyncio.wait_for(waiter, 1)
        return time.monotonic() - start

    assert asyncio.run(main()) < 1


def test_repeated_ack_does_not_wake() -> None:
    async def main() -> bool:
        t = Tracker("1", ["m1"])
        t.ack("m1")
        waiter = asyncio.create_task(t.wait(0, timeout=0.2))
        await asyncio.sleep(0)
        t.ack("m1")  # already acked: no news
        await asyncio.sleep(0)
        done_early = waiter.done()
        await waiter
        return done_early

    assert asyncio.run(main()) is False


def test_trackers_start_get_and_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tracker_mod, "MAX_TRACKED", 3)
    trackers = Trackers()
    for jid in ("1", "2", "3", "4"):
        trackers.start(jid, ["m1"])
    assert trackers.get("1") is None  # oldest dropped
    assert [t.jid for t in trackers.jobs.values()] == ["2", "3", "4"]
    got = trackers.get("4")
    assert got is not None
    assert got.expected == ["m1"]


def test_trackers_expire_old() -> None:
    trackers = Trackers()
    old = trackers.start("old", [])
    old.touched -= tracker_mod.KEEP_SECONDS + 1
    trackers.start("new", [])
    assert trackers.get("old") is None
    assert trackers.get("new") is not None


def test_targets_expected_or_matched_now() -> None:
    from master.tracker import Trackers

    trackers = Trackers()
    exact = trackers.start("1", ["m1"])
    assert exact.targets("m1") and not exact.targets("m2")
    late = trackers.start("2", ["m1"], match=lambda m: m == "m3")
    assert late.targets("m1") and late.targets("m3") and not late.targets("m2")


def test_a_minion_gone_wakes_only_the_runs_still_waiting_for_it() -> None:
    async def main() -> list[bool]:
        trackers = Trackers()
        waiting = trackers.start("1", ["m1", "m2"])
        returned = trackers.start("2", ["m1"])
        returned.ret("m1", {"return": True})
        other = trackers.start("3", ["m3"])
        waiters = [asyncio.create_task(t.wait(len(t.events), timeout=5))
                   for t in (waiting, returned, other)]
        await asyncio.sleep(0)
        trackers.gone("m1")
        await asyncio.sleep(0)
        done = [w.done() for w in waiters]
        for w in waiters:
            w.cancel()
        return done

    assert asyncio.run(main()) == [True, False, False]
