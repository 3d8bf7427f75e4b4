"""Changing grains: the grains file ``<config_dir>/grains`` and pure helpers.

Writes go to a temporary file in the same directory (mode 0600) that then
replaces the old one, so a crash never leaves a half-written file. A lock
serialises the read-change-write of concurrent jobs in one minion. `nest`
and `filter_by` are the pure parts of grains.append/remove and
grains.filter_by.
"""

from __future__ import annotations

import copy
import fnmatch
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import yaml

from common.crypto import write_private
from minion.modules import _merge

_LOCK = threading.Lock()


def grains_path(opts: Mapping[str, Any]) -> Path:
    """Where this minion's writable grains live."""
    config_dir = opts.get("config_dir")
    if not config_dir:
        raise ValueError("config_dir is not set in the minion options; cannot write grains")
    return Path(config_dir) / "grains"


def load(path: Path) -> dict[str, Any]:
    """The grains file as a dict ({} when it does not exist or is empty)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path}: cannot read: {exc}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f", line {mark.line + 1}" if mark is not None else ""
        raise ValueError(f"{path}{where}: invalid YAML; fix or remove the file") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ValueError(f"{path}, line 1: expected a mapping of grain names to values")
    return {str(k): v for k, v in data.items()}


def save(path: Path, grains: Mapping[str, Any]) -> None:
    """Write `grains` to `path` atomically, readable by its owner only."""
    text = yaml.safe_dump(dict(grains), default_flow_style=False, sort_keys=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_private(path, text.encode("utf-8"))


def update(path: Path, change: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    """Load the file, let `change` edit the dict in place, save it; return the result."""
    with _LOCK:
        grains = load(path)
        change(grains)
        save(path, grains)
        return copy.deepcopy(grains)


def nest(grains: Mapping[str, Any], key: str, value: Any, delimiter: str = ":") -> tuple[str, Any]:
    """The top-level grain name and its new value once nested `key` is set to `value`.

    Missing mappings on the way are created; list steps take an index or
    pick the first mapping in the list that has the key (as traversal does).
    """
    parts = key.split(delimiter) if delimiter else [key]
    if len(parts) == 1:
        return key, value
    top = parts[0]
    return top, _put(copy.deepcopy(grains.get(top)), parts[1:], value, key)


def _put(node: Any, parts: list[str], value: Any, key: str) -> Any:
    if not parts:
        return value
    head, rest = parts[0], parts[1:]
    if isinstance(node, list):
        index = _list_index(node, head)
        if index is None:
            raise ValueError(f"cannot set {key!r}: no item {head!r} in a list on the way")
        if isinstance(node[index], Mapping) and not head.lstrip("-").isdigit():
            node[index][head] = _put(node[index][head], rest, value, key)
        else:
            node[index] = _put(node[index], rest, value, key)
        return node
    if node is None:
        node = {}
    if not isinstance(node, dict):
        raise ValueError(f"cannot set {key!r}: {head!r} would go inside a "
                         f"{type(node).__name__}, not a mapping")
    node[head] = _put(node.get(head), rest, value, key)
    return node


def _list_index(items: list[Any], head: str) -> int | None:
    if head.lstrip("-").isdigit() and -len(items) <= int(head) < len(items):
        return int(head)
    return next((i for i, item in enumerate(items)
                 if isinstance(item, Mapping) and head in item), None)


def filter_by(
    lookup: Mapping[Any, Any],
    value: Any,
    merge: Mapping[str, Any] | None = None,
    default: str = "default",
    base: str | None = None,
) -> Any:
    """Salt's filter_by: the `lookup` entry whose key (a glob) matches `value`.

    A list `value` tries each item in turn. Without a match the `default`
    entry is used; the `base` entry is merged under the result and `merge`
    over it. The lookup table itself is never modified.
    """
    found = None
    for each in value if isinstance(value, list) else [value]:
        text = str(each)
        # An exact key wins before globbing, so keys with [ ] in them still match.
        match = next((k for k in lookup if text == str(k) or fnmatch.fnmatchcase(text, str(k))),
                     None)
        if match is not None and lookup[match] is not None:
            found = lookup[match]
            break
    ret = copy.deepcopy(found if found is not None else lookup.get(default))
    if base and base in lookup:
        base_values = lookup[base]
        if ret is None:
            ret = copy.deepcopy(base_values)
        elif isinstance(base_values, Mapping):
            if not isinstance(ret, Mapping):
                raise ValueError("filter_by default and look-up values must both be "
                                 "dictionaries.")
            ret = _merge.update(copy.deepcopy(dict(base_values)), ret)
    if merge:
        if not isinstance(merge, Mapping):
            raise ValueError("filter_by merge argument must be a dictionary.")
        if ret is None:
            ret = copy.deepcopy(dict(merge))
        else:
            _merge.update(ret, copy.deepcopy(dict(merge)))
    return ret
