"""From SLS names (or the top file) to *high data*.

High data maps each state id to its declarations, in definition order:
``{id: {"__sls__": "web", "__env__": "base", "file": ["managed", {...}], ...}}``.
Included files come before the file that includes them, in include order.
``extend`` and ``exclude`` are applied once everything is gathered.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping
from typing import Any

from common import targeting
from common.render import RenderError, render_sls
from minion.context import Context
from minion.fileclient import FileClient
from minion.sls import SLSError
from minion.sls.render import sls_context

MAX_DEPTH = 50
RESERVED = ("include", "extend", "exclude")


class _Source:
    """Jinja's view of the file client (for include/import in templates)."""

    def __init__(self, files: FileClient) -> None:
        self.files = files

    def get_source(self, env: str, path: str) -> str:
        return self.files.get_source(env, path)


class Gatherer:
    """Render SLS files for one state run, collecting high data and errors."""

    def __init__(self, ctx: Context, saltenv: str) -> None:
        self.ctx = ctx
        self.saltenv = saltenv
        self.files = ctx.fileclient()
        self.source = _Source(self.files)
        self.high: dict[str, dict[str, Any]] = {}
        self.extends: list[tuple[str, dict[str, Any]]] = []
        self.excludes: list[tuple[str, Any]] = []
        self.errors: list[str] = []
        self.done: set[tuple[str, str]] = set()

    # -- top file -----------------------------------------------------------
    def top(self, all_envs: bool = False) -> dict[str, list[str]]:
        """``{env: [sls, ...]}`` that the top files assign to this minion.

        With `all_envs` (a highstate with no saltenv given) every
        environment's top file is read, base first, and each environment's
        SLS lists are merged from all of them, as Salt's default ``merge``
        strategy does; otherwise only the run's saltenv top file counts.
        """
        envs = [self.saltenv]
        if all_envs:
            known = self.files.envs()
            envs = [e for e in ("base",) if e in known] + sorted(e for e in known if e != "base")
        found: dict[str, list[str]] = {}
        for top_env in envs:
            self._merge_top(top_env, found)
        return found

    def _merge_top(self, top_env: str, found: dict[str, list[str]]) -> None:
        minion = {"id": self.ctx.opts.get("id") or self.ctx.grains.get("id"),
                  "grains": self.ctx.grains, "pillar": self.ctx.pillar}
        data = self._render_file(top_env, "top.sls", "top")
        if data is None:
            return
        where = f"top.sls in {top_env}"
        if not isinstance(data, dict):
            raise SLSError(f"{where}: expected a mapping of environments")
        for env, targets in data.items():
            if not isinstance(targets, dict):
                raise SLSError(f"{where}: environment {env!r} must map targets to SLS lists")
            for tgt, kind, names in targeting.top_entries(targets):
                try:
                    hit = targeting.matches(minion, tgt, kind)
                except targeting.TargetError as exc:
                    raise SLSError(f"{where}: {exc}") from None
                if hit:
                    for name in names:
                        if name not in found.setdefault(str(env), []):
                            found[str(env)].append(name)

    # -- SLS files ------------------------------------------------------------
    def add(self, env: str, name: str, depth: int = 0) -> None:
        """Render SLS `name` (and, first, what it includes) into the high data."""
        if (env, name) in self.done:
            return
        self.done.add((env, name))
        if depth > MAX_DEPTH:
            self.errors.append(f"SLS {env}:{name}: includes nest deeper than {MAX_DEPTH}")
            return
        path = self._find(env, name)
        if path is None:
            self.errors.append(f"No matching sls found for '{name}' in env '{env}'")
            return
        data = self._render_file(env, path, name)
        if data is None:
            return
        if not isinstance(data, dict):
            self.errors.append(f"SLS {env}:{name} ({path}): does not render to a mapping")
            return
        for inc_env, inc in self._includes(env, name, path, data.pop("include", [])):
            self.add(inc_env, inc, depth + 1)
        extend = data.pop("extend", None)
        if extend is not None:
            if isinstance(extend, dict):
                self.extends.append((f"{env}:{name}", extend))
            else:
                self.errors.append(f"SLS {env}:{name}: extend must be a mapping of ids")
        excludes = data.pop("exclude", [])
        for entry in excludes if isinstance(excludes, list) else [excludes]:
            self.excludes.append((f"{env}:{name}", entry))
        for state_id, body in data.items():
            self._add_id(env, name, str(state_id), body)

    def _find(self, env: str, name: str) -> str | None:
        base = name.replace(".", "/")
        for path in (f"{base}.sls", f"{base}/init.sls"):
            try:
                self.files.stat(env, path)
                return path
            except Exception:  # a missing file (or env) is tried with the next name
                continue
        return None

    def _render_file(self, env: str, path: str, sls: str) -> Any:
        try:
            text = self.files.get_source(env, path)
        except FileNotFoundError:
            if sls == "top":
                return None
            self.errors.append(f"SLS {env}:{sls}: {path} not found")
            return None
        context = sls_context(self.ctx, env, "" if sls == "top" else sls, path)
        try:
            return render_sls(text, path, context, self.source, env)
        except RenderError as exc:
            self.errors.append(f"Rendering SLS '{env}:{sls}' failed: {exc}")
            return None

    def _includes(self, env: str, name: str, path: str, raw: Any) -> list[tuple[str, str]]:
        out = []
        for entry in raw if isinstance(raw, list) else [raw]:
            inc_env = env
            if isinstance(entry, dict):
                if "sls" in entry:
                    inc, inc_env = str(entry["sls"]), str(entry.get("saltenv") or env)
                elif len(entry) == 1:
                    ((inc_env, inc),) = entry.items()  # `- dev: web` form
                    inc_env, inc = str(inc_env), str(inc)
                else:
                    self.errors.append(f"SLS {env}:{name}: bad include entry {entry!r}")
                    continue
            else:
                inc = str(entry)
            try:
                out.append((inc_env, resolve_relative(name, path, inc)))
            except SLSError as exc:
                self.errors.append(str(exc))
        return out

    def _add_id(self, env: str, sls: str, state_id: str, body: Any) -> None:
        where = f"{env}:{sls}"
        if state_id in self.high:
            other = f"{self.high[state_id]['__env__']}:{self.high[state_id]['__sls__']}"
            self.errors.append(
                f"Detected conflicting IDs, SLS IDs need to be globally unique. The conflicting "
                f"ID is '{state_id}' and is found in SLS '{other}' and SLS '{where}'")
            return
        decls = normalize_body(state_id, body, where, self.errors)
        if decls is not None:
            self.high[state_id] = {"__sls__": sls, "__env__": env, **decls}

    # -- after everything is gathered ----------------------------------------
    def finish(self) -> dict[str, dict[str, Any]]:
        """Apply extend and exclude; raise SLSError when anything went wrong."""
        for where, extend in self.extends:
            for state_id, body in extend.items():
                self._extend(where, str(state_id), body)
        for where, entry in self.excludes:
            self._exclude(where, entry)
        if self.errors:
            raise SLSError("\n".join(self.errors))
        return self.high

    def _extend(self, where: str, state_id: str, body: Any) -> None:
        if state_id not in self.high:
            self.errors.append(
                f"Cannot extend ID '{state_id}' in '{where}'. It is not part of the high state.")
            return
        decls = normalize_body(state_id, body, where, self.errors, need_fun=False)
        if decls is None:
            return
        target = self.high[state_id]
        for mod, args in decls.items():
            current = target.setdefault(mod, [])
            for arg in args:
                if isinstance(arg, str):
                    current[:] = [a for a in current if not isinstance(a, str)] + [arg]
                    continue
                ((key, value),) = arg.items()
                _extend_arg(current, key, value)

    def _exclude(self, where: str, entry: Any) -> None:
        if isinstance(entry, dict) and "id" in entry:
            self.high.pop(str(entry["id"]), None)
        elif isinstance(entry, str) or (isinstance(entry, dict) and "sls" in entry):
            # An SLS exclude is a glob, as in Salt: `- sls: web.*`.
            pattern = entry if isinstance(entry, str) else str(entry["sls"])
            for state_id in [i for i, b in self.high.items()
                             if fnmatch.fnmatchcase(b["__sls__"], pattern)]:
                del self.high[state_id]
        else:
            self.errors.append(f"SLS {where}: bad exclude entry {entry!r}")


REQ_LISTS = frozenset(
    f"{kind}{suffix}"
    for kind in ("require", "watch", "onchanges", "onfail", "prereq", "listen", "use")
    for suffix in ("", "_in", "_any", "_all")
)


def _extend_arg(current: list[Any], key: str, value: Any) -> None:
    """Merge one extend argument: requisite lists grow, other values replace."""
    for arg in current:
        if isinstance(arg, dict) and key in arg:
            if key in REQ_LISTS and isinstance(arg[key], list) and isinstance(value, list):
                arg[key] = arg[key] + value
            else:
                arg[key] = value
            return
    current.append({key: value})


def resolve_relative(name: str, path: str, inc: str) -> str:
    """``.sibling`` and ``..parent.x`` relative to the including SLS."""
    if not inc.startswith("."):
        return inc
    # For a/b.sls the package is "a"; for a/b/init.sls it is "a.b".
    package = name.split(".") if path.endswith("/init.sls") else name.split(".")[:-1]
    dots = len(inc) - len(inc.lstrip("."))
    if dots - 1 > len(package):
        raise SLSError(f"Attempted relative include of '{inc}' within SLS '{name}' goes "
                       "beyond top level package")
    keep = package[: len(package) - (dots - 1)]
    rest = inc.lstrip(".")
    return ".".join([*keep, rest] if rest else keep)


def normalize_body(state_id: str, body: Any, where: str, errors: list[str],
                   need_fun: bool = True) -> dict[str, list[Any]] | None:
    """``{mod: [fun, {arg: value}, ...]}`` from any of Salt's body spellings."""
    if isinstance(body, str):
        body = {body: []}  # `vim: pkg.installed`
    if not isinstance(body, Mapping):
        errors.append(f"ID '{state_id}' in SLS '{where}' is not a dictionary")
        return None
    decls: dict[str, list[Any]] = {}
    for key, args in body.items():
        key = str(key)
        if key.startswith("__"):
            continue
        if args is None:
            args = []
        if not isinstance(args, list):
            errors.append(f"State '{state_id}' in SLS '{where}': the arguments of '{key}' "
                          "must be a list")
            return None
        mod, _, fun = key.partition(".")
        items: list[Any] = [fun] if fun else []
        for arg in args:
            if isinstance(arg, str):
                items.append(arg)
            elif isinstance(arg, Mapping) and len(arg) == 1:
                items.append(dict(arg))
            elif isinstance(arg, Mapping):
                errors.append(f"State '{state_id}' in SLS '{where}': each argument of '{key}' "
                              f"must be a single 'name: value' pair, got {dict(arg)!r}")
                return None
            else:
                errors.append(f"State '{state_id}' in SLS '{where}': bad argument {arg!r}")
                return None
        funs = [a for a in items if isinstance(a, str)]
        if len(funs) > 1:
            errors.append(f"State '{state_id}' in SLS '{where}': too many functions declared "
                          f"for '{mod}': {', '.join(funs)}")
            return None
        if need_fun and not funs:
            errors.append(f"No function declared in state '{mod}' in SLS '{where}' "
                          f"(state id '{state_id}')")
            return None
        if mod in decls:
            errors.append(f"State '{state_id}' in SLS '{where}': '{mod}' is declared twice")
            return None
        decls[mod] = items
    return decls
