"""A blocking request client for the command line (no asyncio import)."""

from __future__ import annotations

import zmq

from common.transport import TransportError, options


class SyncClient:
    """DEALER socket for one-at-a-time requests from a CLI process."""

    def __init__(self, address: str, max_msg_size: int = 64 * 1024 * 1024) -> None:
        self.address = address
        self.sock: zmq.Socket[bytes] = zmq.Context.instance().socket(zmq.DEALER)
        options.configure(self.sock, max_msg_size, address)
        self.sock.setsockopt(zmq.IMMEDIATE, 1)
        options.connect(self.sock, address)
        self._next = 0

    def request(self, payload: bytes, timeout: float) -> bytes:
        """Send and wait for the matching reply; TransportError on timeout."""
        self._next += 1
        rid = self._next.to_bytes(8, "big")
        ms = max(1, int(timeout * 1000))
        if not self.sock.poll(ms, zmq.POLLOUT):
            raise TransportError(f"cannot reach {self.address}")
        self.sock.send_multipart([rid, payload])
        while self.sock.poll(ms, zmq.POLLIN):
            frames = self.sock.recv_multipart()
            if len(frames) == 2 and frames[0] == rid:
                return frames[1]
        raise TransportError(f"no reply from {self.address} within {timeout:g} s")

    def close(self) -> None:
        self.sock.close(linger=0)
