"""Read this minion's pillar: private data the master compiled for it alone."""

from __future__ import annotations

import copy
import logging
from collections.abc import Mapping
from typing import Any

from minion.context import Context
from minion.grains import store
from minion.modules import _merge
from minion.modules.grains import traverse

__all__ = ["fetch", "filter_by", "get", "item", "items", "keys", "ls", "raw"]

log = logging.getLogger(__name__)

_NOT_SET = object()


def items(ctx: Context, *args: str, pillar: Any = None, pillar_enc: Any = None,
          pillarenv: str | None = None, saltenv: str | None = None) -> dict[str, Any]:
    """Return the whole pillar of this minion, or with key names only those keys.

    args
        Pillar keys (``a:b`` for nested ones); given, the result is that of
        ``pillar.item``.

    CLI Example:

        master run '*' pillar.items
    """
    if args:
        return item(ctx, *args)
    return dict(ctx.pillar)


def raw(ctx: Context, key: str | None = None) -> Any:
    """Return the pillar as it is held, or one top-level key of it ({} when missing).

    CLI Example:

        master run '*' pillar.raw
    """
    return ctx.pillar.get(key, {}) if key else dict(ctx.pillar)


def item(ctx: Context, *args: str, default: Any = None, delimiter: str | None = None,
         pillarenv: str | None = None, saltenv: str | None = None) -> dict[str, Any]:
    """Return the named pillar keys as ``{key: value}`` (`default` for missing ones).

    args
        Pillar keys; nested values are reached with ``a:b``.
    default
        Value for keys that are not set (default: an empty string).
    delimiter
        Separator for nested keys (default ``:``).

    CLI Example:

        master run '*' pillar.item users apache:sites
    """
    default = "" if default is None else default
    delimiter = ":" if delimiter is None else delimiter
    return {key: traverse(ctx.pillar, key, default, delimiter) for key in args}


def get(ctx: Context, key: str, default: Any = _NOT_SET, merge: bool = False,
        merge_nested_lists: bool | None = None, delimiter: str = ":",
        pillarenv: str | None = None, saltenv: str | None = None) -> Any:
    """Return a pillar value by nested key ``a:b:c``, or `default` when it is not set.

    default
        What a missing key gives (an empty string when not passed, or an
        error if the minion option ``pillar_raise_on_missing`` is set).
    merge
        With a mapping `default`, return `default` deep-merged with the
        pillar value; with a list `default`, the default list extended by
        the pillar items it lacks. A value of another type is not merged.
    merge_nested_lists
        Merge lists inside mappings too (default: the minion option
        ``pillar_merge_lists``, else False).
    delimiter
        Separator for nested keys (default ``:``).

    CLI Example:

        master run '*' pillar.get apache:sites default='{}' merge=True
    """
    if default is _NOT_SET:
        default = KeyError if ctx.opts.get("pillar_raise_on_missing") else ""
    if merge:
        merged = _merged(ctx, key, default, merge_nested_lists, delimiter)
        if merged is not _NOT_SET:
            return merged
    ret = traverse(ctx.pillar, key, default, delimiter)
    if ret is KeyError:
        raise KeyError(f"Pillar key not found: {key}")
    return ret


def _merged(ctx: Context, key: str, default: Any, merge_lists: bool | None,
            delimiter: str) -> Any:
    if merge_lists is None:
        merge_lists = bool(ctx.opts.get("pillar_merge_lists", False))
    if isinstance(default, Mapping):
        found = traverse(ctx.pillar, key, {}, delimiter)
        if isinstance(found, Mapping):
            return _merge.update(copy.deepcopy(dict(default)), found, merge_lists=merge_lists)
        why = f"Default ({default}) is a dict, but the returned pillar value ({found}) " \
              f"is of type '{type(found).__name__}'"
    elif isinstance(default, list):
        found = traverse(ctx.pillar, key, [], delimiter)
        if isinstance(found, list):
            out = copy.deepcopy(default)
            out.extend(x for x in found if x not in out)
            return out
        why = f"Default ({default}) is a list, but the returned pillar value ({found}) " \
              f"is of type '{type(found).__name__}'"
    else:
        why = f"Default ({default}) is of type '{type(default).__name__}', must be a " \
              "dict or list to merge"
    log.error("pillar.get: %s. Merge will be skipped.", why)
    return _NOT_SET


def fetch(ctx: Context, key: str, default: Any = _NOT_SET, merge: bool = False,
          merge_nested_lists: bool | None = None, delimiter: str = ":",
          pillarenv: str | None = None, saltenv: str | None = None) -> Any:
    """Return a pillar value, exactly as ``pillar.get`` does (its other name).

    CLI Example:

        master run '*' pillar.fetch apache:sites
    """
    return get(ctx, key, default, merge, merge_nested_lists, delimiter, pillarenv, saltenv)


def keys(ctx: Context, key: str, delimiter: str = ":") -> list[str]:
    """List the keys of the pillar mapping at nested key ``a:b``.

    A missing key or a value that is not a mapping is an error.

    CLI Example:

        master run '*' pillar.keys apache:sites
    """
    ret = traverse(ctx.pillar, key, KeyError, delimiter)
    if ret is KeyError:
        raise KeyError(f"Pillar key not found: {key}")
    if not isinstance(ret, Mapping):
        raise ValueError(f"Pillar value in key {key} is not a dict")
    return list(ret)


def ls(ctx: Context, *args: str, pillar: Any = None, pillar_enc: Any = None,
       pillarenv: str | None = None, saltenv: str | None = None) -> list[str]:
    """List the top-level pillar keys (of the keys named, with args).

    CLI Example:

        master run '*' pillar.ls
    """
    return list(items(ctx, *args))


def filter_by(ctx: Context, lookup_dict: Mapping[str, Any], pillar: str,
              merge: Mapping[str, Any] | None = None, default: str = "default",
              base: str | None = None) -> Any:
    """Return the entry of a lookup table chosen by a pillar value, as grains.filter_by.

    lookup_dict
        The table, keyed by glob patterns of the pillar value.
    pillar
        The pillar key whose value (each item, for a list) picks the entry.
    merge
        A mapping merged over the result.
    default
        The key used when nothing matches (default ``default``).
    base
        A key whose mapping the result is merged over.

    CLI Example:

        master run '*' pillar.filter_by '{web: nginx, db: postgres}' role
    """
    return store.filter_by(lookup_dict, traverse(ctx.pillar, pillar, []), merge, default, base)
