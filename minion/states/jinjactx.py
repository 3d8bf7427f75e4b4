"""The names a jinja template sees: ``salt``, ``grains``, ``pillar``, ``opts``, ``saltenv``.

Used by `file.managed` and friends for ``template: jinja`` and by the SLS
engine, so a template renders the same wherever it is used. ``salt`` maps
``'mod.fun'`` to a callable over ``ctx.call``; ``salt['cmd.run']('id')`` and
``salt.cmd.run('id')`` both work, as in Salt.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from minion.context import Context
from minion.loader import CallError


class _ModuleFunctions:
    """``salt.pillar`` in a template: attribute access to one module's functions."""

    def __init__(self, ctx: Context, module: str) -> None:
        self._ctx = ctx
        self._module = module

    def __getattr__(self, fun: str) -> Callable[..., Any]:
        if fun.startswith("_"):
            raise AttributeError(fun)
        return functools.partial(self._ctx.call, f"{self._module}.{fun}")


class SaltFunctions(Mapping[str, Callable[..., Any]]):
    """The execution functions of one context, as Salt's ``__salt__`` mapping."""

    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx

    def __getitem__(self, fun: str) -> Callable[..., Any]:
        if not isinstance(fun, str) or "." not in fun:
            raise KeyError(fun)
        # Unknown names still give a callable, so the error says "not available".
        return functools.partial(self._ctx.call, fun)

    def __contains__(self, fun: object) -> bool:
        if not isinstance(fun, str):
            return False
        try:
            self._ctx.registry.resolve(fun)  # imports only that module
        except CallError:
            return False
        return True

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self._ctx.registry.functions))

    def __len__(self) -> int:
        return len(self._ctx.registry.functions)

    def __getattr__(self, module: str) -> _ModuleFunctions:
        if module.startswith("_"):
            raise AttributeError(module)
        return _ModuleFunctions(self._ctx, module)


def template_context(ctx: Context, saltenv: str = "base",
                     extra: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The variables of a template: salt, grains, pillar, opts, saltenv, then `extra`."""
    names: dict[str, Any] = {
        "salt": SaltFunctions(ctx),
        "grains": ctx.grains,
        "pillar": ctx.pillar,
        "opts": {**ctx.opts, "test": ctx.test},
        "saltenv": saltenv,
    }
    names.update(extra or {})
    return names
