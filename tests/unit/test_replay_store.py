"""The minion's executed-jid store: survives restarts, bounded in count and age."""

from __future__ import annotations

import stat
from pathlib import Path

from minion.replay import FILE_NAME, KEEP_SECONDS, ReplayStore


class Clock:
    def __init__(self, now: float = 1_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_a_jid_survives_a_restart_and_the_file_is_private(tmp_path: Path) -> None:
    clock = Clock()
    store = ReplayStore(tmp_path, clock)
    assert "20260101000000000001" not in store
    store.add("20260101000000000001")
    store.close()
    assert stat.S_IMODE((tmp_path / FILE_NAME).stat().st_mode) == 0o600
    again = ReplayStore(tmp_path, clock)
    assert "20260101000000000001" in again
    assert "20260101000000000002" not in again


def test_jids_older_than_a_replay_could_be_are_forgotten(tmp_path: Path) -> None:
    clock = Clock()
    store = ReplayStore(tmp_path, clock)
    store.add("old")
    clock.now += KEEP_SECONDS - 1
    store.add("young")
    store.close()
    clock.now += 2
    again = ReplayStore(tmp_path, clock)
    assert "old" not in again and "young" in again
    assert len(again) == 1


def test_count_and_file_size_are_bounded(tmp_path: Path) -> None:
    clock = Clock()
    store = ReplayStore(tmp_path, clock, max_jids=50)
    for i in range(1000):
        store.add(f"jid{i}")
        clock.now += 0.01
    assert len(store) == 50
    assert "jid999" in store and "jid949" not in store
    store.close()
    lines = (tmp_path / FILE_NAME).read_text().splitlines()
    assert len(lines) <= 100
    again = ReplayStore(tmp_path, clock, max_jids=50)
    assert len(again) == 50 and "jid999" in again


def test_a_damaged_file_and_odd_jids_are_harmless(tmp_path: Path) -> None:
    (tmp_path / FILE_NAME).write_bytes(b"\xff\xfe garbage\nno-time\nx notanumber\n ok 1\n"
                                       + b"good 1000000.0\n")
    clock = Clock()
    store = ReplayStore(tmp_path, clock)
    assert "good" in store and len(store) == 1
    store.add("with space\nand newline")  # remembered, but never written to the file
    store.add("next")
    store.close()
    again = ReplayStore(tmp_path, clock)
    assert "next" in again and "good" in again
    assert "with space\nand newline" not in again


def test_an_unwritable_cachedir_keeps_jids_in_memory(tmp_path: Path) -> None:
    store = ReplayStore(tmp_path / "missing", Clock())
    store.add("a")
    store.add("b")
    assert "a" in store and "b" in store
