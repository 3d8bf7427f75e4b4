"""Tests for minion.masterkey: pinning the master's key on first use."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from common.crypto import KeyPair, PublicKeys
from minion.masterkey import MasterKeyMismatch, MasterPin


def _keys() -> PublicKeys:
    return KeyPair.generate().public


def test_pin_on_first_use(tmp_path: Path) -> None:
    keys = _keys()
    pin = MasterPin(tmp_path, None)
    assert pin.pinned is None
    pin.check(keys)  # anyone is trusted the first time
    pin.pin(keys)
    path = tmp_path / "master.pub"
    assert PublicKeys.loads(path.read_text()) == keys
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    # A fresh start reads the pin back.
    again = MasterPin(tmp_path, None)
    assert again.pinned == keys
    again.check(keys)


def test_mismatch_refused(tmp_path: Path) -> None:
    original, other = _keys(), _keys()
    MasterPin(tmp_path, None).pin(original)
    pin = MasterPin(tmp_path, None)
    with pytest.raises(MasterKeyMismatch, match="master key changed") as info:
        pin.check(other)
    assert other.fingerprint() in str(info.value)
    assert original.fingerprint() in str(info.value)
    assert PublicKeys.loads((tmp_path / "master.pub").read_text()) == original


@pytest.mark.parametrize(
    "style",
    ["colons", "plain", "upper", "spaced"],
)
def test_master_finger_allows_new_key(tmp_path: Path, style: str) -> None:
    original, new = _keys(), _keys()
    MasterPin(tmp_path, None).pin(original)
    finger = new.fingerprint()
    finger = {
        "colons": finger,
        "plain": finger.replace(":", ""),
        "upper": finger.upper(),
        "spaced": f"  {finger}\n",
    }[style]
    pin = MasterPin(tmp_path, finger)
    pin.check(new)
    pin.pin(new)
    assert MasterPin(tmp_path, None).pinned == new


def test_master_finger_refuses_other_keys(tmp_path: Path) -> None:
    wanted, other = _keys(), _keys()
    pin = MasterPin(tmp_path, wanted.fingerprint())
    with pytest.raises(MasterKeyMismatch, match="does not match master_finger"):
        pin.check(other)  # even on first contact
    pin.check(wanted)


def test_unreadable_pin_refused(tmp_path: Path) -> None:
    (tmp_path / "master.pub").write_text("not a key")
    with pytest.raises(MasterKeyMismatch, match="unreadable"):
        MasterPin(tmp_path, None)
