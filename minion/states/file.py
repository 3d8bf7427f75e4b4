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
from minion.states.fileaccum import accumulated
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
    StateError,
    absolute,
    check_owner,
    ensure_parent,
    parse_mode,
    read_bytes,
    state,
)
from minion.states.filekv import keyvalue
from minion.states.filelink import symlink
from minion.states.filemanaged import managed, predict, write
from minion.states.filemove import copy_, rename
from minion.states.filetree import recurse

__all__ = [
    "absent", "accumulated", "append", "blockreplace", "comment", "copy_", "directory",
    "exists", "keyvalue", "line", "managed", "missing", "prepend", "recurse", "rename",
    "replace", "serialize", "symlink", "touch", "uncomment",
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
    existing: Any = None
    if merge_if_exists and exists:
        existing = _load(fmt, path)
        merged = _merge(existing, dataset)
        if existing == merged:
            return result.done(ret, f"The file {name} is in the correct state")
        dataset = merged
    if fmt == "json":
        text = json.dumps(dataset, indent=2, separators=(",", ": "), sort_keys=True)
    else:
        text = yaml.safe_dump(dataset, default_flow_style=False, allow_unicode=True)
    data = (text.rstrip("\n") + "\n").encode(encoding or "utf-8")
    wanted_mode = parse_mode(mode)
    if ctx.test:
        ret = predict(ctx, ret, path, data, user, group, wanted_mode, True, show_changes,
                      f"Dataset will be serialized and stored into {name}")
    else:
        ret = write(ctx, ret, path, data, True, user, group, wanted_mode, makedirs, None,
                    backup, True, show_changes)
    if isinstance(existing, dict) and isinstance(dataset, dict):
        # Salt reports a merge as the keys that differ, not as a text diff.
        ret["changes"]["diff"] = _data_diff(existing, dataset)
    return ret


def _data_diff(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """``{key: {"old": ..., "new": ...}}`` for what differs, nested for nested mappings."""
    missing = "<_null_>"
    diff: dict[str, Any] = {}
    for key in [*old, *(k for k in new if k not in old)]:
        before, after = old.get(key, missing), new.get(key, missing)
        if isinstance(before, dict) and isinstance(after, dict):
            inner = _data_diff(before, after)
            if inner:
                diff[key] = inner
        elif before != after:
            diff[key] = {"new": after, "old": before}
    return diff


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
    if ctx.test:
        return _touch_prediction(ctx, ret, path, atime, mtime)
    if makedirs:
        ensure_parent(ctx, path, True)
    if not os.path.isdir(os.path.dirname(path)):
        raise StateError(f"Directory not present to touch file {name}")
    new = not os.path.exists(path)
    ctx.call("file.touch", path, atime, mtime)
    if new:
        ret["changes"] = {"new": name}
        return result.done(ret, f"Created empty file {name}")
    ret["changes"] = {"touched": name}
    kind = "directory" if os.path.isdir(path) else "file"
    return result.done(ret, f"Updated times on {kind} {name}")


def _touch_prediction(ctx: Context, ret: dict[str, Any], path: str, atime: Any,
                      mtime: Any) -> dict[str, Any]:
    """Salt's test run of touch: a missing file is new; given times that differ, touched."""
    name = ret["name"]
    ret["changes"] = {"new": name}
    if not os.path.exists(path):
        return result.done(ret, f"File {name} is set to be created", None)
    info = ctx.call("file.stats", path, follow_symlinks=False)
    if (atime is not None and str(atime) != str(info["atime"])) or (
            mtime is not None and str(mtime) != str(info["mtime"])):
        ret["changes"] = {"touched": name}
        return result.done(ret, f"Times set to be updated on file {name}", None)
    # Salt keeps the 'new' key here, with result True.
    return result.done(ret, f"File {name} exists and has the correct times")
