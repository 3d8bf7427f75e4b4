"""msgpack encoding of protocol maps (never pickle).

Every message is a map with an integer protocol version ``v`` and a string
``kind``; `unpack` checks both before anyone looks at the rest.
"""

from __future__ import annotations

from typing import Any

import msgpack

VERSION = 1


class ProtocolError(Exception):
    """A frame that is not a well-formed message of our protocol."""


def pack(message: dict[str, Any]) -> bytes:
    """Encode a message map; ``v`` is filled in when missing."""
    message.setdefault("v", VERSION)
    return msgpack.packb(message, use_bin_type=True)


def unpack(data: bytes, kinds: tuple[str, ...] | None = None) -> dict[str, Any]:
    """Decode a message map, checking version and (optionally) its kind."""
    msg = loads(data)
    if not isinstance(msg, dict):
        raise ProtocolError("message is not a map")
    if msg.get("v") != VERSION:
        raise ProtocolError(f"unsupported protocol version {msg.get('v')!r}")
    kind = msg.get("kind")
    if not isinstance(kind, str):
        raise ProtocolError("message has no kind")
    if kinds is not None and kind not in kinds:
        raise ProtocolError(f"unexpected message kind {kind!r}")
    return msg


def dumps(obj: Any) -> bytes:
    """Encode plain data (no version envelope)."""
    return msgpack.packb(obj, use_bin_type=True)


def loads(data: bytes) -> Any:
    """Decode plain data; any malformed input becomes ProtocolError."""
    if not isinstance(data, bytes | bytearray | memoryview):
        raise ProtocolError("frame is not bytes")
    try:
        return msgpack.unpackb(data, raw=False, strict_map_key=False)
    except Exception as exc:  # msgpack raises several unrelated types
        raise ProtocolError(f"malformed msgpack: {type(exc).__name__}") from None


def field(msg: dict[str, Any], name: str, kind: type | tuple[type, ...]) -> Any:
    """Return ``msg[name]`` if present with the right type, else ProtocolError."""
    value = msg.get(name)
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise ProtocolError(f"field {name!r} missing or of the wrong type")
    return value
