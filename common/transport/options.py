"""Socket options shared by both flavours of socket."""

from __future__ import annotations

import errno
import os

import zmq

from common.transport import TransportError

RECONNECT_IVL_MS = 100
RECONNECT_IVL_MAX_MS = 5000
IPC_PATH_MAX = 100


def configure(sock: zmq.Socket, max_msg_size: int, address: str) -> None:
    """Apply the options every saline socket gets."""
    sock.setsockopt(zmq.LINGER, 500)
    sock.setsockopt(zmq.MAXMSGSIZE, max_msg_size)
    sock.setsockopt(zmq.RECONNECT_IVL, RECONNECT_IVL_MS)
    sock.setsockopt(zmq.RECONNECT_IVL_MAX, RECONNECT_IVL_MAX_MS)
    if address.startswith("tcp://"):
        sock.setsockopt(zmq.TCP_KEEPALIVE, 1)
        sock.setsockopt(zmq.TCP_KEEPALIVE_IDLE, 60)
        if "[" in address or address.count(":") > 2:
            sock.setsockopt(zmq.IPV6, 1)


def bind(sock: zmq.Socket, address: str) -> None:
    """Bind, turning zmq's errors into one readable TransportError."""
    if address.startswith("ipc://"):
        path = address[len("ipc://") :]
        if len(path) > IPC_PATH_MAX:
            raise TransportError(f"socket path too long ({len(path)} > {IPC_PATH_MAX}): {path}")
        if os.path.exists(path):
            # A stale socket from a crashed master; a live one is detected by
            # the caller before binding (see master.local).
            os.unlink(path)
    try:
        sock.bind(address)
    except zmq.ZMQError as exc:
        reason = "address already in use" if exc.errno == errno.EADDRINUSE else exc.strerror
        raise TransportError(f"cannot bind {address}: {reason}") from None


def connect(sock: zmq.Socket, address: str) -> None:
    try:
        sock.connect(address)
    except zmq.ZMQError as exc:
        raise TransportError(f"cannot connect to {address}: {exc.strerror}") from None


def libzmq_version() -> str:
    """The version of the libzmq library pyzmq is linked with."""
    return str(zmq.zmq_version())
