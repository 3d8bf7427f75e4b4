"""The jinja context of SLS files and templates, as Salt formulas expect it."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

from minion.context import Context
from minion.loader import CallError


class SaltFunctions(Mapping[str, Callable[..., Any]]):
    """``salt['mod.fun'](...)`` and ``salt.mod.fun(...)`` over the minion's functions."""

    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx

    def __getitem__(self, name: str) -> Callable[..., Any]:
        try:
            self._ctx.registry.resolve(name)
        except CallError as exc:
            raise KeyError(str(exc)) from None
        return lambda *args, **kwargs: self._ctx.call(name, *args, **kwargs)

    def __iter__(self) -> Iterator[str]:
        return iter(self._ctx.registry.functions)

    def __len__(self) -> int:
        return len(self._ctx.registry.functions)

    def __getattr__(self, module: str) -> _Namespace:
        if module.startswith("_"):
            raise AttributeError(module)
        return _Namespace(self, module)


class _Namespace:
    def __init__(self, funcs: SaltFunctions, module: str) -> None:
        self._funcs = funcs
        self._module = module

    def __getattr__(self, fun: str) -> Callable[..., Any]:
        return self._funcs[f"{self._module}.{fun}"]


def sls_context(ctx: Context, saltenv: str, sls: str = "", tplfile: str = "",
                extra: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Everything a formula can use: salt, grains, pillar, opts, sls, slspath, tpldir..."""
    slspath = sls.replace(".", "/") if sls else ""
    if tplfile.endswith("/init.sls"):
        tpldir = slspath
    else:
        tpldir = slspath.rsplit("/", 1)[0] if "/" in slspath else ""
    context: dict[str, Any] = {
        "salt": SaltFunctions(ctx),
        "grains": ctx.grains,
        "pillar": ctx.pillar,
        "opts": {**ctx.opts, "test": ctx.test},
        "saltenv": saltenv,
        "sls": sls,
        "slspath": tpldir,
        "tpldir": tpldir,
        "tplfile": tplfile,
        "sls_path": tpldir.replace("/", "_"),
    }
    if extra:
        context.update(extra)
    return context
