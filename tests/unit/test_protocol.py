"""Tests for common.protocol and common.codec: building and opening messages."""

from __future__ import annotations

import time
from typing import Any

import msgpack
import pytest

from common import codec, protocol
from common.codec import ProtocolError
from common.crypto import KeyPair, SessionKey
from common.protocol import (
    TOPIC_ALL,
    TOPIC_NOTICE,
    BadMessage,
    Job,
    minion_topic,
)

NONCE = b"n" * protocol.NONCE_SIZE


@pytest.fixture(scope="module")
def master() -> KeyPair:
    return KeyPair.generate()


@pytest.fixture(scope="module")
def minion() -> KeyPair:
    return KeyPair.generate()


def _flip(data: bytes, index: int) -> bytes:
    out = bytearray(data)
    out[index] ^= 0x01
    return bytes(out)


def _at(monkeypatch: pytest.MonkeyPatch, offset: float) -> None:
    """Shift the clock the protocol module reads by `offset` seconds."""
    real = time.time
    monkeypatch.setattr(protocol.time, "time", lambda: real() + offset)


def _auth_request(pair: KeyPair, minion_id: str = "m1") -> protocol.AuthRequest:
    outer = codec.unpack(protocol.make_auth_request(pair, minion_id, NONCE), ("auth",))
    return protocol.read_auth_request(outer)


def _job(**changes: Any) -> Job:
    fields: dict[str, Any] = {
        "jid": "20240101120000000001",
        "tgt": "web*",
        "tgt_type": "glob",
        "fun": "cmd.run",
        "arg": ["uname -a", 3, True, None, {"a": [1, 2]}],
        "kwarg": {"cwd": "/tmp", "env": {"X": "1"}},
        "ts": time.time(),
        "seq": 7,
    }
    fields.update(changes)
    return Job(**fields)


# -- auth ----------------------------------------------------------------------


def test_auth_request_round_trip(minion: KeyPair) -> None:
    req = _auth_request(minion, "web-01.example.com")
    assert req.minion_id == "web-01.example.com"
    assert req.keys == minion.public
    assert req.nonce == NONCE
    assert abs(req.ts - time.time()) < 5


@pytest.mark.parametrize("bad_id", ["../x", "", "a\x00b", "a" * 300, ".hidden", "-x", "a/b"])
def test_auth_request_with_bad_id_is_refused(minion: KeyPair, bad_id: str) -> None:
    with pytest.raises(BadMessage, match="minion id"):
        _auth_request(minion, bad_id)


def test_auth_request_tampered_signature(minion: KeyPair) -> None:
    outer = codec.unpack(protocol.make_auth_request(minion, "m1", NONCE))
    for index in (0, 63):
        tampered = {**outer, "signed": _flip(outer["signed"], index)}
        with pytest.raises(BadMessage, match="signature"):
            protocol.read_auth_request(tampered)


def test_auth_request_tampered_body(minion: KeyPair) -> None:
    outer = codec.unpack(protocol.make_auth_request(minion, "m1", NONCE))
    signed = outer["signed"]
    # Change the id inside the signed bytes, keeping it valid msgpack.
    tampered = signed.replace(b"m1", b"m2")
    assert tampered != signed
    with pytest.raises(BadMessage):
        protocol.read_auth_request({**outer, "signed": tampered})


def test_auth_request_signed_by_other_key_is_refused(minion: KeyPair) -> None:
    other = KeyPair.generate()
    inner = codec.pack(
        {"kind": "auth", "id": "m1", "box": other.public.box, "sign": other.public.sign,
         "nonce": NONCE, "ts": time.time()}
    )
    outer = {"kind": "auth", "signed": minion.sign(inner)}
    with pytest.raises(BadMessage, match="signature"):
        protocol.read_auth_request(outer)


@pytest.mark.parametrize(
    "outer",
    [
        {"kind": "auth"},
        {"kind": "auth", "signed": "text"},
        {"kind": "auth", "signed": b"short"},
        {"kind": "auth", "signed": b"\x00" * 64 + b"\xc1"},
    ],
)
def test_auth_request_malformed(outer: dict[str, Any]) -> None:
    with pytest.raises((BadMessage, ProtocolError)):
        protocol.read_auth_request(outer)


@pytest.mark.parametrize("offset", [-protocol.CLOCK_WINDOW - 60, protocol.CLOCK_WINDOW + 60])
def test_auth_request_stale_timestamp(
    minion: KeyPair, monkeypatch: pytest.MonkeyPatch, offset: float
) -> None:
    _at(monkeypatch, offset)
    data = protocol.make_auth_request(minion, "m1", NONCE)
    monkeypatch.undo()
    with pytest.raises(BadMessage, match="timestamp"):
        protocol.read_auth_request(codec.unpack(data))


def test_auth_request_within_window(minion: KeyPair, monkeypatch: pytest.MonkeyPatch) -> None:
    _at(monkeypatch, -protocol.CLOCK_WINDOW + 30)
    data = protocol.make_auth_request(minion, "m1", NONCE)
    monkeypatch.undo()
    assert protocol.read_auth_request(codec.unpack(data)).minion_id == "m1"


def test_auth_reply_accepted_round_trip(master: KeyPair, minion: KeyPair) -> None:
    req = _auth_request(minion)
    session = SessionKey()
    data = protocol.make_auth_reply(master, req, "accepted", session, 3)
    reply = protocol.read_auth_reply(data, NONCE, "m1")
    assert reply.status == "accepted"
    assert reply.master == master.public
    assert reply.key_gen == 3
    assert reply.nonce == NONCE
    assert reply.session is not None
    assert reply.session != session.key  # sealed, not clear
    assert minion.unseal(reply.session) == session.key


@pytest.mark.parametrize("status", ["pending", "rejected", "denied"])
def test_auth_reply_other_statuses(master: KeyPair, minion: KeyPair, status: str) -> None:
    data = protocol.make_auth_reply(master, _auth_request(minion), status, None, 0)
    reply = protocol.read_auth_reply(data, NONCE, "m1")
    assert (reply.status, reply.session) == (status, None)


@pytest.mark.parametrize(
    ("nonce", "minion_id"),
    [(b"x" * protocol.NONCE_SIZE, "m1"), (NONCE, "m2"), (b"", "m1")],
)
def test_auth_reply_must_answer_our_request(
    master: KeyPair, minion: KeyPair, nonce: bytes, minion_id: str
) -> None:
    data = protocol.make_auth_reply(master, _auth_request(minion), "accepted", SessionKey(), 1)
    with pytest.raises(BadMessage, match="does not answer"):
        protocol.read_auth_reply(data, nonce, minion_id)


def test_auth_reply_tampered(master: KeyPair, minion: KeyPair) -> None:
    data = protocol.make_auth_reply(master, _auth_request(minion), "pending", None, 1)
    outer = codec.unpack(data)
    tampered = codec.pack({**outer, "signed": _flip(outer["signed"], 5)})
    with pytest.raises(BadMessage, match="signature"):
        protocol.read_auth_reply(tampered, NONCE, "m1")


def test_auth_reply_unknown_status_and_missing_session(master: KeyPair, minion: KeyPair) -> None:
    req = _auth_request(minion)
    with pytest.raises(BadMessage, match="unknown auth status"):
        protocol.read_auth_reply(protocol.make_auth_reply(master, req, "maybe", None, 1), NONCE,
                                 "m1")
    with pytest.raises(BadMessage, match="without a session key"):
        protocol.read_auth_reply(protocol.make_auth_reply(master, req, "accepted", None, 1),
                                 NONCE, "m1")


def test_auth_reply_error_and_garbage() -> None:
    with pytest.raises(BadMessage, match="master refused: busy"):
        protocol.read_auth_reply(protocol.error_reply("busy"), NONCE, "m1")
    for data in (b"", b"\xc1", codec.pack({"kind": "auth"})):
        with pytest.raises(BadMessage):
            protocol.read_auth_reply(data, NONCE, "m1")


# -- publish -------------------------------------------------------------------


@pytest.mark.parametrize("tgt", ["web*", ["m1", "m2"]])
def test_publish_round_trip(master: KeyPair, tgt: str | list[str]) -> None:
    session = SessionKey()
    job = _job(tgt=tgt, tgt_type="list" if isinstance(tgt, list) else "glob")
    payload = protocol.make_publish(master, session, 4, TOPIC_ALL, job)
    assert b"cmd.run" not in payload  # encrypted
    envelope = protocol.open_push(payload, master.public, (TOPIC_ALL,))
    assert envelope["kind"] == "job"
    assert envelope["key_gen"] == 4
    assert protocol.open_job(envelope, session) == job


def test_publish_to_one_minion_topic(master: KeyPair) -> None:
    session, job = SessionKey(), _job()
    payload = protocol.make_publish(master, session, 1, minion_topic("m1"), job)
    assert protocol.open_job(
        protocol.open_push(payload, master.public, (minion_topic("m1"),)), session
    ) == job
    with pytest.raises(BadMessage, match="topic"):
        protocol.open_push(payload, master.public, (minion_topic("m2"),))


def test_minion_topics_are_not_prefixes_of_each_other() -> None:
    # zmq SUB matches by prefix: web1 must not receive web10's jobs.
    assert not minion_topic("web10").startswith(minion_topic("web1"))
    assert not minion_topic("web1").startswith(TOPIC_ALL)
    assert minion_topic("a") != minion_topic("b")


def test_publish_wrong_master_key(master: KeyPair) -> None:
    payload = protocol.make_publish(master, SessionKey(), 1, TOPIC_ALL, _job())
    with pytest.raises(BadMessage, match="signature"):
        protocol.open_push(payload, KeyPair.generate().public, (TOPIC_ALL,))


def test_publish_topic_mismatch(master: KeyPair) -> None:
    payload = protocol.make_publish(master, SessionKey(), 1, minion_topic("m1"), _job())
    with pytest.raises(BadMessage, match="topic"):
        protocol.open_push(payload, master.public, (TOPIC_ALL,))


def test_publish_tampered(master: KeyPair) -> None:
    payload = protocol.make_publish(master, SessionKey(), 1, TOPIC_ALL, _job())
    with pytest.raises(BadMessage):
        protocol.open_push(_flip(payload, len(payload) - 1), master.public, (TOPIC_ALL,))


def test_publish_wrong_session_key(master: KeyPair) -> None:
    payload = protocol.make_publish(master, SessionKey(), 1, TOPIC_ALL, _job())
    envelope = protocol.open_push(payload, master.public, (TOPIC_ALL,))
    with pytest.raises(BadMessage, match="did not open"):
        protocol.open_job(envelope, SessionKey())


def test_publish_stale_job(master: KeyPair) -> None:
    session = SessionKey()
    old = _job(ts=time.time() - protocol.CLOCK_WINDOW - 60)
    envelope = protocol.open_push(
        protocol.make_publish(master, session, 1, TOPIC_ALL, old), master.public, (TOPIC_ALL,))
    with pytest.raises(BadMessage, match="timestamp"):
        protocol.open_job(envelope, session)


def test_notice_round_trip(master: KeyPair) -> None:
    payload = protocol.make_notice(master, "rotate", key_gen=5)
    msg = protocol.open_push(payload, master.public, (TOPIC_NOTICE,))
    assert (msg["kind"], msg["event"], msg["key_gen"]) == ("notice", "rotate", 5)
    with pytest.raises(BadMessage):
        protocol.open_push(payload, KeyPair.generate().public, (TOPIC_NOTICE,))


@pytest.mark.parametrize(
    "drop", ["jid", "tgt", "tgt_type", "fun", "arg", "kwarg", "ts", "seq"]
)
def test_job_from_map_requires_fields(drop: str) -> None:
    msg = _job().to_map()
    del msg[drop]
    with pytest.raises(ProtocolError):
        Job.from_map(msg)


def test_job_from_map_refuses_bool_seq() -> None:
    with pytest.raises(ProtocolError):
        Job.from_map({**_job().to_map(), "seq": True})


# -- boxed requests and replies ---------------------------------------------------


def _boxes(master: KeyPair, minion: KeyPair) -> tuple[Any, Any]:
    """(minion side box, master side box) between the two long-term keys."""
    return minion.box_to(master.public), master.box_to(minion.public)


def test_request_reply_round_trip(master: KeyPair, minion: KeyPair) -> None:
    minion_box, master_box = _boxes(master, minion)
    body = {"kind": "ret", "jid": "1", "return": {"out": [1, 2]}, "success": True}
    data = protocol.make_request(minion_box, "m1", body)
    outer = codec.unpack(data, ("req",))
    assert protocol.request_sender(outer) == "m1"
    opened = protocol.open_request(outer, master_box)
    assert {k: opened[k] for k in body} == body
    assert abs(opened["ts"] - time.time()) < 5

    reply = protocol.open_reply(protocol.make_reply(master_box, {"ok": True}), minion_box)
    assert reply == {"v": codec.VERSION, "kind": "rep", "ok": True}


def test_request_from_another_minion_key_does_not_open(master: KeyPair, minion: KeyPair) -> None:
    intruder_box = KeyPair.generate().box_to(master.public)
    outer = codec.unpack(protocol.make_request(intruder_box, "m1", {"kind": "hb"}))
    assert protocol.request_sender(outer) == "m1"  # the claim alone proves nothing
    with pytest.raises(BadMessage, match="did not open"):
        protocol.open_request(outer, master.box_to(minion.public))


@pytest.mark.parametrize("bad_id", ["../x", "", None, 5, ".hidden"])
def test_request_sender_bad_id(bad_id: object) -> None:
    with pytest.raises(BadMessage):
        protocol.request_sender({"kind": "req", "id": bad_id})


def test_request_kind_not_allowed(master: KeyPair, minion: KeyPair) -> None:
    minion_box, master_box = _boxes(master, minion)
    outer = codec.unpack(protocol.make_request(minion_box, "m1", {"kind": "auth"}))
    with pytest.raises(BadMessage, match="unexpected message kind"):
        protocol.open_request(outer, master_box)


def test_stale_request_refused(
    master: KeyPair, minion: KeyPair, monkeypatch: pytest.MonkeyPatch
) -> None:
    minion_box, master_box = _boxes(master, minion)
    _at(monkeypatch, -protocol.CLOCK_WINDOW - 60)
    data = protocol.make_request(minion_box, "m1", {"kind": "hb"})
    monkeypatch.undo()
    with pytest.raises(BadMessage, match="timestamp"):
        protocol.open_request(codec.unpack(data), master_box)


@pytest.mark.parametrize(
    "body",
    [{"ok": True}, {"kind": "ret", "jid": "1"}, {"kind": "hb"}],
)
def test_reply_cannot_be_replayed_as_request(
    master: KeyPair, minion: KeyPair, body: dict[str, Any]
) -> None:
    # The peer box key is the same in both directions, so only the boxed
    # kind tells a reply from a request; a body must not be able to set it.
    _, master_box = _boxes(master, minion)
    reply = codec.unpack(protocol.make_reply(master_box, {**body, "ts": time.time()}))
    with pytest.raises(BadMessage, match="kind"):
        protocol.open_request({**reply, "id": "m1"}, master_box)


def test_request_cannot_be_read_as_reply(master: KeyPair, minion: KeyPair) -> None:
    minion_box, master_box = _boxes(master, minion)
    request = protocol.make_request(minion_box, "m1", {"kind": "hb"})
    with pytest.raises(BadMessage, match="kind"):
        protocol.open_reply(request, master_box)
    # Even with the outer kind rewritten, the boxed kind gives it away.
    forged = codec.pack({**codec.unpack(request), "kind": "rep"})
    with pytest.raises(BadMessage, match="kind"):
        protocol.open_reply(forged, master_box)


def test_reply_tampered_and_wrong_key(master: KeyPair, minion: KeyPair) -> None:
    minion_box, master_box = _boxes(master, minion)
    outer = codec.unpack(protocol.make_reply(master_box, {"ok": True}))
    tampered = codec.pack({**outer, "box": _flip(outer["box"], 30)})
    with pytest.raises(BadMessage):
        protocol.open_reply(tampered, minion_box)
    other_box = KeyPair.generate().box_to(master.public)
    with pytest.raises(BadMessage):
        protocol.open_reply(protocol.make_reply(master_box, {"ok": True}), other_box)


def test_error_reply_is_untrusted(minion: KeyPair, master: KeyPair) -> None:
    reply = protocol.open_reply(protocol.error_reply("not accepted"), minion.box_to(master.public))
    assert reply == {"kind": "error", "error": "not accepted", "trusted": False}


# -- codec ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "malformed"),
        (b"\xc1", "malformed"),
        (b"\x92\x01", "malformed"),  # truncated array
        (b"garbage bytes", "malformed"),
        ("not bytes", "not bytes"),
        (msgpack.packb([1, 2]), "not a map"),
        (msgpack.packb("text"), "not a map"),
        (msgpack.packb({"v": 2, "kind": "job"}), "version"),
        (msgpack.packb({"kind": "job"}), "version"),
        (msgpack.packb({"v": "1", "kind": "job"}), "version"),
        (msgpack.packb({"v": 1}), "no kind"),
        (msgpack.packb({"v": 1, "kind": 3}), "no kind"),
    ],
)
def test_unpack_refuses(data: Any, message: str) -> None:
    with pytest.raises(ProtocolError, match=message):
        codec.unpack(data)


def test_unpack_kinds_and_round_trip() -> None:
    data = codec.pack({"kind": "hb", "n": 1, "b": b"\x00\xff"})
    assert codec.unpack(data) == {"v": codec.VERSION, "kind": "hb", "n": 1, "b": b"\x00\xff"}
    assert codec.unpack(data, ("hb", "ack"))["kind"] == "hb"
    with pytest.raises(ProtocolError, match="unexpected message kind"):
        codec.unpack(data, ("ret",))


@pytest.mark.parametrize(
    ("msg", "kind", "ok"),
    [
        ({"x": 1}, int, True),
        ({"x": True}, int, False),
        ({"x": "1"}, int, False),
        ({}, str, False),
        ({"x": b"b"}, bytes, True),
        ({"x": 1.5}, (int, float), True),
    ],
)
def test_field(msg: dict[str, Any], kind: type, ok: bool) -> None:
    if ok:
        assert codec.field(msg, "x", kind) == msg["x"]
    else:
        with pytest.raises(ProtocolError, match="'x'"):
            codec.field(msg, "x", kind)
