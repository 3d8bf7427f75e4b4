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
import importlib.util
import inspect
import logging
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from minion.context import Context

MODULES: dict[str, str] = {
    "test": "minion.modules.test",
    "cmd": "minion.modules.cmd",
    "file": "minion.modules.file",
    "grains": "minion.modules.grains",
    "sys": "minion.modules.sys",
    "pkg": "minion.modules.pkg",
    "cp": "minion.modules.cp",
    "pillar": "minion.modules.pillar",
    "state": "minion.modules.state",
    "service": "minion.modules.service",
    "user": "minion.modules.user",
    "group": "minion.modules.group",
    "saltutil": "minion.modules.saltutil",
    "network": "minion.modules.network",
    "status": "minion.modules.status",
    "disk": "minion.modules.disk",
}


log = logging.getLogger(__name__)


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
        kind: str = "modules",
    ) -> Registry:
        """Import the listed modules and collect their exposed functions.

        `kind` names the synced extensions that join them: ``modules`` for
        execution modules, ``states`` for state modules.
        """
        functions: dict[str, Callable[..., Any]] = {}
        unavailable: dict[str, str] = {}
        for name, path in (modules or MODULES).items():
            module = importlib.import_module(path)
            why = _why_unavailable(module, opts, grains)
            if why:
                unavailable[name] = why
                continue
            functions.update(exposed_functions(name, module))
        for name, module in custom_modules(opts, kind).items():
            why = _why_unavailable(module, opts, grains)
            if why:
                unavailable[name] = why
                continue
            # A synced module replaces a built-in one of the same name, as in Salt.
            functions = {k: v for k, v in functions.items() if not k.startswith(f"{name}.")}
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


def custom_modules(opts: Mapping[str, Any], kind: str) -> dict[str, ModuleType]:
    """Import the synced extensions of one kind from ``cachedir/extmods/<kind>``.

    A file that fails to import is logged and skipped: one broken custom
    module must not take the others (or the minion) down.
    """
    cachedir = opts.get("cachedir")
    if not cachedir:
        return {}
    found: dict[str, ModuleType] = {}
    for path in sorted(Path(cachedir, "extmods", kind).glob("*.py")):
        if not path.stem.isidentifier():
            continue
        spec = importlib.util.spec_from_file_location(f"saline_ext.{kind}.{path.stem}", path)
        if spec is None or spec.loader is None:
            continue
        module = importlib.util.module_from_spec(spec)
        try:
            spec.loader.exec_module(module)
        except Exception as exc:
            log.error("custom %s %s does not load: %s: %s", kind, path.name,
                      type(exc).__name__, exc)
            continue
        found[path.stem] = module
    return found


def exposed_functions(name: str, module: ModuleType) -> dict[str, Callable[..., Any]]:
    """The callable `name.fun` entries of one module.

    Built-in modules list them in ``__all__``. A synced custom module without
    ``__all__`` exposes the public functions it defines itself (not ones it
    imported).
    """
    found: dict[str, Callable[..., Any]] = {}
    names = getattr(module, "__all__", None)
    if names is None:
        names = [n for n, v in vars(module).items() if inspect.isfunction(v)
                 and v.__module__ == module.__name__ and not n.startswith("_")]
    for attr in names:
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
