"""`file.managed`: one file with the given content, owner and mode.

It follows Salt's three paths, each with its own result shape, because users'
scripts read them: ``replace: False`` on an existing file (only owner and mode),
a test run (``{"newfile": path}`` for a file that does not exist yet, else the
diff and the owner/mode keys that differ), and a real run (write, then fix owner
and mode, reporting what was fixed).
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path
from typing import Any

from minion.context import Context
from minion.states import result
from minion.states.fileaccum import texts
from minion.states.filehelpers import (
    NOTE_TEST,
    Changes,
    StateError,
    apply_perms,
    backup_copy,
    check_owner,
    content_changes,
    default_file_mode,
    mode_str,
    new_file_stats,
    parse_mode,
    perm_changes,
    read_bytes,
    state,
    stats,
    write_atomic,
)
from minion.states.filesource import contents_text, expected_hash, render, source_bytes


class _Unmanageable(Exception):
    """The wanted content cannot be built; the message is the comment."""


class _HashMismatch(Exception):
    """A local source does not have its source_hash; the message is Salt's comment."""


def _verify(ctx: Context, path: str, source: Any, src: Path, source_hash: Any,
            saltenv: str) -> None:
    """Check a local (not salt://) source against source_hash, worded as Salt words it."""
    url = str(source[0] if isinstance(source, list) else source)
    if url.startswith("salt://"):
        return
    algo, digest = expected_hash(ctx, source_hash, url, saltenv)
    actual = hashlib.new(algo, src.read_bytes()).hexdigest()
    if actual == digest:
        return
    if not os.path.exists(path):
        raise _HashMismatch(f"Specified {algo} checksum for {path} ({digest}) does not match "
                            f"actual checksum ({actual})")
    raise _HashMismatch(
        f"Specified {algo} checksum for {url} ({digest}) does not match actual checksum "
        f"({actual}). If the 'source_hash' value refers to a remote file with multiple "
        "possible matches, then it may be necessary to set 'source_hash_name'.")


@state
def managed(
    ctx: Context, name: str, source: Any = None, source_hash: Any = None, contents: Any = None,
    contents_pillar: str | None = None, contents_grains: str | None = None,
    contents_newline: bool = True, contents_delimiter: str = ":", template: str | None = None,
    context: dict[str, Any] | None = None, defaults: dict[str, Any] | None = None,
    user: Any = None, group: Any = None, mode: Any = None, makedirs: bool = False,
    dir_mode: Any = None, replace: bool = True, backup: str = "", show_changes: bool = True,
    create: bool = True, follow_symlinks: bool = True, skip_verify: bool = False,
    keep_mode: bool = False, encoding: str | None = None, saltenv: str = "base",
    keep_source: bool = True, tmp_ext: str = "", check_cmd: str | None = None,
    allow_empty: bool = True, accumulators: dict[str, Any] | None = None,
    chunk: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Make a file have the given content, owner and mode.

    name
        Absolute path of the file.
    source
        ``salt://`` URL, ``file://`` URL or absolute path; a list means the
        first that exists. Not with contents.
    source_hash
        ``sha256=<hex>`` (or a bare digest, or a hash file) checked for local
        sources; salt:// files are checked by the file server.
    contents / contents_pillar / contents_grains
        The content itself (a string or a list of lines), or the pillar or
        grains key holding it. A newline is added unless contents_newline is False.
    template
        ``jinja``: render the content with salt, grains, pillar, opts,
        saltenv, and defaults updated by context.
    user, group, mode
        Owner and mode; mode as ``'0644'`` or ``644``; ``keep`` keeps the
        source file's mode.
    makedirs, dir_mode
        Create missing parent directories (with dir_mode, else a mode derived
        from mode).
    replace
        False: only create a missing file, never change the content.
    backup
        ``minion``: keep the old file under ``cachedir/file_backup``.
    show_changes
        Put a unified diff in ``changes['diff']`` (default).
    create
        False: do nothing if the file does not exist.
    follow_symlinks
        Manage a symlink's target (default); False writes a regular file in
        the link's place.
    check_cmd
        A command run with the new content's temporary file as its last
        argument; the file is only written when it exits 0.
    keep_mode
        Give the file the mode of its source file.
    encoding
        Encoding of contents and rendered templates (default UTF-8).
    keep_source, tmp_ext, allow_empty
        Accepted for Salt compatibility; no effect.

    A template also sees ``accumulator``: the texts file.accumulated states
    collected for this file earlier in the run, by accumulator name.

    CLI Example:

        minion call state.single file.managed /etc/motd source=salt://motd
    """
    ret = result.new(name)
    path = os.path.expanduser(str(name))
    if (collected := texts(accumulators, path)):
        context = {**(context or {}), "accumulator": collected}
    if str(mode).lower() == "keep":
        keep_mode, mode = True, None
    given = [v for v in (contents, contents_pillar, contents_grains) if v is not None]
    if source and given:
        raise StateError("'source' cannot be used in combination with 'contents', "
                         "'contents_pillar', or 'contents_grains'")
    if keep_mode and given:
        raise StateError("Mode preservation cannot be used in combination with 'contents', "
                         "'contents_pillar', or 'contents_grains'")
    text = contents_text(ctx, contents, contents_pillar, contents_grains, contents_newline,
                         contents_delimiter)
    if text is not None and template:
        text = render(ctx, text, template, name, saltenv, context, defaults)
    if not source and text is None:
        replace = False  # nothing to compare the file with
    if not create and not os.path.isfile(path):
        return result.done(ret, f"File {name} is not present and is not set for creation")
    check_owner(ctx, user, group)
    if not os.path.isabs(path):
        raise StateError(f"Specified file {name} is not an absolute path")
    if os.path.isdir(path):
        raise StateError(f"Specified target {name} is a directory")
    wanted_mode = parse_mode(mode)
    if not replace and os.path.exists(path):
        return _perms_only(ctx, ret, path, user, group, wanted_mode, follow_symlinks)

    def wanted() -> tuple[bytes | None, int | None]:
        if text is not None:
            return text.encode(encoding or "utf-8"), wanted_mode
        if not source:
            return None, wanted_mode
        try:
            data, src = source_bytes(ctx, name, source, source_hash, True, template,
                                     saltenv, context, defaults, user, group, mode)
            if source_hash and not skip_verify and not ctx.test:
                _verify(ctx, path, source, src, source_hash, saltenv)
        except StateError as exc:
            raise _Unmanageable(str(exc)) from None
        return data, (os.stat(src).st_mode & 0o7777) if keep_mode else wanted_mode

    try:
        if ctx.test:
            data, bits = wanted()
            return predict(ctx, ret, path, data, user, group, bits, follow_symlinks,
                           show_changes)
        data, bits = wanted()
    except _HashMismatch as exc:
        return result.fail(ret, str(exc))
    except _Unmanageable as exc:
        prefix = "" if ctx.test else "Unable to manage file: "
        return result.fail(ret, prefix + str(exc))
    if check_cmd and (failed := _check_cmd(ctx, check_cmd, data)):
        return ret | failed
    return write(ctx, ret, path, data, text is not None, user, group, bits, makedirs,
                 parse_mode(dir_mode), backup, follow_symlinks, show_changes)


def write(ctx: Context, ret: dict[str, Any], path: str, data: bytes | None,
          from_contents: bool, user: Any, group: Any, mode: int | None, makedirs: bool,
          dir_mode: int | None, backup: str, follow_symlinks: bool = True,
          show_changes: bool = True) -> dict[str, Any]:
    """The real run of managed (and serialize): create or update, then owner and mode."""
    if not os.path.lexists(path) or (os.path.islink(path) and not os.path.exists(path)):
        return _create(ctx, ret, path, data, from_contents, user, group, mode, makedirs,
                       dir_mode, backup)
    return _update(ctx, ret, path, data, user, group, mode, follow_symlinks, show_changes,
                   backup)


def _perms_only(ctx: Context, ret: dict[str, Any], path: str, user: Any, group: Any,
                mode: int | None, follow_symlinks: bool) -> dict[str, Any]:
    """``replace: False`` on an existing file: only the owner and mode are managed."""
    name = ret["name"]
    current = ctx.call("file.stats", path, follow_symlinks=follow_symlinks)
    changes = perm_changes(current, user, group, mode)
    ret["changes"] = changes
    if ctx.test:
        if "mode" in changes:
            comment = (f"File {name} will be updated with permissions {mode_str(mode or 0)} "
                       f"from its current state of {current['mode']}")
        else:
            comment = f"File {name} not updated"
        return result.done(ret, comment, None if changes else True)
    apply_perms(ctx, path, changes)
    if changes:
        return result.done(ret, "")
    return result.done(ret, f"File {name} exists with proper permissions. No changes made.")


def predict(ctx: Context, ret: dict[str, Any], path: str, data: bytes | None, user: Any,
            group: Any, mode: int | None, follow_symlinks: bool = True,
            show_changes: bool = True, comment: str = "") -> dict[str, Any]:
    """What a real run would change, as Salt's test run reports it (`comment` if it would)."""
    name = ret["name"]
    if not os.path.exists(path):
        changes: Changes = {"newfile": name}
    else:
        real = os.path.realpath(path) if follow_symlinks else path
        changes = {} if data is None else content_changes(read_bytes(real), data, show_changes)
        current = ctx.call("file.stats", path, follow_symlinks=follow_symlinks)
        changes |= perm_changes(current, user, group, mode)
    ret["changes"] = changes
    if not changes:
        return result.done(ret, f"The file {name} is in the correct state")
    return result.done(ret, comment or f"The file {name} is set to be changed{NOTE_TEST}", None)


def _check_cmd(ctx: Context, check_cmd: str, data: bytes | None) -> dict[str, Any] | None:
    """Run check_cmd on a temporary file holding the new content; a failed result or None."""
    handle, temp = tempfile.mkstemp(prefix="saline-check-")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data or b"")
        run = ctx.call("cmd.run_all", f"{check_cmd} {temp}", python_shell=True)
    finally:
        os.unlink(temp)
    if run.get("retcode") == 0:
        return None
    comment = "check_cmd execution failed"
    for key in ("stdout", "stderr"):
        if run.get(key):
            comment += "\n" + run[key]
    return {"changes": {}, "comment": comment, "result": False, "skip_watch": True}


def _create(ctx: Context, ret: dict[str, Any], path: str, data: bytes | None,
            from_contents: bool, user: Any, group: Any, mode: int | None, makedirs: bool,
            dir_mode: int | None, backup: str) -> dict[str, Any]:
    """A new file: content from contents is written under the umask (0077 with a mode)."""
    name = ret["name"]
    parent = os.path.dirname(path)
    if not os.path.isdir(parent):
        if not makedirs:
            return result.fail(ret, "Parent directory not present")
        bits = dir_mode if dir_mode is not None else _dir_mode_for(mode)
        ctx.call("file.makedirs", path, user, group, None if bits is None else mode_str(bits))
    if data is None or from_contents:
        created = 0o600 if mode is not None else default_file_mode()
    else:
        created = 0o600  # a copy of a source goes through a private temporary file
    write_atomic(path, data or b"", created)
    changes: Changes = ({"new": f"file {name} created"} if data is None
                        else {"diff": "New file"})
    perms = perm_changes({**new_file_stats(), "mode": mode_str(created)}, user, group,
                         default_file_mode() if mode is None else mode)
    apply_perms(ctx, path, perms)
    ret["changes"] = changes | perms
    return result.done(ret, "Empty file" if data is None else f"File {name} updated")


def _dir_mode_for(mode: int | None) -> int | None:
    """Salt's parent mode from a file mode: every permission digit set also gets x."""
    if mode is None:
        return None
    digits = [int(d) for d in f"{mode & 0o777:03o}"]
    return int("".join(str(d | 1 if d else 0) for d in digits), 8)


def _update(ctx: Context, ret: dict[str, Any], path: str, data: bytes | None, user: Any,
            group: Any, mode: int | None, follow_symlinks: bool, show_changes: bool,
            backup: str) -> dict[str, Any]:
    name = ret["name"]
    link = os.path.islink(path)
    real = os.path.realpath(path) if link and follow_symlinks else path
    changes: Changes = {}
    if link and not follow_symlinks:
        if data is not None:
            # The diff is against what the link shows; the link becomes a regular file
            # with its target's mode.
            old = read_bytes(path)
            bits = os.stat(path).st_mode & 0o7777 if os.path.exists(path) else 0o600
            changes = content_changes(old, data, show_changes) if old is not None else {}
            os.unlink(path)
            write_atomic(path, data, bits)
            changes = changes or {"diff": "Replace symbolic link with regular file"}
    elif data is not None:
        changes = content_changes(read_bytes(real), data, show_changes)
        if changes:
            backup_copy(ctx, real, backup)
            write_atomic(real, data)
    current = stats(ctx, path)
    perms = perm_changes(current, user, group, mode) if current else {}
    apply_perms(ctx, path, perms)
    ret["changes"] = changes | perms
    if ret["changes"]:
        return result.done(ret, f"File {name} updated")
    return result.done(ret, f"File {name} is in the correct state")
