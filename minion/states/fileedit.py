"""The file states that edit part of a file: append, prepend, replace, line,
blockreplace, comment and uncomment.

Each reads the file, computes the new text (`minion.states.textedit`), and
writes it atomically only when it differs; ``changes['diff']`` is the
unified diff (True when show_changes is False).
"""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Callable
from typing import Any

from minion.context import Context
from minion.states import result, textedit
from minion.states.fileaccum import for_state
from minion.states.filehelpers import (
    ExactError,
    StateError,
    absolute,
    backup_copy,
    default_file_mode,
    ensure_parent,
    read_text,
    state,
    text_diff,
    write_atomic,
)

# (done, would be done, nothing to do) comments, as Salt words them.
CHANGED = ("Changes were made", "Changes would be made", "No changes needed to be made")


def _target(name: str, create: bool) -> str:
    path = os.path.realpath(absolute(name))
    if os.path.isdir(path):
        raise StateError(f"{name}: is a directory, not a file")
    if not os.path.lexists(path) and not create:
        raise StateError(f"{name}: file not found")
    return path


def _edit(ctx: Context, name: str, transform: Callable[[str], str],
          comments: tuple[str, str, str] = CHANGED, create: bool = False,
          makedirs: bool = False, backup: Any = False, show_changes: bool = True,
          ) -> dict[str, Any]:
    """Apply `transform` to the file's text; diff, report, and write if it changed."""
    ret = result.new(name)
    path = _target(name, create)
    exists = os.path.lexists(path)
    old = read_text(name, path) if exists else ""
    new = transform(old)
    if new == old and exists:
        return result.done(ret, comments[2])
    if not exists:
        ensure_parent(ctx, path, makedirs)
    changes = {"diff": text_diff(old.encode(), new.encode()) if show_changes else True}
    if (r := result.pending(ctx, ret, changes, comments[1])):
        return r
    backup_copy(ctx, path, backup)
    write_atomic(path, new.encode(), default_file_mode())
    ret["changes"] = changes
    return result.done(ret, comments[0])


def _chunks(text: Any) -> list[str]:
    if text is None:
        raise StateError("text is required")
    return [str(t) for t in text] if isinstance(text, list | tuple) else [str(text)]


@state
def append(ctx: Context, name: str, text: Any = None, makedirs: bool = False) -> dict[str, Any]:
    """Add text at the end of a file unless it is already there (the file is created).

    name
        Absolute path of the file.
    text
        A string or a list of strings; each is looked for as a whole,
        ignoring differences in whitespace.
    makedirs
        Create missing parent directories.

    CLI Example:

        minion call state.single file.append /etc/motd text='Be nice.'
    """
    return _add_text(ctx, name, text, makedirs, at_start=False)


@state
def prepend(ctx: Context, name: str, text: Any = None, makedirs: bool = False) -> dict[str, Any]:
    """Add text at the start of a file unless it is already in it (the file is created).

    name
        Absolute path of the file.
    text
        A string or a list of strings, each looked for as a whole.
    makedirs
        Create missing parent directories.

    CLI Example:

        minion call state.single file.prepend /etc/motd text='Managed by saline.'
    """
    return _add_text(ctx, name, text, makedirs, at_start=True)


def _add_text(ctx: Context, name: str, text: Any, makedirs: bool,
              at_start: bool) -> dict[str, Any]:
    """append/prepend: add the chunks of `text` the file lacks, at one end."""
    chunks = _chunks(text)
    path = _target(name, create=True)
    ret = result.new(name)
    if ctx.test and not os.path.lexists(path):
        # Salt touches a missing file first, and its test run predicts only that.
        ret["changes"] = {"new": name}
        return result.done(ret, f"File {name} is set to be created", None)
    if not at_start and not os.path.lexists(path):
        ensure_parent(ctx, path, makedirs)
        write_atomic(path, b"", default_file_mode())
    exists = os.path.lexists(path)
    old = read_text(name, path) if exists else ""
    lines = textedit.missing_lines(old, chunks)
    new = textedit.add_lines(old, lines, at_start=at_start)
    if new == old and exists:
        return result.done(ret, f"File {name} is in correct state")
    if at_start:
        diff = text_diff(old.encode(), new.encode())
    else:
        # Salt's append diffs the lines without their ends and joins them with newlines.
        diff = "\n".join(difflib.unified_diff(old.splitlines(), new.splitlines()))
    if (r := result.pending(ctx, ret, {"diff": diff}, f"File {name} is set to be updated")):
        return r
    if not exists:
        ensure_parent(ctx, path, makedirs)
    write_atomic(path, new.encode(), default_file_mode())
    ret["changes"] = {"diff": diff}
    return result.done(ret, f"{'Prepended' if at_start else 'Appended'} {len(lines)} lines")


@state
def replace(
    ctx: Context, name: str, pattern: str, repl: str, count: int = 0, flags: Any = 8,
    bufsize: Any = 1, append_if_not_found: bool = False, prepend_if_not_found: bool = False,
    not_found_content: str | None = None, backup: Any = ".bak", show_changes: bool = True,
    ignore_if_missing: bool = False, backslash_literal: bool = False,
) -> dict[str, Any]:
    """Replace matches of a regular expression in a file (see file.replace).

    name
        Absolute path of the file.
    pattern, repl
        Python regular expression and its replacement (``\\1`` for groups).
    count
        Replace at most this many matches (0: all).
    flags
        ``re`` flag names or an integer (default 8, MULTILINE).
    append_if_not_found / prepend_if_not_found
        Add not_found_content (default: repl) if the pattern does not match.
    backup
        Suffix of a copy of the old file (default ``.bak``); False for none.
    ignore_if_missing
        Succeed without changes when the file does not exist.

    CLI Example:

        minion call state.single file.replace /etc/ssh/sshd_config \\
            pattern='^PermitRootLogin .*' repl='PermitRootLogin no'
    """
    ret = result.new(name)
    path = absolute(name)
    if not os.path.isfile(path):
        if ignore_if_missing and not os.path.lexists(path):
            return result.done(ret, "No changes needed to be made")
        raise StateError(f"{name}: file not found")
    diff = ctx.call("file.replace", path, pattern, repl, count=count, flags=flags,
                    bufsize=bufsize, append_if_not_found=append_if_not_found,
                    prepend_if_not_found=prepend_if_not_found,
                    not_found_content=not_found_content, backup=backup, dry_run=ctx.test,
                    show_changes=show_changes, backslash_literal=backslash_literal)
    if not diff:
        return result.done(ret, "No changes needed to be made")
    ret["changes"] = {"diff": diff}
    if ctx.test:
        return result.done(ret, "Changes would have been made", None)
    return result.done(ret, "Changes were made")


@state
def line(
    ctx: Context, name: str, content: str | None = None, match: str | None = None,
    mode: str | None = None, location: str | None = None, before: str | None = None,
    after: str | None = None, show_changes: bool = True, backup: Any = False,
    indent: bool = True, create: bool = False,
) -> dict[str, Any]:
    """Ensure, replace, insert or delete one line of a file.

    name
        Absolute path of the file.
    content
        The line.
    match
        Regular expression (or plain text) finding the line(s) to replace or
        delete; default: content.
    mode
        ensure (the line sits between/after/before the given lines), replace,
        insert (at location, or before/after a line), delete.
    location
        start or end, for insert; takes precedence over before/after.
    before, after
        Regular expressions for the neighbouring lines.
    indent
        Give the line the indentation of the line it replaces or follows.
    create
        Create the file if it is missing.

    CLI Example:

        minion call state.single file.line /etc/hosts content='10.0.0.5 db' \\
            mode=insert location=end
    """
    def edit(old: str) -> str:
        return textedit.line_edit(old, content, match, mode, location, before, after, indent)

    if mode is None:
        raise StateError("Mode was not defined: use ensure, replace, insert or delete")
    if ctx.test and not os.path.lexists(os.path.realpath(absolute(name))):
        # Salt creates the missing file first, which a test run does not do.
        raise StateError(f"{name}: file not found")
    return _edit(ctx, name, edit, CHANGED, create=create, backup=backup,
                 show_changes=show_changes)


@state
def blockreplace(
    ctx: Context, name: str, marker_start: str = "# -- start managed zone --",
    marker_end: str = "# -- end managed zone --", content: str = "",
    append_if_not_found: bool = False, prepend_if_not_found: bool = False,
    backup: Any = ".bak", show_changes: bool = True,
    accumulators: dict[str, Any] | None = None, chunk: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Keep a block of text between two marker lines in a file.

    Text collected by file.accumulated states for this file (those naming
    this state, else all of them) is added to content, one line each.

    name
        Absolute path of the file.
    marker_start, marker_end
        Text of the lines around the block (a line containing it counts).
    content
        The block's text.
    append_if_not_found / prepend_if_not_found
        Add markers and block at the end / start when the markers are missing.
    backup
        Suffix of a copy of the old file (default ``.bak``); False for none.

    CLI Example:

        minion call state.single file.blockreplace /etc/hosts content='10.0.0.5 db' \\
            append_if_not_found=True
    """
    if append_if_not_found and prepend_if_not_found:
        raise StateError("Only one of append_if_not_found and prepend_if_not_found is permitted")
    content = str(content or "")
    for piece in for_state(accumulators, os.path.expanduser(name), (chunk or {}).get("__id__", "")):
        content = f"{content}\n{piece}" if content else str(piece)

    def edit(old: str) -> str:
        try:
            return textedit.block_edit(old, marker_start, marker_end, content,
                                       append_if_not_found, prepend_if_not_found)
        except StateError as exc:
            raise ExactError(f"Encountered error managing block: {exc}. "
                             "See the log for details.") from None

    return _edit(ctx, name, edit, CHANGED, backup=backup, show_changes=show_changes)


def _commenting(ctx: Context, name: str, regex: str, char: str, backup: Any,
                edit: Callable[[str, str, str], tuple[str, str]], verb: str) -> dict[str, Any]:
    path = _target(name, create=False)
    state_of = edit(read_text(name, path), regex, char)[1]
    if state_of == "missing":
        bare = re.sub(r"^(\(\?[iLmsux]\))?\^?(.*?)\$?$", r"\2", regex)
        raise StateError(f"{bare}: Pattern not found")
    if state_of == "already":
        return result.done(result.new(name), f"Pattern already {verb}")
    if ctx.test:
        ret = result.new(name)
        ret["changes"] = {name: "updated"}
        return result.done(ret, f"File {name} is set to be updated", None)
    comments = (f"{verb.capitalize()} lines successfully", "", f"Pattern already {verb}")
    return _edit(ctx, name, lambda old: edit(old, regex, char)[0], comments, backup=backup)


@state
def comment(ctx: Context, name: str, regex: str, char: str = "#",
            backup: Any = ".bak") -> dict[str, Any]:
    """Comment out the lines of a file that match a regular expression at their start.

    name
        Absolute path of the file.
    regex
        Python regular expression matched at the start of each line.
    char
        The comment character (default ``#``).
    backup
        Suffix of a copy of the old file (default ``.bak``); False for none.

    CLI Example:

        minion call state.single file.comment /etc/fstab regex='^/dev/sdb1'
    """
    return _commenting(ctx, name, regex, char, backup, textedit.comment_edit, "commented")


@state
def uncomment(ctx: Context, name: str, regex: str, char: str = "#",
              backup: Any = ".bak") -> dict[str, Any]:
    """Remove the comment character before the lines matching a regular expression.

    name
        Absolute path of the file.
    regex
        Python regular expression for the line after the comment character.
    char
        The comment character (default ``#``).
    backup
        Suffix of a copy of the old file (default ``.bak``); False for none.

    CLI Example:

        minion call state.single file.uncomment /etc/adduser.conf regex=EXTRA_GROUPS
    """
    return _commenting(ctx, name, regex, char, backup, textedit.uncomment_edit, "uncommented")
