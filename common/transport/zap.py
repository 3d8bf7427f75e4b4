"""The publish port's gatekeeper: zmq's ZAP handler for CURVE connections.

libzmq asks the handler once per connection, during the CURVE handshake and
before the peer can send a single subscription; the answer is a lookup in
the caller's table of allowed public keys. A peer without an allowed key
never gets past the handshake, so it cannot make the publisher hold state
for it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass

import zmq
import zmq.asyncio

log = logging.getLogger(__name__)

ZAP_ENDPOINT = "inproc://zeromq.zap.01"
ZAP_VERSION = b"1.0"
DOMAIN = b"saline"

# Given a peer's 32-byte public key and its address: the user id to admit
# it as, or None to refuse it.
Admit = Callable[[bytes, str], "str | None"]


@dataclass(frozen=True)
class CurveServer:
    """What a CURVE publisher needs: its secret key and who may connect."""

    secret_key: bytes
    admit: Admit


@dataclass(frozen=True)
class CurveClient:
    """What a CURVE subscriber needs: the server's public key and its own pair."""

    server_key: bytes
    public_key: bytes
    secret_key: bytes


def reply_for(frames: list[bytes], admit: Admit) -> list[bytes] | None:
    """The ZAP reply frames for one request (after its routing envelope), or None.

    A malformed request (libzmq never sends one) gets no reply.
    """
    if len(frames) < 6 or frames[0] != ZAP_VERSION:
        return None
    _, request_id, domain, address, _identity, mechanism, *credentials = frames
    user = None
    if domain == DOMAIN and mechanism == b"CURVE" and len(credentials) == 1 \
            and len(credentials[0]) == 32:
        user = admit(credentials[0], address.decode("ascii", "replace"))
    if user is None:
        return [ZAP_VERSION, request_id, b"400", b"not allowed", b"", b""]
    return [ZAP_VERSION, request_id, b"200", b"OK", user.encode(), b""]


class Gate:
    """Serve ZAP requests in the event loop until closed."""

    def __init__(self, ctx: zmq.asyncio.Context, admit: Admit) -> None:
        self.sock = ctx.socket(zmq.ROUTER)
        self.sock.setsockopt(zmq.LINGER, 0)
        self.sock.bind(ZAP_ENDPOINT)
        self._admit = admit
        self._task = asyncio.ensure_future(self._serve())

    async def _serve(self) -> None:
        with contextlib.suppress(asyncio.CancelledError, zmq.ZMQError):
            while True:
                frames = await self.sock.recv_multipart()
                # ROUTER envelope: routing id, empty delimiter, then the request.
                if len(frames) < 2 or frames[1] != b"":
                    continue
                reply = reply_for(frames[2:], self._safe_admit)
                if reply is not None:
                    await self.sock.send_multipart([frames[0], b"", *reply])

    def _safe_admit(self, key: bytes, address: str) -> str | None:
        try:
            return self._admit(key, address)
        except Exception:
            log.exception("publish gate: the admission check failed; peer refused")
            return None

    def close(self) -> None:
        self._task.cancel()
        self.sock.close(linger=0)


def secure_server(sock: zmq.Socket, curve: CurveServer) -> None:
    """Make `sock` a CURVE server whose peers the ZAP gate judges."""
    sock.setsockopt(zmq.CURVE_SERVER, 1)
    sock.setsockopt(zmq.CURVE_SECRETKEY, curve.secret_key)
    sock.setsockopt(zmq.ZAP_DOMAIN, DOMAIN)


def secure_client(sock: zmq.Socket, curve: CurveClient) -> None:
    """Make `sock` a CURVE client of the server whose public key is given."""
    sock.setsockopt(zmq.CURVE_SERVERKEY, curve.server_key)
    sock.setsockopt(zmq.CURVE_PUBLICKEY, curve.public_key)
    sock.setsockopt(zmq.CURVE_SECRETKEY, curve.secret_key)
