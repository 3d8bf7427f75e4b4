"""What the master serves to accepted minions: files from `file_roots`, pillar.

Every handler gets the authenticated minion id from the server (never from
the request body), so a minion can read only its own pillar. A refused
request raises `Refused`; the server answers it inside the minion's box.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from common import codec
from common.fileroots import FileRoots, FileServerError
from common.pillar import PillarCompiler, deep_merge
from common.ratelog import RateLog
from master.ext_pillar import ExtPillar

log = logging.getLogger(__name__)

# What a minion says about itself (grains, a pillar override) is kept and
# walked by every grain or pillar target, so it is bounded before use: real
# grains nest a few levels and weigh tens of kilobytes.
MAX_DATA_DEPTH = 64
MAX_DATA_ITEMS = 200_000
MAX_DATA_CHARS = 16 * 1024 * 1024


class Refused(Exception):
    """A minion request that is understood but not allowed or not possible."""


def data_problem(value: Any) -> str | None:
    """Why `value` is too deep or too big to keep from a minion, or None if it is fine."""
    # Iterative, so the check itself cannot run out of stack.
    stack: list[tuple[Any, int]] = [(value, 0)]
    items = chars = 0
    while stack:
        node, depth = stack.pop()
        items += 1
        if items > MAX_DATA_ITEMS:
            return f"more than {MAX_DATA_ITEMS} items"
        if isinstance(node, str | bytes):
            chars += len(node)
            if chars > MAX_DATA_CHARS:
                return f"more than {MAX_DATA_CHARS} characters"
        elif isinstance(node, dict | list | tuple):
            if depth >= MAX_DATA_DEPTH:
                return f"nested deeper than {MAX_DATA_DEPTH} levels"
            children = [*node.keys(), *node.values()] if isinstance(node, dict) else node
            stack.extend((child, depth + 1) for child in children)
    return None


def bounded_grains(grains: dict[str, Any]) -> dict[str, Any]:
    """The cached grains of each minion, without any that are too deep or too big."""
    kept = {}
    for minion, data in grains.items():
        why = data_problem(data) if isinstance(data, dict) else "not a map"
        if why is None:
            kept[minion] = data
        else:
            log.warning("cached grains of %s ignored: %s", minion, why)
    return kept


class Resources:
    """The file server and pillar compiler, with each minion's last pillar."""

    def __init__(self, opts: Mapping[str, Any]) -> None:
        self.opts = opts
        self.files = FileRoots(opts["file_roots"])
        self.pillar = PillarCompiler(opts["pillar_roots"], _pillar_opts(opts))
        self.ext = ExtPillar(opts)
        self.pillars: dict[str, dict[str, Any]] = {}
        self.ratelog = RateLog(log)

    def check_data(self, minion: str, what: str, value: Any) -> None:
        """Refuse (and log, once a minute per minion) data too deep or too big to keep."""
        why = data_problem(value)
        if why is not None:
            self.ratelog.warning(f"data:{minion}", "%s from %s refused, not stored: %s",
                                 what, minion, why)
            raise Refused(f"{what} refused: {why}")

    def handlers(self) -> dict[str, Any]:
        return {
            "file_list": self.file_list,
            "file_stat": self.file_stat,
            "file_read": self.file_read,
            "file_envs": lambda minion, body: {"envs": self.files.envs()},
        }

    def file_list(self, minion: str, body: dict[str, Any]) -> dict[str, Any]:
        env, prefix = _env(body), str(body.get("prefix") or "")
        if body.get("stat"):
            # One round trip for a whole tree: hashes, and small files' bytes.
            inline = body.get("inline")
            wanted = [str(p) for p in inline] if isinstance(inline, list) else None
            stats = self._guard(minion, lambda: self.files.stat_tree(env, prefix, wanted))
            return {"files": sorted(stats), "stats": stats}
        return {"files": self._guard(minion, lambda: self.files.list(
            env, prefix, dirs=bool(body.get("dirs"))))}

    def file_stat(self, minion: str, body: dict[str, Any]) -> dict[str, Any]:
        env, path = _env(body), codec.field(body, "path", str)
        return {"stat": self._guard(minion, lambda: self.files.stat(env, path))}

    def file_read(self, minion: str, body: dict[str, Any]) -> dict[str, Any]:
        env, path = _env(body), codec.field(body, "path", str)
        offset, size = codec.field(body, "offset", int), codec.field(body, "size", int)
        log.debug("file_read from %s: %s %s @%d", minion, env, path, offset)
        return {"data": self._guard(minion, lambda: self.files.read(env, path, offset, size))}

    def _guard(self, minion: str, action: Any) -> Any:
        try:
            return action()
        except FileServerError as exc:
            log.warning("file request from %s refused: %s", minion, exc)
            raise Refused(str(exc)) from None
        except OSError as exc:
            log.error("file request from %s failed: %s", minion, exc)
            raise Refused(f"cannot read: {exc.strerror}") from None

    def compile_pillar(self, minion: str, body: dict[str, Any],
                       grains: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Compile this minion's pillar (inline `pillar` overrides merge last)."""
        grains = grains or {}
        override = body.get("pillar_override")
        if isinstance(override, dict) and override:
            self.check_data(minion, "pillar_override", override)
        pillar = self.pillar.compile(minion, grains)
        deep_merge(pillar, self.ext.compile(minion, grains, pillar))
        if isinstance(override, dict) and override:
            deep_merge(pillar, override)
        else:
            # Only the pillar the master itself compiled is used for targeting.
            self.pillars[minion] = pillar
        return {"pillar": pillar}

    def forget(self, minion: str) -> None:
        self.pillars.pop(minion, None)


def _env(body: dict[str, Any]) -> str:
    env = body.get("saltenv") or "base"
    if not isinstance(env, str):
        raise Refused("saltenv must be a string")
    return env


def _pillar_opts(opts: Mapping[str, Any]) -> dict[str, Any]:
    # Templates see the master's settings, but never its key paths.
    hidden = ("pki_dir", "autosign_file")
    return {k: v for k, v in opts.items() if k not in hidden}
