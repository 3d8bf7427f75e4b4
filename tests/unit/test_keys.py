"""Tests for master.keys: the key store and the autosign file."""

from __future__ import annotations

import os
import stat
import time
from pathlib import Path

import pytest

from common.crypto import KeyPair, PublicKeys
from common.ids import InvalidId
from master.keys import STATES, KeyStore, autosign_allows


def _keys() -> PublicKeys:
    return KeyPair.generate().public


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def store(tmp_path: Path) -> KeyStore:
    return KeyStore(tmp_path / "pki")


def test_state_dirs_are_private(store: KeyStore) -> None:
    for state in STATES:
        assert _mode(store.pki_dir / state) == 0o700
    assert _mode(store.pki_dir) == 0o700


@pytest.mark.parametrize(("auto_accept", "state"), [(False, "pending"), (True, "accepted")])
def test_register_new(store: KeyStore, auto_accept: bool, state: str) -> None:
    keys = _keys()
    assert store.register("m1", keys, auto_accept) == state
    assert store.state_of("m1") == state
    assert store.read(state, "m1") == keys
    path = store.pki_dir / state / "m1"
    assert _mode(path) == 0o600
    assert store.list()[state] == ["m1"]
    assert sum(len(ids) for ids in store.list().values()) == 1


@pytest.mark.parametrize("state", ["pending", "accepted", "rejected"])
def test_same_key_again_keeps_state(store: KeyStore, state: str) -> None:
    keys = _keys()
    store.register("m1", keys, False)
    if state != "pending":
        assert store.move("m1", state, ("pending",))
    # auto_accept does not promote a known pending or rejected key.
    assert store.register("m1", keys, True) == state
    assert store.state_of("m1") == state
    assert store.list()["denied"] == []


@pytest.mark.parametrize("state", ["pending", "accepted", "rejected"])
def test_different_key_is_denied(store: KeyStore, state: str) -> None:
    original, intruder = _keys(), _keys()
    store.register("m1", original, state == "accepted")
    if state == "rejected":
        store.move("m1", "rejected", ("pending",))
    path = store.pki_dir / state / "m1"
    before = path.read_bytes()

    assert store.register("m1", intruder, True) == "denied"

    assert path.read_bytes() == before
    assert store.read(state, "m1") == original
    assert store.read("denied", "m1") == intruder
    assert _mode(store.pki_dir / "denied" / "m1") == 0o600
    # The rightful key still gets its state; the intruder stays denied.
    assert store.register("m1", original, True) == state
    assert store.accepted("m1") == (original if state == "accepted" else None)


def test_deleted_id_starts_afresh(store: KeyStore) -> None:
    store.register("m1", _keys(), False)
    store.register("m1", _keys(), False)  # a denied key too
    assert store.delete("m1")
    fresh = _keys()
    assert store.register("m1", fresh, False) == "pending"
    assert store.read("pending", "m1") == fresh


def test_denied_only_id_stays_denied(store: KeyStore) -> None:
    store.register("m1", _keys(), False)
    store.register("m1", _keys(), False)
    (store.pki_dir / "pending" / "m1").unlink()
    assert store.state_of("m1") == "denied"
    assert store.register("m1", _keys(), True) == "denied"
    assert store.accepted("m1") is None


def test_move(store: KeyStore) -> None:
    keys = _keys()
    store.register("m1", keys, False)
    assert store.move("m1", "accepted", ("pending", "rejected"))
    assert store.state_of("m1") == "accepted"
    assert store.accepted("m1") == keys
    assert not (store.pki_dir / "pending" / "m1").exists()
    assert _mode(store.pki_dir / "accepted" / "m1") == 0o600
    # Nothing left in the source states.
    assert not store.move("m1", "accepted", ("pending", "rejected"))
    assert store.move("m1", "rejected", ("accepted",))
    assert store.state_of("m1") == "rejected"
    assert store.accepted("m1") is None
    assert not store.move("unknown", "accepted", ("pending",))


def test_delete(store: KeyStore) -> None:
    store.register("m1", _keys(), False)
    store.register("m1", _keys(), False)  # also leaves a denied key
    store.register("m2", _keys(), True)
    assert store.delete("m1")
    assert store.state_of("m1") is None
    assert store.read("denied", "m1") is None
    assert not store.delete("m1")
    assert store.state_of("m2") == "accepted"


def test_list_sorted_and_skips_hidden(store: KeyStore) -> None:
    for minion in ("web2", "db1", "web10", "app"):
        store.register(minion, _keys(), False)
    store.register("zeta", _keys(), True)
    (store.pki_dir / "pending" / ".tmpfile").write_text("x")
    (store.pki_dir / "pending" / "subdir").mkdir()
    listing = store.list()
    assert listing == {
        "accepted": ["zeta"],
        "pending": ["app", "db1", "web10", "web2"],
        "rejected": [],
        "denied": [],
    }
    fingers = store.fingerprints()
    assert set(fingers["pending"]) == {"app", "db1", "web10", "web2"}
    assert fingers["accepted"]["zeta"] == store.accepted("zeta").fingerprint()  # type: ignore[union-attr]


def test_unreadable_key_file(store: KeyStore) -> None:
    (store.pki_dir / "accepted" / "m1").write_text("garbage")
    assert store.accepted("m1") is None
    assert store.fingerprints()["accepted"]["m1"] == "(unreadable)"


@pytest.mark.parametrize("bad_id", ["../x", "", "a\x00b", "a" * 300, ".hidden", "-x", "a/b", ".."])
def test_invalid_ids_raise(store: KeyStore, bad_id: str) -> None:
    keys = _keys()
    with pytest.raises(InvalidId):
        store.register(bad_id, keys, True)
    with pytest.raises(InvalidId):
        store.state_of(bad_id)
    with pytest.raises(InvalidId):
        store.read("accepted", bad_id)
    with pytest.raises(InvalidId):
        store.move(bad_id, "accepted", ("pending",))
    with pytest.raises(InvalidId):
        store.delete(bad_id)
    # Nothing escaped the store.
    assert not (store.pki_dir / "x").exists()
    assert sorted(p.name for p in store.pki_dir.iterdir()) == sorted(STATES)


AUTOSIGN = (
    "# minions allowed to join without an operator\n"
    "web*\n"
    "  db1.example.com  \n"
    "\n"
    "#m9\n"
    "[ab]pp?\n"
)


@pytest.mark.parametrize(
    ("minion", "allowed"),
    [
        ("web1", True),
        ("web", True),
        ("db1.example.com", True),
        ("db1", False),
        ("db1.example.comx", False),
        ("m9", False),
        ("#m9", False),
        ("app1", True),
        ("bpp2", True),
        ("cpp1", False),
        ("Web1", False),
        ("", False),
    ],
)
def test_autosign_allows(tmp_path: Path, minion: str, allowed: bool) -> None:
    path = tmp_path / "autosign"
    path.write_text(AUTOSIGN)
    assert autosign_allows(str(path), minion) is allowed


def test_autosign_without_file(tmp_path: Path) -> None:
    assert autosign_allows(None, "web1") is False
    assert autosign_allows("", "web1") is False
    assert autosign_allows(str(tmp_path / "missing"), "web1") is False


def test_autosign_comment_only(tmp_path: Path) -> None:
    path = tmp_path / "autosign"
    path.write_text("# *\n\n")
    assert autosign_allows(str(path), "anything") is False
    path.write_text("*\n")
    assert autosign_allows(str(path), "anything") is True


def test_longest_valid_id_registers_and_moves(store: KeyStore) -> None:
    # The key store's temp file adds to the id: the longest id the validator
    # allows must still be written, accepted and denied.
    from common.ids import MAX_ID_LENGTH, check_minion_id

    longest = "a" * MAX_ID_LENGTH
    keys = _keys()
    assert store.register(longest, keys, auto_accept=False) == "pending"
    assert store.move(longest, "accepted", ("pending",))
    assert store.accepted(longest) == keys
    assert store.register(longest, _keys(), auto_accept=False) == "denied"
    assert store.list()["accepted"] == [longest]
    leftovers = [p.name for p in store.pki_dir.rglob("*") if p.name.endswith(".saline-tmp")]
    assert leftovers == []
    with pytest.raises(InvalidId):
        check_minion_id("a" * (MAX_ID_LENGTH + 1))


def test_pending_keys_are_capped(tmp_path: Path) -> None:
    from master.keys import TooManyPending

    store = KeyStore(tmp_path / "pki", max_pending=3)
    for i in range(3):
        assert store.register(f"m{i}", _keys(), auto_accept=False) == "pending"
    with pytest.raises(TooManyPending, match="3 keys are pending"):
        store.register("m3", _keys(), auto_accept=False)
    assert store.state_of("m3") is None
    # Known keys and auto-accepted ones are not held back by the cap.
    known = store.read("pending", "m0")
    assert known is not None
    assert store.register("m0", known, auto_accept=False) == "pending"
    assert store.register("a1", _keys(), auto_accept=True) == "accepted"
    # Room made by another process (the `master key` command): seen from the
    # directory's mtime, without a listing on every look.
    KeyStore(tmp_path / "pki").move("m1", "accepted", ("pending",))
    wait_until = time.monotonic() + 2
    while True:
        try:
            assert store.register("m3", _keys(), auto_accept=False) == "pending"
            break
        except TooManyPending:
            assert time.monotonic() < wait_until, "room made was never seen"
            time.sleep(0.02)
    assert set(store.ids("pending")) == {"m0", "m2", "m3"}


def test_ids_list_a_directory_only_when_it_changed(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = KeyStore(tmp_path / "pki")
    for i in range(50):
        (store.pki_dir / "pending" / f"m{i}").write_text("x")
    (store.pki_dir / "pending" / ".tmp").write_text("x")
    time.sleep(0.06)  # past the coarse-mtime window
    assert len(store.ids("pending")) == 50
    listings = []
    real_scandir = os.scandir

    def counting(path: object) -> object:
        listings.append(path)
        return real_scandir(path)  # type: ignore[call-overload]

    monkeypatch.setattr(os, "scandir", counting)
    for _ in range(100):
        assert len(store.ids("pending")) == 50
    assert listings == []
    (store.pki_dir / "pending" / "m0").unlink()
    deadline = time.monotonic() + 2
    while len(store.ids("pending")) != 49:
        assert time.monotonic() < deadline, "a removed key was never seen"
        time.sleep(0.02)
    assert 1 <= len(listings) <= 3
