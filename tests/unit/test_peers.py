"""Tests for master.peers: who counts as connected, and what ends it."""

from __future__ import annotations

from pathlib import Path

from common.crypto import KeyPair
from master.keys import KeyStore
from master.peers import Peers


def _peers(tmp_path: Path, *ids: str) -> Peers:
    store = KeyStore(tmp_path / "pki")
    for minion in ids:
        assert store.register(minion, KeyPair.generate().public, True) == "accepted"
    return Peers(store, KeyPair.generate(), heartbeat=60.0)


def test_a_goodbye_ends_the_connection_until_the_minion_is_heard_again(tmp_path: Path) -> None:
    peers = _peers(tmp_path, "m1", "m2")
    peers.seen("m1", b"route-1")
    peers.seen("m2", b"route-2")
    assert peers.connected_ids() == ["m1", "m2"]

    assert peers.left("m1") is True
    assert peers.connected_ids() == ["m2"]
    assert peers.left("m1") is False  # already gone
    # The connection closing afterwards changes nothing, for anyone.
    assert peers.disconnected(b"route-1") == []
    assert peers.connected_ids() == ["m2"]

    peers.seen("m1", b"route-3")  # its next hello or heartbeat
    assert peers.connected("m1")


def test_a_goodbye_drops_every_connection_of_the_minion(tmp_path: Path) -> None:
    peers = _peers(tmp_path, "m1")
    peers.seen("m1", b"daemon")
    peers.seen("m1", b"call")
    peers.left("m1")
    assert not peers.connected("m1")
    # A connection heard before the goodbye does not bring it back when it closes.
    assert peers.disconnected(b"call") == []
    assert not peers.connected("m1")


def test_left_by_an_unknown_minion_is_ignored(tmp_path: Path) -> None:
    peers = _peers(tmp_path)
    assert peers.left("nobody") is False
    assert peers.connected_ids() == []


def test_the_last_connection_closing_ends_the_connection(tmp_path: Path) -> None:
    peers = _peers(tmp_path, "m1")
    peers.seen("m1", b"a")
    peers.seen("m1", b"b")
    assert peers.disconnected(b"a") == []
    assert peers.connected("m1")
    assert peers.disconnected(b"b") == ["m1"]
    assert not peers.connected("m1")
