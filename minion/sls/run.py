"""Running compiled chunks with Salt's requisite semantics.

Chunks run in their compiled order, except that a chunk's requisites run
first (so requisites reorder only where needed). Per chunk:

- require / watch: every target must have succeeded (``_any``: one of them);
  otherwise the chunk fails with "One or more requisite failed".
- onchanges(_any): run only if a target changed; onfail(_any|_all): run only
  if a target (any | all) failed.
- watch: if a target changed and the state itself changed nothing, the
  module's ``mod_watch`` runs (a service restart, a cmd.wait command).
- prereq: the target is first run in test mode; only if it would change does
  this chunk run (before it). If this chunk fails, the target does not run.
- listen: after all chunks, ``mod_watch`` runs for listeners whose targets
  changed.
- onlyif / unless / creates: checked for every state before it runs.
- parallel: the chunk runs in a thread; chunks that need it wait for it.
- failhard (per chunk or in the config): the run stops at the first failure.
"""

from __future__ import annotations

import dataclasses
import datetime
import inspect
import os
import time
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from minion.context import Context
from minion.loader import CallError, Registry, signature
from minion.sls.compile import ENGINE_KEYS, requisite_tags, tag

ORDERING = ("require", "require_any", "watch", "watch_any", "onchanges", "onchanges_any",
            "onfail", "onfail_any", "onfail_all")


def unused_args(func: Any, chunk: dict[str, Any]) -> list[str]:
    """The chunk's arguments `func` does not take (they are dropped, with a warning)."""
    params = signature(func).parameters
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
        return []
    return sorted(k for k in chunk if k not in ENGINE_KEYS and k not in params)


def state_args(func: Any, chunk: dict[str, Any]) -> dict[str, Any]:
    """The chunk's arguments that `func` accepts (all of them if it takes **kwargs)."""
    args = {k: v for k, v in chunk.items() if k not in ENGINE_KEYS}
    params = signature(func).parameters
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
        return args
    return {k: v for k, v in args.items() if k in params}


class StateRun:
    """One run of a list of chunks; `run()` returns the results by tag."""

    def __init__(self, ctx: Context, states: Registry, chunks: list[dict[str, Any]],
                 test: bool = False, failhard: bool = False) -> None:
        self.ctx = ctx
        self.states = states
        self.chunks = chunks
        self.by_tag = {tag(c): c for c in chunks}
        self.test = test
        self.failhard = failhard
        self.results: dict[str, dict[str, Any]] = {}
        self.parallel: dict[str, Future[dict[str, Any]]] = {}
        self.pool: ThreadPoolExecutor | None = None
        self.run_num = 0
        self.stopped = False
        self.prerequired: dict[str, list[str]] = {}
        for chunk in chunks:
            for target in chunk["__reqs__"].get("prereq", []):
                self.prerequired.setdefault(target, []).append(tag(chunk))

    def run(self) -> dict[str, dict[str, Any]]:
        try:
            for chunk in self.chunks:
                if self.stopped:
                    break
                self._call(chunk)
            self._join_all()
            if not self.stopped:
                self._listeners()
        finally:
            if self.pool is not None:
                self.pool.shutdown(wait=True)
        return self.results

    # -- one chunk ----------------------------------------------------------
    def _call(self, chunk: dict[str, Any]) -> None:
        key = tag(chunk)
        if key in self.results or key in self.parallel or self.stopped:
            return
        for other in self.prerequired.get(key, []):
            self._call(self.by_tag[other])
        for req in requisite_tags(chunk, ORDERING):
            self._call(self.by_tag[req])
        self._join([*requisite_tags(chunk, (*ORDERING, "prereq")),
                    *self.prerequired.get(key, [])])
        if self.stopped:
            return
        blocked = self._blocked(chunk)
        if blocked is not None:
            self._record(chunk, blocked)
            return
        if chunk.get("parallel"):
            self.pool = self.pool or ThreadPoolExecutor(max_workers=8)
            num = self._next_num()
            self.parallel[key] = self.pool.submit(self._execute_watching, chunk, num)
            return
        self._finish(chunk, self._execute_watching(chunk, self._next_num()))

    def _execute_watching(self, chunk: dict[str, Any], num: int) -> dict[str, Any]:
        ret = self._execute_retrying(chunk)
        watched = requisite_tags(chunk, ("watch", "watch_any"))
        # As in Salt: mod_watch runs whenever the state itself changed nothing.
        if (watched and not ret["changes"]
                and not ret.pop("skip_watch", False)
                and any(self._changed(t) for t in watched)):
            ret = self._mod_watch(chunk, ret)
        ret.pop("skip_watch", None)
        ret["__run_num__"] = num
        return ret

    def _execute_retrying(self, chunk: dict[str, Any]) -> dict[str, Any]:
        """Run the state, again while ``retry`` says so (Salt's attempts/until/interval)."""
        ret = self._execute(chunk, self.test)
        retry = _retry_options(chunk.get("retry"))
        if retry is None or self.test:
            return ret
        attempts, until, interval = retry
        comments = [ret["comment"]]
        for attempt in range(2, attempts + 1):
            if ret["result"] is until:
                break
            time.sleep(interval)
            ret = self._execute(chunk, False)
            comments.append(f"Attempt {attempt}: {ret['comment']}")
        ret["comment"] = "\n".join(comments)
        return ret

    def _finish(self, chunk: dict[str, Any], ret: dict[str, Any]) -> None:
        self.results[tag(chunk)] = ret
        if ret["result"] is False and (chunk.get("failhard") or self.failhard):
            self.stopped = True

    def _record(self, chunk: dict[str, Any], ret: dict[str, Any]) -> None:
        ret = _complete(chunk, ret, time.time(), 0.0)
        ret["__run_num__"] = self._next_num()
        self._finish(chunk, ret)

    def _next_num(self) -> int:
        num = self.run_num
        self.run_num += 1
        return num

    def _join(self, tags: list[str]) -> None:
        for key in tags:
            future = self.parallel.pop(key, None)
            if future is not None:
                self._finish(self.by_tag[key], future.result())

    def _join_all(self) -> None:
        self._join(list(self.parallel))

    # -- requisite checks ------------------------------------------------------
    def _result(self, key: str) -> dict[str, Any]:
        return self.results.get(key) or {"result": False, "changes": {}}

    def _ok(self, key: str) -> bool:
        # In test mode a requisite that would change (None) counts as met.
        return self._result(key)["result"] is not False

    def _changed(self, key: str) -> bool:
        return bool(self._result(key).get("changes"))

    def _blocked(self, chunk: dict[str, Any]) -> dict[str, Any] | None:
        """A result for a chunk that must not run, or None when it may run."""
        reqs = chunk["__reqs__"]
        # Any failed target of a requisite other than onfail fails the chunk.
        failed = [t for kind in ("require", "watch", "onchanges") for t in reqs.get(kind, [])
                  if not self._ok(t)]
        for kind in ("require_any", "watch_any", "onchanges_any"):
            if reqs.get(kind) and not any(self._ok(t) for t in reqs[kind]):
                failed.extend(reqs[kind])
        failed += [t for t in self.prerequired.get(tag(chunk), []) if not self._ok(t)]
        if failed:
            names = ", ".join(f"{self.by_tag[t]['__sls__']}.{self.by_tag[t]['__id__']}"
                              for t in dict.fromkeys(failed))
            return {"result": False, "changes": {},
                    "comment": f"One or more requisite failed: {names}"}
        # onfail fires on a target that did not succeed (False, or None in test mode).
        onfail = reqs.get("onfail", []) + reqs.get("onfail_any", [])
        if onfail and all(self._result(t)["result"] is True for t in onfail):
            return {"result": True, "changes": {},
                    "comment": "State was not run because onfail req did not change"}
        if reqs.get("onfail_all") and any(
                self._result(t)["result"] is True for t in reqs["onfail_all"]):
            return {"result": True, "changes": {},
                    "comment": "State was not run because onfail req did not change"}
        onchanges = reqs.get("onchanges", []) + reqs.get("onchanges_any", [])
        if onchanges and not any(self._changed(t) for t in onchanges):
            return {"result": True, "changes": {},
                    "comment": "State was not run because none of the onchanges reqs changed"}
        for target in reqs.get("prereq", []):
            pre = self._execute(self.by_tag[target], test=True)
            if pre["result"] is False:
                return {"result": False, "changes": {},
                        "comment": f"Prerequisite test run of {target} failed: "
                                   f"{pre['comment']}"}
            if not pre["changes"]:
                return {"result": True, "changes": {}, "comment": "No changes detected"}
        return None

    # -- calling state functions -------------------------------------------------
    def _execute(self, chunk: dict[str, Any], test: bool) -> dict[str, Any]:
        start, clock = time.time(), time.monotonic()
        skip = self._conditions(chunk)
        if skip is not None:
            return _complete(chunk, skip, start, time.monotonic() - clock)
        name = f"{chunk['state']}.{chunk['fun']}"
        ctx = dataclasses.replace(self.ctx, test=test, retcode=0)
        try:
            func = self.states.resolve(name)
            ret = func(ctx, **state_args(func, chunk))
            if not isinstance(ret, dict) or "result" not in ret:
                raise TypeError(f"{name} returned {type(ret).__name__}, not a state result")
            unused = unused_args(func, chunk)
            if unused:
                ret.setdefault("warnings", []).append(
                    f"{name} does not take these arguments, which were ignored: "
                    f"{', '.join(unused)}")
        except CallError as exc:
            ret = {"result": False, "changes": {}, "comment": str(exc)}
        except Exception as exc:  # a state bug fails that state, not the run
            ret = {"result": False, "changes": {},
                   "comment": f"An exception occurred in this state: {type(exc).__name__}: {exc}"}
        return _complete(chunk, ret, start, time.monotonic() - clock)

    def _mod_watch(self, chunk: dict[str, Any], ret: dict[str, Any]) -> dict[str, Any]:
        try:
            func = self.states.resolve(f"{chunk['state']}.mod_watch")
        except CallError:
            return ret  # watch then acts as require, as in Salt
        low = {**chunk, "fun": "mod_watch", "sfun": chunk["fun"]}
        start, clock = time.time(), time.monotonic()
        ctx = dataclasses.replace(self.ctx, test=self.test, retcode=0)
        try:
            watched = func(ctx, **state_args(func, low))
        except Exception as exc:
            watched = {"result": False, "changes": {},
                       "comment": f"An exception occurred in mod_watch: {type(exc).__name__}: "
                                  f"{exc}"}
        return _complete(chunk, watched, start, time.monotonic() - clock)

    def _conditions(self, chunk: dict[str, Any]) -> dict[str, Any] | None:
        """onlyif / unless / creates: a skip result, or None to go on."""
        opts = {k: chunk[k] for k in ("cwd", "runas", "env") if chunk.get(k)}
        if "onlyif" in chunk:
            for cmd in _as_list(chunk["onlyif"]):
                if not self._check(cmd, opts):
                    return {"result": True, "changes": {}, "skip_watch": True,
                            "comment": "onlyif condition is false"}
        if "unless" in chunk:
            checks = _as_list(chunk["unless"])
            if checks and all(self._check(cmd, opts) for cmd in checks):
                return {"result": True, "changes": {}, "skip_watch": True,
                        "comment": "unless condition is true"}
        if "creates" in chunk:
            paths = _as_list(chunk["creates"])
            if paths and all(os.path.exists(str(p)) for p in paths):
                return {"result": True, "changes": {}, "skip_watch": True,
                        "comment": "All files in creates exist"}
        return None

    def _check(self, cmd: Any, opts: dict[str, Any]) -> bool:
        if isinstance(cmd, bool):
            return cmd
        if isinstance(cmd, dict) and "fun" in cmd:  # {fun: mod.fun, args: [...]} form
            args = {k: v for k, v in cmd.items() if k not in ("fun", "args")}
            try:
                return bool(self.ctx.call(str(cmd["fun"]), *cmd.get("args", []), **args))
            except Exception:
                return False
        result = self.ctx.run(str(cmd), shell=True, cwd=opts.get("cwd"),
                              runas=opts.get("runas"), env=opts.get("env"))
        return result.retcode == 0

    def _listeners(self) -> None:
        for chunk in self.chunks:
            listened = chunk["__reqs__"].get("listen", [])
            if not listened or tag(chunk) not in self.results:
                continue
            if self.results[tag(chunk)]["result"] is False:
                continue
            if any(self._changed(t) for t in listened):
                key = (f"{chunk['state']}_|-listener_{chunk['__id__']}_|-{chunk['name']}"
                       "_|-mod_watch")
                ret = self._mod_watch(chunk, {"result": True, "changes": {},
                                              "comment": "no mod_watch"})
                ret["__run_num__"] = self._next_num()
                self.results[key] = ret


MAX_RETRY_ATTEMPTS = 100
MAX_RETRY_INTERVAL = 3600.0


def _retry_options(value: Any) -> tuple[int, bool, float] | None:
    """(attempts, result to wait for, seconds between) from ``retry: True`` or a mapping."""
    if value is None or value is False:
        return None
    conf = value if isinstance(value, dict) else {}
    attempts = min(max(int(conf.get("attempts", 2)), 1), MAX_RETRY_ATTEMPTS)
    interval = min(max(float(conf.get("interval", 30)), 0.0), MAX_RETRY_INTERVAL)
    return attempts, bool(conf.get("until", True)), interval


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _complete(chunk: dict[str, Any], ret: dict[str, Any], start: float,
              seconds: float) -> dict[str, Any]:
    """Fill in the fields every state result carries."""
    out = {
        "name": ret.get("name", chunk["name"]),
        "result": ret.get("result", False),
        "changes": ret.get("changes") or {},
        "comment": ret.get("comment", ""),
        "__id__": chunk["__id__"],
        "__sls__": chunk["__sls__"],
        "start_time": datetime.datetime.fromtimestamp(start).strftime("%H:%M:%S.%f"),
        "duration": round(seconds * 1000, 3),
    }
    if isinstance(out["comment"], list):
        out["comment"] = "\n".join(str(c) for c in out["comment"])
    if ret.get("skip_watch"):
        out["skip_watch"] = True
    if ret.get("warnings"):
        out["warnings"] = ret["warnings"]
    return out
