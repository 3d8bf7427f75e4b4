"""Work with files and directories on the minion, like Salt's ``file`` module.

Names, arguments and return values follow Salt's execution module. Where they
differ, the function's docstring says so. The rules that hold for all of them:

- Paths must be absolute (``~`` is expanded first); a relative path is refused
  with ``FileError``. Only ``basename``, ``dirname`` and ``join`` take any
  string, as they never touch the file system.
- Errors raise an exception whose message is one line naming the path
  (``/etc/nope: No such file or directory``); the executor turns it into an
  ``ERROR: ...`` reply. Functions keep Salt's ``False`` answers where Salt gives
  one as a real answer (``remove`` of a missing path, ``contains`` on a missing
  file, ``replace`` with ``ignore_if_missing``).
- ``write``, ``prepend`` and ``replace`` are atomic: the new content goes into a
  temporary file in the same directory, which takes the old file's mode and
  owner and then replaces it with ``os.replace``, so readers see the old or the
  new file, never half of one. A symlink is resolved and its target written.
  They write in place instead when the file has other hard links (unless
  ``preserve_inode=False`` for ``replace``) or when the temporary file cannot
  be made or given the old owner, so the owner and hard links are never lost.
- Removing a tree never follows symlinks inside it: links are removed, their
  targets are left alone.
"""

from __future__ import annotations

import contextlib
import difflib
import fnmatch
import glob
import grp
import hashlib
import os
import pwd
import re
import secrets
import shutil
import stat
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from common.atomic import OwnerKept, write_atomic
from minion.context import Context

__all__ = [
    "access",
    "append",
    "basename",
    "chown",
    "contains",
    "contains_regex",
    "copy",
    "directory_exists",
    "dirname",
    "file_exists",
    "find",
    "get_gid",
    "get_group",
    "get_hash",
    "get_mode",
    "get_uid",
    "get_user",
    "is_link",
    "join",
    "line_count",
    "lstat",
    "makedirs",
    "mkdir",
    "prepend",
    "read",
    "readlink",
    "remove",
    "rename",
    "replace",
    "search",
    "seek_read",
    "set_mode",
    "stats",
    "symlink",
    "touch",
    "write",
]

HASH_TYPES = ("md5", "sha1", "sha224", "sha256", "sha384", "sha512")
Flags = int | str | Sequence[str]


class FileError(Exception):
    """A file operation failed; the message is one line naming the path."""


def _unavailable(opts: Mapping[str, Any], grains: Mapping[str, Any]) -> str | None:
    if os.name != "posix":
        return "the file module needs a POSIX system"
    return None


# --- helpers ---------------------------------------------------------------------------------


def _abs(path: str) -> str:
    """Expand ``~`` and refuse anything but an absolute path."""
    expanded = os.path.expanduser(str(path))
    if not os.path.isabs(expanded):
        raise FileError(f"{path!r}: path must be absolute")
    return expanded


@contextlib.contextmanager
def _errors(path: str) -> Iterator[None]:
    """Turn an OSError into a one-line FileError naming `path`."""
    try:
        yield
    except OSError as exc:
        reason = exc.strerror or str(exc)
        if exc.filename and str(exc.filename) not in path:
            reason = f"{reason} ({exc.filename})"
        raise FileError(f"{path}: {reason}") from None


def _normalize_mode(mode: int) -> str:
    return f"{stat.S_IMODE(mode):04o}"


def _parse_mode(mode: Any) -> int:
    """Read a mode as Salt does: ``644``, ``'0644'`` and ``'0o644'`` are all 0o644."""
    text = str(mode).strip().strip("'\"").lstrip("0Oo") or "0"
    if len(text) > 4 or any(c not in "01234567" for c in text):
        raise ValueError(f"mode: invalid mode {mode!r}; use octal digits like '0644'")
    return int(text, 8)


def _uid(user: str | int | None) -> int:
    """The uid for a user name or id; -1 (leave unchanged) for None or ''."""
    if user is None or user == "":
        return -1
    if isinstance(user, int) or str(user).isdigit():
        return int(user)
    try:
        return pwd.getpwnam(str(user)).pw_uid
    except KeyError:
        raise ValueError(f"user: no such user {user!r}") from None


def _gid(group: str | int | None) -> int:
    """The gid for a group name or id; -1 (leave unchanged) for None or ''."""
    if group is None or group == "":
        return -1
    if isinstance(group, int) or str(group).isdigit():
        return int(group)
    try:
        return grp.getgrnam(str(group)).gr_gid
    except KeyError:
        raise ValueError(f"group: no such group {group!r}") from None


def _user_name(uid: int) -> str | int:
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return uid


def _group_name(gid: int) -> str | int:
    try:
        return grp.getgrgid(gid).gr_name
    except KeyError:
        return gid


def _lines(args: Sequence[Any], kwarg: Any) -> list[Any]:
    """Salt's ``args=`` keyword replaces the positional lines (for text with ``=``)."""
    if kwarg is None:
        return list(args)
    return list(kwarg) if isinstance(kwarg, list | tuple) else [kwarg]


def _read_bytes(path: str) -> bytes:
    with _errors(path), open(path, "rb") as handle:
        return handle.read()


def _write_in_place(path: str, data: bytes) -> None:
    with _errors(path), open(path, "wb") as handle:
        handle.write(data)


def _write_atomic(path: str, data: bytes, preserve_inode: bool = True) -> None:
    """Replace the file at `path` (already resolved) with `data`; see the module doc."""
    if os.path.isdir(path):
        raise FileError(f"{path}: is a directory")
    try:
        old: os.stat_result | None = os.stat(path)
    except FileNotFoundError:
        old = None
    if old is not None and preserve_inode and old.st_nlink > 1:
        return _write_in_place(path, data)
    try:
        write_atomic(path, data, new_mode=0o644, strict_owner=True)
    except (OwnerKept, PermissionError):
        # No temp file here, or it cannot get the old owner: keep the inode instead.
        return _write_in_place(path, data)
    except OSError as exc:
        raise FileError(f"{path}: {exc.strerror or exc}") from None


# --- existence and simple reads --------------------------------------------------------------


def file_exists(ctx: Context, path: str) -> bool:
    """Tell whether a path is a regular file (following symlinks).

    path
        Absolute path to check.

    CLI Example:

        master run '*' file.file_exists /etc/passwd
    """
    return os.path.isfile(_abs(path))


def directory_exists(ctx: Context, path: str) -> bool:
    """Tell whether a path is a directory (following symlinks).

    path
        Absolute path to check.

    CLI Example:

        master run '*' file.directory_exists /etc
    """
    return os.path.isdir(_abs(path))


def is_link(ctx: Context, path: str) -> bool:
    """Tell whether a path is a symbolic link (even a broken one).

    path
        Absolute path to check.

    CLI Example:

        master run '*' file.is_link /etc/localtime
    """
    return os.path.islink(_abs(path))


def access(ctx: Context, path: str, mode: str | int) -> bool:
    """Tell whether the minion process may access a path in the given way.

    path
        Absolute path to check.
    mode
        ``f`` (exists), ``r`` (readable), ``w`` (writable) or ``x``
        (executable); an ``os.F_OK``-style integer is accepted too.

    CLI Example:

        master run '*' file.access /etc/shadow r
    """
    modes = {"f": os.F_OK, "r": os.R_OK, "w": os.W_OK, "x": os.X_OK}
    if mode in modes:
        return os.access(_abs(path), modes[str(mode)])
    if mode in modes.values():
        return os.access(_abs(path), int(mode))
    raise ValueError(f"mode: invalid access mode {mode!r}; use one of f, r, w, x")


def read(ctx: Context, path: str, binary: bool = False) -> str | bytes:
    """Return the content of a file.

    Text is decoded as UTF-8; bytes that are not valid UTF-8 become U+FFFD.

    path
        Absolute path of the file.
    binary
        Return the raw bytes instead of text.

    CLI Example:

        master run '*' file.read /etc/hostname
    """
    data = _read_bytes(_abs(path))
    return data if binary else data.decode("utf-8", "replace")


def seek_read(ctx: Context, path: str, size: int, offset: int) -> bytes:
    """Return up to `size` bytes of a file, starting at byte `offset`.

    path
        Absolute path of the file.
    size
        How many bytes to read at most.
    offset
        Where to start reading.

    CLI Example:

        master run '*' file.seek_read /var/log/syslog 4096 0
    """
    path = _abs(path)
    with _errors(path), open(path, "rb") as handle:
        handle.seek(int(offset))
        return handle.read(int(size))


def line_count(ctx: Context, path: str) -> int:
    """Return the number of lines in a file (saline's own; Salt has none).

    A last line without a trailing newline counts, so ``a\\nb`` has two lines
    (``wc -l`` would say one). The file is read in chunks, never whole.

    path
        Absolute path of the file.

    CLI Example:

        master run '*' file.line_count /etc/passwd
    """
    path = _abs(path)
    count, last = 0, b"\n"
    with _errors(path), open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 16), b""):
            count += chunk.count(b"\n")
            last = chunk[-1:]
    return count + (last != b"\n")


def contains(ctx: Context, path: str, text: str) -> bool:
    """Tell whether a file contains a piece of text (surrounding spaces ignored).

    A missing file gives False, as in Salt; a file that cannot be read is an
    error. The file is read in chunks, and a match across chunks is found.

    path
        Absolute path of the file.
    text
        Text to look for.

    CLI Example:

        master run '*' file.contains /etc/crontab mymaintenance.sh
    """
    path = _abs(path)
    needle = str(text).strip().encode()
    if not os.path.exists(path):
        return False
    tail = b""
    with _errors(path), open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 16), b""):
            window = tail + chunk
            if needle in window:
                return True
            tail = window[-len(needle) + 1:] if len(needle) > 1 else b""
    return False


def contains_regex(ctx: Context, path: str, regex: str, lchar: str = "") -> bool:
    """Tell whether a regular expression matches any line of a file.

    A missing file gives False, as in Salt; a file that cannot be read is an
    error.

    path
        Absolute path of the file.
    regex
        Python regular expression, searched for in each line.
    lchar
        Characters to strip from the start of each line before matching.

    CLI Example:

        master run '*' file.contains_regex /etc/ssh/sshd_config '^PermitRootLogin\\s+no'
    """
    path = _abs(path)
    if not os.path.exists(path):
        return False
    pattern = _compile_text(regex)
    with _errors(path), open(path, encoding="utf-8", errors="replace") as handle:
        for line in handle:
            if pattern.search(line.lstrip(lchar) if lchar else line):
                return True
    return False


def _compile_text(regex: str, flags: int = 0) -> re.Pattern[str]:
    try:
        return re.compile(str(regex), flags)
    except re.error as exc:
        raise ValueError(f"invalid regular expression {regex!r}: {exc}") from None


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
    path = _abs(path)
    if form not in HASH_TYPES:
        supported = ", ".join(HASH_TYPES)
        raise ValueError(f"form: unsupported hash type {form!r}; use one of {supported}")
    size = int(chunk_size)
    if size < 1:
        raise ValueError(f"chunk_size: must be a positive number of bytes, got {chunk_size!r}")
    digest = hashlib.new(form, usedforsecurity=False)
    with _errors(path), open(path, "rb") as handle:
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
    path = _abs(path)
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
        "group": _group_name(info.st_gid),
        "user": _user_name(info.st_uid),
        "atime": info.st_atime,
        "mtime": info.st_mtime,
        "ctime": info.st_ctime,
        "size": info.st_size,
        "mode": _normalize_mode(info.st_mode),
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
    path = _abs(path)
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


# --- permissions -----------------------------------------------------------------------------


def set_mode(ctx: Context, path: str, mode: str | int) -> str:
    """Set a path's permission bits and return the new mode, e.g. ``'0640'``.

    A missing path or an invalid mode is an error (Salt returns the string
    ``Invalid Mode`` for the latter).

    path
        Absolute path (a symlink's target is changed).
    mode
        Octal mode such as ``0644`` or ``'0o2775'``.

    CLI Example:

        master run '*' file.set_mode /etc/app.conf 0640
    """
    path = _abs(path)
    bits = _parse_mode(mode)
    if not os.path.lexists(path):
        raise FileError(f"{path}: file not found")
    with _errors(path):
        os.chmod(path, bits)
    return get_mode(ctx, path)


def chown(ctx: Context, path: str, user: str | int | None, group: str | int | None) -> None:
    """Change the user and group owning a path (a symlink's target).

    Returns None on success, as Salt does. An unknown user or group or a
    missing path is an error (Salt returns an error string). A broken symlink
    has the link itself changed. None or an empty string leaves that owner
    as it is (Salt takes the minion's own user for a missing user).

    path
        Absolute path.
    user
        User name or uid.
    group
        Group name or gid.

    CLI Example:

        master run '*' file.chown /etc/app.conf root app
    """
    path = _abs(path)
    uid, gid = _uid(user), _gid(group)
    with _errors(path):
        if not os.path.exists(path) and os.path.islink(path):
            os.lchown(path, uid, gid)
        elif not os.path.exists(path):
            raise FileError(f"{path}: file not found")
        else:
            os.chown(path, uid, gid)


def _apply_owner_mode(path: str, uid: int, gid: int, mode: int | None) -> None:
    with _errors(path):
        if uid != -1 or gid != -1:
            os.chown(path, uid, gid)
        if mode is not None:
            os.chmod(path, mode)


def _make_tree(
    directory: str, user: str | int | None, group: str | int | None, mode: Any
) -> list[str]:
    """Create `directory` and any missing parents, each with the given owner and mode."""
    uid, gid = _uid(user), _gid(group)
    bits = None if mode is None or mode == "" else _parse_mode(mode)
    missing: list[str] = []
    current = directory
    while not os.path.isdir(current):
        if os.path.lexists(current):
            raise FileError(f"{current}: exists and is not a directory")
        missing.append(current)
        current = os.path.dirname(current)
    for new in reversed(missing):
        with _errors(new):
            try:
                os.mkdir(new)
            except FileExistsError:
                if not os.path.isdir(new):
                    raise
                continue
        _apply_owner_mode(new, uid, gid, bits)
    return missing


def mkdir(
    ctx: Context,
    dir_path: str,
    user: str | int | None = None,
    group: str | int | None = None,
    mode: str | int | None = None,
) -> bool:
    """Ensure a directory exists, creating missing parents; return True.

    Every directory created gets the given user, group and mode; an existing
    directory is left as it is. A path in the way that is not a directory is
    an error.

    dir_path
        Absolute path of the directory.
    user
        Owner of the new directories.
    group
        Group of the new directories.
    mode
        Mode of the new directories, e.g. ``0750`` (default: from the umask).

    CLI Example:

        master run '*' file.mkdir /opt/app/conf user=app mode=0750
    """
    _make_tree(os.path.normpath(_abs(dir_path)), user, group, mode)
    return True


def makedirs(
    ctx: Context,
    path: str,
    user: str | int | None = None,
    group: str | int | None = None,
    mode: str | int | None = None,
) -> str | None:
    """Ensure the directory that would hold `path` exists, creating it and its parents.

    As in Salt, only the part before the last ``/`` is created: ``/opt/a/b``
    creates ``/opt/a``, and ``/opt/a/b/`` (trailing slash) creates
    ``/opt/a/b``. Returns Salt's ``Directory '<dir>' already exists`` when
    there is nothing to do and None after creating. A path in the way that is
    not a directory is an error (Salt returns a message for that too).

    path
        Absolute path; end it with ``/`` to create the path itself.
    user
        Owner of the new directories.
    group
        Group of the new directories.
    mode
        Mode of the new directories, e.g. ``0755``.

    CLI Example:

        master run '*' file.makedirs /opt/app/releases/
    """
    directory = os.path.normpath(os.path.dirname(_abs(path)))
    if os.path.isdir(directory):
        return f"Directory '{directory}' already exists"
    _make_tree(directory, user, group, mode)
    return None


# --- writing ---------------------------------------------------------------------------------


def write(ctx: Context, path: str, *lines: Any, args: Any = None) -> str:
    """Replace a file's content with the given lines, each ending in a newline.

    The write is atomic and keeps an existing file's mode and owner; a new
    file gets the umask's mode. A symlink's target is written.

    path
        Absolute path of the file.
    lines
        The lines to write.
    args
        The lines as a keyword (one string or a list), for text containing
        ``=`` that the command line would take as a keyword argument.

    CLI Example:

        master run '*' file.write /etc/motd 'Authorised use only.' 'Be nice.'
    """
    path = _abs(path)
    content = [f"{line}\n" for line in _lines(lines, args)]
    _write_atomic(os.path.realpath(path), "".join(content).encode())
    return f'Wrote {len(content)} lines to "{path}"'


def append(ctx: Context, path: str, *lines: Any, args: Any = None) -> str:
    """Add lines to the end of an existing file, each ending in a newline.

    If the file does not end in a newline one is added first, so the new
    lines never join the last old one. As in Salt the file must exist, and
    the write is in place (appending is not atomic).

    path
        Absolute path of the file.
    lines
        The lines to add.
    args
        The lines as a keyword (one string or a list), for text containing ``=``.

    CLI Example:

        master run '*' file.append /etc/motd 'With all thine offerings thou shalt offer salt.'
    """
    path = _abs(path)
    new = _lines(lines, args)
    with _errors(path), open(path, "rb+") as handle:
        end = handle.seek(0, os.SEEK_END)
        if end:
            handle.seek(end - 1)
            if handle.read(1) != b"\n":
                handle.write(b"\n")
        handle.write("".join(f"{line}\n" for line in new).encode())
    return f'Wrote {len(new)} lines to "{path}"'


def prepend(ctx: Context, path: str, *lines: Any, args: Any = None) -> str:
    """Add lines to the start of a file (created if missing), each ending in a newline.

    The write is atomic and keeps the file's mode and owner.

    path
        Absolute path of the file.
    lines
        The lines to add.
    args
        The lines as a keyword (one string or a list), for text containing ``=``.

    CLI Example:

        master run '*' file.prepend /etc/motd 'Managed by saline.'
    """
    path = _abs(path)
    target = os.path.realpath(path)
    new = _lines(lines, args)
    old = _read_bytes(target) if os.path.lexists(target) else b""
    _write_atomic(target, "".join(f"{line}\n" for line in new).encode() + old)
    return f'Prepended {len(new)} lines to "{path}"'


def touch(
    ctx: Context, name: str, atime: int | str | None = None, mtime: int | str | None = None
) -> bool:
    """Create a file if it is missing, and set its access and modification times.

    Returns True once the file exists.

    name
        Absolute path of the file.
    atime
        Access time as seconds since the epoch (default: now).
    mtime
        Modification time as seconds since the epoch (default: now).

    CLI Example:

        master run '*' file.touch /var/log/app.log
    """
    path = _abs(name)
    try:
        times = None if atime is None and mtime is None else (
            time.time() if atime is None else float(atime),
            time.time() if mtime is None else float(mtime),
        )
    except (TypeError, ValueError):
        raise ValueError("atime and mtime must be integers") from None
    with _errors(path):
        if not os.path.exists(path):
            with open(path, "a"):
                pass
        os.utime(path, times)
    return os.path.exists(path)


# --- replace and search ----------------------------------------------------------------------


def _regex_flags(flags: Flags) -> int:
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


def _compile_bytes(pattern: str, flags: Flags) -> re.Pattern[bytes]:
    try:
        return re.compile(str(pattern).encode(), _regex_flags(flags))
    except re.error as exc:
        raise ValueError(f"invalid regular expression {pattern!r}: {exc}") from None


def _diff(old: bytes, new: bytes) -> str:
    """A unified diff of two contents, as Salt returns it (no file names)."""
    before = old.decode("utf-8", "replace").splitlines(True)
    after = new.decode("utf-8", "replace").splitlines(True)
    return "".join(
        line if line.endswith("\n") else line + "\n"
        for line in difflib.unified_diff(before, after)
    )


def _add_if_not_found(data: bytes, content: bytes, flags: int, at_start: bool) -> bytes:
    """Add `content` as a line unless a line already starts with exactly it."""
    line = re.compile(b"^" + re.escape(content) + b"($|(?=\r\n))", flags)
    if line.search(data):
        return data
    if at_start:
        return content + b"\n" + data
    if data and not data.endswith(b"\n"):
        data += b"\n"
    return data + content + b"\n"


def replace(
    ctx: Context,
    path: str,
    pattern: str,
    repl: str,
    count: int = 0,
    flags: Flags = 8,
    bufsize: int | str = 1,
    append_if_not_found: bool = False,
    prepend_if_not_found: bool = False,
    not_found_content: str | None = None,
    backup: str | bool = ".bak",
    dry_run: bool = False,
    search_only: bool = False,
    show_changes: bool = True,
    ignore_if_missing: bool = False,
    preserve_inode: bool = True,
    backslash_literal: bool = False,
) -> str | bool:
    """Replace matches of a regular expression in a file; return a diff or a bool.

    Returns the unified diff of the change (``''`` when nothing changed)
    when show_changes is true, else True if the file changed. The file is
    only written when its content changes; the write is atomic (see the
    module documentation) and keeps the mode and owner. A symlink's target
    is edited, and the backup sits beside the target.

    path
        Absolute path of the file (a text file; binary files are refused).
    pattern
        Python regular expression, applied to the whole file.
    repl
        Replacement; ``\\1`` and ``\\g<name>`` refer to groups.
    count
        Replace at most this many matches (0, the default: all).
    flags
        ``re`` flags as a list of names (``[IGNORECASE, MULTILINE]``), one
        name, or an integer; default 8 (MULTILINE).
    bufsize
        Accepted for Salt compatibility; the whole file is always read.
    append_if_not_found
        If the pattern does not match, add the content as the last line
        (unless a line already starts with it).
    prepend_if_not_found
        Likewise, as the first line.
    not_found_content
        The line to add for append/prepend_if_not_found (default: repl).
    backup
        Suffix of a copy of the old file kept when it changes (default
        ``.bak``); False for none.
    dry_run
        Change nothing; return what would change.
    search_only
        Change nothing; return whether the pattern matches.
    show_changes
        Return the diff (default) rather than True/False.
    ignore_if_missing
        Return False for a missing file instead of failing.
    preserve_inode
        Keep hard links working by writing in place when the file has more
        than one (default True); False always replaces the file atomically.
    backslash_literal
        Take backslashes in repl literally.

    CLI Example:

        master run '*' file.replace /etc/ssh/sshd_config '^PermitRootLogin .*' 'PermitRootLogin no'
    """
    target = os.path.realpath(_abs(path))
    if not os.path.lexists(target):
        if ignore_if_missing:
            return False
        raise FileError(f"{path}: file not found")
    if search_only and (append_if_not_found or prepend_if_not_found):
        raise ValueError("search_only cannot be used with append/prepend_if_not_found")
    if append_if_not_found and prepend_if_not_found:
        raise ValueError("only one of append_if_not_found and prepend_if_not_found is permitted")
    regex = _compile_bytes(pattern, flags)
    data = _read_bytes(target)
    if b"\0" in data[:8192]:
        raise FileError(f"{path}: cannot perform string replacements on a binary file")
    if search_only:
        return regex.search(data) is not None
    replacement = str(repl).encode()
    if backslash_literal:
        replacement = replacement.replace(b"\\", b"\\\\")
    try:
        new, matched = regex.subn(replacement, data, count=int(count))
    except (re.error, IndexError) as exc:
        raise ValueError(f"repl: invalid replacement {repl!r}: {exc}") from None
    if not matched and (append_if_not_found or prepend_if_not_found):
        content = str(repl if not_found_content is None else not_found_content).encode()
        new = _add_if_not_found(new, content, regex.flags, prepend_if_not_found)
    changed = new != data
    if changed and not dry_run:
        if backup:
            with _errors(target + str(backup)):
                shutil.copy2(target, target + str(backup))
        _write_atomic(target, new, preserve_inode)
    return _diff(data, new) if show_changes else changed


def search(
    ctx: Context,
    path: str,
    pattern: str,
    flags: Flags = 8,
    bufsize: int | str = 1,
    ignore_if_missing: bool = False,
    multiline: bool = False,
) -> bool:
    """Tell whether a regular expression matches anywhere in a file.

    Takes the same pattern and flags as file.replace.

    path
        Absolute path of the file.
    pattern
        Python regular expression, applied to the whole file.
    flags
        ``re`` flags as names or an integer; default 8 (MULTILINE).
    bufsize
        Accepted for Salt compatibility; the whole file is read.
    ignore_if_missing
        Return False for a missing file instead of failing.
    multiline
        Add the MULTILINE flag.

    CLI Example:

        master run '*' file.search /etc/crontab 'mymaintenance\\.sh'
    """
    re_flags = _regex_flags(flags) | (re.MULTILINE if multiline else 0)
    return bool(replace(ctx, path, pattern, "", flags=re_flags, dry_run=True, search_only=True,
                        show_changes=False, ignore_if_missing=ignore_if_missing))


# --- links, copies, moves and removal --------------------------------------------------------


def readlink(ctx: Context, path: str, canonicalize: bool = False) -> str:
    """Return the path a symlink points to.

    path
        Absolute path of the symlink; anything else is an error.
    canonicalize
        Return the final target with every symlink on the way resolved.

    CLI Example:

        master run '*' file.readlink /etc/localtime
    """
    path = _abs(os.path.expandvars(str(path)))
    if not os.path.islink(path):
        raise FileError(f"{path}: not a symbolic link")
    if canonicalize:
        return os.path.realpath(path)
    with _errors(path):
        return os.readlink(path)


def symlink(
    ctx: Context,
    src: str,
    path: str,
    force: bool = False,
    atomic: bool = False,
    follow_symlinks: bool = True,
) -> bool:
    """Create a symlink at `path` pointing to `src`; return True.

    A link already pointing to src is left alone. Another link or file at
    path is an error unless force (or atomic) is set; it is then replaced
    atomically. A real directory at path is never replaced.

    src
        What the link points to; may be relative (to the link's directory).
    path
        Absolute path of the link.
    force
        Replace an existing link or file at path.
    atomic
        Replace through a temporary link and a rename (always done when
        replacing); implies force.
    follow_symlinks
        False checks for an existing path with lexists (a broken link counts).

    CLI Example:

        master run '*' file.symlink /opt/app/releases/42 /opt/app/current force=True
    """
    path = _abs(path)
    exists = os.path.exists if follow_symlinks else os.path.lexists
    replace_ok = force or atomic
    if os.path.islink(path):
        if os.path.normpath(os.readlink(path)) == os.path.normpath(str(src)):
            return True
        if not replace_ok:
            raise FileError(f"{path}: found existing symlink (force=True replaces it)")
    elif exists(path) and not replace_ok:
        raise FileError(f"{path}: existing path is not a symlink (force=True replaces it)")
    if os.path.isdir(path) and not os.path.islink(path):
        raise FileError(f"{path}: is a directory; remove it before linking")
    if not os.path.lexists(path):
        with _errors(path):
            os.symlink(src, path)
        return True
    temp = os.path.join(os.path.dirname(path), f".{os.path.basename(path)}.{secrets.token_hex(4)}")
    with _errors(path):
        os.symlink(src, temp)
        try:
            os.replace(temp, path)
        except OSError:
            os.unlink(temp)
            raise
    return True


def rename(ctx: Context, src: str, dst: str) -> bool:
    """Rename (move) a file or directory; return True.

    src
        Absolute path to move.
    dst
        Absolute new path; an existing file there is replaced.

    CLI Example:

        master run '*' file.rename /etc/app.conf /etc/app.conf.old
    """
    src, dst = _abs(src), _abs(dst)
    with _errors(f"{src} -> {dst}"):
        os.rename(src, dst)
    return True


def _copy_owner_mode(src: str, dst: str) -> None:
    """Give `dst` the mode of `src`, and its owner when we may (running as root)."""
    info = os.stat(src)
    os.chmod(dst, stat.S_IMODE(info.st_mode))
    if os.geteuid() == 0:
        os.chown(dst, info.st_uid, info.st_gid)


def copy(
    ctx: Context, src: str, dst: str, recurse: bool = False, remove_existing: bool = False
) -> bool:
    """Copy a file or a directory tree; return True.

    A file's content is copied and dst gets src's mode (and owner, when the
    minion runs as root). A directory needs recurse: its tree is merged into
    dst, overwriting files of the same name and keeping others (like
    ``cp -r``); symlinks in it are copied as symlinks. A file copied onto an
    existing directory with recurse goes inside it.

    src
        Absolute path to copy.
    dst
        Absolute destination path.
    recurse
        Allow copying directories.
    remove_existing
        With recurse, remove dst first so it ends up an exact copy.

    CLI Example:

        master run '*' file.copy /srv/app/conf /etc/app recurse=True
    """
    src, dst = _abs(src), _abs(dst)
    if not os.path.exists(src):
        raise FileError(f"{src}: no such file or directory")
    src_dir, dst_dir = os.path.isdir(src), os.path.isdir(dst)
    if (src_dir or dst_dir) and not recurse:
        raise FileError(f"{dst}: cannot copy overwriting a directory without recurse=True")
    with _errors(f"{src} -> {dst}"):
        if src_dir:
            if remove_existing and os.path.lexists(dst):
                _remove_path(dst)
            shutil.copytree(src, dst, symlinks=True, dirs_exist_ok=True)
        else:
            if dst_dir:
                dst = os.path.join(dst, os.path.basename(src))
            shutil.copyfile(src, dst)
        _copy_owner_mode(src, dst)
    return True


def _remove_path(path: str) -> bool:
    if os.path.islink(path) or (os.path.lexists(path) and not os.path.isdir(path)):
        os.remove(path)
        return True
    if os.path.isdir(path):
        # rmtree unlinks symlinks inside the tree rather than descending into them.
        shutil.rmtree(path)
        return True
    return False


def remove(ctx: Context, path: str) -> bool:
    """Remove a file, a symlink or a whole directory tree; False if nothing is there.

    A symlink is removed, never its target; symlinks inside a removed tree
    are removed without following them, so nothing outside the tree goes.

    path
        Absolute path to remove.

    CLI Example:

        master run '*' file.remove /tmp/build
    """
    path = _abs(path)
    with _errors(path):
        return _remove_path(path)


# --- find ------------------------------------------------------------------------------------

_FIND_TYPES = {
    "b": stat.S_IFBLK, "c": stat.S_IFCHR, "d": stat.S_IFDIR, "f": stat.S_IFREG,
    "l": stat.S_IFLNK, "p": stat.S_IFIFO, "s": stat.S_IFSOCK,
}
_TYPE_LETTERS = {value: key for key, value in _FIND_TYPES.items()}
_SIZE_UNITS = {"b": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}
_INTERVAL = re.compile(
    r"^\s*(?P<sign>[+-]?)\s*(?:(?P<w>\d+(?:\.\d*)?)\s*w)?\s*(?:(?P<d>\d+(?:\.\d*)?)\s*d)?\s*"
    r"(?:(?P<h>\d+(?:\.\d*)?)\s*h)?\s*(?:(?P<m>\d+(?:\.\d*)?)\s*m)?\s*"
    r"(?:(?P<s>\d+(?:\.\d*)?)\s*s)?\s*$",
    re.IGNORECASE,
)
_PRINT_FIELDS = ("group", "md5", "mode", "mtime", "name", "path", "size", "type", "user")
Test = Callable[[str, os.stat_result], bool]


def _size_test(value: str) -> Test:
    text = str(value).strip()
    sign = text[:1] if text[:1] in "+-" else ""
    text = text[len(sign):].strip()
    unit = _SIZE_UNITS.get(text[-1:].lower(), 0)
    number = text[:-1] if unit else text
    try:
        size = int(float(number) * (unit or 1))
    except ValueError:
        raise ValueError(f"size: invalid size {value!r}; use e.g. +10m or -4k") from None
    low, high = {"-": (0, size), "+": (size, None)}.get(sign, (size, size + (unit or 1) - 1))
    return lambda _path, info: low <= info.st_size and (high is None or info.st_size <= high)


def _mtime_test(value: str) -> Test:
    match = _INTERVAL.match(str(value))
    scales = (("s", 1), ("m", 60), ("h", 3600), ("d", 86400), ("w", 604800))
    if match is None or not any(match.group(key) for key, _ in scales):
        raise ValueError(f"mtime: invalid interval {value!r}; use e.g. 30d, -2h or 1w3d")
    seconds = sum(float(match.group(key)) * scale for key, scale in scales if match.group(key))
    resolution = next(scale for key, scale in scales if match.group(key))
    cutoff = time.time() - int(seconds / resolution) * resolution
    if match.group("sign") == "-":
        return lambda _path, info: info.st_mtime >= cutoff
    return lambda _path, info: info.st_mtime <= cutoff


def _grep_test(value: str) -> Test:
    pattern = _compile_bytes(value, 0)

    def test(path: str, info: os.stat_result) -> bool:
        if not stat.S_ISREG(info.st_mode):
            return False
        try:
            with open(path, "rb") as handle:
                return any(pattern.search(line) for line in handle)
        except OSError:
            return False

    return test


def _type_test(value: str) -> Test:
    letters = "".join(str(value).replace(",", " ").split())
    if "a" in letters:
        return lambda _path, _info: True
    unknown = [letter for letter in letters if letter not in _FIND_TYPES]
    if unknown or not letters:
        raise ValueError(f"type: invalid file type {value!r}; use letters from bcdflps")
    kinds = {_FIND_TYPES[letter] for letter in letters}
    return lambda _path, info: stat.S_IFMT(info.st_mode) in kinds


def _owner_test(value: str | int, lookup: Callable[[str], int], field: str) -> Test:
    ids = {lookup(name) for name in str(value).replace(",", " ").split()}
    return lambda _path, info: getattr(info, field) in ids


def _name_test(pattern: str, fold: bool, regex: bool) -> Test:
    if regex:
        compiled = _compile_text(pattern, re.IGNORECASE if fold else 0)
        return lambda path, _info: compiled.match(os.path.basename(path)) is not None
    wanted = pattern.lower() if fold else pattern

    def test(path: str, _info: os.stat_result) -> bool:
        name = os.path.basename(path)
        return fnmatch.fnmatchcase(name.lower() if fold else name, wanted)

    return test


def _find_tests(options: Mapping[str, Any]) -> list[Test]:
    builders: dict[str, Callable[[Any], Test]] = {
        "name": lambda v: _name_test(str(v), fold=False, regex=False),
        "iname": lambda v: _name_test(str(v), fold=True, regex=False),
        "regex": lambda v: _name_test(str(v), fold=False, regex=True),
        "iregex": lambda v: _name_test(str(v), fold=True, regex=True),
        "type": _type_test,
        "user": lambda v: _owner_test(v, _uid, "st_uid"),
        "group": lambda v: _owner_test(v, _gid, "st_gid"),
        "size": _size_test,
        "mtime": _mtime_test,
        "grep": _grep_test,
    }
    return [builders[key](value) for key, value in options.items() if value is not None]


def _walk(root: str, maxdepth: int | None) -> Iterator[tuple[str, int]]:
    """Yield ``(path, depth)`` for root (depth 0) and everything below, never following links."""
    yield root, 0
    stack = [(root, 0)] if os.path.isdir(root) else []
    while stack:
        directory, depth = stack.pop()
        if maxdepth is not None and depth >= maxdepth:
            continue
        try:
            entries = sorted(os.scandir(directory), key=lambda entry: entry.name)
        except OSError:
            continue  # unreadable directories are skipped, as find(1) does after a warning
        for entry in entries:
            yield entry.path, depth + 1
            if entry.is_dir(follow_symlinks=False):
                stack.append((entry.path, depth + 1))


def _print_value(path: str, info: os.stat_result, field: str) -> Any:
    values: dict[str, Callable[[], Any]] = {
        "path": lambda: path,
        "name": lambda: os.path.basename(path),
        "size": lambda: info.st_size,
        "type": lambda: _TYPE_LETTERS.get(stat.S_IFMT(info.st_mode), "?"),
        "mode": lambda: info.st_mode,
        "mtime": lambda: int(info.st_mtime),
        "user": lambda: _user_name(info.st_uid),
        "group": lambda: _group_name(info.st_gid),
        "md5": lambda: _md5(path) if stat.S_ISREG(info.st_mode) else "",
    }
    return values[field]()


def _md5(path: str) -> str:
    digest = hashlib.md5(usedforsecurity=False)
    with _errors(path), open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 16), b""):
            digest.update(chunk)
    return digest.hexdigest()


def find(
    ctx: Context,
    path: str,
    name: str | None = None,
    iname: str | None = None,
    regex: str | None = None,
    iregex: str | None = None,
    type: str | None = None,
    user: str | None = None,
    group: str | None = None,
    size: str | None = None,
    mtime: str | None = None,
    grep: str | None = None,
    mindepth: int | None = None,
    maxdepth: int | None = None,
    print: str | None = None,
) -> list[Any]:
    """Return the paths below `path` that match every given test, like find(1).

    A subset of Salt's options; the delete and exec actions are not offered.
    The start path is depth 0 and is itself a candidate. Symlinks are
    described and reported as links and never followed. Results are sorted
    by path.

    path
        Absolute start path; shell globs (``/var/log/*``) are expanded.
    name
        Glob on the base name, case-sensitive (``*.conf``).
    iname
        Glob on the base name, case-insensitive.
    regex
        Python regular expression matched at the start of the base name.
    iregex
        Likewise, case-insensitive.
    type
        File types, any of: f (file), d (directory), l (symlink), p (fifo),
        s (socket), b (block device), c (character device); a for all.
    user
        Owner names or uids, comma-separated (any matches).
    group
        Group names or gids, comma-separated (any matches).
    size
        ``[+-]number[bkmgt]``: ``+10m`` at least, ``-4k`` at most, ``100``
        exactly (to the unit).
    mtime
        ``[+-]interval`` with w, d, h, m, s units: ``-2h`` modified within the
        last two hours; ``30d`` or ``+30d`` modified more than 30 days ago.
    grep
        Python regular expression searched for in each line of regular files.
    mindepth
        Skip entries shallower than this.
    maxdepth
        Do not descend below this depth.
    print
        Comma-separated fields to return for each match: path (default),
        name, size, type, mode, mtime, user, group, md5. One field gives a
        value, several give a list.

    CLI Example:

        master run '*' file.find /var/log name='*.gz' mtime=+30d size=+10m print=path,size
    """
    root = _abs(path)
    options = {"name": name, "iname": iname, "regex": regex, "iregex": iregex, "type": type,
               "user": user, "group": group, "size": size, "mtime": mtime, "grep": grep}
    tests = _find_tests(options)
    fields = str(print or "path").replace(",", " ").split()
    unknown = sorted(set(fields) - set(_PRINT_FIELDS))
    if unknown:
        raise ValueError(f"print: unknown field {unknown[0]!r}; use {', '.join(_PRINT_FIELDS)}")
    low = int(mindepth or 0)
    high = None if maxdepth is None else int(maxdepth)
    found: list[tuple[str, Any]] = []
    for start in sorted(glob.glob(root)):
        for entry, depth in _walk(start, high):
            if depth < low:
                continue
            try:
                info = os.lstat(entry)
            except OSError:
                continue
            if all(test(entry, info) for test in tests):
                values = [_print_value(entry, info, field) for field in fields]
                found.append((entry, values[0] if len(values) == 1 else values))
    return [value for _entry, value in sorted(found, key=lambda item: item[0])]


# --- pure path helpers -----------------------------------------------------------------------


def basename(ctx: Context, path: str) -> str:
    """Return the last component of a path (``/etc/hosts`` gives ``hosts``).

    The path may be relative; nothing on disk is looked at.

    path
        Any path.

    CLI Example:

        master run '*' file.basename /etc/hosts
    """
    return os.path.basename(str(path))


def dirname(ctx: Context, path: str) -> str:
    """Return all but the last component of a path (``/etc/hosts`` gives ``/etc``).

    The path may be relative; nothing on disk is looked at.

    path
        Any path.

    CLI Example:

        master run '*' file.dirname /etc/hosts
    """
    return os.path.dirname(str(path))


def join(ctx: Context, *args: str) -> str:
    """Join path components with ``/`` (an absolute component restarts the path).

    args
        The components.

    CLI Example:

        master run '*' file.join /etc app conf.d
    """
    if not args:
        return ""
    return os.path.join(*(str(arg) for arg in args))
