"""Tests for common.crypto: key files, fingerprints, boxes, signatures."""

from __future__ import annotations

import hashlib
import re
import stat
from pathlib import Path

import pytest

from common.crypto import (
    SESSION_KEY_SIZE,
    CryptoError,
    KeyPair,
    PublicKeys,
    SessionKey,
    seal,
    verify,
)

FINGER_RE = re.compile(r"[0-9a-f]{2}(:[0-9a-f]{2}){31}\Z")


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _flip(data: bytes, index: int) -> bytes:
    out = bytearray(data)
    out[index] ^= 0x01
    return bytes(out)


# -- key files ---------------------------------------------------------------


def test_load_or_create_round_trip(tmp_path: Path) -> None:
    pki = tmp_path / "pki"
    first = KeyPair.load_or_create(pki, "master")
    second = KeyPair.load_or_create(pki, "master")
    assert first.public == second.public
    # The reloaded private keys are the same keys: they sign and open alike.
    assert verify(first.public.sign, second.sign(b"hello")) == b"hello"
    assert second.unseal(seal(first.public, b"secret")) == b"secret"
    assert PublicKeys.loads((pki / "master.pub").read_text()) == first.public


def test_key_files_are_private(tmp_path: Path) -> None:
    pki = tmp_path / "a" / "pki"
    KeyPair.load_or_create(pki, "minion")
    assert _mode(pki) == 0o700
    assert _mode(pki / "minion.pem") == 0o600
    assert _mode(pki / "minion.pub") == 0o600
    assert sorted(p.name for p in pki.iterdir()) == ["minion.pem", "minion.pub"]


def test_existing_dir_is_tightened(tmp_path: Path) -> None:
    pki = tmp_path / "pki"
    pki.mkdir(mode=0o755)
    pki.chmod(0o755)
    KeyPair.load_or_create(pki, "master")
    assert _mode(pki) == 0o700


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o644, 0o660, 0o606, 0o620, 0o602])
def test_refuses_private_key_readable_by_others(tmp_path: Path, mode: int) -> None:
    pki = tmp_path / "pki"
    KeyPair.load_or_create(pki, "master")
    (pki / "master.pem").chmod(mode)
    with pytest.raises(CryptoError, match="readable by others"):
        KeyPair.load_or_create(pki, "master")


@pytest.mark.parametrize("mode", [0o600, 0o400])
def test_accepts_owner_only_private_key(tmp_path: Path, mode: int) -> None:
    pki = tmp_path / "pki"
    first = KeyPair.load_or_create(pki, "master")
    (pki / "master.pem").chmod(mode)
    assert KeyPair.load_or_create(pki, "master").public == first.public


def test_corrupt_private_key_is_refused(tmp_path: Path) -> None:
    pki = tmp_path / "pki"
    KeyPair.load_or_create(pki, "master")
    (pki / "master.pem").write_text("box: not base64!!\nsign: x\n")
    with pytest.raises(CryptoError):
        KeyPair.load_or_create(pki, "master")


def test_distinct_names_give_distinct_keys(tmp_path: Path) -> None:
    a = KeyPair.load_or_create(tmp_path, "a")
    b = KeyPair.load_or_create(tmp_path, "b")
    assert a.public != b.public


# -- public keys and fingerprints ---------------------------------------------


def test_fingerprint_format_and_stability(tmp_path: Path) -> None:
    pair = KeyPair.load_or_create(tmp_path, "master")
    finger = pair.public.fingerprint()
    assert FINGER_RE.match(finger), finger
    assert finger.replace(":", "") == hashlib.sha256(
        pair.public.box + pair.public.sign
    ).hexdigest()
    reloaded = PublicKeys.loads((tmp_path / "master.pub").read_text())
    assert reloaded.fingerprint() == finger
    assert KeyPair.generate().public.fingerprint() != finger


def test_public_keys_dumps_loads() -> None:
    keys = KeyPair.generate().public
    assert PublicKeys.loads(keys.dumps()) == keys


@pytest.mark.parametrize(
    "text",
    [
        "",
        "box: AAAA\n",
        "sign: AAAA\n",
        "box: !!!!\nsign: AAAA\n",
        "box: AAAA\nsign: AAAA\n",  # valid base64, wrong size
    ],
)
def test_public_keys_loads_refuses_bad_text(text: str) -> None:
    with pytest.raises(CryptoError):
        PublicKeys.loads(text)


@pytest.mark.parametrize(
    ("box", "sign"),
    [(b"x" * 31, b"y" * 32), (b"x" * 32, b"y" * 33), ("x" * 32, b"y" * 32), (None, b"y" * 32)],
)
def test_public_keys_from_bytes_checks(box: object, sign: object) -> None:
    with pytest.raises(CryptoError):
        PublicKeys.from_bytes(box, sign)  # type: ignore[arg-type]


# -- peer boxes ----------------------------------------------------------------


def test_peer_box_both_directions() -> None:
    master, minion = KeyPair.generate(), KeyPair.generate()
    to_master = minion.box_to(master.public)
    to_minion = master.box_to(minion.public)
    assert to_minion.decrypt(to_master.encrypt(b"up")) == b"up"
    assert to_master.decrypt(to_minion.encrypt(b"down")) == b"down"
    # Random nonces: the same plaintext never gives the same ciphertext.
    assert to_master.encrypt(b"x") != to_master.encrypt(b"x")


def test_peer_box_detects_tampering() -> None:
    master, minion = KeyPair.generate(), KeyPair.generate()
    data = minion.box_to(master.public).encrypt(b"payload")
    opener = master.box_to(minion.public)
    for index in (0, 24, len(data) - 1):
        with pytest.raises(CryptoError):
            opener.decrypt(_flip(data, index))
    with pytest.raises(CryptoError):
        opener.decrypt(data[:-1])
    with pytest.raises(CryptoError):
        opener.decrypt(b"")


def test_peer_box_from_a_third_key_does_not_open() -> None:
    master, minion, intruder = KeyPair.generate(), KeyPair.generate(), KeyPair.generate()
    data = intruder.box_to(master.public).encrypt(b"I am the minion")
    with pytest.raises(CryptoError):
        master.box_to(minion.public).decrypt(data)


# -- sealed boxes and signatures ------------------------------------------------


def test_seal_unseal() -> None:
    pair = KeyPair.generate()
    sealed = seal(pair.public, b"session")
    assert sealed != b"session"
    assert pair.unseal(sealed) == b"session"
    with pytest.raises(CryptoError):
        KeyPair.generate().unseal(sealed)
    with pytest.raises(CryptoError):
        pair.unseal(_flip(sealed, len(sealed) - 1))


def test_verify() -> None:
    pair, other = KeyPair.generate(), KeyPair.generate()
    signed = pair.sign(b"message")
    assert len(signed) == 64 + len(b"message")
    assert verify(pair.public.sign, signed) == b"message"
    with pytest.raises(CryptoError):
        verify(other.public.sign, signed)
    with pytest.raises(CryptoError):
        verify(pair.public.sign, _flip(signed, 0))
    with pytest.raises(CryptoError):
        verify(pair.public.sign, _flip(signed, len(signed) - 1))
    with pytest.raises(CryptoError):
        verify(b"short", signed)


# -- session keys ----------------------------------------------------------------


def test_session_key_round_trip_and_shared_bytes() -> None:
    session = SessionKey()
    assert len(session.key) == SESSION_KEY_SIZE
    same = SessionKey(session.key)
    assert same.decrypt(session.encrypt(b"job")) == b"job"
    assert SessionKey().key != session.key


def test_session_key_wrong_key_and_tampered() -> None:
    session = SessionKey()
    data = session.encrypt(b"job")
    with pytest.raises(CryptoError):
        SessionKey().decrypt(data)
    with pytest.raises(CryptoError):
        session.decrypt(_flip(data, len(data) - 1))
    with pytest.raises(CryptoError):
        session.decrypt(b"tiny")


@pytest.mark.parametrize("size", [0, 16, 31, 33])
def test_session_key_wrong_size(size: int) -> None:
    with pytest.raises(CryptoError):
        SessionKey(b"k" * size)
