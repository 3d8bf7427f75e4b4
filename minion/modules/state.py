"""Apply formulas: render SLS files, order their states and bring the host in line."""

from __future__ import annotations

import copy
import dataclasses
import threading
from collections.abc import Callable
from typing import Any

from common.pillar import deep_merge
from minion.context import Context
from minion.loader import Registry
from minion.sls import SLSError
from minion.sls.compile import (
    apply_exclude,
    compile_high,
    compile_high_data,
    reconcile_extend,
    requisite_in,
    tag,
    verify_high,
)
from minion.sls.gather import NO_TOP_MATCHES, Gatherer, TopError
from minion.sls.run import StateRun
from minion.states import STATE_MODULES

__all__ = [
    "apply", "highstate", "running", "show_highstate", "show_low_sls", "show_lowstate",
    "show_sls", "show_state_usage", "show_top", "single", "sls", "sls_id", "test",
]

# Exit codes as Salt uses them for state runs.
EX_COMPILER_ERROR = 1
EX_STATE_FAILURE = 2
EX_PILLAR_FAILURE = 5
_running = threading.Lock()


def _split(mods: Any) -> list[str]:
    if mods is None or mods == "":
        return []
    items = mods if isinstance(mods, list) else str(mods).split(",")
    return [str(m).strip() for m in items if str(m).strip()]


def _states(ctx: Context) -> Registry:
    return Registry.load(ctx.opts, ctx.grains, modules=STATE_MODULES, kind="states")


def _prepare(ctx: Context, test: Any, pillar: Any) -> Context:
    run_ctx = dataclasses.replace(ctx, test=_truthy(test, ctx.opts.get("test", False)))
    if pillar:
        if not isinstance(pillar, dict):
            raise SLSError("pillar= must be a mapping")
        run_ctx.pillar = deep_merge(copy.deepcopy(dict(ctx.pillar)), pillar)
    return run_ctx


def _truthy(value: Any, default: Any) -> bool:
    if value is None:
        return bool(default)
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on")
    return bool(value)


NO_STATES_TAG = "no_|-states_|-states_|-None"


def _no_states(ctx: Context, comment: str) -> dict[str, Any]:
    """Salt's answer to a highstate with nothing to run (retcode 2)."""
    ctx.retcode = EX_STATE_FAILURE
    return {NO_STATES_TAG: {"result": False, "comment": comment, "name": "No States",
                            "changes": {}, "__run_num__": 0}}


def _render(ctx: Context, saltenv: str | None, mods: list[str] | None
            ) -> tuple[dict[str, Any], list[str], Gatherer]:
    """High data (and errors) of the named SLS, or of the top file when `mods` is None."""
    gatherer = Gatherer(ctx, saltenv or "base")
    if mods is None:
        try:
            matches = gatherer.top(all_envs=saltenv is None)
        except TopError as exc:
            raise _NoStates(f"Unable to render top file: {exc}") from None
        if not matches:
            raise _NoStates(NO_TOP_MATCHES)
    else:
        matches = {saltenv or "base": mods}
    gatherer.render_matches(matches)
    high, errors = gatherer.finish()
    return high, errors, gatherer


def _shown_high(ctx: Context, saltenv: str | None, mods: list[str] | None
                ) -> tuple[dict[str, Any], list[str]]:
    """High data and errors for a show_* function: nothing when no top file matches."""
    try:
        high, errors, _ = _render(ctx, saltenv, mods)
    except _NoStates:
        return {}, []
    return high, errors


class _NoStates(Exception):
    """A highstate with no top file match (Salt answers with a no_|-states result)."""


def _excluded(high: dict[str, Any], exclude: Any) -> None:
    if exclude:
        entries = exclude if isinstance(exclude, list) else str(exclude).split(",")
        high.setdefault("__exclude__", []).extend(entries)


def _run(ctx: Context, chunks: list[dict[str, Any]], states: Registry,
         processed: set[str]) -> dict[str, Any]:
    failhard = bool(ctx.opts.get("failhard", False))
    results = StateRun(ctx, states, chunks, test=ctx.test, failhard=failhard,
                       processed_sls=processed).run()
    ctx.retcode = 0 if results and not any(
        r.get("result") is False for r in results.values()) else EX_STATE_FAILURE
    return results


def _refusal(ctx: Context) -> list[str] | None:
    """Why no state run may start now (broken pillar, another run), or None.

    When None is returned, the caller holds the run lock and must release it.
    """
    errors = ctx.pillar.get("_errors") if isinstance(ctx.pillar, dict) else None
    if errors:
        ctx.retcode = EX_PILLAR_FAILURE
        return ["Pillar failed to render with the following messages:", *map(str, errors)]
    if not _running.acquire(blocking=False):
        ctx.retcode = 1
        return ["A state run is already in progress on this minion; try again when it ends."]
    return None


def _guarded(ctx: Context, test: Any, pillar: Any,
             body: Callable[[Context, Registry], Any]) -> Any:
    """Run `body` with the run lock held, on a context with `test` and extra pillar.

    `body` returns a list of errors (retcode 1) or the results (retcode as set).
    """
    refused = _refusal(ctx)
    if refused:
        return refused
    try:
        run_ctx = _prepare(ctx, test, pillar)
        out = body(run_ctx, _states(run_ctx))
        ctx.retcode = EX_COMPILER_ERROR if isinstance(out, list) else run_ctx.retcode
        return out
    except SLSError as exc:
        ctx.retcode = EX_COMPILER_ERROR
        return str(exc).splitlines()
    finally:
        _running.release()


def _apply(ctx: Context, mods: list[str] | None, test: Any, saltenv: str | None,
           pillar: Any, exclude: Any = None) -> Any:
    def body(run_ctx: Context, states: Registry) -> Any:
        try:
            high, errors, gatherer = _render(run_ctx, saltenv, mods)
        except _NoStates as exc:
            return _no_states(run_ctx, str(exc))
        if errors:
            return errors
        _excluded(high, exclude)
        if mods is None and not [k for k in high if not str(k).startswith("__")]:
            return _no_states(run_ctx, "No states found for this minion")
        chunks, errors = compile_high(high)
        if errors:
            return errors
        return _run(run_ctx, chunks, states, gatherer.processed)

    return _guarded(ctx, test, pillar, body)


def apply(ctx: Context, mods: Any = None, test: Any = None, saltenv: str | None = None,
          pillar: Any = None, exclude: Any = None) -> Any:
    """Apply the named SLS files, or the highstate (the top file) when none are named.

    mods
        Comma-separated SLS names (``web,db``) or a list.
    test
        ``True``: change nothing and report what would change.
    saltenv
        The file-roots environment to read formulas from (default ``base``).
    pillar
        Extra pillar for this run, merged over the minion's pillar.
    exclude
        Ids or SLS to leave out (``- sls: web.*`` / ``- id: x`` entries, or a comma list of SLS).

    CLI Example:

        master run '*' state.apply web test=True
    """
    names = _split(mods)
    return _apply(ctx, names or None, test, saltenv, pillar, exclude)


def sls(ctx: Context, mods: Any, test: Any = None, saltenv: str | None = None,
        pillar: Any = None, exclude: Any = None) -> Any:
    """Apply the named SLS files.

    CLI Example:

        master run '*' state.sls web,db
    """
    names = _split(mods)
    if not names:
        ctx.retcode = EX_COMPILER_ERROR
        return ["state.sls needs at least one SLS name"]
    return _apply(ctx, names, test, saltenv, pillar, exclude)


def highstate(ctx: Context, test: Any = None, saltenv: str | None = None,
              pillar: Any = None, exclude: Any = None) -> Any:
    """Apply every SLS the top file assigns to this minion.

    CLI Example:

        master run '*' state.highstate
    """
    return _apply(ctx, None, test, saltenv, pillar, exclude)


def test(ctx: Context, mods: Any = None, saltenv: str | None = None, pillar: Any = None) -> Any:
    """Show what `state.apply` would change, changing nothing.

    CLI Example:

        master run '*' state.test web
    """
    return apply(ctx, mods, True, saltenv, pillar)


def sls_id(ctx: Context, id_: str, mods: Any, test: Any = None, saltenv: str | None = None,
           pillar: Any = None) -> Any:
    """Apply one state id from the named SLS files, with the states it requires.

    CLI Example:

        master run '*' state.sls_id nginx_conf web
    """
    names = _split(mods)

    def body(run_ctx: Context, states: Registry) -> Any:
        high, errors, gatherer = _render(run_ctx, saltenv or "base", names)
        errors = errors + verify_high(high)
        errors.extend(requisite_in(high))
        if errors:
            return errors
        chunks = compile_high_data(high)
        run = StateRun(run_ctx, states, chunks, test=run_ctx.test,
                       failhard=bool(run_ctx.opts.get("failhard", False)),
                       processed_sls=gatherer.processed)
        results: dict[str, Any] = {}
        for chunk in chunks:
            if chunk["__id__"] == str(id_):
                running: dict[str, Any] = {}
                run.call_chunk(chunk, running, chunks)
                run.active = set()
                running.pop("__FAILHARD__", None)
                run._join(running, list(running))
                results.update(running)
        if not results:
            raise SLSError(f"No matches for ID '{id_}' found in SLS '{mods}' within saltenv "
                           f"'{saltenv or 'base'}'")
        run_ctx.retcode = 0 if not any(r.get("result") is False for r in results.values()) \
            else EX_STATE_FAILURE
        return results

    return _guarded(ctx, test, pillar, body)


def single(ctx: Context, fun: str, name: str, test: Any = None, pillar: Any = None,
           **kwargs: Any) -> Any:
    """Run one state function directly, without an SLS file.

    CLI Example:

        master run '*' state.single pkg.installed name=vim
    """
    comps = str(fun).split(".")
    if len(comps) < 2:
        ctx.retcode = EX_COMPILER_ERROR
        return "Invalid function passed"
    low = {**kwargs, "state": comps[0], "fun": comps[1], "__id__": name, "name": name}

    def body(run_ctx: Context, states: Registry) -> Any:
        run = StateRun(run_ctx, states, [low], test=run_ctx.test)
        errors = run.verify(low)
        if errors:
            return errors
        ret = run.call(low, [low], {})
        run._join({tag(low): ret}, [tag(low)])
        run_ctx.retcode = EX_STATE_FAILURE if ret.get("result") is False else 0
        return {tag(low): ret}

    return _guarded(ctx, test, pillar, body)


def show_sls(ctx: Context, mods: Any, saltenv: str | None = None) -> Any:
    """Show the high data the named SLS files render to (nothing is applied).

    CLI Example:

        master run '*' state.show_sls web
    """
    def make() -> Any:
        high, errors, _ = _render(ctx, saltenv or "base", _split(mods))
        return errors + verify_high(high) or high

    return _shown(ctx, make)


def show_low_sls(ctx: Context, mods: Any, saltenv: str | None = None) -> Any:
    """Show the low chunks of the named SLS files, as compiled before requisites are read.

    CLI Example:

        master run '*' state.show_low_sls web
    """
    def make() -> Any:
        high, errors, _ = _render(ctx, saltenv or "base", _split(mods))
        errors = errors + verify_high(high)
        return errors or compile_high_data(high)

    return _shown(ctx, make)


def show_highstate(ctx: Context, saltenv: str | None = None) -> Any:
    """Show the high data of the highstate (the top file's SLS files).

    CLI Example:

        master run '*' state.show_highstate
    """
    def make() -> Any:
        high, errors = _shown_high(ctx, saltenv, None)
        return errors or high

    out = _shown(ctx, make)
    if out == {}:
        ctx.retcode = EX_STATE_FAILURE  # Salt's check of an empty result
    return out


def show_top(ctx: Context, saltenv: str | None = None) -> Any:
    """Show which SLS files the top file assigns to this minion, per environment.

    CLI Example:

        master run '*' state.show_top
    """
    def make() -> Any:
        try:
            return Gatherer(ctx, saltenv or "base").top(saltenv is None)
        except TopError:
            return {}

    return _shown(ctx, make)


def show_lowstate(ctx: Context, mods: Any = None, saltenv: str | None = None) -> Any:
    """Show the ordered low chunks (one per state call) the highstate would execute.

    With `mods`, the chunks of those SLS files instead.

    CLI Example:

        master run '*' state.show_lowstate
    """
    def make() -> Any:
        high, errors = _shown_high(ctx, saltenv, _split(mods) or None)
        high = copy.deepcopy(high)
        errors = errors + reconcile_extend(high)
        errors.extend(verify_high(high))
        errors.extend(requisite_in(high))
        apply_exclude(high)
        return errors or compile_high_data(high)

    return _shown(ctx, make)


def show_state_usage(ctx: Context, saltenv: str | None = None) -> Any:
    """Show, per environment, which SLS files the top file uses and which it does not.

    CLI Example:

        master run '*' state.show_state_usage
    """
    def make() -> Any:
        gatherer = Gatherer(ctx, saltenv or "base")
        try:
            matches = gatherer.top(saltenv is None)
        except TopError:
            matches = {}
        usage = {}
        for env in gatherer.envs():
            names = [n for n in gatherer.avail(env) or []]
            used = [n for n in names if n in matches.get(env, [])]
            unused = [n for n in names if n not in used]
            usage[env] = {"used": used, "unused": unused, "count_all": len(names),
                          "count_used": len(used), "count_unused": len(unused)}
        return usage

    return _shown(ctx, make)


def _pillar_refusal(ctx: Context) -> str | None:
    """Salt's error when pillar did not render: show_* functions refuse (retcode 1)."""
    errors = ctx.pillar.get("_errors") if isinstance(ctx.pillar, dict) else None
    if not errors:
        return None
    ctx.retcode = 1
    return ("ERROR: Pillar failed to render. Additional info follows:\n\n"
            + "\n".join(f"- {e}" for e in errors))


def _shown(ctx: Context, make: Callable[[], Any]) -> Any:
    """What `make` returns; a list is errors (retcode 1)."""
    refused = _pillar_refusal(ctx)
    if refused:
        return refused
    try:
        out = make()
    except SLSError as exc:
        out = str(exc).splitlines()
    if isinstance(out, list) and all(isinstance(e, str) for e in out) and out:
        ctx.retcode = EX_COMPILER_ERROR
    return out


def running(ctx: Context) -> list[str]:
    """List the state runs in progress on this minion (empty when none).

    CLI Example:

        master run '*' state.running
    """
    if ctx.agent is None:
        return []
    return [f'The function "{job["fun"]}" is running as jid {job["jid"]}'
            for job in ctx.agent.running()
            if str(job.get("fun", "")).startswith("state.") and job["jid"] != ctx.jid]
