"""Apply formulas: render SLS files, order their states and bring the host in line."""

from __future__ import annotations

import copy
import dataclasses
import threading
from collections.abc import Callable
from typing import Any

from common.pillar import deep_merge
from minion.context import Context
from minion.loader import CallError, Registry, signature
from minion.sls import SLSError
from minion.sls.compile import compile_high, tag
from minion.sls.gather import Gatherer, normalize_body
from minion.sls.run import StateRun, state_args
from minion.states import STATE_MODULES

__all__ = [
    "apply", "highstate", "running", "show_highstate", "show_lowstate", "show_sls",
    "show_top", "single", "sls", "sls_id", "test",
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


def _gather(ctx: Context, saltenv: str | None, mods: list[str] | None) -> dict[str, Any]:
    """High data of the named SLS, or of the highstate (every environment's top file
    when no saltenv is given, as Salt merges them)."""
    gatherer = Gatherer(ctx, saltenv or "base")
    if mods is None:
        top = gatherer.top(all_envs=saltenv is None)
        if not top:
            raise SLSError("No Top file or master_tops data matches found. Please see master "
                           "log for details.")
        for env, names in top.items():
            for name in names:
                gatherer.add(env, name)
    else:
        for name in mods:
            gatherer.add(saltenv or "base", name)
    return gatherer.finish()


def _check_chunks(chunks: list[dict[str, Any]], states: Registry) -> None:
    """Unknown state functions and missing arguments, before anything runs."""
    errors = []
    for chunk in chunks:
        name = f"{chunk['state']}.{chunk['fun']}"
        where = f"state '{chunk['__id__']}' in SLS '{chunk['__sls__']}'"
        try:
            func = states.resolve(name)
        except CallError as exc:
            errors.append(f"{where}: {exc}")
            continue
        try:
            signature(func).bind(None, **state_args(func, chunk))
        except TypeError as exc:
            errors.append(f"{where}: {name}: {str(exc).replace('positional ', '')}")
    if errors:
        raise SLSError("\n".join(errors))


def _run(ctx: Context, chunks: list[dict[str, Any]], states: Registry) -> dict[str, Any]:
    failhard = bool(ctx.opts.get("failhard", False))
    results = StateRun(ctx, states, chunks, test=ctx.test, failhard=failhard).run()
    if any(r["result"] is False for r in results.values()):
        ctx.retcode = EX_STATE_FAILURE
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


def _guarded_run(ctx: Context, test: Any, pillar: Any,
                 make_chunks: Callable[[Context], list[dict[str, Any]]]) -> Any:
    """Compile with `make_chunks`, check every call, run: one state run at a time.

    Compile errors come back as lines (retcode 1) and nothing runs; a failed
    state gives retcode 2.
    """
    refused = _refusal(ctx)
    if refused:
        return refused
    try:
        run_ctx = _prepare(ctx, test, pillar)
        states = _states(run_ctx)
        chunks = make_chunks(run_ctx)
        _check_chunks(chunks, states)
        results = _run(run_ctx, chunks, states)
        ctx.retcode = run_ctx.retcode
        return results
    except SLSError as exc:
        ctx.retcode = EX_COMPILER_ERROR
        return str(exc).splitlines()
    finally:
        _running.release()


def _apply(ctx: Context, mods: list[str] | None, test: Any, saltenv: str | None,
           pillar: Any, only_id: str | None = None) -> Any:
    def chunks(run_ctx: Context) -> list[dict[str, Any]]:
        compiled = compile_high(_gather(run_ctx, saltenv, mods))
        if only_id is None:
            return compiled
        wanted = {tag(c) for c in compiled if c["__id__"] == only_id}
        if not wanted:
            raise SLSError(f"No matches for ID '{only_id}' found in SLS "
                           f"'{','.join(mods or [])}' within saltenv '{saltenv or 'base'}'")
        # The id and, as in Salt, everything it requires (transitively).
        by_tag = {tag(c): c for c in compiled}
        todo = list(wanted)
        while todo:
            for targets in by_tag[todo.pop()]["__reqs__"].values():
                for target in targets:
                    if target not in wanted:
                        wanted.add(target)
                        todo.append(target)
        return [c for c in compiled if tag(c) in wanted]

    return _guarded_run(ctx, test, pillar, chunks)


def apply(ctx: Context, mods: Any = None, test: Any = None, saltenv: str | None = None,
          pillar: Any = None) -> Any:
    """Apply the named SLS files, or the highstate (the top file) when none are named.

    mods
        Comma-separated SLS names (``web,db``) or a list.
    test
        ``True``: change nothing and report what would change.
    saltenv
        The file-roots environment to read formulas from (default ``base``).
    pillar
        Extra pillar for this run, merged over the minion's pillar.

    CLI Example:

        master run '*' state.apply web test=True
    """
    names = _split(mods)
    return _apply(ctx, names or None, test, saltenv, pillar)


def sls(ctx: Context, mods: Any, test: Any = None, saltenv: str | None = None,
        pillar: Any = None) -> Any:
    """Apply the named SLS files.

    CLI Example:

        master run '*' state.sls web,db
    """
    names = _split(mods)
    if not names:
        ctx.retcode = EX_COMPILER_ERROR
        return ["state.sls needs at least one SLS name"]
    return _apply(ctx, names, test, saltenv, pillar)


def highstate(ctx: Context, test: Any = None, saltenv: str | None = None,
              pillar: Any = None) -> Any:
    """Apply every SLS the top file assigns to this minion.

    CLI Example:

        master run '*' state.highstate
    """
    return _apply(ctx, None, test, saltenv, pillar)


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
    return _apply(ctx, _split(mods), test, saltenv, pillar, only_id=str(id_))


def single(ctx: Context, fun: str, name: str, test: Any = None, **kwargs: Any) -> Any:
    """Run one state function directly, without an SLS file.

    CLI Example:

        master run '*' state.single pkg.installed name=vim
    """
    _, _, func = fun.partition(".")
    errors: list[str] = []
    body = normalize_body(name, {fun: [{k: v} for k, v in kwargs.items()]}, "single", errors)
    if not func or body is None:
        ctx.retcode = EX_COMPILER_ERROR
        return errors or [f"state.single needs a 'module.function', not {fun!r}"]
    high = {name: {"__sls__": "single", "__env__": "base", **body}}
    return _guarded_run(ctx, test, None, lambda _: compile_high(high))


def show_sls(ctx: Context, mods: Any, saltenv: str | None = None) -> Any:
    """Show the high data the named SLS files render to (nothing is applied).

    CLI Example:

        master run '*' state.show_sls web
    """
    return _shown(ctx, lambda: _gather(ctx, saltenv, _split(mods)))


def show_highstate(ctx: Context, saltenv: str | None = None) -> Any:
    """Show the high data of the highstate (the top file's SLS files).

    CLI Example:

        master run '*' state.show_highstate
    """
    return _shown(ctx, lambda: _gather(ctx, saltenv, None))


def show_top(ctx: Context, saltenv: str | None = None) -> Any:
    """Show which SLS files the top file assigns to this minion, per environment.

    CLI Example:

        master run '*' state.show_top
    """
    return _shown(ctx, lambda: Gatherer(ctx, saltenv or "base").top(saltenv is None))


def show_lowstate(ctx: Context, mods: Any = None, saltenv: str | None = None) -> Any:
    """Show the ordered low chunks (one per state call) a run would execute.

    CLI Example:

        master run '*' state.show_lowstate web
    """
    def low() -> list[dict[str, Any]]:
        chunks = compile_high(_gather(ctx, saltenv, _split(mods) or None))
        return [{k: v for k, v in c.items() if k != "__pos__"} | {"__tag__": tag(c)}
                for c in chunks]

    return _shown(ctx, low)


def _pillar_refusal(ctx: Context) -> str | None:
    """Salt's error when pillar did not render: show_* functions refuse (retcode 1)."""
    errors = ctx.pillar.get("_errors") if isinstance(ctx.pillar, dict) else None
    if not errors:
        return None
    ctx.retcode = 1
    return ("ERROR: Pillar failed to render. Additional info follows:\n\n"
            + "\n".join(f"- {e}" for e in errors))


def _shown(ctx: Context, make: Callable[[], Any]) -> Any:
    """What `make` returns, or the compile errors as lines (and retcode 1)."""
    refused = _pillar_refusal(ctx)
    if refused:
        return refused
    try:
        return make()
    except SLSError as exc:
        ctx.retcode = EX_COMPILER_ERROR
        return str(exc).splitlines()


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
