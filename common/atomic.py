"""Replacing a file's content all at once: a temp file in the same directory,
then a rename, so readers see the old file or the new one, never half of one."""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
import stat
from pathlib import Path

_NAME_MAX = 255  # bytes in one file name on Linux file systems
_TMP_EXTRA = len(".") + 8 + len("..saline-tmp")


class OwnerKept(Exception):
    """The temp file could not be given the old file's owner (caller may write in place)."""


def write_atomic(path: str | Path, data: bytes, new_mode: int = 0o600,
                 keep_owner: bool = True, strict_owner: bool = False) -> None:
    """Replace `path` with `data`.

    An existing file keeps its mode (and, with `keep_owner`, its owner); a new
    file gets `new_mode`. The temp file is private until it has its final
    mode. When the owner cannot be kept, `strict_owner` raises OwnerKept
    (nothing changed) instead of going on with the writer as owner. A file
    that cannot be replaced because it is a mount point (``/etc/hosts`` in a
    container) is rewritten in place.
    """
    target = os.fspath(path)
    try:
        old: os.stat_result | None = os.stat(target)
    except FileNotFoundError:
        old = None
    directory, base = os.path.split(target)
    # The temp name adds 21 bytes to the base name: cut the base so that a
    # file whose own name is as long as the file system allows (a 255-byte
    # minion id in the key store) can still be written.
    short = os.fsdecode(os.fsencode(base)[:_NAME_MAX - _TMP_EXTRA])
    tmp = os.path.join(directory or ".", f".{short}.{secrets.token_hex(4)}.saline-tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            os.fchmod(handle.fileno(), stat.S_IMODE(old.st_mode) if old else new_mode)
            if old is not None and keep_owner:
                mine = os.fstat(handle.fileno())
                if (mine.st_uid, mine.st_gid) != (old.st_uid, old.st_gid):
                    try:
                        os.fchown(handle.fileno(), old.st_uid, old.st_gid)
                    except PermissionError:
                        if strict_owner:
                            raise OwnerKept(target) from None
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.replace(tmp, target)
        except OSError as exc:
            if exc.errno != errno.EBUSY:
                raise
            os.unlink(tmp)
            with open(target, "r+b") as handle:  # a bind-mounted file: same inode
                handle.write(data)
                handle.truncate()
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
