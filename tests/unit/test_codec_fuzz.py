"""Property tests of every decoder that reads network input (bounded, fast).

No input may raise anything but the decoder's own refusal, and none may
expand past a fixed multiple of its size before it is authenticated.
"""

from __future__ import annotations

import contextlib
import math
import time

import msgpack
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from common import codec, fields, protocol
from common.codec import ProtocolError
from common.crypto import KeyPair, SessionKey
from common.protocol import BadMessage

FAST = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
MASTER, MINION = KeyPair.generate(), KeyPair.generate()
BOX = MINION.box_to(MASTER.public)
MASTER_BOX = MASTER.box_to(MINION.public)
SESSION = SessionKey()

scalars = st.one_of(st.none(), st.booleans(), st.integers(-(2**63), 2**64 - 1),
                    st.floats(allow_nan=True), st.text(max_size=20), st.binary(max_size=20))
values = st.recursive(scalars, lambda kids: st.one_of(
    st.lists(kids, max_size=5), st.dictionaries(st.text(max_size=8), kids, max_size=5)),
    max_leaves=20)
maps = st.dictionaries(st.sampled_from(
    ["v", "kind", "id", "box", "signed", "error", "jid", "ret", "ts", "path", "offset", "size",
     "saltenv", "prefix", "inline", "dirs", "stat", "grains", "retcode", "topic", "key_gen"]),
    values, max_size=8)
frames = st.one_of(st.binary(max_size=200), maps.map(msgpack.packb),
                   maps.map(lambda m: codec.pack({"v": 1, **m})))


@FAST
@given(frames)
def test_loads_and_envelope_refuse_cleanly(data: bytes) -> None:
    for limits in (None, codec.envelope(4096), codec.AUTH):
        with contextlib.suppress(ProtocolError):
            codec.loads(data, limits)


@FAST
@given(frames)
def test_master_readers_refuse_cleanly(data: bytes) -> None:
    try:
        msg = protocol.open_envelope(data, ("auth", "req"))
        if msg["kind"] == "auth":
            protocol.read_auth_request(msg)
        else:
            protocol.request_sender(msg)
            protocol.open_request(msg, MASTER_BOX)
    except (BadMessage, ProtocolError):
        pass


@FAST
@given(frames)
def test_minion_readers_refuse_cleanly(data: bytes) -> None:
    for read in (lambda: protocol.read_auth_reply(data, b"n" * 24, "m1"),
                 lambda: protocol.open_reply(data, BOX),
                 lambda: protocol.open_job(protocol.open_push(
                     data, MASTER.public, (protocol.TOPIC_ALL,)), SESSION)):
        with contextlib.suppress(BadMessage, ProtocolError):
            read()


@FAST
@given(maps, st.sampled_from(protocol.REQUEST_KINDS))
def test_boxed_bodies_are_checked_or_refused(body: dict, kind: str) -> None:
    # Whatever an accepted minion puts in a body: one clear refusal or a pass.
    body = {**body, "kind": kind, "ts": time.time()}
    try:
        opened = protocol.open_request(codec.unpack(protocol.make_request(BOX, "m1", body)),
                                       MASTER_BOX)
        fields.check_request(opened)
    except (BadMessage, ProtocolError):
        pass


@FAST
@given(maps)
def test_boxed_jobs_refuse_cleanly(inner: dict) -> None:
    envelope = {"kind": "job", "topic": protocol.TOPIC_ALL, "key_gen": 1,
                "box": SESSION.encrypt(codec.pack({"kind": "job", **inner}))}
    with contextlib.suppress(BadMessage, ProtocolError):
        protocol.open_job(envelope, SESSION)


def test_sixty_mib_of_empty_maps_is_refused_unread() -> None:
    n = 60 * 1024 * 1024
    data = b"\xdd" + n.to_bytes(4, "big") + b"\x80" * n
    started = time.monotonic()
    with pytest.raises(ProtocolError, match="max_array_len"):
        protocol.open_envelope(data, ("auth", "req"))
    assert time.monotonic() - started < 1.0


def test_authenticated_bodies_stop_at_the_container_budget() -> None:
    n = 1_000_000
    data = b"\xdd" + n.to_bytes(4, "big") + b"\x80" * n
    with pytest.raises(ProtocolError, match="maps and arrays"):
        codec.loads(data)
    # Real bodies fit: a list of small maps, a few bytes each.
    fine = codec.dumps([{"a": i} for i in range(10_000)])
    assert len(codec.loads(fine)) == 10_000


def test_nested_maps_in_an_envelope_are_refused() -> None:
    with pytest.raises(ProtocolError):
        protocol.open_envelope(codec.pack({"kind": "auth", "x": {0: {}, 1: {}}}), ("auth",))


def test_oversized_auth_reply_is_refused_before_decoding() -> None:
    big = codec.pack({"kind": "auth_reply", "signed": b"\x80" * (8 * 1024 * 1024)})
    with pytest.raises(BadMessage, match="over the"):
        protocol.read_auth_reply(big, b"n" * 24, "m1")


@pytest.mark.parametrize("ts", [math.nan, math.inf, -math.inf])
def test_non_finite_timestamps_are_not_fresh(ts: float) -> None:
    with pytest.raises(BadMessage, match="finite"):
        protocol._fresh(ts)
    body = codec.pack({"kind": "hb", "ts": ts})
    req = codec.unpack(codec.pack({"kind": "req", "id": "m1", "box": BOX.encrypt(body)}))
    with pytest.raises(BadMessage, match="finite"):
        protocol.open_request(req, MASTER_BOX)


@pytest.mark.parametrize("ret", [
    {"retcode": "1"}, {"retcode": math.nan}, {"retcode": math.inf}, {"retcode": {}},
    {"retcode": 2**63}, {"retcode": True}, {"duration": math.nan}, {"success": "yes"},
    {"fun": 5},
])
def test_bad_return_fields_are_one_refusal(ret: dict) -> None:
    with pytest.raises(ProtocolError, match="field"):
        fields.check_request({"kind": "ret", "jid": "1", "ret": ret})


@pytest.mark.parametrize("body", [
    {"path": "a", "offset": 2**63, "size": 1}, {"path": "a", "offset": -1, "size": 1},
    {"path": "a", "offset": 0, "size": 1.5}, {"path": 3, "offset": 0, "size": 1},
    {"path": "a", "offset": 0},
])
def test_bad_file_read_fields_are_one_refusal(body: dict) -> None:
    with pytest.raises(ProtocolError, match="field"):
        fields.check_request({"kind": "file_read", **body})


def test_real_bodies_pass_the_checks() -> None:
    fields.check_request({"kind": "ret", "jid": "20260101000000000001", "ret": {
        "fun": "test.ping", "return": True, "retcode": 0, "success": True, "duration": 1.5}})
    fields.check_request({"kind": "file_read", "saltenv": "base", "path": "a",
                          "offset": 0, "size": 1 << 20})
    fields.check_request({"kind": "file_list", "saltenv": "base", "prefix": "", "stat": True,
                          "inline": ["a"]})
