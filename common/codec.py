"""msgpack encoding of protocol maps (never pickle).

Every message is a map with an integer protocol version ``v`` and a string
``kind``; `unpack` checks both before anyone looks at the rest.

Decoding is bounded: a frame over its size limit is refused before msgpack
sees it, and msgpack gets limits on every string, binary, array and map
length and on the number of containers, so one frame can never expand to
more than a small multiple of its own size (a 60 MiB frame of empty maps
would otherwise become gigabytes of Python dicts). Frames from peers not yet
authenticated are read with `ENVELOPE`: one flat map of a few small fields.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import msgpack

VERSION = 1


class ProtocolError(Exception):
    """A frame that is not a well-formed message of our protocol."""


@dataclasses.dataclass(frozen=True)
class Limits:
    """Bounds on one decode; see `limits_for` for the ones sized to a frame."""

    max_size: int  # bytes of the whole frame
    max_str: int  # characters... as bytes of UTF-8, per string
    max_bin: int  # bytes per binary
    max_items: int  # entries per array and per map
    max_containers: int  # arrays plus maps in the whole frame


# The outer map of every message on the request channel: a handful of scalar
# fields (v, kind, id or error text, and one binary: the signed bytes or the
# box), no nested containers. The binary may be as big as the frame.
ENVELOPE_STR = 1024
ENVELOPE_ITEMS = 8


def envelope(max_size: int) -> Limits:
    """Limits for the outer map of a frame of at most `max_size` bytes."""
    return Limits(max_size, ENVELOPE_STR, max_size, ENVELOPE_ITEMS, 1)


# A signed auth request or reply (inside the signature): one flat map of
# ids, keys, a nonce, a sealed token or session key. Small by construction.
AUTH_MAX = 4096
AUTH = Limits(AUTH_MAX, 1024, 1024, 16, 1)

# Containers allowed per byte of frame beyond a fixed allowance: an empty map
# costs one byte on the wire and ~64 bytes as a dict, so this bounds the
# expansion of authenticated bodies to a fixed multiple of their size.
CONTAINER_ALLOWANCE = 4096
BYTES_PER_CONTAINER = 4


def limits_for(size: int) -> Limits:
    """Limits sized to a frame of `size` bytes (authenticated bodies)."""
    return Limits(
        max_size=size, max_str=size, max_bin=size, max_items=size,
        max_containers=CONTAINER_ALLOWANCE + size // BYTES_PER_CONTAINER,
    )


class _TooMany(Exception):
    pass


class _Budget:
    """Counts containers as msgpack builds them; stops the decode past the budget."""

    __slots__ = ("left",)

    def __init__(self, containers: int) -> None:
        self.left = containers

    def hook(self, obj: Any) -> Any:
        self.left -= 1
        if self.left < 0:
            raise _TooMany
        return obj


def pack(message: dict[str, Any]) -> bytes:
    """Encode a message map; ``v`` is filled in when missing."""
    message.setdefault("v", VERSION)
    return msgpack.packb(message, use_bin_type=True)


def unpack(data: bytes, kinds: tuple[str, ...] | None = None,
           limits: Limits | None = None) -> dict[str, Any]:
    """Decode a message map, checking version and (optionally) its kind."""
    msg = loads(data, limits)
    if not isinstance(msg, dict):
        raise ProtocolError("message is not a map")
    if msg.get("v") != VERSION:
        raise ProtocolError(f"unsupported protocol version {_short(msg.get('v'))}")
    kind = msg.get("kind")
    if not isinstance(kind, str):
        raise ProtocolError("message has no kind")
    if kinds is not None and kind not in kinds:
        raise ProtocolError(f"unexpected message kind {_short(kind)}")
    return msg


def _short(value: Any) -> str:
    # Error texts quote what a peer sent: never more than a few characters.
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def dumps(obj: Any) -> bytes:
    """Encode plain data (no version envelope)."""
    return msgpack.packb(obj, use_bin_type=True)


def loads(data: bytes, limits: Limits | None = None) -> Any:
    """Decode plain data within `limits` (default: sized to the frame).

    Any malformed or oversized input becomes ProtocolError.
    """
    if not isinstance(data, bytes | bytearray | memoryview):
        raise ProtocolError("frame is not bytes")
    size = len(data) if not isinstance(data, memoryview) else data.nbytes
    lim = limits or limits_for(size)
    if size > lim.max_size:
        raise ProtocolError(f"frame of {size} bytes is over the {lim.max_size} byte limit")
    budget = _Budget(lim.max_containers)
    try:
        # unpackb bounds its buffer by the frame itself (checked above).
        return msgpack.unpackb(
            data, raw=False, strict_map_key=False, use_list=True,
            max_str_len=lim.max_str, max_bin_len=lim.max_bin,
            max_array_len=lim.max_items, max_map_len=lim.max_items, max_ext_len=0,
            object_hook=budget.hook, list_hook=budget.hook,
        )
    except _TooMany:
        raise ProtocolError(f"frame holds more than {lim.max_containers} maps and arrays") \
            from None
    except ValueError as exc:  # a limit ("... exceeds max_map_len(8)") or bad data
        raise ProtocolError(f"malformed msgpack: {str(exc)[:80] or 'bad data'}") from None
    except Exception as exc:  # msgpack raises several unrelated types
        raise ProtocolError(f"malformed msgpack: {type(exc).__name__}") from None


def field(msg: dict[str, Any], name: str, kind: type | tuple[type, ...]) -> Any:
    """Return ``msg[name]`` if present with the right type, else ProtocolError."""
    value = msg.get(name)
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise ProtocolError(f"field {name!r} missing or of the wrong type")
    return value
