"""Shared parts of the file states: checks, modes, owners, diffs and atomic writes.

Every helper raises `StateError` for a user mistake; the `state` decorator
turns any error into ``result False`` with a one-line comment, so a state
function never raises.

Contents are written here (atomically) rather than through the execution
module, which only writes text as lines; everything else (stats, chown,
chmod, mkdir, remove, symlinks, copies) goes through ``ctx.call("file.*")``.
"""

from __future__ import annotations

import datetime
import difflib
import fnmatch
import functools
import grp
import os
import pwd
import re
import shutil
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

from common import atomic
from minion.context import Context
from minion.states import result

Changes = dict[str, Any]
F = TypeVar("F", bound=Callable[..., dict[str, Any]])

NOTE_TEST = "\nNote: No changes made, actual changes may\nbe different due to other states."


class StateError(Exception):
    """A state cannot do its work; the message is the comment."""


class ExactError(StateError):
    """A StateError whose message is the comment as it is (Salt's own spacing kept)."""


def state(func: F) -> F:
    """Turn any error of a state function into ``result False`` naming what failed."""

    @functools.wraps(func)
    def wrapper(ctx: Context, name: str, *args: Any, **kwargs: Any) -> dict[str, Any]:
        try:
            return func(ctx, name, *args, **kwargs)
        except Exception as exc:
            return result.fail(result.new(name), error_text(exc))

    return wrapper  # type: ignore[return-value]


def error_text(exc: BaseException) -> str:
    """One line for an error: our own messages as they are, others with their type."""
    if isinstance(exc, ExactError):
        return str(exc)
    if isinstance(exc, OSError) and exc.filename:
        text = f"{exc.filename}: {exc.strerror or exc}"
    elif type(exc).__name__ in ("StateError", "FileError", "CallError", "RenderError",
                                "FileServerError", "ValueError", "RuntimeError",
                                "FileNotFoundError", "YamlError"):
        text = str(exc)
    else:
        text = f"{type(exc).__name__}: {exc}"
    return " ".join(text.split()) or type(exc).__name__


# --- paths, modes and owners -----------------------------------------------------------------


def absolute(name: str, what: str = "file") -> str:
    """`name` with ``~`` expanded, or StateError if it is not an absolute path."""
    path = os.path.expanduser(str(name))
    if not os.path.isabs(path):
        raise StateError(f"Specified {what} {name} is not an absolute path")
    return os.path.normpath(path) if path != "/" else path


def parse_mode(mode: Any) -> int | None:
    """Salt's modes: ``'0644'``, ``644`` (an int's digits are octal), ``'0o644'``."""
    if mode is None or mode == "":
        return None
    text = str(mode).strip().strip("'\"").lower()
    text = text[2:] if text.startswith("0o") else text
    if not text or len(text) > 5 or any(c not in "01234567" for c in text) \
            or int(text, 8) > 0o7777:
        raise StateError(f"Invalid mode {mode!r}: use octal digits like '0644'")
    return int(text, 8)


def mode_str(bits: int) -> str:
    return f"{bits:04o}"


def default_file_mode() -> int:
    """The mode a new file gets from the umask."""
    mask = os.umask(0o022)
    os.umask(mask)
    return 0o666 & ~mask


def check_owner(ctx: Context, user: Any, group: Any) -> None:
    """Refuse a user or group this host does not have, before changing anything.

    In test mode a missing one is let through, as in Salt: an earlier state
    may create it.
    """
    err = ""
    if user not in (None, "") and not str(user).isdigit():
        try:
            pwd.getpwnam(str(user))
        except KeyError:
            err += f"User {user} is not available "
    if group not in (None, "") and not str(group).isdigit():
        try:
            grp.getgrnam(str(group))
        except KeyError:
            err += f"Group {group} is not available"
    if err and not ctx.test:
        raise ExactError(err)


def stats(ctx: Context, path: str) -> dict[str, Any] | None:
    """``file.stats`` of a path (its target for a symlink), or None when nothing is there."""
    if not os.path.lexists(path):
        return None
    value: dict[str, Any] = ctx.call("file.stats", path)
    return value


def new_file_stats() -> dict[str, Any]:
    """What a file we create looks like before its owner and mode are set."""
    uid, gid = os.geteuid(), os.getegid()
    return {"uid": uid, "gid": gid, "user": _name(pwd.getpwuid, uid),
            "group": _name(grp.getgrgid, gid), "mode": "0600"}


def _name(lookup: Callable[[int], Any], ident: int) -> str | int:
    try:
        return str(lookup(ident)[0])
    except KeyError:
        return ident


def perm_changes(current: Mapping[str, Any], user: Any, group: Any,
                 mode: int | None) -> Changes:
    """The ``user``/``group``/``mode`` keys that differ from `current` (file.stats)."""
    changes: Changes = {}
    for key, ident, wanted in (("user", "uid", user), ("group", "gid", group)):
        if wanted in (None, ""):
            continue
        have = current[ident] if str(wanted).isdigit() else current[key]
        if str(have) != str(wanted):
            changes[key] = wanted
    if mode is not None and current["mode"] != mode_str(mode):
        changes["mode"] = mode_str(mode)
    return changes


def apply_perms(ctx: Context, path: str, changes: Mapping[str, Any]) -> None:
    """Apply the ``user``/``group``/``mode`` keys of `changes` to `path`."""
    if "user" in changes or "group" in changes:
        ctx.call("file.chown", path, changes.get("user"), changes.get("group"))
    if "mode" in changes:
        ctx.call("file.set_mode", path, changes["mode"])


def ensure_parent(ctx: Context, path: str, makedirs: bool, user: Any = None, group: Any = None,
                  dir_mode: int | None = None) -> None:
    """Create the parent directory of `path` if allowed (not in test mode), else fail."""
    parent = os.path.dirname(path)
    if os.path.isdir(parent):
        return
    if not makedirs:
        if ctx.test:
            return  # an earlier state may create it, as Salt assumes in test mode
        raise StateError(f"Parent directory not present: {parent} (set makedirs: True)")
    if not ctx.test:
        bits = None if dir_mode is None else mode_str(dir_mode)
        ctx.call("file.mkdir", parent, user, group, bits)


# --- contents --------------------------------------------------------------------------------


def is_binary(data: bytes) -> bool:
    if b"\0" in data[:8192]:
        return True
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return True
    return False


def text_diff(old: bytes, new: bytes) -> str:
    """A unified diff of two contents as Salt shows it; binary files are named only."""
    if is_binary(old) or is_binary(new):
        return "Replace binary file"
    lines = difflib.unified_diff(old.decode().splitlines(True), new.decode().splitlines(True))
    return "".join(line if line.endswith("\n") else line + "\n" for line in lines)


def content_changes(old: bytes | None, new: bytes, show_changes: bool = True) -> Changes:
    """``{'diff': ...}``: 'New file', a unified diff, or nothing when equal."""
    if old is None:
        return {"diff": "New file"}
    if old == new:
        return {}
    return {"diff": text_diff(old, new) if show_changes else "<show_changes=False>"}


def read_bytes(path: str) -> bytes | None:
    """The content of a regular file, or None when there is none."""
    if not os.path.isfile(path):
        return None
    return Path(path).read_bytes()


def read_text(name: str, path: str) -> str:
    """The text of an existing file for the line-editing states."""
    data = read_bytes(path)
    if data is None:
        raise StateError(f"{name}: file not found")
    if is_binary(data):
        raise StateError(f"{name}: cannot edit a binary file")
    return data.decode()


def write_atomic(path: str, data: bytes, new_mode: int = 0o600) -> None:
    """Replace `path` with `data` via a temp file and a rename.

    An existing file's mode and owner are kept; a new file gets `new_mode`.
    """
    atomic.write_atomic(path, data, new_mode)


def backup_copy(ctx: Context, path: str, backup: Any) -> None:
    """Keep a copy of `path` before it changes: ``'minion'`` in the cache, or a suffix."""
    if not backup or not os.path.isfile(path):
        return
    if backup == "minion":
        cachedir = ctx.opts.get("cachedir")
        if not cachedir:
            raise StateError("backup: 'minion' needs the cachedir option")
        stamp = datetime.datetime.now().strftime("%a_%b_%d_%H:%M:%S_%f_%Y")
        folder = Path(cachedir, "file_backup", os.path.dirname(path).lstrip("/"))
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        shutil.copy2(path, folder / f"{os.path.basename(path)}_{stamp}")
    else:
        shutil.copy2(path, path + str(backup))


# include_pat/exclude_pat: one pattern or a list of them.
Patterns = str | list[str] | None


def path_matches(rel: str, pattern: Patterns) -> bool:
    """Salt's include/exclude_pat: a glob on the relative path, or ``E@regex`` searched in
    it; a list of them matches when any does."""
    if not pattern:
        return False
    if isinstance(pattern, list):
        return any(path_matches(rel, str(p)) for p in pattern)
    if pattern.startswith("E@"):
        return re.search(pattern[2:], rel) is not None
    return fnmatch.fnmatch(rel, pattern) or fnmatch.fnmatch(os.path.basename(rel), pattern)
