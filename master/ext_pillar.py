"""External pillar sources, configured as a list under `ext_pillar:`.

- ``minion_dir: DIR``: ``DIR/<minion id>.yaml`` (or every ``*.yaml`` in
  ``DIR/<minion id>/``) is that minion's pillar.
- ``git: {url: URL, branch: main, root: ''}``: a git repository of pillar
  data with its own ``top.sls``, cloned and refreshed with the git command
  into ``cachedir/git_pillar``.

Errors in a source land in the pillar's ``_errors`` like any pillar error.
"""

from __future__ import annotations

import hashlib
import logging
import subprocess
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from common import yamlload
from common.ids import InvalidId, check_minion_id
from common.pillar import PillarCompiler, deep_merge

log = logging.getLogger(__name__)
GIT_TIMEOUT = 120
GIT_REFRESH_SECONDS = 60


class ExtPillar:
    def __init__(self, opts: Mapping[str, Any]) -> None:
        self.opts = opts
        self.sources: list[dict[str, Any]] = []
        raw = opts.get("ext_pillar") or []
        if not isinstance(raw, list):
            raise ValueError("ext_pillar must be a list of sources")
        for entry in raw:
            if not isinstance(entry, dict) or len(entry) != 1:
                raise ValueError(f"ext_pillar: each entry is one 'kind: settings' pair: {entry!r}")
            self.sources.append(entry)
        self._fetched: dict[str, float] = {}
        self._git_lock = threading.Lock()  # compiles run in worker threads

    def compile(self, minion: str, grains: Mapping[str, Any],
                pillar: Mapping[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        errors: list[str] = []
        for entry in self.sources:
            (kind, conf), = entry.items()
            try:
                if kind == "minion_dir":
                    top = Path(self.opts.get("root_dir") or ".", str(conf))
                    deep_merge(out, _minion_dir(top, minion))
                elif kind == "git":
                    deep_merge(out, self._git(conf, minion, grains))
                else:
                    errors.append(f"ext_pillar: unknown source {kind!r}")
            except (OSError, ValueError, subprocess.SubprocessError) as exc:
                errors.append(f"ext_pillar {kind}: {exc}")
        if errors:
            out["_errors"] = list(pillar.get("_errors", [])) + errors
        return out

    def _git(self, conf: Any, minion: str, grains: Mapping[str, Any]) -> dict[str, Any]:
        if not isinstance(conf, dict) or not isinstance(conf.get("url"), str):
            raise ValueError("git needs a mapping with a 'url'")
        url, branch = conf["url"], str(conf.get("branch") or "main")
        tag = hashlib.sha256(f"{url}\0{branch}".encode()).hexdigest()[:16]
        checkout = Path(self.opts["cachedir"]) / "git_pillar" / tag
        with self._git_lock:
            if time.monotonic() - self._fetched.get(tag, -1e9) > GIT_REFRESH_SECONDS:
                _git_sync(url, branch, checkout)
                self._fetched[tag] = time.monotonic()
        root = checkout / str(conf.get("root") or "")
        compiler = PillarCompiler({"base": [str(root)]}, self.opts)
        return compiler.compile(minion, grains)


def _minion_dir(top: Path, minion: str) -> dict[str, Any]:
    try:
        check_minion_id(minion)
    except InvalidId as exc:
        raise ValueError(str(exc)) from None
    files = [top / f"{minion}.yaml"]
    if (top / minion).is_dir():
        files += sorted((top / minion).glob("*.yaml"))
    out: dict[str, Any] = {}
    for path in files:
        if path.is_file():
            data = yamlload.load(path.read_text(encoding="utf-8"), str(path))
            if data is not None and not isinstance(data, dict):
                raise ValueError(f"{path}: expected a mapping")
            deep_merge(out, data or {})
    return out


def _git_sync(url: str, branch: str, checkout: Path) -> None:
    """Clone `url` at `branch`, or fetch and reset an existing clone."""
    def git(*args: str, cwd: Path | None = None) -> None:
        proc = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True,
                              timeout=GIT_TIMEOUT, env={"GIT_TERMINAL_PROMPT": "0",
                                                        "PATH": "/usr/bin:/bin"})
        if proc.returncode != 0:
            raise ValueError(f"git {args[0]} failed: {proc.stderr.strip().splitlines()[-1:]}")

    if (checkout / ".git").is_dir():
        git("fetch", "--quiet", "--depth", "1", "origin", branch, cwd=checkout)
        git("reset", "--quiet", "--hard", "FETCH_HEAD", cwd=checkout)
    else:
        checkout.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        git("clone", "--quiet", "--depth", "1", "--branch", branch, "--", url, str(checkout))
