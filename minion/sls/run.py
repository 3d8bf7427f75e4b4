"""Running compiled chunks with Salt's requisite semantics.

Chunks run in their compiled order; before a chunk runs, the chunks its
requisites name run first (recursively). Requisite targets are matched when
the chunk runs: ``- test: web-*`` is a glob over ids and names, ``- sls: x``
names the states of SLS x and of the files x includes, a bare string names
an id or name of any state module. Per chunk (Salt's ``check_requisite``):

- a target that matches nothing fails only this chunk ("The following
  requisites were not found");
- require / watch: a failed target fails the chunk ("One or more requisite
  failed"); ``_any``: one good target is enough;
- onchanges(_any): run only if a target changed (a failed target counts as
  unchanged); onfail(_any|_all): run only if a target (any | all) failed;
  when not run, the result says so with ``__state_ran__: False``;
- watch: if a target changed and the state itself changed nothing, the
  module's ``mod_watch`` runs;
- prereq: the target is first run in test mode; only if it would change does
  this chunk run (before it);
- listen: after all chunks, ``mod_watch`` runs for listeners whose targets
  changed (result key ``state_|-listener_<id>_|-name_|-mod_watch``);
- a requisite loop fails the chunk that closes it ("Recursive requisite found").

onlyif / unless / creates, retry, parallel and failhard follow Salt too.
"""

from __future__ import annotations

import dataclasses
import datetime
import fnmatch
import inspect
import random
import time
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from minion.context import Context
from minion.loader import CallError, Registry, signature
from minion.sls.compile import ENGINE_KEYS, REQUISITE_KEYWORDS, tag
from minion.sls.conditions import retry_options, run_check
from minion.sls.requisites import kind_stats, status

REQ_KINDS = ("require", "require_any", "watch", "watch_any", "prereq", "onfail", "onfail_any",
             "onfail_all", "onchanges", "onchanges_any")
# Order in which call_chunk looks for missing requisites (onfail_all is not run first).
RUN_FIRST = ("require", "require_any", "watch", "watch_any", "prereq", "onfail", "onfail_any",
             "onchanges", "onchanges_any")


def unused_args(func: Any, chunk: dict[str, Any]) -> list[str]:
    """The chunk's arguments `func` does not take (they are dropped, with a warning)."""
    params = signature(func).parameters
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
        return []
    return sorted(k for k in chunk if k not in ENGINE_KEYS and k not in params
                  and not k.startswith("__"))


def state_args(func: Any, chunk: dict[str, Any]) -> dict[str, Any]:
    """The chunk's arguments that `func` accepts (all of them if it takes **kwargs)."""
    args = {k: v for k, v in chunk.items() if k not in ENGINE_KEYS and not k.startswith("__")}
    params = signature(func).parameters
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
        return args
    return {k: v for k, v in args.items() if k in params}


def _now() -> str:
    return datetime.datetime.now().time().isoformat()


def _ref(req: Any) -> tuple[str, Any]:
    """(state module or ``id``/``sls``, value) of one requisite entry."""
    if isinstance(req, str):
        return "id", req
    key, value = next(iter(req.items()))
    return str(key).split(".", 1)[0], value


def _matches(chunk: dict[str, Any], key: str, value: Any) -> bool:
    if key == "sls":
        return fnmatch.fnmatch(str(chunk.get("__sls__")), str(value)) or \
            value in chunk.get("__sls_included_from__", [])
    if not isinstance(value, str):
        return False
    hit = fnmatch.fnmatch(str(chunk["name"]), value) or fnmatch.fnmatch(str(chunk["__id__"]),
                                                                       value)
    return hit and (key == "id" or chunk["state"] == key)


class StateRun:
    """One run of a list of chunks; `run()` returns the results by tag."""

    def __init__(self, ctx: Context, states: Registry, chunks: list[dict[str, Any]],
                 test: bool = False, failhard: bool = False,
                 processed_sls: set[str] | None = None) -> None:
        self.ctx = ctx
        self.states = states
        self.chunks = chunks
        self.test = test
        self.failhard = failhard
        self.processed = processed_sls or set()
        self.pre: dict[str, dict[str, Any]] = {}
        self.active: set[str] = set()
        self.run_num = 0
        self.futures: dict[str, Future[dict[str, Any]]] = {}
        self.pool: ThreadPoolExecutor | None = None
        # file.accumulated's text for the file states later in this run (see _execute).
        self.accumulators: dict[str, Any] = {}
        # State modules whose mod_init ran in this run (Salt calls it once per module).
        self.mod_init: set[str] = set()

    def run(self) -> dict[str, dict[str, Any]]:
        try:
            running = self.call_chunks(self.chunks)
            return self.call_listen(running)
        finally:
            if self.pool is not None:
                self.pool.shutdown(wait=True)

    def call_chunks(self, chunks: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
        running: dict[str, dict[str, Any]] = {}
        for low in chunks:
            if running.pop("__FAILHARD__", None):
                break
            if tag(low) not in running:
                self.call_chunk(low, running, chunks)
                if self.check_failhard(low, running):
                    break
            self.active = set()
        running.pop("__FAILHARD__", None)
        self._join(running, list(running))
        return running

    def check_failhard(self, low: dict[str, Any], running: dict[str, Any]) -> bool:
        key = tag(low)
        if self.test or key not in running:
            return False
        if not low.get("failhard", self.failhard):
            return False
        self._join(running, [key])
        return running[key]["result"] is False

    # -- requisites ----------------------------------------------------------------
    def _targets(self, low: dict[str, Any], kind: str, chunks: list[dict[str, Any]]
                 ) -> tuple[list[dict[str, Any]], list[Any]]:
        """The chunks one requisite kind names, and the entries that named nothing."""
        found: list[dict[str, Any]] = []
        lost: list[Any] = []
        for req in low.get(kind) or []:
            key, value = _ref(req)
            if value is None:
                continue
            hits = [c for c in chunks if _matches(c, key, value)]
            found.extend(hits)
            if not hits and key == "sls" and any(
                    fnmatch.fnmatch(s, str(value)) for s in self.processed):
                continue
            if not hits:
                lost.append({key: value})
        return found, lost

    def _watch_as_require(self, low: dict[str, Any]) -> None:
        for watch, require in (("watch", "require"), ("watch_any", "require_any")):
            if watch in low and not self._has(f"{low['state']}.mod_watch"):
                low[require] = [*(low.get(require) or []), *(low.pop(watch) or [])]

    def check_requisite(self, low: dict[str, Any], running: dict[str, Any],
                        chunks: list[dict[str, Any]], pre: bool = False
                        ) -> tuple[str, dict[str, list[dict[str, Any]]]]:
        self._watch_as_require(low)
        kinds = [*REQ_KINDS, *(["prerequired"] if pre else [])]
        if not any(k in low for k in kinds):
            return "met", {}
        reqs: dict[str, list[dict[str, Any]]] = {}
        for kind in kinds:
            found, lost = self._targets(low, kind, chunks)
            if lost:
                return "unmet", {}
            reqs[kind] = found
        stats: set[str] = set()
        for kind, targets in reqs.items():
            source = self.pre if kind == "prereq" else running
            self._join(source, [tag(c) for c in targets])
            stats.update(kind_stats(kind, [source.get(tag(c)) for c in targets]))
        return status(stats), reqs

    # -- one chunk -------------------------------------------------------------------
    def call_chunk(self, low: dict[str, Any], running: dict[str, Any],
                   chunks: list[dict[str, Any]], depth: int = 0) -> None:
        self._mod_init(low)
        key = tag(low)
        if not low.get("prerequired"):
            self.active.add(key)
        if low.get("__prereq__"):
            status, reqs = self.check_requisite(low, running, chunks)
        else:
            status, reqs = self.check_requisite(low, running, chunks, pre=True)
        if status == "unmet":
            self._unmet(low, running, chunks, depth)
        elif status == "met":
            self._store(low, running, chunks)
        elif status == "fail":
            self._failed(low, running, reqs)
        elif status == "change" and not low.get("__prereq__"):
            ret = self.call(low, chunks, running)
            if not ret["changes"] and not ret.get("skip_watch", False):
                watched = {**low, "sfun": low["fun"], "fun": "mod_watch", "__reqs__": reqs}
                ret = self.call(watched, chunks, running)
            running[key] = ret
        elif status == "pre":
            ret = self._fake(low, True, "No changes detected")
            running[key] = ret
            self.pre[key] = ret
        elif status in ("onfail", "onchanges"):
            comment = ("State was not run because onfail req did not change"
                       if status == "onfail" else
                       "State was not run because none of the onchanges reqs changed")
            running[key] = self._fake(low, True, comment, ran=False)
        else:
            self._store(low, running, chunks)

    def _store(self, low: dict[str, Any], running: dict[str, Any],
               chunks: list[dict[str, Any]]) -> None:
        """Call the chunk; a prereq test run goes to `pre`, a real one to `running`."""
        target = self.pre if low.get("__prereq__") else running
        target[tag(low)] = self.call(low, chunks, running)

    def _unmet(self, low: dict[str, Any], running: dict[str, Any],
               chunks: list[dict[str, Any]], depth: int) -> None:
        key = tag(low)
        kinds = [*RUN_FIRST, *([] if low.get("__prereq__") else ["prerequired"])]
        lost: dict[str, list[Any]] = {}
        reqs: list[dict[str, Any]] = []
        for kind in kinds:
            found, missing = self._targets(low, kind, chunks)
            for chunk in found:
                if kind == "prereq":
                    chunk["__prereq__"] = True
                elif kind == "prerequired":
                    chunk["__prerequired__"] = True
            reqs.extend(found)
            if missing:
                lost[kind] = missing
        if lost:
            comment = "The following requisites were not found:\n"
            for kind, entries in lost.items():
                comment += " " * 19 + f"{kind}:\n"
                for entry in entries:
                    ((k, v),) = entry.items()
                    comment += " " * 23 + f"{k}: {v}\n"
            ret = self._fake(low, False, comment)
            if low.get("__prereq__"):
                self.pre[key] = ret
            else:
                running[key] = ret
            return
        for chunk in reqs:
            ctag = tag(chunk)
            if ctag in running:
                continue
            if ctag in self.active:
                if chunk.get("__prerequired__"):
                    if key not in self.pre:
                        low["__prereq__"] = True
                        self.pre[ctag] = self.call(low, chunks, running)
                    return
                running[key] = self._fake(low, False, "Recursive requisite found", timed=False)
                return
            self.call_chunk(chunk, running, chunks)
            if self.check_failhard(chunk, running):
                running["__FAILHARD__"] = True
                return
        if low.get("__prereq__"):
            status, _ = self.check_requisite(low, running, chunks)
            self.pre[key] = self.call(low, chunks, running)
            if not self.pre[key]["changes"] and status == "change":
                self.pre[key]["changes"] = {"watch": "watch"}
                self.pre[key]["result"] = None
        elif depth + 1 >= 20:
            running[key] = self._fake(low, False, "Recursive requisite found", timed=False,
                                      count=False)
        else:
            self.call_chunk(low, running, chunks, depth + 1)
        last = reqs[-1] if reqs else chunks[-1]
        if self.check_failhard(last, running):
            running["__FAILHARD__"] = True

    def _failed(self, low: dict[str, Any], running: dict[str, Any],
                reqs: dict[str, list[dict[str, Any]]]) -> None:
        key = tag(low)
        if key in self.pre:
            ret = self.pre[key]
            if ret.get("changes"):
                ret["changes"] = {}
            ret["__run_num__"] = self._next()
            for field in ("__sls__", "__id__", "name"):
                ret[field] = low.get(field)
            running[key] = ret
            return
        failed: list[str] = []
        for targets in reqs.values():
            for chunk in targets:
                ctag = tag(chunk)
                done = self.pre.get(ctag, running.get(ctag))
                if done is not None and done["result"] is False:
                    name = f"{chunk['__sls__']}.{chunk['__id__']}"
                    if name not in failed:
                        failed.append(name)
        ret = self._fake(low, False, f"One or more requisite failed: {', '.join(failed)}")
        running[key] = ret
        self.pre[key] = ret

    def _fake(self, low: dict[str, Any], result: bool, comment: str, ran: bool = True,
              timed: bool = True, count: bool = True) -> dict[str, Any]:
        """A result for a chunk that was not called (Salt's shape for each case)."""
        ret: dict[str, Any] = {"changes": {}, "result": result}
        if timed:
            ret.update(duration=0.0, start_time=_now())
        ret["comment"] = comment
        if not ran:
            ret["__state_ran__"] = False
        ret["__run_num__"] = self._next() if count else self.run_num
        for field in ("__sls__", "__id__", "name"):
            ret[field] = low.get(field)
        return ret

    def _next(self) -> int:
        num = self.run_num
        self.run_num += 1
        return num

    # -- calling a state function ----------------------------------------------------
    def _has(self, name: str) -> bool:
        try:
            self.states.resolve(name)
            return True
        except CallError:
            return False

    def verify(self, low: dict[str, Any]) -> list[str]:
        """Salt's per-chunk checks: the function exists, its arguments are given."""
        errors = []
        name = low.get("name")
        if name and not isinstance(name, str):
            where = f"in SLS '{low['__sls__']}' " if "__sls__" in low else ""
            errors.append(f"ID '{name}' {where}is not formed as a string, but is a "
                          f"{type(name).__name__}")
            return errors
        full = f"{low['state']}.{low['fun']}"
        try:
            func = self.states.resolve(full)
        except CallError:
            if "__sls__" in low:
                errors.append(f"State '{full}' was not found in SLS '{low['__sls__']}'")
                errors.append(f"Reason: '{full}' is not available.")
            else:
                errors.append(f"Specified state '{full}' was not found")
            return errors
        params = list(signature(func).parameters.values())[1:]
        for param in params:
            if param.default is inspect.Parameter.empty and param.kind in (
                    param.POSITIONAL_OR_KEYWORD, param.KEYWORD_ONLY) and param.name not in low:
                errors.append(f"Missing parameter {param.name} for state {full}")
        self._watch_as_require(low)
        kind = "watch" if "watch" in low else "require" if "require" in low else ""
        for req in low.get(kind) or [] if kind else []:
            rkey, value = _ref(req)
            if rkey == low["state"] and isinstance(value, str) and (
                    fnmatch.fnmatch(str(low["name"]), value)
                    or fnmatch.fnmatch(str(low["__id__"]), value)):
                shown = req if isinstance(req, dict) else {"id": req}
                errors.append(f"Recursive require detected in SLS {low['__sls__']} for "
                              f"require {shown} in ID {low['__id__']}")
        return errors

    def call(self, low: dict[str, Any], chunks: list[dict[str, Any]],
             running: dict[str, Any], retries: int = 1) -> dict[str, Any]:
        """Run one chunk's state function (Salt's ``State.call``)."""
        start, clock = _now(), time.monotonic()
        errors = self.verify(low)
        if errors:
            return {"result": False, "name": low["name"], "changes": {},
                    "comment": "".join(f"{e}\n" for e in errors), "__run_num__": self._next()}
        test = self.test or bool(low.get("__prereq__"))
        ret: dict[str, Any] = {"result": False, "name": low["name"], "changes": {}}
        if any(k in low for k in ("unless", "onlyif", "creates")):
            ret.update(run_check(self.ctx, low))
        if ret["result"] is False:
            if low.get("parallel") and not low.get("__prereq__"):
                ret = self._parallel(low, test, running)
            else:
                ret = self._execute(low, test, running)
        if low.get("__prereq__"):
            low["__prereq__"] = False
            return ret
        if isinstance(ret.get("comment"), list):
            ret["comment"] = "\n".join(str(c) for c in ret["comment"])
        ret["__sls__"] = low.get("__sls__")
        ret["__run_num__"] = self._next()
        ret["start_time"] = start
        ret["duration"] = round((time.monotonic() - clock) * 1000, 3)
        ret["__id__"] = low["__id__"]
        if "retry" in low and "parallel" not in low:
            ret = self._retry(low, ret, chunks, running, retries)
        return ret

    def _mod_init(self, low: dict[str, Any]) -> None:
        """Run the state module's mod_init before its first chunk of this run, as Salt
        does (pkg uses it to refresh the package lists once per run); a module whose
        mod_init answers False is asked again at its next chunk."""
        module = low["state"]
        if module in self.mod_init:
            return
        try:
            func = self.states.resolve(f"{module}.mod_init")
        except CallError:
            self.mod_init.add(module)
            return
        if func(dataclasses.replace(self.ctx, test=self.test), low):
            self.mod_init.add(module)

    def _execute(self, low: dict[str, Any], test: bool, running: dict[str, Any]
                 ) -> dict[str, Any]:
        name = f"{low['state']}.{low['fun']}"
        ctx = dataclasses.replace(self.ctx, test=test, retcode=0)
        try:
            func = self.states.resolve(name)
            kwargs = state_args(func, low)
            if low["fun"] == "mod_watch" and "watched" in signature(func).parameters:
                kwargs["watched"] = _watched_changes(low, running)
            if "check_cmd" in low and "check_cmd" in signature(func).parameters:
                kwargs["check_cmd"] = low["check_cmd"]  # Salt passes it to states that take it
            if "accumulators" in signature(func).parameters:
                # A state that declares these gets the run's accumulator table and its chunk.
                kwargs["accumulators"], kwargs["chunk"] = self.accumulators, dict(low)
            ret = func(ctx, **kwargs)
            if not isinstance(ret, dict) or "result" not in ret:
                raise TypeError(f"{name} returned {type(ret).__name__}, not a state result")
            unused = unused_args(func, low)
            if unused:
                ret.setdefault("warnings", []).append(
                    f"{name} does not take these arguments, which were ignored: "
                    f"{', '.join(unused)}")
        except Exception as exc:  # a state bug fails that state, not the run
            ret = {"result": False, "name": low["name"], "changes": {},
                   "comment": f"An exception occurred in this state: {type(exc).__name__}: "
                              f"{exc}"}
        ret.setdefault("name", low["name"])
        ret.setdefault("changes", {})
        ret.setdefault("comment", "")
        return ret

    def _parallel(self, low: dict[str, Any], test: bool, running: dict[str, Any]
                  ) -> dict[str, Any]:
        self.pool = self.pool or ThreadPoolExecutor(max_workers=8)
        self.futures[tag(low)] = self.pool.submit(self._timed, dict(low), test, running)
        return {"name": low["name"], "result": None, "changes": {}, "comment": "",
                "__parallel__": True}

    def _timed(self, low: dict[str, Any], test: bool, running: dict[str, Any]
               ) -> dict[str, Any]:
        """Run a parallel state in its worker and time it there, so its ``start_time``
        and ``duration`` are its own (as Salt reports them), not the hand-off's."""
        start, clock = _now(), time.monotonic()
        ret = self._execute(low, test, running)
        ret["start_time"] = start
        ret["duration"] = round((time.monotonic() - clock) * 1000, 3)
        return ret

    def _join(self, results: dict[str, Any], keys: list[str]) -> None:
        """Wait for the parallel states among `keys` and put their results in place."""
        for key in keys:
            future = self.futures.pop(key, None)
            if future is None or key not in results:
                continue
            ret = future.result()
            if isinstance(ret.get("comment"), list):
                ret["comment"] = "\n".join(str(c) for c in ret["comment"])
            results[key].update(ret)

    def _retry(self, low: dict[str, Any], ret: dict[str, Any], chunks: list[dict[str, Any]],
               running: dict[str, Any], retries: int) -> dict[str, Any]:
        conf = retry_options(low["retry"])
        if self.test:
            ret["comment"] = "  ".join([
                str(ret["comment"] or ""),
                f"The state would be retried every {conf['interval']} seconds (with a splay "
                f"of up to {conf['splay']} seconds) a maximum of {conf['attempts']} times or "
                f"until a result of {conf['until']} is returned"])
            return ret
        if conf["until"] == ret["result"] or conf["attempts"] <= retries:
            return ret
        interval = conf["interval"] + (random.randint(0, conf["splay"]) if conf["splay"] else 0)
        time.sleep(interval)
        again = self.call(low, chunks, running, retries + 1)
        again["comment"] = "\n".join([
            f'Attempt {retries}: Returned a result of "{ret["result"]}", with the following '
            f'comment: "{ret["comment"]}"', str(again["comment"] or "")])
        again["duration"] = again["duration"] + ret["duration"] + interval * 1000
        if retries == 1:
            again["start_time"] = ret["start_time"]
        return again

    # -- onlyif / unless / creates ----------------------------------------------------
    # -- listen ------------------------------------------------------------------------
    def call_listen(self, running: dict[str, Any]) -> dict[str, Any]:
        """After the run: ``mod_watch`` for each listener whose target changed."""
        crefs = {(c["state"], c["__id__"], c["name"]): c for c in self.chunks}
        listeners: list[tuple[tuple[str, str, str], list[Any]]] = []
        for chunk in self.chunks:
            if "listen" in chunk:
                listeners.append(((chunk["state"], chunk["__id__"], chunk["name"]),
                                  chunk["listen"] or []))
            for entry in chunk.get("listen_in") or []:
                for key, val in (entry.items() if isinstance(entry, dict) else []):
                    listeners.append(((key, val, "lookup"), [{chunk["state"]: chunk["__id__"]}]))
        watchers: list[dict[str, Any]] = []
        errors: dict[str, dict[str, Any]] = {}
        for who, targets in listeners:
            for target in targets:
                if not isinstance(target, dict):
                    hit = [c for c in self.chunks if target in (c["__id__"], c["name"])]
                    if not hit:
                        continue
                    target = {hit[-1]["state"]: hit[-1]["__id__"]}
                for lkey, lval in target.items():
                    self._listen_one(running, crefs, who, lkey, lval, watchers, errors)
        running.update(self.call_chunks(watchers))
        for key, ret in errors.items():
            ret["__run_num__"] = self._next()
            running[key] = ret
        return running

    def _listen_one(self, running: dict[str, Any], crefs: dict[tuple[str, str, str], Any],
                    who: tuple[str, str, str], lkey: str, lval: Any,
                    watchers: list[dict[str, Any]], errors: dict[str, Any]) -> None:
        if not any(lkey == c[0] and lval in c for c in crefs):
            errors[_listen_tag(lkey, lval)] = {
                "comment": f"Referenced state {lkey}: {lval} does not exist",
                "name": f"listen_{lkey}:{lval}", "result": False, "changes": {}}
            return
        for cref, data in crefs.items():
            if not (lkey == cref[0] and lval in cref):
                continue
            changed = running.get(tag(data))
            if changed is None or not changed["changes"]:
                continue
            if not any(who[0] == c[0] and who[1] in c for c in crefs):
                errors[_listen_tag(who[0], who[1])] = {
                    "comment": f"Referenced state {who[0]}: {who[1]} does not exist",
                    "name": f"listen_{who[0]}:{who[1]}", "result": False, "changes": {}}
                continue
            for ref, chunk in crefs.items():
                if who[0] == ref[0] and who[1] in ref:
                    low = {k: v for k, v in chunk.items() if k not in REQUISITE_KEYWORDS}
                    low.update(sfun=chunk["fun"], fun="mod_watch",
                               __id__=f"listener_{chunk['__id__']}")
                    watchers.append(low)


def _listen_tag(name: str, id_: Any) -> str:
    return f"Listen_Error_|-listen_{id_}_|-listen_{name}_|-Listen_Error"


def _watched_changes(low: dict[str, Any], running: dict[str, Any]) -> list[str]:
    """``state: id`` of the watch targets that changed (for a ``mod_watch`` that asks)."""
    out = []
    for chunk in (low.get("__reqs__") or {}).get("watch", []):
        ret = running.get(tag(chunk))
        if ret and ret.get("changes"):
            out.append(f"{chunk['state']}: {chunk['__id__']}")
    return out
