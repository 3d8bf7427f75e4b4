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
from master.ext_pillar import ExtPillar

log = logging.getLogger(__name__)


class Refused(Exception):
    """A minion request that is understood but not allowed or not possible."""


class Resources:
    """The file server and pillar compiler, with each minion's last pillar."""

    def __init__(self, opts: Mapping[str, Any]) -> None:
        self.opts = opts
        self.files = FileRoots(opts["file_roots"])
        self.pillar = PillarCompiler(opts["pillar_roots"], _pillar_opts(opts))
        self.ext = ExtPillar(opts)
        self.pillars: dict[str, dict[str, Any]] = {}

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
        pillar = self.pillar.compile(minion, grains)
        deep_merge(pillar, self.ext.compile(minion, grains, pillar))
        override = body.get("pillar_override")
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
