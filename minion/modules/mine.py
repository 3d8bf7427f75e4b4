"""The Salt mine, masterless: function results a minion keeps for templates to read.

saline's master has no mine service yet. Masterless (``file_client: local``)
the mine works as in Salt: ``mine.send``/``mine.update`` store results in a
file under the minion's cachedir (mode 0600) and ``mine.get`` reads them back
when the target matches this minion. With a master, ``mine.get`` returns
``{}`` (no other minion's data is available) and the storing functions keep
the data locally only.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from common import targeting
from common.crypto import write_private
from minion.context import Context

__all__ = ["delete", "flush", "get", "send", "update", "valid"]

log = logging.getLogger(__name__)

_ACL_ID = "__saltmine_acl__"
_ACL_DATA = "__data__"


def _path(ctx: Context) -> Path:
    return Path(str(ctx.opts.get("cachedir") or "cache")) / "mine_cache.json"


def _load(ctx: Context) -> dict[str, Any]:
    try:
        data = json.loads(_path(ctx).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _store(ctx: Context, data: Mapping[str, Any], clear: bool = False) -> bool:
    current = {} if clear else _load(ctx)
    current.update(data)
    path = _path(ctx)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    write_private(path, json.dumps(current, default=str).encode("utf-8"))
    return True


def _local(ctx: Context) -> bool:
    return ctx.opts.get("file_client") == "local"


def get(ctx: Context, tgt: str, fun: str | list[str], tgt_type: str = "glob",
        exclude_minion: bool = False) -> dict[str, Any]:
    """Return the mine data of the minions matching a target, ``{minion id: data}``.

    tgt
        The target (a glob by default).
    fun
        The mine function; several (a list, or comma-separated) give
        ``{function: {minion id: data}}``.
    tgt_type
        How to read the target: glob, pcre, list, grain, pillar, compound...
    exclude_minion
        Leave this minion out (only with a master, as in Salt).

    Masterless, only this minion's own data can match; with a master the
    result is ``{}`` (saline's master has no mine).

    CLI Example:

        master run '*' mine.get '*' network.ip_addrs
    """
    if not _local(ctx):
        return {}
    me = {"id": ctx.opts.get("id"), "grains": ctx.grains, "pillar": ctx.pillar}
    try:
        if not targeting.matches(me, tgt, tgt_type):
            return {}
    except targeting.TargetError as exc:
        log.warning("mine.get: %s", exc)
        return {}
    if isinstance(fun, str):
        functions = list(dict.fromkeys(fun.split(",")))
        by_function = len(functions) > 1
    else:
        functions, by_function = list(fun), True
    data = _load(ctx)
    ret: dict[str, Any] = {}
    for name in (f for f in functions if f in data):
        res = data[name]
        if isinstance(res, dict) and _ACL_ID in res:
            res = res.get(_ACL_DATA)
        if by_function:
            ret.setdefault(name, {})[str(ctx.opts.get("id"))] = res
        else:
            ret[str(ctx.opts.get("id"))] = res
    return ret


def _definition(data: Any) -> tuple[str | None, list[Any], dict[str, Any]]:
    """The function name, args and kwargs of a ``mine_functions`` entry."""
    name: str | None = None
    args: list[Any] = []
    kwargs: dict[str, Any] = {}
    if isinstance(data, Mapping):
        kwargs = dict(data)
    elif isinstance(data, list):
        for item in data:
            if isinstance(item, Mapping):
                kwargs.update(item)
            else:
                args.append(item)
    name = kwargs.pop("mine_function", None)
    kwargs.pop("allow_tgt", None)
    kwargs.pop("allow_tgt_type", None)
    return name, args, kwargs


def _configured(ctx: Context) -> dict[str, Any]:
    found = ctx.call("config.merge", "mine_functions", {})
    return dict(found) if isinstance(found, Mapping) else {}


def update(ctx: Context, clear: bool = False,
           mine_functions: Mapping[str, Any] | list[str] | None = None) -> bool | None:
    """Run the configured ``mine_functions`` and store their results in the mine.

    clear
        Replace the whole mine instead of updating the functions run.
    mine_functions
        Run these instead of the configured ones (a mapping as in the
        config, or a list of function names).

    CLI Example:

        master run '*' mine.update
    """
    if not mine_functions:
        mine_functions = _configured(ctx)
        if not mine_functions:
            return None
    if isinstance(mine_functions, list):
        mine_functions = {name: {} for name in mine_functions}
    results: dict[str, Any] = {}
    for alias, definition in mine_functions.items():
        name, args, kwargs = _definition(definition)
        try:
            results[alias] = ctx.call(name or alias, *args, **kwargs)
        except Exception as exc:
            log.error("Function %s in mine.update failed to execute: %s", name or alias, exc)
    return _store(ctx, results, clear)


def send(ctx: Context, name: str, *args: Any, **kwargs: Any) -> bool:
    """Run one function and store its result in the mine under `name`.

    mine_function
        The function to run when `name` is an alias for it.

    CLI Example:

        master run '*' mine.send eth0_ips mine_function=network.ip_addrs interface=eth0
    """
    kwargs = {k: v for k, v in kwargs.items() if not k.startswith("__")}
    function = kwargs.pop("mine_function", None) or name
    kwargs.pop("allow_tgt", None)
    kwargs.pop("allow_tgt_type", None)
    try:
        result = ctx.call(function, *args, **kwargs)
    except Exception as exc:
        log.error("Function %s in mine.send failed to execute: %s", function, exc)
        return False
    return _store(ctx, {name: result})


def delete(ctx: Context, fun: str) -> bool:
    """Remove one function's data from the mine.

    CLI Example:

        master run '*' mine.delete network.ip_addrs
    """
    data = _load(ctx)
    data.pop(fun, None)
    return _store(ctx, data, clear=True)


def flush(ctx: Context) -> bool:
    """Remove all of this minion's mine data.

    CLI Example:

        master run '*' mine.flush
    """
    return _store(ctx, {}, clear=True)


def valid(ctx: Context) -> dict[str, Any] | None:
    """List the configured ``mine_functions`` entries, as ``{alias: {function: args}}``.

    CLI Example:

        master run '*' mine.valid
    """
    functions = _configured(ctx)
    if not functions:
        return None
    ret: dict[str, Any] = {}
    for alias, definition in functions.items():
        name, args, kwargs = _definition(definition)
        if name:
            ret[alias] = {name: args + [{k: v} for k, v in kwargs.items()]}
        else:
            ret[alias] = definition
    return ret
