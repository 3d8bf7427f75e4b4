"""file.*: hashes, stats and owners of paths."""

from __future__ import annotations

import hashlib
import os
import stat
from typing import Any

from minion.context import Context
from minion.modules.file.common import (
    HASH_TYPES,
    FileError,
    absolute,
    group_name,
    mode_string,
    os_errors,
    user_name,
)

# --- hashes and stats ------------------------------------------------------------------------


def get_hash(ctx: Context, path: str, form: str = "sha256", chunk_size: int = 65536) -> str:
    """Return the hex digest of a file, read in chunks (never whole).

    path
        Absolute path of the file.
    form
        One of md5, sha1, sha224, sha256 (default), sha384, sha512.
    chunk_size
        Bytes read at a time.

    CLI Example:

        master run '*' file.get_hash /etc/shadow sha512
    """
    path = absolute(path)
    if form not in HASH_TYPES:
        supported = ", ".join(HASH_TYPES)
        raise ValueError(f"form: unsupported hash type {form!r}; use one of {supported}")
    size = int(chunk_size)
    if size < 1:
        raise ValueError(f"chunk_size: must be a positive number of bytes, got {chunk_size!r}")
    digest = hashlib.new(form, usedforsecurity=False)
    with os_errors(path), open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(size), b""):
            digest.update(chunk)
    return digest.hexdigest()


_TYPE_NAMES = (
    (stat.S_ISDIR, "dir"),
    (stat.S_ISCHR, "char"),
    (stat.S_ISBLK, "block"),
    (stat.S_ISREG, "file"),
    (stat.S_ISLNK, "link"),
    (stat.S_ISFIFO, "pipe"),
    (stat.S_ISSOCK, "socket"),
)


def stats(
    ctx: Context, path: str, hash_type: str | None = None, follow_symlinks: bool = True
) -> dict[str, Any]:
    """Return a file's inode, owner, times, size, mode, type and resolved target.

    Keys as in Salt: inode, uid, gid, user, group, atime, mtime, ctime, size,
    mode (``'0644'``), type (file, dir, link, char, block, pipe, socket),
    target (the path with symlinks resolved), and ``sum`` when hash_type is
    given. A broken symlink is described by the link itself.

    path
        Absolute path to describe.
    hash_type
        Also return the file's digest of this type (e.g. sha256) as ``sum``.
    follow_symlinks
        Describe a symlink's target (default) rather than the link.

    CLI Example:

        master run '*' file.stats /etc/passwd
    """
    path = absolute(path)
    try:
        info = os.stat(path) if follow_symlinks else os.lstat(path)
    except FileNotFoundError:
        try:
            info = os.lstat(path)  # a broken symlink still has an owner
        except FileNotFoundError:
            raise FileError(f"{path}: path not found") from None
    except OSError as exc:
        raise FileError(f"{path}: {exc.strerror or exc}") from None
    ret: dict[str, Any] = {
        "inode": info.st_ino,
        "uid": info.st_uid,
        "gid": info.st_gid,
        "group": group_name(info.st_gid),
        "user": user_name(info.st_uid),
        "atime": info.st_atime,
        "mtime": info.st_mtime,
        "ctime": info.st_ctime,
        "size": info.st_size,
        "mode": mode_string(info.st_mode),
    }
    if hash_type:
        ret["sum"] = get_hash(ctx, path, hash_type)
    ret["type"] = next((name for test, name in _TYPE_NAMES if test(info.st_mode)), "file")
    ret["target"] = os.path.realpath(path)
    return ret


def lstat(ctx: Context, path: str) -> dict[str, Any]:
    """Return the raw lstat fields of a path, without following a symlink.

    Keys: st_atime, st_ctime, st_gid, st_mode, st_mtime, st_nlink, st_size,
    st_uid. A missing path gives ``{}``, as in Salt; other errors are raised.

    path
        Absolute path to describe.

    CLI Example:

        master run '*' file.lstat /etc/localtime
    """
    path = absolute(path)
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise FileError(f"{path}: {exc.strerror or exc}") from None
    keys = ("st_atime", "st_ctime", "st_gid", "st_mode", "st_mtime", "st_nlink", "st_size",
            "st_uid")
    return {key: getattr(info, key) for key in keys}


def get_mode(ctx: Context, path: str, follow_symlinks: bool = True) -> str:
    """Return a path's permission bits as a four-digit octal string like ``'0644'``.

    path
        Absolute path.
    follow_symlinks
        Report a symlink's target (default) rather than the link.

    CLI Example:

        master run '*' file.get_mode /etc/passwd
    """
    return str(stats(ctx, path, follow_symlinks=follow_symlinks)["mode"])


def get_user(ctx: Context, path: str, follow_symlinks: bool = True) -> str | int:
    """Return the name of the user owning a path (its uid if it has no name).

    path
        Absolute path.
    follow_symlinks
        Report a symlink's target (default) rather than the link.

    CLI Example:

        master run '*' file.get_user /etc/passwd
    """
    value: str | int = stats(ctx, path, follow_symlinks=follow_symlinks)["user"]
    return value


def get_group(ctx: Context, path: str, follow_symlinks: bool = True) -> str | int:
    """Return the name of the group owning a path (its gid if it has no name).

    path
        Absolute path.
    follow_symlinks
        Report a symlink's target (default) rather than the link.

    CLI Example:

        master run '*' file.get_group /etc/passwd
    """
    value: str | int = stats(ctx, path, follow_symlinks=follow_symlinks)["group"]
    return value


def get_uid(ctx: Context, path: str, follow_symlinks: bool = True) -> int:
    """Return the uid of the user owning a path.

    path
        Absolute path.
    follow_symlinks
        Report a symlink's target (default) rather than the link.

    CLI Example:

        master run '*' file.get_uid /etc/passwd
    """
    return int(stats(ctx, path, follow_symlinks=follow_symlinks)["uid"])


def get_gid(ctx: Context, path: str, follow_symlinks: bool = True) -> int:
    """Return the gid of the group owning a path.

    path
        Absolute path.
    follow_symlinks
        Report a symlink's target (default) rather than the link.

    CLI Example:

        master run '*' file.get_gid /etc/passwd
    """
    return int(stats(ctx, path, follow_symlinks=follow_symlinks)["gid"])
