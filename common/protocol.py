"""The saline wire protocol: what each message holds and how it is sealed.

See docs/protocol.md for the contract. This module builds and opens
messages; it never touches sockets. Every reader checks signature or box
first, then the version and kind, and only then builds a value.
"""

from __future__ import annotations

import dataclasses
import math
import time
from typing import Any

from common import codec
from common.codec import ProtocolError, field
from common.crypto import CryptoError, KeyPair, PeerBox, PublicKeys, SessionKey, seal, verify
from common.ids import InvalidId, check_minion_id

# Seconds of clock difference tolerated between master and minions for
# signed auth requests, jobs and boxed requests (replay window).
CLOCK_WINDOW = 300.0
NONCE_SIZE = 24
# The whole frame of an auth reply: the envelope around at most AUTH_MAX
# signed bytes.
AUTH_REPLY_MAX = 2 * codec.AUTH_MAX
# Error texts travel in clear envelopes, whose strings are bounded.
ERROR_TEXT_MAX = 500

TOPIC_ALL = b"\x00all"
TOPIC_NOTICE = b"\x00notice"
# The request id of a notice the master pushes down a request connection
# unasked (real request ids are never empty).
PUSH_RID = b""

# Request-channel bodies a minion may send once accepted.
REQUEST_KINDS = (
    "hello", "hb", "ack", "ret", "pillar", "file_list", "file_stat", "file_read", "file_envs",
    "bye",
)


def minion_topic(minion_id: str) -> bytes:
    """The publish topic only this minion subscribes to.

    zmq matches topics by prefix; the closing NUL keeps minion ``web1`` from
    receiving the jobs of ``web10``.
    """
    return b"\x01" + minion_id.encode() + b"\x00"


class BadMessage(Exception):
    """Anything wrong with a message from the network; the text says what."""


def _fresh(ts: Any, now: float | None = None) -> float:
    if not isinstance(ts, int | float) or isinstance(ts, bool):
        raise BadMessage("timestamp missing")
    now = time.time() if now is None else now
    # NaN compares false with everything, so `abs(now - nan) > window` would
    # let it through: only a finite time can be fresh.
    if not math.isfinite(ts):
        raise BadMessage("timestamp is not a finite number")
    if not abs(now - ts) <= CLOCK_WINDOW:
        raise BadMessage(f"timestamp {ts:.0f} is outside the {CLOCK_WINDOW:.0f} s window")
    return float(ts)


def _keys(msg: dict[str, Any]) -> PublicKeys:
    try:
        return PublicKeys.from_bytes(msg.get("box"), msg.get("sign"))  # type: ignore[arg-type]
    except CryptoError as exc:
        raise BadMessage(str(exc)) from None


def _open_signed(data: dict[str, Any], signer: bytes) -> dict[str, Any]:
    signed = field(data, "signed", bytes)
    try:
        return codec.unpack(verify(signer, signed), limits=codec.AUTH)
    except (CryptoError, ProtocolError) as exc:
        raise BadMessage(str(exc)) from None


def open_envelope(data: bytes, kinds: tuple[str, ...]) -> dict[str, Any]:
    """Decode the outer map of a frame from an unauthenticated peer.

    Only one flat map of a few short fields (and one binary) is read, so the
    work is bounded by the frame's size whatever it holds; the contents
    are decoded only after their signature or box is checked.
    """
    return codec.unpack(data, kinds, codec.envelope(max(len(data), 1)))


def _peek_signed(data: dict[str, Any], kind: str) -> dict[str, Any]:
    # The signer's key travels inside the signed bytes: read them (a small
    # flat map, tightly bounded) only to learn the key to verify with.
    signed = field(data, "signed", bytes)
    if not 64 < len(signed) <= 64 + codec.AUTH_MAX:
        raise BadMessage(f"{kind} of {len(signed)} signed bytes: too short or too long")
    try:
        return codec.unpack(signed[64:], (kind,), codec.AUTH)
    except ProtocolError as exc:
        raise BadMessage(str(exc)) from None


# -- auth -------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class AuthRequest:
    minion_id: str
    keys: PublicKeys
    nonce: bytes
    ts: float
    token: bytes | None = None  # a join token, sealed to the master's box key


def make_auth_request(pair: KeyPair, minion_id: str, nonce: bytes,
                      token: bytes | None = None) -> bytes:
    """A signed (not encrypted) request to join: id, public keys, nonce, time.

    `token` is a join token already sealed to the master's key.
    """
    body: dict[str, Any] = {"kind": "auth", "id": minion_id, "box": pair.public.box,
                            "sign": pair.public.sign, "nonce": nonce, "ts": time.time()}
    if token is not None:
        body["token"] = token
    inner = codec.pack(body)
    return codec.pack({"kind": "auth", "signed": pair.sign(inner)})


def read_auth_request(data: dict[str, Any]) -> AuthRequest:
    """Verify an auth request against the key it carries and check its fields."""
    # The signing key is inside the signed bytes; peek at it, then verify.
    # This proves the sender holds the private key it presents.
    keys = _keys(_peek_signed(data, "auth"))
    msg = _open_signed(data, keys.sign)
    try:
        minion_id = check_minion_id(msg.get("id"))
    except InvalidId as exc:
        raise BadMessage(str(exc)) from None
    nonce = field(msg, "nonce", bytes)
    token = msg.get("token")
    if token is not None and not isinstance(token, bytes):
        raise BadMessage("token must be bytes")
    return AuthRequest(minion_id, keys, nonce, _fresh(msg.get("ts")), token)


@dataclasses.dataclass(frozen=True)
class AuthReply:
    status: str  # accepted | pending | rejected | denied
    nonce: bytes
    master: PublicKeys
    session: bytes | None  # the session key, sealed to the minion
    key_gen: int


def make_auth_reply(
    pair: KeyPair,
    req: AuthRequest,
    status: str,
    session: SessionKey | None,
    key_gen: int,
) -> bytes:
    """The master's signed answer; the session key is sealed to the minion."""
    sealed = seal(req.keys, session.key) if session is not None else None
    inner = codec.pack(
        {"kind": "auth_reply", "id": req.minion_id, "status": status, "nonce": req.nonce,
         "box": pair.public.box, "sign": pair.public.sign, "session": sealed,
         "key_gen": key_gen}
    )
    return codec.pack({"kind": "auth_reply", "signed": pair.sign(inner)})


def read_auth_reply(data: bytes, nonce: bytes, minion_id: str) -> AuthReply:
    """Verify the master's reply against the key it carries; caller pins or compares."""
    try:
        # An auth reply is small: anything bigger is refused unread.
        outer = codec.unpack(data, ("auth_reply", "error"), codec.envelope(AUTH_REPLY_MAX))
    except ProtocolError as exc:
        raise BadMessage(str(exc)) from None
    if outer["kind"] == "error":
        raise BadMessage(f"master refused: {outer.get('error')}")
    master = _keys(_peek_signed(outer, "auth_reply"))
    msg = _open_signed(outer, master.sign)
    if msg.get("nonce") != nonce or msg.get("id") != minion_id:
        raise BadMessage("auth reply does not answer our request")
    status = msg.get("status")
    if status not in ("accepted", "pending", "rejected", "denied"):
        raise BadMessage(f"unknown auth status {status!r}")
    session = msg.get("session")
    if status == "accepted" and not isinstance(session, bytes):
        raise BadMessage("accepted without a session key")
    return AuthReply(status, nonce, master, session, field(msg, "key_gen", int))


# -- publish ----------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Job:
    jid: str
    tgt: str | list[str]
    tgt_type: str
    fun: str
    arg: list[Any]
    kwarg: dict[str, Any]
    ts: float
    seq: int
    delimiter: str = ":"
    # The master's nodegroup definitions, sent along when the target uses
    # them, so minions evaluate N@ exactly as the master did.
    nodegroups: dict[str, Any] = dataclasses.field(default_factory=dict)

    def to_map(self) -> dict[str, Any]:
        return {"kind": "job", **dataclasses.asdict(self)}

    @classmethod
    def from_map(cls, msg: dict[str, Any]) -> Job:
        tgt = msg.get("tgt")
        if not isinstance(tgt, str | list):
            raise ProtocolError("field 'tgt' missing or of the wrong type")
        return cls(
            jid=field(msg, "jid", str),
            tgt=tgt,
            tgt_type=field(msg, "tgt_type", str),
            fun=field(msg, "fun", str),
            arg=field(msg, "arg", list),
            kwarg=field(msg, "kwarg", dict),
            ts=float(field(msg, "ts", (int, float))),
            seq=field(msg, "seq", int),
            delimiter=msg.get("delimiter") or ":",
            nodegroups=groups if isinstance(groups := msg.get("nodegroups"), dict) else {},
        )


def make_publish(pair: KeyPair, session: SessionKey, key_gen: int, topic: bytes, job: Job) -> bytes:
    """Encrypt a job with the session key and sign the envelope."""
    inner = codec.pack(
        {"kind": "job", "topic": topic, "key_gen": key_gen,
         "box": session.encrypt(codec.pack(job.to_map()))}
    )
    return pair.sign(inner)


def make_notice(pair: KeyPair, event: str, **data: Any) -> bytes:
    """A signed clear-text notice (key accepted, session rotated)."""
    return pair.sign(codec.pack({"kind": "notice", "topic": TOPIC_NOTICE, "event": event, **data}))


def open_push(payload: bytes, master: PublicKeys, topics: tuple[bytes, ...]) -> dict[str, Any]:
    """Verify a job or notice the master pushed, signed for one of `topics`; the envelope map."""
    try:
        msg = codec.unpack(verify(master.sign, payload), ("job", "notice"))
    except (CryptoError, ProtocolError) as exc:
        raise BadMessage(str(exc)) from None
    if msg.get("topic") not in topics:
        raise BadMessage("publish signed for another topic")
    return msg


def open_job(envelope: dict[str, Any], session: SessionKey) -> Job:
    """Decrypt a verified job envelope and check its freshness."""
    try:
        job = Job.from_map(codec.unpack(session.decrypt(field(envelope, "box", bytes)), ("job",)))
    except (CryptoError, ProtocolError) as exc:
        raise BadMessage(str(exc)) from None
    _fresh(job.ts)
    return job


# -- boxed requests between an accepted minion and the master ----------------


def make_request(box: PeerBox, minion_id: str, body: dict[str, Any]) -> bytes:
    """Box a request body between the minion's and the master's keys."""
    body = {**body, "ts": time.time()}
    return codec.pack({"kind": "req", "id": minion_id, "box": box.encrypt(codec.pack(body))})


def request_sender(data: dict[str, Any]) -> str:
    """The id a boxed request claims to come from (checked by opening the box)."""
    try:
        return check_minion_id(data.get("id"))
    except InvalidId as exc:
        raise BadMessage(str(exc)) from None


def open_request(data: dict[str, Any], box: PeerBox) -> dict[str, Any]:
    """Open a boxed request with the claimed sender's accepted key."""
    try:
        body = codec.unpack(box.decrypt(field(data, "box", bytes)), REQUEST_KINDS)
    except (CryptoError, ProtocolError) as exc:
        raise BadMessage(str(exc)) from None
    _fresh(body.get("ts"))
    return body


def make_reply(box: PeerBox, body: dict[str, Any]) -> bytes:
    return codec.pack({"kind": "rep", "box": box.encrypt(codec.pack({**body, "kind": "rep"}))})


def open_reply(data: bytes, box: PeerBox) -> dict[str, Any]:
    """Open the master's boxed reply; an `error` reply is returned as such."""
    try:
        outer = open_envelope(data, ("rep", "error"))
        if outer["kind"] == "error":
            return {"kind": "error", "error": str(outer.get("error")), "trusted": False}
        return codec.unpack(box.decrypt(field(outer, "box", bytes)), ("rep",))
    except (CryptoError, ProtocolError) as exc:
        raise BadMessage(str(exc)) from None


def error_reply(text: str) -> bytes:
    """A clear, unsigned error: only ever a hint to the receiver."""
    return codec.pack({"kind": "error", "error": text[:ERROR_TEXT_MAX]})
