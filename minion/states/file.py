"""Manage files, directories and symlinks, like Salt's ``file`` states.

Argument names, ``changes`` keys and comments follow Salt, so formulas
behave the same. Paths must be absolute; a mistake gives ``result False``
with a one-line comment naming the path. In test mode nothing is touched
and ``changes`` holds what a real run would report.

The functions live in three files: this one (single files and links),
`minion.states.filetree` (directory, recurse) and `minion.states.fileedit`
(editing lines of a file in place).
"""

from __future__ import annotations

import json
import os
from typing import Any

import yaml

from common import yamlload
from minion.context import Context
from minion.states import result
from minion.states.fileedit import (
    append,
    blockreplace,
    comment,
    line,
    prepend,
    replace,
    uncomment,
)
from minion.states.filehelpers import (
    NOTE_TEST,
    Changes,
    StateError,
    absolute,
    apply_file,
    apply_perms,
    check_owner,
    ensure_parent,
    new_file_stats,
    parse_mode,
    perm_changes,
    plan_file,
    read_bytes,
    state,
    stats,
    uid_gid,
)
from minion.states.filesource import contents_text, render, source_bytes
from minion.states.filetree import directory, recurse

__all__ = [
    "absent", "append", "blockreplace", "comment", "copy_", "directory", "exists", "line",
    "managed", "missing", "prepend", "recurse", "replace", "serialize", "symlink", "touch",
    "uncomment",
]


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
    keep_source: bool = True, tmp_ext: str = "",
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
        Owner and mode; mode as ``'0644'`` or ``644``.
    makedirs, dir_mode
        Create missing parent directories (with dir_mode).
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
        the link's place when the content differs.
    keep_mode
        Give the file the mode of its source file.
    encoding
        Encoding of contents and rendered templates (default UTF-8).
    keep_source, tmp_ext
        Accepted for Salt compatibility; no effect.

    CLI Example:

        minion call state.single file.managed /etc/motd source=salt://motd
    """
    ret = result.new(name)
    path = absolute(name)
    if source is not None and any(v is not None for v in
                                  (contents, contents_pillar, contents_grains)):
        raise StateError("'source' cannot be used in combination with 'contents', "
                         "'contents_pillar', or 'contents_grains'")
    check_owner(user, group)
    wanted_mode = parse_mode(mode)
    if os.path.islink(path) and follow_symlinks:
        path = os.path.realpath(path)
    if os.path.isdir(path):
        raise StateError(f"Specified target {name} is a directory")
    exists = os.path.lexists(path)
    if not exists and not create:
        return result.done(ret, f"File {name} is not present and is not set for creation")
    data: bytes | None = None
    text = contents_text(ctx, contents, contents_pillar, contents_grains, contents_newline,
                         contents_delimiter)
    if text is not None:
        data = render(ctx, text, template, name, saltenv, context, defaults).encode(
            encoding or "utf-8")
    elif source is not None:
        data, src = source_bytes(ctx, name, source, source_hash, skip_verify, template, saltenv,
                                 context, defaults)
        if keep_mode:
            wanted_mode = os.stat(src).st_mode & 0o7777
    if exists and not replace:
        data = None
    return manage(ctx, ret, path, data, user, group, wanted_mode, makedirs, parse_mode(dir_mode),
                  backup, show_changes, replace_ok=replace)


def manage(ctx: Context, ret: dict[str, Any], path: str, data: bytes | None, user: Any,
           group: Any, mode: int | None, makedirs: bool = False, dir_mode: int | None = None,
           backup: str = "", show_changes: bool = True, replace_ok: bool = True,
           ) -> dict[str, Any]:
    """The common end of managed and serialize: diff, then write and fix perms."""
    name = ret["name"]
    plan = plan_file(ctx, path, data, user, group, mode, show_changes)
    if not plan:
        if os.path.lexists(path) and not replace_ok:
            return result.done(ret, f"File {name} exists with proper permissions. "
                                    "No changes made.")
        return result.done(ret, f"File {name} is in the correct state")
    ensure_parent(ctx, path, makedirs, user, group, dir_mode)
    if (r := result.pending(ctx, ret, plan, f"The file {name} is set to be changed" + NOTE_TEST)):
        return r
    apply_file(ctx, path, data, plan, backup)
    ret["changes"] = plan
    return result.done(ret, "Empty file" if "new" in plan else f"File {name} updated")


@state
def serialize(
    ctx: Context, name: str, dataset: Any = None, dataset_pillar: str | None = None,
    user: Any = None, group: Any = None, mode: Any = None, backup: str = "",
    makedirs: bool = False, show_changes: bool = True, create: bool = True,
    merge_if_exists: bool = False, formatter: str | None = None, serializer: str | None = None,
    encoding: str | None = None,
) -> dict[str, Any]:
    """Write a data structure to a file as YAML or JSON.

    name
        Absolute path of the file.
    dataset
        The data; or dataset_pillar, a pillar key holding it.
    formatter / serializer
        ``yaml`` (default) or ``json``.
    merge_if_exists
        Merge the data into what the file already holds (the dataset wins).
    user, group, mode, makedirs, backup, show_changes, create
        As for file.managed.

    CLI Example:

        minion call state.single file.serialize /etc/app.json dataset='{"a": 1}' formatter=json
    """
    ret = result.new(name)
    path = absolute(name)
    fmt = str(serializer or formatter or "yaml").lower()
    if fmt not in ("yaml", "json"):
        raise StateError(f"Serializer '{fmt}' is not supported: use yaml or json")
    if dataset is None and dataset_pillar:
        dataset = ctx.call("pillar.get", dataset_pillar, None)
    if dataset is None:
        raise StateError("Neither 'dataset' nor 'dataset_pillar' was defined")
    check_owner(user, group)
    exists = os.path.isfile(path)
    if not exists and not create:
        return result.done(ret, f"File {name} is not present and is not set for creation")
    if merge_if_exists and exists:
        dataset = _merge(_load(fmt, path), dataset)
    if fmt == "json":
        text = json.dumps(dataset, indent=2, separators=(",", ": "), sort_keys=True)
    else:
        text = yaml.safe_dump(dataset, default_flow_style=False, allow_unicode=True)
    data = (text.rstrip("\n") + "\n").encode(encoding or "utf-8")
    return manage(ctx, ret, path, data, user, group, parse_mode(mode), makedirs, None, backup,
                  show_changes)


def _load(fmt: str, path: str) -> Any:
    text = (read_bytes(path) or b"").decode("utf-8", "replace")
    try:
        return json.loads(text) if fmt == "json" else yamlload.load(text, path)
    except ValueError as exc:
        raise StateError(f"{path}: cannot merge, the file is not valid {fmt}: {exc}") from None


def _merge(old: Any, new: Any) -> Any:
    if not isinstance(old, dict) or not isinstance(new, dict):
        return new
    merged = dict(old)
    for key, value in new.items():
        merged[key] = _merge(old.get(key), value) if key in old else value
    return merged


@state
def absent(ctx: Context, name: str) -> dict[str, Any]:
    """Make sure a file, symlink or directory tree is not there.

    CLI Example:

        minion call state.single file.absent /tmp/build
    """
    ret = result.new(name)
    path = absolute(name)
    if path == "/":
        raise StateError('Refusing to make "/" absent')
    if not os.path.lexists(path):
        return result.done(ret, f"File {name} is not present")
    kind = "Directory" if os.path.isdir(path) and not os.path.islink(path) else "File"
    changes = {"removed": name}
    if (r := result.pending(ctx, ret, changes, f"{kind} {name} is set for removal")):
        return r
    ctx.call("file.remove", path)
    ret["changes"] = changes
    return result.done(ret, f"Removed {kind.lower()} {name}")


@state
def exists(ctx: Context, name: str) -> dict[str, Any]:
    """Fail unless the path exists (changes nothing).

    CLI Example:

        minion call state.single file.exists /etc/app.conf
    """
    ret = result.new(name)
    if not os.path.lexists(absolute(name, "path")):
        raise StateError(f"Specified path {name} does not exist")
    return result.done(ret, f"Path {name} exists")


@state
def missing(ctx: Context, name: str) -> dict[str, Any]:
    """Fail if the path exists (changes nothing).

    CLI Example:

        minion call state.single file.missing /etc/nologin
    """
    ret = result.new(name)
    if os.path.lexists(absolute(name, "path")):
        raise StateError(f"Specified path {name} exists")
    return result.done(ret, f"Path {name} is missing")


@state
def touch(ctx: Context, name: str, atime: Any = None, mtime: Any = None,
          makedirs: bool = False) -> dict[str, Any]:
    """Create a file if it is missing and set its times (like touch(1); always reports).

    CLI Example:

        minion call state.single file.touch /var/log/app.log
    """
    ret = result.new(name)
    path = absolute(name)
    if not os.path.isdir(os.path.dirname(path)) and not makedirs:
        raise StateError(f"Directory not present to touch file {name}")
    new = not os.path.exists(path)
    changes = {"new": name} if new else {"touched": name}
    comment = (f"File {name} is set to be created" if new
               else f"File {name} is set to have its atime/mtime updated")
    if (r := result.pending(ctx, ret, changes, comment)):
        return r
    ensure_parent(ctx, path, makedirs)
    ctx.call("file.touch", path, atime, mtime)
    ret["changes"] = changes
    done = f"Created empty file {name}" if new else f"Updated times on file {name}"
    return result.done(ret, done)


@state
def symlink(ctx: Context, name: str, target: str, force: bool = False, makedirs: bool = False,
            user: Any = None, group: Any = None) -> dict[str, Any]:
    """Make `name` a symbolic link pointing to `target`.

    name
        Absolute path of the link.
    target
        What the link points to (as written into the link).
    force
        Replace a file or directory that is in the way.
    makedirs
        Create the link's missing parent directories.
    user, group
        Owner of the link itself.

    CLI Example:

        minion call state.single file.symlink /opt/app/current target=/opt/app/releases/42
    """
    ret = result.new(name)
    path = absolute(name)
    check_owner(user, group)
    if not os.path.isdir(os.path.dirname(path)) and not makedirs:
        raise StateError(f"Directory {os.path.dirname(path)} for symlink is not present")
    changes: Changes = {}
    if os.path.islink(path):
        if os.path.normpath(os.readlink(path)) != os.path.normpath(str(target)):
            changes["change"] = name
    elif os.path.lexists(path):
        if not force:
            kind = "Directory" if os.path.isdir(path) else "File"
            raise StateError(f"{kind} exists where the symlink {name} should be")
        changes = {"forced": "Symlink was forcibly replaced", "new": name}
    else:
        changes["new"] = name
    owner = _link_owner_change(path, user, group, not changes)
    changes |= owner
    if not changes:
        owned = f" and owned by {user or ''}:{group or ''}" if user or group else ""
        return result.done(ret, f"Symlink {name} is present{owned}")
    if "change" in changes:
        comment = f"Link {name} target is set to be changed to {target}"
    elif "new" in changes:
        comment = f"Symlink {name} to {target} is set for creation"
    else:
        comment = f"Ownership of symlink {name} is set to be changed"
    ensure_parent(ctx, path, makedirs)
    if (r := result.pending(ctx, ret, changes, comment)):
        return r
    if "forced" in changes and os.path.isdir(path):
        ctx.call("file.remove", path)
    if "new" in changes or "change" in changes:
        ctx.call("file.symlink", str(target), path, force=True)
    if owner:
        os.lchown(path, *uid_gid(user, group))
    ret["changes"] = changes
    if "change" in changes:
        return result.done(ret, f"Set symlink {name} to point to {target}")
    if "new" in changes:
        return result.done(ret, f"Created new symlink {name} -> {target}")
    return result.done(ret, f"Set ownership of symlink {name} to {owner['ownership']}")


def _link_owner_change(path: str, user: Any, group: Any, link_exists: bool) -> Changes:
    if user in (None, "") and group in (None, ""):
        return {}
    if link_exists:
        info = os.lstat(path)
        have = (info.st_uid, info.st_gid)
    else:
        have = (os.geteuid(), os.getegid())
    uid, gid = uid_gid(user, group)
    if (uid in (-1, have[0])) and (gid in (-1, have[1])):
        return {}
    return {"ownership": f"{user or ''}:{group or ''}"}


@state
def copy_(ctx: Context, name: str, source: str, force: bool = False, makedirs: bool = False,
          preserve: bool = False, user: Any = None, group: Any = None, mode: Any = None,
          subdir: bool = False) -> dict[str, Any]:
    """Copy a file or directory already on the minion to `name`.

    name
        Absolute destination path.
    source
        Absolute path to copy.
    force
        Replace an existing destination whose content differs.
    makedirs
        Create missing parent directories of name.
    preserve
        Keep the source's owner and mode (user, group and mode are then ignored).
    subdir
        If name is a directory, copy into it under the source's name.

    CLI Example:

        minion call state.single file.copy /etc/app.conf.orig source=/etc/app.conf
    """
    ret = result.new(name)
    path = absolute(name)
    if not os.path.isabs(str(source)):
        raise StateError(f"Source file {source} is not an absolute path")
    if not os.path.lexists(source):
        raise StateError(f'Source file "{source}" is not present')
    if subdir and os.path.isdir(path):
        path = os.path.join(path, os.path.basename(source))
    if preserve:
        user = group = mode = None
    check_owner(user, group)
    wanted_mode = parse_mode(mode)
    changes: Changes = {}
    copying = not os.path.lexists(path) or (force and not _same_file(path, source))
    current = _copied_stats(ctx, source) if copying else stats(ctx, path)
    if copying:
        changes[name] = source
    perms = perm_changes(current, user, group, wanted_mode) if current else {}
    changes |= perms
    if not changes:
        return result.done(ret, f'The target file "{name}" exists and will not be overwritten')
    if copying:
        ensure_parent(ctx, path, makedirs)
    if (r := result.pending(ctx, ret, changes,
                            f'File "{source}" is set to be copied to "{name}"')):
        return r
    if copying:
        ctx.call("file.copy", source, path, recurse=os.path.isdir(source), remove_existing=force)
    apply_perms(ctx, path, perms)
    ret["changes"] = changes
    if not copying:
        return result.done(ret, f"File {name} updated")
    return result.done(ret, f'Copied "{source}" to "{name}"')


def _copied_stats(ctx: Context, source: str) -> dict[str, Any] | None:
    """What file.copy makes: the source's mode, and its owner when we run as root."""
    info = stats(ctx, source)
    if info is None or os.geteuid() == 0:
        return info
    return {**new_file_stats(), "mode": info["mode"]}


def _same_file(path: str, source: str) -> bool:
    if os.path.isdir(source) or os.path.isdir(path):
        return False
    return read_bytes(path) == read_bytes(source)
