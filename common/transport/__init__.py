"""Sockets and framing. The only package that imports zmq; it moves bytes
and never looks inside a message.

`aio` holds the asyncio sockets the daemons use; `sync` the blocking client
the command line uses (importing asyncio would cost it ~70 ms per command).
"""

from __future__ import annotations


class TransportError(Exception):
    """A socket could not be bound or connected, or a request timed out."""


def tcp_address(host: str, port: int) -> str:
    """A zmq tcp endpoint, bracketing IPv6 literals."""
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"tcp://{host}:{port}"
