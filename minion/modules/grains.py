"""Read the minion's grains: facts about its host such as os and ipv4."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from minion.context import Context

__all__ = ["get", "item", "items", "ls"]

_MISSING = object()


def traverse(data: Any, key: str, default: Any = "", delimiter: str = ":") -> Any:
    """Follow ``a:b:0`` through nested mappings and lists; `default` if it breaks.

    A list step takes an integer index, or else picks the first mapping in
    the list that has the key (as Salt does for lists of single-key dicts).
    """
    current = data
    for part in key.split(delimiter) if delimiter else [key]:
        current = _step(current, part)
        if current is _MISSING:
            return default
    return current


def _step(current: Any, part: str) -> Any:
    if isinstance(current, Mapping):
        return current.get(part, _MISSING)
    if isinstance(current, Sequence) and not isinstance(current, str | bytes):
        try:
            return current[int(part)]
        except (ValueError, IndexError):
            pass
        for element in current:
            if isinstance(element, Mapping) and part in element:
                return element[part]
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


def get(ctx: Context, key: str, default: Any = "", delimiter: str = ":") -> Any:
    """Return one grain's value, following ``a:b:c`` into nested data.

    key
        The grain name; ``ip_interfaces:eth0:0`` reaches into dicts and lists.
    default
        What to return when the grain or a step of the path is missing
        (default: an empty string).
    delimiter
        Separator for nested keys (default ``:``).

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
