"""Read this minion's pillar: private data the master compiled for it alone."""

from __future__ import annotations

import copy
from typing import Any

from common.pillar import deep_merge
from minion.context import Context
from minion.modules.grains import traverse

__all__ = ["get", "item", "items", "ls", "raw"]


def items(ctx: Context) -> dict[str, Any]:
    """Return the whole pillar of this minion.

    CLI Example:

        master run '*' pillar.items
    """
    return dict(ctx.pillar)


def raw(ctx: Context, key: str | None = None) -> Any:
    """Return the pillar as it is held, or one top-level key of it.

    CLI Example:

        master run '*' pillar.raw
    """
    return ctx.pillar.get(key) if key else dict(ctx.pillar)


def item(ctx: Context, *keys: str, default: Any = "", delimiter: str = ":") -> dict[str, Any]:
    """Return the named pillar keys as ``{key: value}`` (`default` for missing ones).

    keys
        Pillar keys; nested values are reached with ``a:b``.

    CLI Example:

        master run '*' pillar.item users apache:sites
    """
    return {key: traverse(ctx.pillar, key, default, delimiter) for key in keys}


def get(ctx: Context, key: str, default: Any = "", merge: bool = False,
        delimiter: str = ":") -> Any:
    """Return a pillar value by nested key ``a:b:c``, or `default` when it is not set.

    merge
        When the value and `default` are both mappings, return `default`
        deep-merged with the value (Salt's ``merge=True``).

    CLI Example:

        master run '*' pillar.get apache:sites default='{}'
    """
    value = traverse(ctx.pillar, key, default, delimiter)
    if merge and isinstance(default, dict) and isinstance(value, dict) and value is not default:
        return deep_merge(copy.deepcopy(default), value)
    return value


def ls(ctx: Context) -> list[str]:
    """List the top-level pillar keys.

    CLI Example:

        master run '*' pillar.ls
    """
    return sorted(ctx.pillar)
