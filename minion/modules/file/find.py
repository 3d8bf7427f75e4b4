"""file.find: search a tree like find(1)."""

from __future__ import annotations

import fnmatch
import glob
import hashlib
import os
import re
import stat
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from minion.context import Context
from minion.modules.file.common import (
    absolute,
    compile_bytes,
    compile_text,
    gid_of,
    group_name,
    os_errors,
    uid_of,
    user_name,
)

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
    pattern = compile_bytes(value, 0)

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
        compiled = compile_text(pattern, re.IGNORECASE if fold else 0)
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
        "user": lambda v: _owner_test(v, uid_of, "st_uid"),
        "group": lambda v: _owner_test(v, gid_of, "st_gid"),
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
        "user": lambda: user_name(info.st_uid),
        "group": lambda: group_name(info.st_gid),
        "md5": lambda: _md5(path) if stat.S_ISREG(info.st_mode) else "",
    }
    return values[field]()


def _md5(path: str) -> str:
    digest = hashlib.md5(usedforsecurity=False)
    with os_errors(path), open(path, "rb") as handle:
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
    root = absolute(path)
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
