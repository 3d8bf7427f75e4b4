"""asyncio sockets for the daemons: the master's server, the minion's client.

They move opaque byte payloads. One framing rule: a request id frame before
the payload, so replies can be matched to requests on a DEALER socket that
has several requests in flight; an empty request id marks a message the
server pushes unasked (jobs and notices for a minion).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

import zmq
import zmq.asyncio
from zmq.utils.monitor import parse_monitor_message

from common.transport import TransportError, options

log = logging.getLogger(__name__)
_ctx: zmq.asyncio.Context | None = None


def context() -> zmq.asyncio.Context:
    global _ctx
    if _ctx is None:
        _ctx = zmq.asyncio.Context()
    return _ctx


class _Socket:
    """A socket with the shared options and an optional connect watcher."""

    def __init__(
        self,
        kind: int,
        address: str,
        max_msg_size: int,
        on_connect: Callable[[], None] | None = None,
    ) -> None:
        self.address = address
        self.sock = context().socket(kind)
        options.configure(self.sock, max_msg_size, address)
        self._on_connect = on_connect
        self._monitor_task: asyncio.Task[None] | None = None

    def _watch_connects(self) -> None:
        # Each completed ZMTP handshake means the peer can now hear us: the
        # caller uses it to announce itself at once after a reconnect.
        if self._on_connect is None:
            return
        mon = self.sock.get_monitor_socket(zmq.EVENT_HANDSHAKE_SUCCEEDED)
        self._monitor_task = asyncio.ensure_future(self._monitor(mon))

    async def _monitor(self, mon: zmq.asyncio.Socket) -> None:
        assert self._on_connect is not None
        try:
            while True:
                frames = await mon.recv_multipart()
                event = parse_monitor_message(frames)
                if event["event"] == zmq.EVENT_HANDSHAKE_SUCCEEDED:
                    self._on_connect()
        except (asyncio.CancelledError, zmq.ZMQError):
            pass
        finally:
            mon.close(linger=0)

    def close(self) -> None:
        if self._monitor_task is not None:
            self._monitor_task.cancel()
            with contextlib.suppress(zmq.ZMQError):
                self.sock.disable_monitor()
        self.sock.close(linger=0)


class Server(_Socket):
    """ROUTER socket: receive (peer, request id, payload), reply to a peer.

    With `on_disconnect`, each peer connection that closes is reported by
    its routing id (the `peer` its requests came with).
    """

    def __init__(self, address: str, max_msg_size: int,
                 on_disconnect: Callable[[bytes], None] | None = None) -> None:
        super().__init__(zmq.ROUTER, address, max_msg_size)
        self._on_disconnect = on_disconnect
        # The socket (fd) each peer's last request came on; the monitor
        # names a closed connection by its fd (ROUTER_NOTIFY is draft-only).
        self._fd_peer: dict[int, bytes] = {}
        if on_disconnect is not None:
            mon = self.sock.get_monitor_socket(zmq.EVENT_DISCONNECTED)
            self._monitor_task = asyncio.ensure_future(self._watch_disconnects(mon))
        options.bind(self.sock, address)

    async def _watch_disconnects(self, mon: zmq.asyncio.Socket) -> None:
        assert self._on_disconnect is not None
        try:
            while True:
                event = parse_monitor_message(await mon.recv_multipart())
                peer = self._fd_peer.pop(int(event["value"]), None)
                if event["event"] == zmq.EVENT_DISCONNECTED and peer is not None:
                    self._on_disconnect(peer)
        except (asyncio.CancelledError, zmq.ZMQError):
            pass
        finally:
            mon.close(linger=0)

    async def recv(self) -> tuple[bytes, bytes, bytes]:
        """Next (peer, request id, payload)."""
        peer, rid, payload, _ = await self.recv_from()
        return peer, rid, payload

    async def recv_from(self) -> tuple[bytes, bytes, bytes, str]:
        """Next (peer, request id, payload, peer address); bad shapes are skipped."""
        while True:
            parts = await self.sock.recv_multipart(copy=False)
            if len(parts) != 3:
                log.warning("%s: dropped a request with %d frames", self.address, len(parts))
                continue
            peer = parts[0].bytes
            if self._on_disconnect is not None:
                self._fd_peer[int(parts[2].get(zmq.SRCFD))] = peer
            address = _peer_address(parts[2])
            return peer, parts[1].bytes, parts[2].bytes, address

    async def send(self, peer: bytes, rid: bytes, payload: bytes) -> None:
        await self.sock.send_multipart([peer, rid, payload])


def _peer_address(frame: zmq.Frame) -> str:
    """The sending peer's IP address ("" on IPC or when zmq cannot tell)."""
    try:
        return str(frame.get("Peer-Address"))
    except zmq.ZMQError:
        return ""


class Client(_Socket):
    """DEALER socket with request/response matching by request id.

    A message with an empty request id is one the server sent unasked: it
    goes to `on_push`, or is dropped without one.
    """

    def __init__(
        self,
        address: str,
        max_msg_size: int,
        on_connect: Callable[[], None] | None = None,
        on_push: Callable[[bytes], None] | None = None,
    ) -> None:
        super().__init__(zmq.DEALER, address, max_msg_size, on_connect)
        self._on_push = on_push
        # Queue nothing for a master that is not there: a request waits for a
        # live connection or times out, instead of arriving minutes later.
        self.sock.setsockopt(zmq.IMMEDIATE, 1)
        self._pending: dict[bytes, asyncio.Future[bytes]] = {}
        self._next = 0
        self._watch_connects()
        options.connect(self.sock, address)
        self._reader = asyncio.ensure_future(self._read())

    async def _read(self) -> None:
        try:
            while True:
                frames = await self.sock.recv_multipart()
                if len(frames) != 2:
                    log.warning("%s: dropped a reply with %d frames", self.address, len(frames))
                    continue
                if not frames[0]:
                    if self._on_push is not None:
                        self._on_push(frames[1])
                    continue
                fut = self._pending.pop(frames[0], None)
                if fut is not None and not fut.done():
                    fut.set_result(frames[1])
        except (asyncio.CancelledError, zmq.ZMQError):
            pass

    async def request(self, payload: bytes, timeout: float) -> bytes:
        """Send `payload` and wait for its reply; TransportError on timeout."""
        self._next += 1
        rid = self._next.to_bytes(8, "big")
        fut: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()
        self._pending[rid] = fut
        try:
            async with asyncio.timeout(timeout):
                await self.sock.send_multipart([rid, payload])
                return await fut
        except TimeoutError:
            raise TransportError(f"no reply from {self.address} within {timeout:g} s") from None
        finally:
            self._pending.pop(rid, None)

    def redial(self) -> None:
        """Drop the connection and connect again, resolving the address afresh.

        For a peer gone silent: a connection cut by the network is not
        closed for many minutes, and the peer may be back at another address.
        """
        with contextlib.suppress(zmq.ZMQError):
            self.sock.disconnect(self.address)
        options.connect(self.sock, self.address)

    def close(self) -> None:
        self._reader.cancel()
        super().close()
