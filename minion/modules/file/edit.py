"""file.*: writing, appending, touching and regex replacement."""

from __future__ import annotations

import difflib
import os
import re
import shutil
import time
from typing import Any

from minion.context import Context
from minion.modules.file.common import (
    FileError,
    Flags,
    absolute,
    compile_bytes,
    given_lines,
    os_errors,
    read_bytes,
    regex_flags,
    write_replacing,
)

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
    path = absolute(path)
    content = [f"{line}\n" for line in given_lines(lines, args)]
    write_replacing(os.path.realpath(path), "".join(content).encode())
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
    path = absolute(path)
    new = given_lines(lines, args)
    with os_errors(path), open(path, "rb+") as handle:
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
    path = absolute(path)
    target = os.path.realpath(path)
    new = given_lines(lines, args)
    old = read_bytes(target) if os.path.lexists(target) else b""
    write_replacing(target, "".join(f"{line}\n" for line in new).encode() + old)
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
    path = absolute(name)
    try:
        times = None if atime is None and mtime is None else (
            time.time() if atime is None else float(atime),
            time.time() if mtime is None else float(mtime),
        )
    except (TypeError, ValueError):
        raise ValueError("atime and mtime must be integers") from None
    with os_errors(path):
        if not os.path.exists(path):
            with open(path, "a"):
                pass
        os.utime(path, times)
    return os.path.exists(path)


# --- replace and search ----------------------------------------------------------------------


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
    is edited, and the backup sits beside the target (the link gets a
    backup link pointing at it).

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
    target = os.path.realpath(absolute(path))
    if not os.path.lexists(target):
        if ignore_if_missing:
            return False
        raise FileError(f"{path}: file not found")
    if search_only and (append_if_not_found or prepend_if_not_found):
        raise ValueError("search_only cannot be used with append/prepend_if_not_found")
    if append_if_not_found and prepend_if_not_found:
        raise ValueError("only one of append_if_not_found and prepend_if_not_found is permitted")
    regex = compile_bytes(pattern, flags)
    data = read_bytes(target)
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
            with os_errors(target + str(backup)):
                shutil.copy2(target, target + str(backup))
                given = absolute(path)
                if os.path.islink(given):
                    # As Salt does: the link's backup name points at the target's backup.
                    link = given + str(backup)
                    if os.path.lexists(link):
                        os.remove(link)
                    os.symlink(target + str(backup), link)
        write_replacing(target, new, preserve_inode)
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
    re_flags = regex_flags(flags) | (re.MULTILINE if multiline else 0)
    return bool(replace(ctx, path, pattern, "", flags=re_flags, dry_run=True, search_only=True,
                        show_changes=False, ignore_if_missing=ignore_if_missing))
