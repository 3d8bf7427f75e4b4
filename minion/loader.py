"""The execution-module registry: which `mod.fun` names this minion can run.

Modules are listed explicitly in `MODULES`. A module exposes exactly the
names in its ``__all__`` (deny by default: helpers are never callable from the
master); a trailing underscore is dropped so ``true_`` is called as
``test.true``. A module may define ``_unavailable(opts, grains) -> str | None``
to say why it cannot work on this host; it is then left out and calling it
says why.
"""

from __future__ import annotations

import functools
import importlib
import importlib.util
import inspect
import logging
import threading
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
    "config": "minion.modules.config",
    "log": "minion.modules.log",
    "slsutil": "minion.modules.slsutil",
    "defaults": "minion.modules.defaults",
    "mine": "minion.modules.mine",
    "dnsutil": "minion.modules.dnsutil",
    "ini": "minion.modules.ini",
    "alternatives": "minion.modules.alternatives",
    "debconf": "minion.modules.debconf",
    "archive": "minion.modules.archive",
    "environ": "minion.modules.environ",
    "ssh": "minion.modules.ssh",
    "sysctl": "minion.modules.sysctl",
    "aliases": "minion.modules.aliases",
    "timezone": "minion.modules.timezone",
    "pip": "minion.modules.pip",
    "git": "minion.modules.git",
    "aptrepo": "minion.modules.aptrepo",
    "postgres": "minion.modules.postgres",
    "mysql": "minion.modules.mysql",
    "iptables": "minion.modules.iptables",
    "locale": "minion.modules.locale",
    "kmod": "minion.modules.kmod",
    "mount": "minion.modules.mount",
}


log = logging.getLogger(__name__)


class CallError(Exception):
    """A function could not be called (unknown name, unavailable, bad arguments)."""


class Registry:
    """A table of `mod.fun` -> function for one minion, filled module by module.

    `load` only records where modules are; a module is imported the first
    time one of its functions is resolved (so `minion call test.ping` never
    pays for the template engine), and all of them when the whole table is
    asked for (`functions`, `modules()`).
    """

    def __init__(
        self,
        functions: Mapping[str, Callable[..., Any]],
        unavailable: Mapping[str, str] | None = None,
    ) -> None:
        self._functions = dict(functions)
        self.unavailable = dict(unavailable or {})
        self._pending: dict[str, str] = {}
        self._custom: dict[str, ModuleType] = {}
        self._opts: Mapping[str, Any] = {}
        self._grains: Mapping[str, Any] = {}
        # Jobs and parallel states resolve from several threads at once.
        self._lock = threading.RLock()

    @classmethod
    def load(
        cls,
        opts: Mapping[str, Any],
        grains: Mapping[str, Any],
        modules: Mapping[str, str] | None = None,
        kind: str = "modules",
    ) -> Registry:
        """A registry of the listed modules plus the synced ones of `kind`.

        `kind` names the synced extensions that join them: ``modules`` for
        execution modules, ``states`` for state modules. A synced module
        replaces a built-in one of the same name, as in Salt.
        """
        registry = cls({})
        registry._opts, registry._grains = opts, grains
        registry._pending = dict(modules or MODULES)
        registry._custom = custom_modules(opts, kind)
        for name in registry._custom:
            registry._pending.setdefault(name, "")
        return registry

    def _load_module(self, name: str) -> None:
        if name not in self._pending:
            return
        with self._lock:
            path = self._pending.get(name)
            if path is None:
                return
            module = self._custom.get(name) or importlib.import_module(path)
            why = _why_unavailable(module, self._opts, self._grains)
            if why:
                self.unavailable[name] = why
            else:
                self._functions.update(exposed_functions(name, module))
            del self._pending[name]

    @property
    def functions(self) -> dict[str, Callable[..., Any]]:
        """Every available function (imports every module not imported yet)."""
        for name in list(self._pending):
            self._load_module(name)
        return self._functions

    def modules(self) -> list[str]:
        """Names of the modules that loaded."""
        return sorted({name.split(".", 1)[0] for name in self.functions})

    def resolve(self, fun: str) -> Callable[..., Any]:
        """Find `fun` or raise CallError with a sentence a user can act on."""
        mod = fun.split(".", 1)[0]
        self._load_module(mod)
        func = self._functions.get(fun)
        if func is not None:
            return func
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
            signature(func).bind(ctx, *args, **kwargs)
        except TypeError as exc:
            raise CallError(f"{fun}: {_arg_error(exc)}") from None
        return func(ctx, *args, **kwargs)


@functools.lru_cache(maxsize=4096)
def signature(func: Callable[..., Any]) -> inspect.Signature:
    """A function's signature, computed once (state runs check thousands of calls)."""
    return inspect.signature(func)


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
