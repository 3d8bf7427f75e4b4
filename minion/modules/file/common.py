"""Helpers shared by the file module's parts: paths, errors, modes, owners, writes."""

from __future__ import annotations

import contextlib
import grp
import os
import pwd
import re
import stat
from collections.abc import Iterator, Sequence
from typing import Any

from common.atomic import OwnerKept, write_atomic

HASH_TYPES = ("md5", "sha1", "sha224", "sha256", "sha384", "sha512")
Flags = int | str | Sequence[str]


class FileError(Exception):
    """A file operation failed; the message is one line naming the path."""


# --- helpers ---------------------------------------------------------------------------------


def absolute(path: str) -> str:
    """Expand ``~`` and refuse anything but an absolute path."""
    expanded = os.path.expanduser(str(path))
    if not os.path.isabs(expanded):
        raise FileError(f"{path!r}: path must be absolute")
    return expanded


@contextlib.contextmanager
def os_errors(path: str) -> Iterator[None]:
    """Turn an OSError into a one-line FileError naming `path`."""
    try:
        yield
    except OSError as exc:
        reason = exc.strerror or str(exc)
        if exc.filename and str(exc.filename) not in path:
            reason = f"{reason} ({exc.filename})"
        raise FileError(f"{path}: {reason}") from None


def mode_string(mode: int) -> str:
    return f"{stat.S_IMODE(mode):04o}"


def parse_mode(mode: Any) -> int:
    """Read a mode as Salt does: ``644``, ``'0644'`` and ``'0o644'`` are all 0o644."""
    text = str(mode).strip().strip("'\"").lstrip("0Oo") or "0"
    if len(text) > 4 or any(c not in "01234567" for c in text):
        raise ValueError(f"mode: invalid mode {mode!r}; use octal digits like '0644'")
    return int(text, 8)


def uid_of(user: str | int | None) -> int:
    """The uid for a user name or id; -1 (leave unchanged) for None or ''."""
    if user is None or user == "":
        return -1
    if isinstance(user, int) or str(user).isdigit():
        return int(user)
    try:
        return pwd.getpwnam(str(user)).pw_uid
    except KeyError:
        raise ValueError(f"user: no such user {user!r}") from None


def gid_of(group: str | int | None) -> int:
    """The gid for a group name or id; -1 (leave unchanged) for None or ''."""
    if group is None or group == "":
        return -1
    if isinstance(group, int) or str(group).isdigit():
        return int(group)
    try:
        return grp.getgrnam(str(group)).gr_gid
    except KeyError:
        raise ValueError(f"group: no such group {group!r}") from None


def user_name(uid: int) -> str | int:
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return uid


def group_name(gid: int) -> str | int:
    try:
        return grp.getgrgid(gid).gr_name
    except KeyError:
        return gid


def given_lines(args: Sequence[Any], kwarg: Any) -> list[Any]:
    """Salt's ``args=`` keyword replaces the positional lines (for text with ``=``)."""
    if kwarg is None:
        return list(args)
    return list(kwarg) if isinstance(kwarg, list | tuple) else [kwarg]


def read_bytes(path: str) -> bytes:
    with os_errors(path), open(path, "rb") as handle:
        return handle.read()


def write_in_place(path: str, data: bytes) -> None:
    with os_errors(path), open(path, "wb") as handle:
        handle.write(data)


def write_replacing(path: str, data: bytes, preserve_inode: bool = True) -> None:
    """Replace the file at `path` (already resolved) with `data`; see the module doc."""
    if os.path.isdir(path):
        raise FileError(f"{path}: is a directory")
    try:
        old: os.stat_result | None = os.stat(path)
    except FileNotFoundError:
        old = None
    if old is not None and preserve_inode and old.st_nlink > 1:
        return write_in_place(path, data)
    try:
        write_atomic(path, data, new_mode=0o644, strict_owner=True)
    except (OwnerKept, PermissionError):
        # No temp file here, or it cannot get the old owner: keep the inode instead.
        return write_in_place(path, data)
    except OSError as exc:
        raise FileError(f"{path}: {exc.strerror or exc}") from None


def compile_text(regex: str, flags: int = 0) -> re.Pattern[str]:
    try:
        return re.compile(str(regex), flags)
    except re.error as exc:
        raise ValueError(f"invalid regular expression {regex!r}: {exc}") from None


def regex_flags(flags: Flags) -> int:
    """Salt's flags: an int, one flag name, or a list of names (``['IGNORECASE', 'M']``)."""
    if isinstance(flags, int):
        return int(flags)
    names = [flags] if isinstance(flags, str) else list(flags)
    value = 0
    for name in names:
        flag = getattr(re.RegexFlag, str(name).strip().upper(), None)
        if not isinstance(flag, re.RegexFlag):
            raise ValueError(f"flags: invalid regular expression flag {name!r}")
        value |= flag
    return value


def compile_bytes(pattern: str, flags: Flags) -> re.Pattern[bytes]:
    try:
        return re.compile(str(pattern).encode(), regex_flags(flags))
    except re.error as exc:
        raise ValueError(f"invalid regular expression {pattern!r}: {exc}") from None
