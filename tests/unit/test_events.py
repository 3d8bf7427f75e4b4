"""Tests for master.events: the bounded ring, tag globs, key and connection events."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from common.crypto import KeyPair
from master import events, eventscmd
from master.events import EventBus, KeyWatch, tag_matches
from master.keys import KeyStore
from master.peers import Peers


def _tags(bus: EventBus, cursor: int = 0, patterns: list[str] | None = None) -> list[str]:
    found, _, _ = bus.read(cursor, patterns or [])
    return [e["tag"] for e in found]


def test_a_reader_follows_by_cursor_and_is_told_what_fell_off_the_ring() -> None:
    bus = EventBus(size=3)
    for i in range(5):
        bus.emit(f"t/{i}", {"i": i})
    found, cursor, missed = bus.read(0, [])
    assert [e["tag"] for e in found] == ["t/2", "t/3", "t/4"]
    assert (cursor, missed) == (5, 2)
    assert bus.read(cursor, []) == ([], 5, 0)
    bus.emit("t/5", {})
    assert _tags(bus, cursor) == ["t/5"]
    # A cursor from another master's life (past the head) reads from now on.
    assert bus.read(99, []) == ([], 6, 0)


def test_a_filtered_read_moves_the_cursor_past_what_it_skipped() -> None:
    bus = EventBus()
    bus.emit("saline/job/1/new", {})
    bus.emit("saline/key/pending/m1", {})
    found, cursor, _ = bus.read(0, ["saline/key/*"])
    assert [e["tag"] for e in found] == ["saline/key/pending/m1"] and cursor == 2
    found, cursor, _ = bus.read(0, ["saline/nothing/*"])
    assert found == [] and cursor == 2  # the next poll does not scan them again


def test_a_batch_is_bounded() -> None:
    bus = EventBus()
    for i in range(10):
        bus.emit(f"t/{i}", {})
    found, cursor, _ = bus.read(0, [], limit=4)
    assert len(found) == 4 and cursor == 4


@pytest.mark.parametrize(("tag", "patterns", "hit"), [
    ("saline/key/pending/m1", [], True),
    ("saline/key/pending/m1", ["saline/key/pending/*"], True),
    ("saline/key/pending/m1", ["saline/key/"], True),  # no glob character: a prefix
    ("saline/key/pending/m1", ["saline/key/accepted/*"], False),
    ("saline/job/1/ret/web1", ["saline/job/*/ret/web?"], True),  # * crosses /
    ("saline/job/1/ack/web1", ["saline/job/*/ret/*", "saline/job/*/ack/*"], True),
    ("saline/job/1/new", ["job/"], False),  # a prefix, not a substring
])
def test_tag_globs(tag: str, patterns: list[str], hit: bool) -> None:
    assert tag_matches(tag, patterns) is hit


@pytest.mark.parametrize("bad", ["saline/*", [1], [""], ["x" * 300], ["a"] * 40])
def test_bad_tag_lists_are_refused(bad: Any) -> None:
    with pytest.raises(ValueError):
        events.check_patterns(bad)


def test_since_replays_the_recent_events_still_held() -> None:
    now = [1000.0]
    bus = EventBus(clock=lambda: now[0])
    bus.emit("old", {})
    now[0] = 1100.0
    bus.emit("recent", {})
    assert _tags(bus, bus.start_cursor(30)) == ["recent"]
    assert _tags(bus, bus.start_cursor(500)) == ["old", "recent"]
    assert bus.start_cursor() == 2  # no replay: from the next event on


def test_a_poll_waits_for_a_matching_event_and_counts_missed() -> None:
    async def scenario() -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
        bus = EventBus(size=2)
        first = await bus.poll({"tags": ["saline/key/"]}, wait=0)
        assert first["events"] == [] and bus.waiting == 0
        cursor = first["cursor"]

        async def later() -> None:
            await asyncio.sleep(0.05)
            bus.emit("saline/job/1/new", {})  # does not match: the poll waits on
            await asyncio.sleep(0.05)
            bus.emit("saline/key/pending/m1", {"id": "m1"})

        task = asyncio.ensure_future(later())
        woke = await bus.poll({"cursor": cursor, "tags": ["saline/key/"]}, wait=5)
        await task
        for i in range(4):
            bus.emit(f"t/{i}", {})
        slow = await bus.poll({"cursor": woke["cursor"]}, wait=0)
        await bus.close()
        closing = await bus.poll({"cursor": slow["cursor"]}, wait=5)
        return woke, slow, closing

    woke, slow, closing = asyncio.run(scenario())
    assert [e["tag"] for e in woke["events"]] == ["saline/key/pending/m1"]
    assert woke["events"][0]["data"] == {"id": "m1"} and isinstance(woke["events"][0]["ts"], float)
    assert slow["missed"] == 2 and [e["tag"] for e in slow["events"]] == ["t/2", "t/3"]
    # The stop is told, and a poll after it does not wait.
    assert closing["closing"] is True
    assert [e["tag"] for e in closing["events"]] == ["saline/master/stopping"]


def test_a_failing_listener_does_not_stop_the_others() -> None:
    bus = EventBus()
    heard: list[str] = []

    def broken(tag: str, data: dict[str, Any]) -> None:
        raise RuntimeError("boom")

    bus.listen(broken)
    bus.listen(lambda tag, data: heard.append(tag))
    bus.emit("a", {})
    bus.emit("b", {})
    assert heard == ["a", "b"] and _tags(bus) == ["a", "b"]


def test_key_events_are_told_once_whoever_sees_them_first(tmp_path: Path) -> None:
    store = KeyStore(tmp_path / "pki", max_pending=10)
    store.register("old", KeyPair.generate().public, True)
    bus = EventBus()
    watch = KeyWatch(store, bus)  # keys there at start are not news
    keys = KeyPair.generate().public
    assert store.register("m1", keys, False) == "pending"
    watch.saw("m1", "pending")
    for _ in range(3):  # the pending minion asks again and again
        assert store.register("m1", keys, False) == "pending"
        watch.saw("m1", "pending")
    watch.update()
    store.move("m1", "accepted", ("pending",))
    watch.update()
    watch.update()
    store.move("old", "rejected", ("accepted",))
    store.delete("m1")
    watch.update()
    assert _tags(bus) == ["saline/key/pending/m1", "saline/key/accepted/m1",
                          "saline/key/rejected/old", "saline/key/deleted/m1"]
    found, _, _ = bus.read(0, [])
    assert found[0]["data"] == {"id": "m1", "state": "pending"}


def test_a_key_added_by_hand_is_told_by_the_watch(tmp_path: Path) -> None:
    store = KeyStore(tmp_path / "pki")
    bus = EventBus()
    watch = KeyWatch(store, bus)
    store.register("m2", KeyPair.generate().public, False)
    watch.update()
    store.register("m3", KeyPair.generate().public, False)
    store.delete("m3")  # gone before anyone looked: nothing to tell
    watch.update()
    assert _tags(bus) == ["saline/key/pending/m2"]


def _peers(tmp_path: Path, bus: EventBus, heartbeat: float = 60.0) -> Peers:
    store = KeyStore(tmp_path / "pki")
    for minion in ("m1", "m2"):
        store.register(minion, KeyPair.generate().public, True)
    return Peers(store, KeyPair.generate(), heartbeat, bus)


def test_connection_events_once_per_change(tmp_path: Path) -> None:
    bus = EventBus()
    peers = _peers(tmp_path, bus)
    peers.seen("m1", b"r1")
    peers.seen("m1", b"r2")  # a second connection (a `minion call`): still one minion
    peers.seen("m2", b"r3")
    assert peers.disconnected(b"r1") == []
    peers.disconnected(b"r2")
    peers.left("m2")
    peers.left("m2")
    peers.seen("m2", b"r4")
    peers.forget("m2")
    found, _, _ = bus.read(0, [])
    assert [(e["tag"], e["data"].get("why")) for e in found] == [
        ("saline/minion/m1/connected", None), ("saline/minion/m2/connected", None),
        ("saline/minion/m1/disconnected", "closed"), ("saline/minion/m2/disconnected", "bye"),
        ("saline/minion/m2/connected", None), ("saline/minion/m2/disconnected", "key removed")]


def test_a_silent_minion_is_told_disconnected_by_the_sweep(tmp_path: Path) -> None:
    bus = EventBus()
    peers = _peers(tmp_path, bus, heartbeat=0.0)  # no window: silent at once
    peers.seen("m1", b"r1")
    peers.sweep()
    peers.sweep()
    peers.seen("m1", b"r1")
    assert _tags(bus) == ["saline/minion/m1/connected", "saline/minion/m1/disconnected",
                          "saline/minion/m1/connected"]


def test_output_formats() -> None:
    event = {"tag": "saline/job/1/ret/m1", "ts": 0.25,
             "data": {"jid": "1", "id": "m1", "success": True}}
    line = eventscmd.render(event, "json")
    assert "\n" not in line
    assert json.loads(line) == {"tag": "saline/job/1/ret/m1", "ts": "1970-01-01T00:00:00.250Z",
                                "data": {"jid": "1", "id": "m1", "success": True}}
    doc = eventscmd.render(event, "yaml")
    assert doc.startswith("---\n") and yaml.safe_load(doc)["data"]["id"] == "m1"
    nested = eventscmd.render(event, "nested").splitlines()
    assert nested[0] == "saline/job/1/ret/m1:" and "    success:" in nested
