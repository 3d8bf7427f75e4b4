"""From SLS names (or the top file) to *high data*, as Salt's HighState builds it.

High data maps each state id to its declarations::

    {"motd": {"file": [{"source": ...}, "managed", {"order": 10001}],
              "__sls__": "web", "__env__": "base",
              "__sls_included_from__": ["main"]},
     "__extend__": [{"id": {...}}], "__exclude__": [...]}

A file's own ids come first, then those of the files it includes; every
declaration without an ``order`` gets the next number from 10000, included
files first (they are rendered first). ``extend`` and ``exclude`` stay in
``__extend__``/``__exclude__`` until the compile step applies them.
"""

from __future__ import annotations

import fnmatch
import re
from typing import Any

from common import targeting
from common.render import RenderError, render_sls
from minion.context import Context
from minion.fileclient import FileClient
from minion.sls.render import sls_context

AUTO_ORDER_START = 10000
NO_TOP_MATCHES = ("No Top file or master_tops data matches found. Please see master log for "
                  "details.")


class TopError(Exception):
    """A top file that cannot be rendered."""


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
        self.high: dict[Any, Any] = {}
        self.errors: list[str] = []
        self.mods: set[str] = set()
        self.processed: set[str] = set()
        self.iorder = AUTO_ORDER_START
        self._avail: dict[str, list[str]] = {}

    # -- what exists ------------------------------------------------------------
    def envs(self) -> list[str]:
        try:
            return list(self.files.envs())
        except Exception:  # an unreachable file server has no environments
            return []

    def avail(self, env: str) -> list[str] | None:
        """The SLS names of `env` (``a/b.sls`` -> ``a.b``, ``a/init.sls`` -> ``a``)."""
        if env not in self._avail:
            if env not in self.envs():
                return None
            names = []
            for path in sorted(self.files.list(env)):
                if not path.endswith(".sls"):
                    continue
                stem = path[:-4]
                if stem.endswith("/init"):
                    stem = stem[:-5]
                names.append(stem.replace("/", "."))
            self._avail[env] = names
        return self._avail[env]

    # -- top file -----------------------------------------------------------------
    def top(self, all_envs: bool = False) -> dict[str, list[str]]:
        """``{env: [sls, ...]}`` the top files assign to this minion (Salt's ``merge``).

        With `all_envs` (a highstate without a saltenv) every environment's top
        file is read: base's is authoritative, another environment's top file
        adds only its own environment's section, and only when base's does not
        have one. An SLS is listed once per matching target, as in Salt.
        """
        tops: list[tuple[str, Any]] = []
        envs = self.envs()
        order = ([e for e in envs if e == "base"] + [e for e in envs if e != "base"]) \
            if all_envs else [self.saltenv]
        for env in order:
            data = self._render_top(env)
            if data:
                tops.append((env, data))
        merged: dict[str, dict[Any, Any]] = {}
        for top_env, data in tops:
            if not isinstance(data, dict):
                continue
            for env, targets in data.items():
                if env == "include" or not isinstance(targets, dict):
                    continue
                if top_env != "base" and (env != top_env or env in merged):
                    continue
                merged.setdefault(str(env), {}).update(targets)
        return self._top_matches(merged, None if all_envs else self.saltenv)

    def _render_top(self, env: str) -> Any:
        try:
            text = self.files.get_source(env, "top.sls")
        except Exception:  # no top file in this environment
            return None
        context = sls_context(self.ctx, env, "", "top.sls")
        try:
            return render_sls(text, "top.sls", context, self.source, env)
        except RenderError as exc:
            raise TopError(str(exc)) from None

    def _top_matches(self, top: dict[str, dict[Any, Any]], only: str | None
                     ) -> dict[str, list[str]]:
        minion = {"id": self.ctx.opts.get("id") or self.ctx.grains.get("id"),
                  "grains": self.ctx.grains, "pillar": self.ctx.pillar}
        matches: dict[str, list[str]] = {}
        for env, targets in top.items():
            if only and env != only:
                continue
            for tgt, data in targets.items():
                entries = [data] if isinstance(data, str) else data
                if not isinstance(entries, list):
                    continue
                kind = "compound"
                for entry in entries:
                    if isinstance(entry, dict) and "match" in entry:
                        kind = str(entry["match"])
                try:
                    hit = targeting.matches(minion, str(tgt), kind)
                except targeting.TargetError:
                    hit = False
                if not hit:
                    continue
                matches.setdefault(env, [])
                for entry in entries:
                    if isinstance(entry, str):
                        matches[env].append(entry)
                    elif isinstance(entry, dict) and len(entry) == 1 and "match" not in entry:
                        ((env_key, sls),) = entry.items()
                        if self.avail(str(env_key)) is not None:
                            matches.setdefault(str(env_key), []).append(str(sls))
        return matches

    # -- SLS files ------------------------------------------------------------------
    def render_matches(self, matches: dict[str, list[str]]) -> None:
        """Render every SLS of `matches` (globs allowed) into the high data."""
        for env, names in matches.items():
            for sls_match in names:
                avail = self.avail(env)
                if avail is None:
                    self.errors.append(
                        f"No matching salt environment for environment '{env}' found")
                    avail = []
                for sls in fnmatch.filter(avail, sls_match) or [sls_match]:
                    if f"{env}:{sls}" in self.mods:
                        continue
                    errors: list[str] = []
                    state = self.render_state(sls, env, matches, errors)
                    if state:
                        merge_states(self.high, state, errors)
                    wanted = f"SLS {sls_match} in saltenv"
                    self.errors.extend(
                        f"No matching sls found for '{sls_match}' in env '{env}'"
                        if "is not available" in e and wanted in e else e for e in errors)
        _dedupe_extends(self.high)

    def add(self, env: str, name: str) -> None:
        """Render SLS `name` of `env` (and what it includes) into the high data."""
        self.render_matches({env: [name]})

    def _find(self, env: str, name: str) -> str | None:
        base = name.replace(".", "/")
        for path in (f"{base}.sls", f"{base}/init.sls"):
            try:
                self.files.stat(env, path)
                return path
            except Exception:  # a missing file (or env) is tried with the next name
                continue
        return None

    def render_state(self, sls: str, env: str, matches: dict[str, list[str]],
                     errors: list[str]) -> dict[Any, Any]:
        """One SLS file and, recursively, its includes (Salt's ``render_state``)."""
        path = self._find(env, sls)
        if path is None:
            errors.append(f"Specified SLS {sls} in saltenv {env} is not available on the "
                          "salt master or through a configured fileserver")
            return {}
        state: Any = None
        try:
            text = self.files.get_source(env, path)
            state = render_sls(text, path, sls_context(self.ctx, env, sls, path),
                               self.source, env)
        except RenderError as exc:
            errors.append(f"Rendering SLS '{env}:{sls}' failed: {exc}")
        self.mods.add(f"{env}:{sls}")
        self.processed.add(sls)
        if not state:
            return {}
        if not isinstance(state, dict):
            errors.append(f"SLS {sls} does not render to a dictionary")
            return {}
        include: list[Any] = []
        if "include" in state:
            if isinstance(state["include"], list):
                include = state.pop("include")
            else:
                errors.append(f"Include Declaration in SLS {sls} is not formed as a list")
        _handle_extend(state, sls, env, errors)
        _handle_exclude(state, sls, errors)
        handle_state_decls(state, sls, env, errors)
        for entry in include:
            self._include(state, entry, sls, env, path, matches, errors)
        self._auto_order(state)
        return state

    def _include(self, state: dict[Any, Any], entry: Any, sls: str, env: str, path: str,
                 matches: dict[str, list[str]], errors: list[str]) -> None:
        env_key = env
        if isinstance(entry, dict) and entry:
            env_key, entry = next(iter(entry.items()))
            env_key = str(env_key)
        inc = str(entry)
        if self.avail(env_key) is None:
            errors.append(f"Nonexistent saltenv '{env_key}' found in include of '{inc}' "
                          f"within SLS '{env}:{sls}'")
            return
        if inc.startswith("."):
            levels, rest = re.match(r"^(\.+)(.*)$", inc).groups()  # type: ignore[union-attr]
            comps = sls.split(".") + (["init"] if path.endswith("/init.sls") else [])
            if len(levels) > len(comps):
                errors.append(f"Attempted relative include of '{inc}' within SLS "
                              f"'{env}:{sls}' goes beyond top level package ")
                return
            inc = ".".join([*comps[:-len(levels)], rest])
        if not (env_key in matches or fnmatch.filter(self.avail(env_key) or [], inc)):
            errors.append(f"Unknown include: Specified SLS {env_key}: {inc} is not available "
                          f"on the salt master in saltenv(s): {env_key} ")
            return
        for target in fnmatch.filter(self.avail(env) or [], inc) or [inc]:
            if f"{env_key}:{target}" in self.mods:
                continue
            nstate = self.render_state(target, env_key, matches, errors)
            for key, body in nstate.items():
                if not str(key).startswith("__") and isinstance(body, dict):
                    body.setdefault("__sls_included_from__", []).append(sls)
            if nstate:
                merge_states(state, nstate, errors)

    def _auto_order(self, state: dict[Any, Any]) -> None:
        self.iorder = auto_order(state, self.iorder)

    def finish(self) -> tuple[dict[Any, Any], list[str]]:
        """The high data and every error met while gathering it."""
        return self.high, self.errors


# -- per-file steps ----------------------------------------------------------------


def auto_order(state: dict[Any, Any], start: int) -> int:
    """Give each declaration without ``order`` the next number; return the next free one."""
    for body in state.values():
        if not isinstance(body, dict):
            continue
        for decl, run in body.items():
            if str(decl).startswith("_") or not isinstance(run, list):
                continue
            if not any(isinstance(a, dict) and a and next(iter(a)) == "order" for a in run):
                run.append({"order": start})
                start += 1
    return start


def _split_decls(body: dict[Any, Any]) -> None:
    """``file.managed: [...]`` -> ``file: [..., "managed"]`` (the function goes last)."""
    for key in list(body):
        if str(key).startswith("_") or not isinstance(body[key], list) or "." not in str(key):
            continue
        mod, fun = str(key).split(".")[:2]
        body[mod] = body.pop(key)
        body[mod].append(fun)


def handle_state_decls(state: dict[Any, Any], sls: str, env: str, errors: list[str]) -> None:
    """Pad short forms and move ``mod.fun`` keys' functions into their lists (Salt's way)."""
    for name in list(state):
        body = state[name]
        if name in ("__extend__", "__exclude__"):
            continue
        if not isinstance(body, dict):
            if isinstance(body, str) and "." in body:
                mod, fun = body.split(".")[:2]
                state[name] = {"__sls__": sls, "__env__": env, mod: [fun]}
                continue
            errors.append(f"ID {name} in SLS {sls} is not a dictionary")
            continue
        seen: set[str] = set()
        for key in list(body):
            if str(key).startswith("_") or not isinstance(body[key], list):
                continue
            if "." in str(key):
                mod, fun = str(key).split(".")[:2]
                if mod in seen:
                    errors.append(f"ID '{name}' in SLS '{sls}' contains multiple state "
                                  "declarations of the same type")
                    continue
                body[mod] = body.pop(key)
                body[mod].append(fun)
                seen.add(mod)
                continue
            seen.add(str(key))
        body.setdefault("__sls__", sls)
        body.setdefault("__env__", env)


def _handle_extend(state: dict[Any, Any], sls: str, env: str, errors: list[str]) -> None:
    if "extend" not in state:
        return
    ext = state.pop("extend")
    if not isinstance(ext, dict):
        errors.append(f"Extension value in SLS '{sls}' is not a dictionary")
        return
    for name, body in ext.items():
        if not isinstance(body, dict):
            errors.append(f"Extension name '{name}' in SLS '{sls}' is not a dictionary")
            continue
        body.setdefault("__sls__", sls)
        body.setdefault("__env__", env)
        _split_decls(body)
    state.setdefault("__extend__", []).append(ext)


def _handle_exclude(state: dict[Any, Any], sls: str, errors: list[str]) -> None:
    if "exclude" not in state:
        return
    exc = state.pop("exclude")
    if not isinstance(exc, list):
        errors.append(f"Exclude Declaration in SLS {sls} is not formed as a list")
        return
    state.setdefault("__exclude__", []).extend(exc)


def merge_states(high: dict[Any, Any], state: dict[Any, Any], errors: list[str]) -> None:
    """Add one rendered file's ids to `high`; the same id with another body is an error."""
    if "__extend__" in state:
        high.setdefault("__extend__", []).extend(state.pop("__extend__"))
    if "__exclude__" in state:
        high.setdefault("__exclude__", []).extend(state.pop("__exclude__"))
    for id_, body in state.items():
        if id_ in high and high[id_] != body:
            old = high[id_] if isinstance(high[id_], dict) else {}
            new = body if isinstance(body, dict) else {}
            errors.append(
                "Detected conflicting IDs, SLS IDs need to be globally unique.\n    The "
                f"conflicting ID is '{id_}' and is found in SLS '{old.get('__env__')}:"
                f"{old.get('__sls__')}' and SLS '{new.get('__env__')}:{new.get('__sls__')}'")
    high.update(state)


def _dedupe_extends(high: dict[Any, Any]) -> None:
    if "__extend__" not in high:
        return
    items: list[tuple[Any, Any]] = []
    for ext in high["__extend__"]:
        for item in ext.items():
            if item not in items:
                items.append(item)
    high["__extend__"] = [{k: v} for k, v in items]
