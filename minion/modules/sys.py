"""Describe the functions this minion offers: names, documentation, arguments."""

from __future__ import annotations

import fnmatch
import inspect
from collections.abc import Iterable
from typing import Any

from minion.context import Context

__all__ = [
    "argspec", "doc", "list_functions", "list_modules", "list_state_functions",
    "list_state_modules", "state_argspec", "state_doc",
]


def _select(names: Iterable[str], patterns: Iterable[str]) -> list[str]:
    """Function names matching any pattern: ``mod``, ``mod.fun`` or a glob."""
    wanted = list(patterns)
    if not wanted:
        return sorted(names)
    found = []
    for name in names:
        for pattern in wanted:
            if any(c in pattern for c in "*?["):
                hit = fnmatch.fnmatchcase(name, pattern)
            else:
                hit = name == pattern or name.startswith(pattern + ".")
            if hit:
                found.append(name)
                break
    return sorted(found)


def list_modules(ctx: Context) -> list[str]:
    """Return the names of the execution modules loaded on this minion.

    CLI Example:

        master run '*' sys.list_modules
    """
    return ctx.registry.modules()


def list_functions(ctx: Context, module: str | None = None) -> list[str]:
    """Return the functions this minion can run, sorted.

    module
        Only this module's functions (``cmd``), or names matching a glob
        (``'sys.list_*'``). Default: all.

    CLI Example:

        master run '*' sys.list_functions cmd
    """
    return _select(ctx.registry.functions, [module] if module else [])


def doc(ctx: Context, *names: str) -> dict[str, str]:
    """Return the documentation of functions, as ``{"mod.fun": docstring}``.

    names
        Modules (``test``), functions (``test.echo``) or globs; none means all.

    CLI Example:

        master run '*' sys.doc cmd.run
    """
    functions = ctx.registry.functions
    return {name: inspect.getdoc(functions[name]) or "" for name in _select(functions, names)}


def argspec(ctx: Context, *names: str) -> dict[str, dict[str, Any]]:
    """Return the arguments functions take, as ``{"mod.fun": {args, defaults, ...}}``.

    ``defaults`` lines up with the end of ``args`` (None when no argument
    has one); ``varargs``/``kwargs`` name the catch-all parameters, if any.

    names
        Modules (``test``), functions (``test.echo``) or globs; none means all.

    CLI Example:

        master run '*' sys.argspec cmd.run
    """
    functions = ctx.registry.functions
    return {name: _spec(functions[name]) for name in _select(functions, names)}


def _spec(func: Any) -> dict[str, Any]:
    params = list(inspect.signature(func).parameters.values())[1:]  # drop ctx
    args: list[str] = []
    defaults: list[Any] = []
    kwonly: dict[str, Any] = {}
    varargs = kwargs = None
    for param in params:
        if param.kind is param.VAR_POSITIONAL:
            varargs = param.name
        elif param.kind is param.VAR_KEYWORD:
            kwargs = param.name
        elif param.kind is param.KEYWORD_ONLY:
            kwonly[param.name] = None if param.default is param.empty else param.default
        else:
            args.append(param.name)
            if param.default is not param.empty:
                defaults.append(param.default)
    spec: dict[str, Any] = {
        "args": args,
        "defaults": defaults or None,
        "varargs": varargs,
        "kwargs": kwargs,
    }
    if kwonly:
        spec["kwonlyargs"] = kwonly
    return spec


def _states(ctx: Context) -> dict[str, Any]:
    from minion.loader import Registry
    from minion.states import STATE_MODULES

    return Registry.load(ctx.opts, ctx.grains, modules=STATE_MODULES, kind="states").functions


def list_state_modules(ctx: Context) -> list[str]:
    """Return the names of the state modules available on this minion.

    CLI Example:

        master run '*' sys.list_state_modules
    """
    return sorted({name.split(".", 1)[0] for name in _states(ctx)})


def list_state_functions(ctx: Context, module: str | None = None) -> list[str]:
    """Return the state functions (``file.managed``...), optionally of one module or glob.

    CLI Example:

        master run '*' sys.list_state_functions file
    """
    return _select(_states(ctx), [module] if module else [])


def state_doc(ctx: Context, *names: str) -> dict[str, str]:
    """Return the documentation of state functions, as ``{"mod.fun": docstring}``.

    CLI Example:

        master run '*' sys.state_doc file.managed
    """
    functions = _states(ctx)
    return {name: inspect.getdoc(functions[name]) or "" for name in _select(functions, names)}


def state_argspec(ctx: Context, *names: str) -> dict[str, dict[str, Any]]:
    """Return the arguments state functions take, as ``{"mod.fun": {args, defaults...}}``.

    CLI Example:

        master run '*' sys.state_argspec file.managed
    """
    functions = _states(ctx)
    return {name: _spec(functions[name]) for name in _select(functions, names)}
