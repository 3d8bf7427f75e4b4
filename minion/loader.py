"""The execution-module registry: which `mod.fun` names this minion can run.

Modules are listed explicitly in `MODULES`. A module exposes exactly the
names in its ``__all__`` (deny by default: helpers are never callable from the
master); a trailing underscore is dropped so ``true_`` is called as
``test.true``. A module may define ``_unavailable(opts, grains) -> str | None``
to say why it cannot work on this host; it is then left out and calling it
says why.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable, Iterable, Mapping
from types import ModuleType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from minion.context import Context

MODULES: dict[str, str] = {
    "test": "minion.modules.test",
    "cmd": "minion.modules.cmd",
    "grains": "minion.modules.grains",
    "sys": "minion.modules.sys",
}


class CallError(Exception):
    """A function could not be called (unknown name, unavailable, bad arguments)."""


class Registry:
    """An immutable-by-convention table of `mod.fun` -> function for one minion."""

    def __init__(
        self,
        functions: Mapping[str, Callable[..., Any]],
        unavailable: Mapping[str, str] | None = None,
    ) -> None:
        self.functions = dict(functions)
        self.unavailable = dict(unavailable or {})

    @classmethod
    def load(
        cls,
        opts: Mapping[str, Any],
        grains: Mapping[str, Any],
        modules: Mapping[str, str] | None = None,
    ) -> Registry:
        """Import the listed modules and collect their exposed functions."""
        functions: dict[str, Callable[..., Any]] = {}
        unavailable: dict[str, str] = {}
        for name, path in (modules or MODULES).items():
            module = importlib.import_module(path)
            why = _why_unavailable(module, opts, grains)
            if why:
                unavailable[name] = why
                continue
            functions.update(exposed_functions(name, module))
        return cls(functions, unavailable)

    def modules(self) -> list[str]:
        """Names of the modules that loaded."""
        return sorted({name.split(".", 1)[0] for name in self.functions})

    def resolve(self, fun: str) -> Callable[..., Any]:
        """Find `fun` or raise CallError with a sentence a user can act on."""
        func = self.functions.get(fun)
        if func is not None:
            return func
        mod = fun.split(".", 1)[0]
        if mod in self.unavailable:
            raise CallError(f"'{fun}' is not available: {self.unavailable[mod]}")
        raise CallError(f"'{fun}' is not available.")

    def call(
        self, ctx: Context, fun: str, args: Iterable[Any], kwargs: Mapping[str, Any]
    ) -> Any:
        """Check the arguments against the signature, then call `fun`."""
        func = self.resolve(fun)
        args = list(args)
        try:
            inspect.signature(func).bind(ctx, *args, **kwargs)
        except TypeError as exc:
            raise CallError(f"{fun}: {_arg_error(exc)}") from None
        return func(ctx, *args, **kwargs)


def exposed_functions(name: str, module: ModuleType) -> dict[str, Callable[..., Any]]:
    """The callable `name.fun` entries of one module, from its ``__all__``."""
    found: dict[str, Callable[..., Any]] = {}
    for attr in getattr(module, "__all__", ()):
        if attr.startswith("_"):
            continue
        func = getattr(module, attr)
        if callable(func):
            found[f"{name}.{attr.rstrip('_')}"] = func
    return found


def _why_unavailable(module: ModuleType, opts: Mapping[str, Any], grains: Mapping[str, Any]) -> str:
    check = getattr(module, "_unavailable", None)
    if check is None:
        return ""
    return check(opts, grains) or ""


def _arg_error(exc: TypeError) -> str:
    # inspect's messages ("missing a required argument: 'text'") read well
    # already; only make the sentence start lower-case and drop the ctx slot.
    return str(exc).replace("positional argument", "argument")
