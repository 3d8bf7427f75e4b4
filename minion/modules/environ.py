"""Read and set the minion process's environment variables, like Salt's ``environ`` module.

The variables are those of the running minion process: later commands the
minion runs (``cmd.run``, package installs) inherit them. Nothing is written
to disk.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from minion.context import Context

__all__ = ["get", "has_value", "item", "items", "setenv", "setval"]


def _valid_key(key: str) -> bool:
    return bool(key) and "=" not in key and "\0" not in key


def setval(ctx: Context, key: str, val: Any, false_unsets: bool = False,
           permanent: bool = False) -> str | bool | None:
    """Set one variable; return its new value (None when unset, False on failure).

    key
        The variable's name.
    val
        A string; or False to set it to ``''`` (or, with ``false_unsets``,
        to remove it).
    permanent
        Accepted for Salt compatibility; it only has an effect on Windows.

    CLI Example:

        master run '*' environ.setval LANG C.UTF-8
    """
    if not isinstance(key, str) or not _valid_key(key):
        return False
    if val is False:
        if false_unsets is True:
            os.environ.pop(key, None)
            return None
        val = ""
    if not isinstance(val, str) or "\0" in val:
        return False
    os.environ[key] = val
    return os.environ[key]


def setenv(ctx: Context, environ: Mapping[str, Any], false_unsets: bool = False,
           clear_all: bool = False, update_minion: bool = False,
           permanent: bool = False) -> dict[str, Any] | bool:
    """Set several variables from a mapping; return each one's new value (False on failure).

    environ
        ``{NAME: value}``; a value of False sets ``''`` (or removes the
        variable with ``false_unsets``).
    clear_all
        Also clear every variable not in `environ`.
    update_minion
        Accepted for Salt compatibility: the variables are already the minion
        process's own.

    CLI Example:

        master run '*' environ.setenv '{LANG: C.UTF-8, DEBUG: False}'
    """
    if not isinstance(environ, Mapping):
        return False
    ret: dict[str, Any] = {}
    if clear_all is True:
        for key in [k for k in os.environ if k not in environ]:
            ret[key] = setval(ctx, key, False, false_unsets)
    for key, val in environ.items():
        if not isinstance(val, str) and val is not False:
            return False
        ret[key] = setval(ctx, key, val, false_unsets)
    return ret


def get(ctx: Context, key: str, default: str = "") -> str:
    """Return a variable's value (`default` when it is not set).

    CLI Example:

        master run '*' environ.get PATH
    """
    return os.environ.get(key, default)


def has_value(ctx: Context, key: str, value: str | None = None) -> bool:
    """Tell whether a variable is set (to `value`, when given).

    CLI Example:

        master run '*' environ.has_value LANG C.UTF-8
    """
    if key not in os.environ:
        return False
    return value is None or os.environ[key] == value


def item(ctx: Context, keys: str | list[str], default: str = "") -> dict[str, str]:
    """Return ``{key: value}`` for one or several variables (`default` for unset ones).

    CLI Example:

        master run '*' environ.item '[LANG, HOME]'
    """
    names = [keys] if isinstance(keys, str) else list(keys)
    return {key: os.environ.get(key, default) for key in names}


def items(ctx: Context) -> dict[str, str]:
    """Return every variable of the minion's environment.

    CLI Example:

        master run '*' environ.items
    """
    return dict(os.environ)
