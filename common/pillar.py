"""Compiling pillar for one minion from `pillar_roots`.

The top file maps targets to pillar SLS files per environment; each SLS is
rendered (jinja then YAML by default) with what Salt gives a pillar SLS:
``grains``, ``opts``, ``salt`` (the minion's functions masterless, the
minion's grains read-only on the master), ``saltenv``, ``sls``, ``tplfile``,
``tpldir``, ``tplpath``, ``slspath``... The results are deep-merged in
top-file order. Errors do not stop compilation: they are collected in
``_errors`` in Salt's words, so a state run can refuse to go on with broken
pillar; the details go to the log (into ``_errors`` too with
``pillar_safe_render_error: False``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from common import targeting
from common.fileroots import FileRoots, FileServerError
from common.jinjafilters import traverse
from common.render import RenderError, path_names, render_sls

MAX_INCLUDE_DEPTH = 20
log = logging.getLogger(__name__)


class RootsSource:
    """Template source over a FileRoots (for jinja includes and imports)."""

    def __init__(self, roots: FileRoots) -> None:
        self.roots = roots

    def get_source(self, env: str, path: str) -> str:
        try:
            return self.roots.find(env, path).read_text(encoding="utf-8")
        except FileServerError as exc:
            raise FileNotFoundError(str(exc)) from None


class GrainFunctions(Mapping[str, Callable[..., Any]]):
    """``salt`` in pillar rendered on the master: the minion's grains, read-only.

    ``salt['grains.get']('os')`` and ``salt['grains.item']('os')`` answer from
    the grains of the minion whose pillar is compiled; other functions do not
    run on the master, and say so.
    """

    def __init__(self, grains: Mapping[str, Any]) -> None:
        self._table: dict[str, Callable[..., Any]] = {
            "grains.get": lambda key, default="", delimiter=":": traverse(
                grains, key, default, delimiter),
            "grains.item": lambda *keys: {k: grains.get(k, "") for k in keys},
            "grains.items": lambda: dict(grains),
            "test.ping": lambda: True,
        }

    def __getitem__(self, fun: str) -> Callable[..., Any]:
        if fun in self._table:
            return self._table[fun]
        raise KeyError(fun)

    def __iter__(self) -> Iterator[str]:
        return iter(self._table)

    def __len__(self) -> int:
        return len(self._table)


def deep_merge(base: dict[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    """Merge `extra` into `base`: nested mappings merge, anything else replaces."""
    for key, value in extra.items():
        if isinstance(value, Mapping) and isinstance(base.get(key), dict):
            deep_merge(base[key], value)
        else:
            base[key] = _copy(value)
    return base


def _copy(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value


def sls_path(name: str) -> list[str]:
    """Candidate files for SLS name ``a.b``: ``a/b.sls`` then ``a/b/init.sls``."""
    base = name.replace(".", "/")
    return [f"{base}.sls", f"{base}/init.sls"]


class PillarCompiler:
    """Compile pillar from one set of roots (the master's or a masterless minion's)."""

    def __init__(self, roots: Mapping[str, Any], opts: Mapping[str, Any],
                 functions: Mapping[str, Callable[..., Any]] | None = None) -> None:
        self.roots = FileRoots(roots)
        self.source = RootsSource(self.roots)
        self.opts = opts
        # `salt` in pillar templates: the minion's execution functions, when given.
        self.functions = functions

    def compile(self, minion_id: str, grains: Mapping[str, Any],
                extra: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """The pillar of one minion; `extra` (inline pillar) is merged last."""
        pillar: dict[str, Any] = {}
        errors: list[str] = []
        for env, names in self.top_matches(minion_id, grains, errors).items():
            for name in names:
                self._merge_sls(env, name, grains, pillar, errors, set(), 0)
        if extra:
            deep_merge(pillar, extra)
        if errors:
            pillar["_errors"] = errors
        return pillar

    def top_matches(self, minion_id: str, grains: Mapping[str, Any],
                    errors: list[str]) -> dict[str, list[str]]:
        """Which SLS names of which environments the top files give this minion."""
        found: dict[str, list[str]] = {}
        minion = {"id": minion_id, "grains": grains, "pillar": {}}
        for top_env in self.roots.envs():
            top = self._render(top_env, "top.sls", grains, errors)
            if top is None:
                continue
            if not isinstance(top, dict):
                errors.append(f"top.sls in {top_env}: expected a mapping of environments")
                continue
            for env, targets in top.items():
                if env not in self.roots.roots:
                    errors.append(f"top.sls in {top_env}: no pillar environment {env!r}")
                    continue
                for name in _matched(targets, minion, env, errors):
                    if name not in found.setdefault(env, []):
                        found[env].append(name)
        return found

    def _render(self, env: str, path: str, grains: Mapping[str, Any],
                errors: list[str]) -> Any:
        try:
            text = self.source.get_source(env, path)
        except FileNotFoundError:
            return None
        sls = path.removesuffix(".sls").removesuffix("/init").replace("/", ".")
        context: dict[str, Any] = {"grains": grains, "opts": self.opts, "saltenv": env,
                                   "pillar": {}, "sls": sls}
        context["salt"] = self.functions if self.functions is not None \
            else GrainFunctions(grains)
        context.update(path_names(sls, path, str(self.roots.find(env, path))))
        try:
            return render_sls(text, path, context, self.source, env)
        except RenderError as exc:
            errors.append(self._render_error(sls, exc))
            return None

    def _render_error(self, sls: str, exc: RenderError) -> str:
        detail = f"Rendering SLS '{sls}' failed, render error:\n{exc}"
        log.critical("%s", detail)
        if self.opts.get("pillar_safe_render_error", True):
            return f"Rendering SLS '{sls}' failed. Please see master log for details."
        return detail

    def _merge_sls(self, env: str, name: str, grains: Mapping[str, Any],
                   pillar: dict[str, Any], errors: list[str], seen: set[str],
                   depth: int) -> None:
        if name in seen or depth > MAX_INCLUDE_DEPTH:
            return
        seen.add(name)
        data: Any = None
        for path in sls_path(name):
            try:
                self.roots.find(env, path)
            except FileServerError:
                continue
            data = self._render(env, path, grains, errors)
            break
        else:
            errors.append(f"Specified SLS '{name}' in environment '{env}' is not available "
                          "on the salt master")
            return
        if data is None:
            return
        if not isinstance(data, dict):
            errors.append(f"SLS '{name}' does not render to a dictionary")
            return
        includes = data.pop("include", [])
        for inc in includes if isinstance(includes, list) else [includes]:
            inc_name = inc if isinstance(inc, str) else next(iter(inc), "")
            if inc_name.startswith("."):
                inc_name = name.rsplit(".", 1)[0] + inc_name if "." in name else inc_name[1:]
            self._merge_sls(env, inc_name, grains, pillar, errors, seen, depth + 1)
        deep_merge(pillar, data)


def _matched(targets: Any, minion: Mapping[str, Any], env: str, errors: list[str]) -> list[str]:
    """SLS names whose target (in one environment of a top file) matches the minion."""
    names: list[str] = []
    if not isinstance(targets, dict):
        errors.append(f"top file: environment {env!r} must map targets to lists of SLS")
        return names
    for tgt, match_type, sls in targeting.top_entries(targets):
        try:
            if targeting.matches(minion, tgt, match_type):
                names.extend(sls)
        except targeting.TargetError as exc:
            errors.append(f"top file {env}: {exc}")
    return names
