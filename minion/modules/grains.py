"""Read the minion's grains: facts about its host such as os and ipv4."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

import yaml

from minion.context import Context
from minion.grains import store

__all__ = [
    "append",
    "delkey",
    "delval",
    "filter_by",
    "get",
    "has_value",
    "item",
    "items",
    "ls",
    "remove",
    "setval",
    "setvals",
]

_MISSING = object()


def traverse(data: Any, key: str, default: Any = "", delimiter: str = ":") -> Any:
    """Follow ``a:b:0`` through nested mappings and lists; `default` if it breaks.

    The rules are Salt's: a list step takes the first mapping in the list
    that has the key (an integer key, for a number) and otherwise, for a
    number, the item at that index; a mapping step that misses retries with
    the key read as YAML, so ``ports:80`` reaches an integer key 80.
    """
    current = data
    for part in key.split(delimiter) if delimiter else [key]:
        current = _step(current, part)
        if current is _MISSING:
            return default
    return current


def _step(current: Any, part: str) -> Any:
    if isinstance(current, list):
        return _list_step(current, part)
    if not isinstance(current, Mapping):
        return _MISSING
    if part in current:
        return current[part]
    alt = _yaml_key(part)
    if alt is _MISSING:
        return _MISSING
    try:
        return current.get(alt, _MISSING)
    except TypeError:
        return _MISSING


def _list_step(current: list[Any], part: str) -> Any:
    try:
        index: Any = int(part)
    except ValueError:
        index = part
    for element in current:
        if isinstance(element, Mapping) and index in element:
            return element[index]
    if isinstance(index, int):
        try:
            return current[index]
        except IndexError:
            return _MISSING
    return _MISSING


def _yaml_key(part: str) -> Any:
    """The scalar `part` reads as in YAML (1, 1.5, true, null), or _MISSING if the same."""
    text = part.strip()
    if text in ("", "---", "...") or any(c in part for c in "\t\r\n#"):
        return _MISSING
    if "_" in text and all(c in "0123456789_" for c in text):
        return _MISSING
    if part == "None":
        return None
    try:
        value = yaml.safe_load(part)
    except yaml.YAMLError:
        return _MISSING
    if value is None or isinstance(value, bool | int | float):
        return _MISSING if value == part else value
    return _MISSING


def items(ctx: Context) -> dict[str, Any]:
    """Return all of the minion's grains.

    CLI Example:

        master run '*' grains.items
    """
    return dict(ctx.grains)


def item(ctx: Context, *keys: str, default: Any = "", delimiter: str = ":") -> dict[str, Any]:
    """Return the named grains as ``{name: value}``; a missing one gives `default`.

    keys
        Grain names; nested values are reached with ``a:b``.
    default
        Value for grains that are not set (default: an empty string).
    delimiter
        Separator for nested keys (default ``:``).

    CLI Example:

        master run '*' grains.item os osrelease oscodename
    """
    return {key: traverse(ctx.grains, key, default, delimiter) for key in keys}


def get(ctx: Context, key: str, default: Any = "", delimiter: str = ":",
        ordered: bool = True) -> Any:
    """Return one grain's value, following ``a:b:c`` into nested data.

    key
        The grain name; ``ip_interfaces:eth0:0`` reaches into dicts and lists.
    default
        What to return when the grain or a step of the path is missing
        (default: an empty string).
    delimiter
        Separator for nested keys (default ``:``).
    ordered
        Accepted for Salt compatibility (grains keep their order either way).

    CLI Example:

        master run '*' grains.get ip_interfaces:eth0
    """
    return traverse(ctx.grains, key, default, delimiter)


def ls(ctx: Context) -> list[str]:
    """Return the names of all grains, sorted.

    CLI Example:

        master run '*' grains.ls
    """
    return sorted(ctx.grains)


def has_value(ctx: Context, key: str) -> bool:
    """Tell whether a grain (or a nested ``a:b`` key of one) exists.

    key
        The grain name; ``pkg:apache`` reaches into nested data.

    CLI Example:

        master run '*' grains.has_value pkg:apache
    """
    return traverse(ctx.grains, key, _MISSING) is not _MISSING


def setvals(
    ctx: Context, grains: Mapping[str, Any], destructive: bool = False,
    refresh_pillar: bool = True,
) -> dict[str, Any]:
    """Set several grains at once and save them in the minion's grains file.

    grains
        A mapping of grain names to values.
    destructive
        Remove grains whose value is None instead of setting them to None.
    refresh_pillar
        Accepted for Salt compatibility; the minion is told through its
        grains-changed hook either way.

    CLI Example:

        master run '*' grains.setvals "{roles: [web], env: prod}"
    """
    if not isinstance(grains, Mapping):
        raise ValueError(f"grains: expected a mapping of grain names to values, got {grains!r}")
    new = {str(key): copy.deepcopy(val) for key, val in grains.items()}

    def change(stored: dict[str, Any]) -> None:
        for key, val in new.items():
            if val is None and destructive:
                stored.pop(key, None)
            else:
                stored[key] = copy.deepcopy(val)

    store.update(store.grains_path(ctx.opts), change)
    change(ctx.grains)
    if ctx.on_grains_changed is not None:
        ctx.on_grains_changed(ctx.grains)
    return new


def setval(
    ctx: Context, key: str, val: Any, destructive: bool = False, refresh_pillar: bool = True
) -> dict[str, Any]:
    """Set one grain and save it in the minion's grains file.

    key
        The grain name (top level; ``a:b`` is taken literally).
    val
        The value, any YAML data.
    destructive
        With a None value, remove the grain instead of setting it to None.
    refresh_pillar
        Accepted for Salt compatibility.

    CLI Example:

        master run '*' grains.setval role webserver
    """
    return setvals(ctx, {key: val}, destructive, refresh_pillar)


def append(
    ctx: Context, key: str, val: Any, convert: bool = False, delimiter: str = ":"
) -> dict[str, Any] | str:
    """Append a value to a list grain (created when missing) and save it.

    key
        The grain name; ``a:b`` reaches a nested list.
    val
        The value to append; a list appends each of its items.
    convert
        Turn a grain that is not a list into one (keeping its value).
    delimiter
        Separator for nested keys (default ``:``).

    CLI Example:

        master run '*' grains.append roles web
    """
    current = copy.deepcopy(traverse(ctx.grains, key, [], delimiter))
    if convert and not isinstance(current, list):
        current = [] if current is None else [current]
    if not isinstance(current, list):
        raise ValueError(f"grain {key!r} is not a list; use convert=True to make it one")
    if val in current:
        return f"The val {val} was already in the list {key}"
    current.extend(val if isinstance(val, list) else [val])
    return setval(ctx, *store.nest(ctx.grains, key, current, delimiter))


def remove(ctx: Context, key: str, val: Any, delimiter: str = ":") -> dict[str, Any] | str:
    """Remove a value from a list grain and save it.

    key
        The grain name; ``a:b`` reaches a nested list.
    val
        The value to remove.
    delimiter
        Separator for nested keys (default ``:``).

    CLI Example:

        master run '*' grains.remove roles web
    """
    current = copy.deepcopy(traverse(ctx.grains, key, [], delimiter))
    if not isinstance(current, list):
        raise ValueError(f"grain {key!r} is not a list")
    if val not in current:
        return f"The val {val} was not in the list {key}"
    current.remove(val)
    return setval(ctx, *store.nest(ctx.grains, key, current, delimiter))


def delval(ctx: Context, key: str, destructive: bool = False) -> dict[str, Any]:
    """Set a grain to None (or remove it, with destructive) and save that.

    key
        The grain name.
    destructive
        Remove the grain entirely instead of setting it to None.

    CLI Example:

        master run '*' grains.delval role destructive=True
    """
    return setval(ctx, key, None, destructive=destructive)


def delkey(ctx: Context, key: str) -> dict[str, Any]:
    """Remove a grain entirely and save that.

    key
        The grain name.

    CLI Example:

        master run '*' grains.delkey role
    """
    return delval(ctx, key, destructive=True)


def filter_by(
    ctx: Context,
    lookup_dict: Mapping[str, Any],
    grain: str = "os_family",
    merge: Mapping[str, Any] | None = None,
    default: str = "default",
    base: str | None = None,
) -> Any:
    """Return the entry of a lookup table chosen by a grain's value.

    The grain's value (each item, for a list grain) is matched against the
    table's keys as globs; the first match wins, else the `default` key.

    lookup_dict
        The table, e.g. ``{Debian: {pkg: apache2}, RedHat: {pkg: httpd}}``.
    grain
        The grain to look up (default ``os_family``; ``a:b`` for nested).
    merge
        A mapping merged (recursively) over the result.
    default
        The key used when nothing matches (default ``default``).
    base
        A key whose mapping the result is merged over.

    CLI Example:

        master run '*' grains.filter_by "{Debian: apache2, RedHat: httpd}"
    """
    return store.filter_by(lookup_dict, traverse(ctx.grains, grain, []), merge, default, base)
