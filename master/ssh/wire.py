"""Frames between `master ssh` and the host, over the SSH command's stdin and stdout.

A frame is a 4-byte big-endian length and a msgpack map. The master sends
the request first; the host then asks for what its run needs (pillar,
salt:// files: the minion's file client requests) and the master answers
each ask with one frame, until the host's last frame ``{"kind": "done",
...}``. Only this module's pure functions and the host's blocking reader
are here, so the builder ships this same file into the zipapp
(``saline_ssh_wire``): both sides read and write frames with one piece of
code. It imports nothing of saline.
"""

from __future__ import annotations

import struct
from typing import Any, BinaryIO

import msgpack

HEADER = struct.Struct(">I")
# A host's answer may be a big command output or state run; anything larger is
# refused before it is read, so a confused host cannot make the master hold gigabytes.
MAX_FRAME = 256 * 1024 * 1024


class FrameError(Exception):
    """A frame that cannot be read: too big, cut short or not a msgpack map."""


def pack(message: dict[str, Any]) -> bytes:
    """One frame holding `message`; what msgpack cannot say is sent as text."""
    body = msgpack.packb(message, use_bin_type=True, default=_plain)
    return HEADER.pack(len(body)) + body


def frame_size(header: bytes, limit: int = MAX_FRAME) -> int:
    """The body length a frame header announces; FrameError above `limit`."""
    (size,) = HEADER.unpack(header)
    if size > limit:
        raise FrameError(f"a frame of {size} bytes is over the limit of {limit}")
    return int(size)


def unpack(body: bytes) -> dict[str, Any]:
    """The message of a frame body; FrameError unless it is a msgpack map."""
    try:
        message = msgpack.unpackb(body, raw=False, strict_map_key=False)
    except Exception as exc:  # msgpack raises several types for bad bytes
        raise FrameError(f"not a msgpack frame: {exc}") from None
    if not isinstance(message, dict):
        raise FrameError("a frame must hold a map")
    return message


def read_frame(stream: BinaryIO) -> dict[str, Any] | None:
    """The next frame from a blocking stream; None at a clean end of the stream."""
    header = stream.read(HEADER.size)
    if not header:
        return None
    if len(header) < HEADER.size:
        raise FrameError("the stream ended inside a frame header")
    size = frame_size(header)
    body = stream.read(size)
    if len(body) < size:
        raise FrameError("the stream ended inside a frame")
    return unpack(body)


def _plain(value: Any) -> Any:
    """What msgpack cannot encode itself: sets and tuples as lists, the rest by str()."""
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    return str(value)
