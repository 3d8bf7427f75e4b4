"""Writes the cluster store could not take, kept on disk until it is back.

One file, ``cachedir/store-spool.bin`` (0600): records appended in order,
each a 4-byte length then msgpack. `replay` applies them in order and keeps
whatever the store refused to take yet. The file is bounded: past
`max_bytes` new records are dropped (and the caller logs it), so a long
outage cannot fill the disk. Replaying a record twice is harmless: every
write it stands for is an upsert or an insert that ignores a duplicate.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from common import codec
from common.atomic import write_atomic
from master.store.pglink import StoreDown

MAX_BYTES = 256 * 1024 * 1024
_LEN = struct.Struct(">I")


class Spool:
    """An append-only queue of records on disk."""

    def __init__(self, path: Path, max_bytes: int = MAX_BYTES) -> None:
        self.path = path
        self.max_bytes = max_bytes

    def size(self) -> int:
        try:
            return self.path.stat().st_size
        except FileNotFoundError:
            return 0

    def put(self, record: list[Any]) -> bool:
        """Queue `record`; False (nothing written) when the spool is full."""
        data = codec.dumps(record)
        if self.size() + len(data) + _LEN.size > self.max_bytes:
            return False
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            os.write(fd, _LEN.pack(len(data)) + data)
        finally:
            os.close(fd)
        return True

    def replay(self, apply: Callable[[list[Any]], None]) -> int:
        """Apply each queued record in order; how many were applied.

        Stops at the first record the store cannot take (StoreDown) and keeps
        that one and the rest for the next call.
        """
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return 0
        done = 0
        for offset, record in _records(data):
            try:
                apply(record)
            except StoreDown:
                write_atomic(self.path, data[offset:])
                return done
            done += 1
        self.path.unlink(missing_ok=True)
        return done


def _records(data: bytes) -> Iterator[tuple[int, list[Any]]]:
    """(offset, record) of each whole record; a torn tail (a crash mid-append) ends it."""
    offset = 0
    while offset + _LEN.size <= len(data):
        (size,) = _LEN.unpack_from(data, offset)
        end = offset + _LEN.size + size
        if end > len(data):
            return
        try:
            record = codec.loads(data[offset + _LEN.size:end])
        except codec.ProtocolError:
            record = None
        if isinstance(record, list) and record:
            yield offset, record
        offset = end
