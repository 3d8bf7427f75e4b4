"""When and how often a state runs: onlyif, unless, creates and retry, as Salt reads them."""

from __future__ import annotations

import dataclasses
import os
from typing import Any

from minion.context import Context

MAX_RETRY_ATTEMPTS = 100
MAX_RETRY_INTERVAL = 3600


def run_check(ctx: Context, low: dict[str, Any]) -> dict[str, Any]:
    """Salt's onlyif/unless/creates verdict for one chunk (``result`` True: skip it)."""
    ret: dict[str, Any] = {"result": False, "comment": []}
    for field in ("__sls__", "__id__", "name"):
        ret[field] = low.get(field)
    opts = {k: low[k] for k in ("cwd", "runas", "env") if low.get(k)}
    for key in ("onlyif", "unless", "creates"):
        if key not in low:
            continue
        part = (_onlyif(ctx, low, opts) if key == "onlyif" else
                _unless(ctx, low, opts) if key == "unless" else _creates(low))
        ret["result"] = part["result"] or ret["result"]
        if part.get("comment") is not None:
            ret["comment"].append(part["comment"])
        if "skip_watch" in part:
            ret["skip_watch"] = part["skip_watch"] or ret.get("skip_watch", False)
    return ret


def _command(ctx: Context, entry: str, opts: dict[str, Any]) -> int:
    try:
        result = ctx.run(entry, shell=True, cwd=opts.get("cwd"),
                         runas=opts.get("runas"), env=opts.get("env"))
    except Exception:  # a command that cannot start counts as failed
        return 100
    return int(result.retcode)


def _function(ctx: Context, entry: dict[str, Any]) -> tuple[Any, int]:
    entry = dict(entry)
    fun = str(entry.pop("fun"))
    args = entry.pop("args", [])
    get_return = entry.pop("get_return", None)
    call_ctx = dataclasses.replace(ctx, retcode=0)
    value = call_ctx.call(fun, *(args if isinstance(args, list) else [args]), **entry)
    if get_return:
        for part in str(get_return).split(":"):
            value = value.get(part) if isinstance(value, dict) else None
    return value, call_ctx.retcode


def _onlyif(ctx: Context, low: dict[str, Any], opts: dict[str, Any]) -> dict[str, Any]:
    ret: dict[str, Any] = {"result": False}
    skip = {"comment": "onlyif condition is false", "skip_watch": True, "result": True}
    for entry in low["onlyif"] if isinstance(low["onlyif"], list) else [low["onlyif"]]:
        if isinstance(entry, str):
            if _command(ctx, entry, opts) != 0:
                return {**ret, **skip}
            ret.update(comment="onlyif condition is true", result=False)
        elif isinstance(entry, dict):
            if "fun" not in entry:
                return {**ret, "comment": f"no `fun` argument in onlyif: {entry}"}
            value, code = _function(ctx, entry)
            if code or not value:
                return {**ret, **skip}
            ret.update(comment="onlyif condition is true", result=False)
        else:
            return {"comment": "onlyif execution failed, bad type passed", "result": False}
    return ret


def _unless(ctx: Context, low: dict[str, Any], opts: dict[str, Any]) -> dict[str, Any]:
    ret: dict[str, Any] = {"result": False}
    skip = {"comment": "unless condition is true", "skip_watch": True, "result": True}
    for entry in low["unless"] if isinstance(low["unless"], list) else [low["unless"]]:
        if isinstance(entry, str):
            if _command(ctx, entry, opts) == 0:
                ret.update(skip)
            else:
                ret.pop("skip_watch", None)
                return {**ret, "comment": "unless condition is false", "result": False}
        elif isinstance(entry, dict):
            if "fun" not in entry:
                return {**ret, "comment": f"no `fun` argument in unless: {entry}"}
            value, code = _function(ctx, entry)
            if code == 0 and value:
                ret.update(skip)
            else:
                return {**ret, "comment": "unless condition is false", "result": False}
        else:
            ret.update(comment="unless condition is false, bad type passed", result=False)
    return ret


def _creates(low: dict[str, Any]) -> dict[str, Any]:
    paths = low["creates"]
    if isinstance(paths, str) and os.path.exists(paths):
        return {"comment": f"{paths} exists", "result": True, "skip_watch": True}
    if isinstance(paths, list) and all(os.path.exists(str(p)) for p in paths):
        return {"comment": "All files in creates exist", "result": True, "skip_watch": True}
    return {"comment": "Creates files not found", "result": False}


def retry_options(value: Any) -> dict[str, Any]:
    """Salt's retry settings (attempts, until, interval, splay), bounded for safety."""
    defaults = {"until": True, "attempts": 2, "splay": 0, "interval": 30}
    if isinstance(value, bool):
        conf = dict(defaults) if value else {**defaults, "attempts": 0}
    elif isinstance(value, dict):
        types = {"until": bool, "attempts": int, "interval": int, "splay": int}
        conf = {}
        for key, kind in types.items():
            given = value.get(key, defaults[key])
            ok = isinstance(given, kind) and (kind is bool or not isinstance(given, bool))
            conf[key] = given if ok else defaults[key]
    else:
        conf = dict(defaults)
    conf["attempts"] = min(conf["attempts"], MAX_RETRY_ATTEMPTS)
    conf["interval"] = min(max(conf["interval"], 0), MAX_RETRY_INTERVAL)
    conf["splay"] = min(max(conf["splay"], 0), MAX_RETRY_INTERVAL)
    return conf
