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
from minion.states.filedir import directory
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
    Changes,
    StateError,
    absolute,
    apply_perms,
    check_owner,
    ensure_parent,
    new_file_stats,
    parse_mode,
    perm_changes,
    read_bytes,
    state,
    stats,
)
from minion.states.filelink import symlink
from minion.states.filemanaged import managed, predict, write
from minion.states.filetree import recurse

__all__ = [
    "absent", "append", "blockreplace", "comment", "copy_", "directory", "exists", "line",
    "managed", "missing", "prepend", "recurse", "replace", "serialize", "symlink", "touch",
    "uncomment",
]


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
    check_owner(ctx, user, group)
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
    wanted_mode = parse_mode(mode)
    if ctx.test:
        return predict(ctx, ret, path, data, user, group, wanted_mode, True, show_changes,
                       f"Dataset will be serialized and stored into {name}")
    return write(ctx, ret, path, data, True, user, group, wanted_mode, makedirs, None, backup,
                 True, show_changes)


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
    check_owner(ctx, user, group)
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
