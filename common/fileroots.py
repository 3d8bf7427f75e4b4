"""Files served from `file_roots`: path checks, lookup, listing, hashing, chunks.

Used by the master to serve minions and by a masterless minion to read its
own roots, so both apply exactly the same rules. A path is always relative
to an environment's roots; anything that could step outside a root
(``..``, absolute paths, backslashes, NUL, percent-encoded separators or
dots, symlinks pointing out of the root) is refused.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

CHUNK_MAX = 1024 * 1024
LIST_MAX = 100_000
_ENCODED = re.compile(r"%(2e|2f|5c|00)", re.IGNORECASE)


class FileServerError(Exception):
    """A request the file server refuses or cannot answer; the text says why."""


def clean_path(path: str) -> str:
    """Return `path` (``salt://`` stripped) if it is a safe relative path."""
    if not isinstance(path, str):
        raise FileServerError("path must be a string")
    rel = path[len("salt://"):] if path.startswith("salt://") else path
    rel = rel.split("?", 1)[0]  # salt://x?saltenv=dev is handled by the caller
    if not rel or len(rel) > 4096:
        raise FileServerError(f"bad path {path!r}")
    if "\x00" in rel or "\\" in rel or _ENCODED.search(rel):
        raise FileServerError(f"refused path {path!r}: forbidden characters")
    if rel.startswith("/"):
        raise FileServerError(f"refused path {path!r}: must be relative to the file roots")
    parts = rel.rstrip("/").split("/")
    if any(p in ("", ".", "..") for p in parts):
        raise FileServerError(f"refused path {path!r}: '.', '..' and empty parts are not allowed")
    return "/".join(parts)


def split_url(url: str, saltenv: str) -> tuple[str, str]:
    """Split ``salt://path?saltenv=env`` into (path, env)."""
    env = saltenv
    if "?" in url:
        url, _, query = url.partition("?")
        for item in query.split("&"):
            key, _, value = item.partition("=")
            if key in ("saltenv", "env") and value:
                env = value
    return clean_path(url), env


class FileRoots:
    """The directories of each environment, searched in order."""

    def __init__(self, roots: Mapping[str, Any]) -> None:
        self.roots: dict[str, list[Path]] = {}
        for env, dirs in roots.items():
            if isinstance(dirs, str):
                dirs = [dirs]
            if not isinstance(dirs, list) or not all(isinstance(d, str) for d in dirs):
                raise FileServerError(f"file_roots: {env}: expected a list of directories")
            self.roots[str(env)] = [Path(d).resolve() for d in dirs]
        self._hashes: dict[tuple[str, int, int, int], str] = {}

    def envs(self) -> list[str]:
        return sorted(self.roots)

    def _dirs(self, env: str) -> list[Path]:
        if env not in self.roots:
            raise FileServerError(f"no environment {env!r} in the file roots")
        return self.roots[env]

    def find(self, env: str, path: str) -> Path:
        """The real file behind `path` in `env` (first root wins)."""
        rel = clean_path(path)
        for root in self._dirs(env):
            candidate = root / rel
            if not candidate.exists():
                continue
            real = candidate.resolve()
            if not _inside(real, root):
                raise FileServerError(f"refused path {path!r}: it leads outside the file roots")
            if real.is_file():
                return real
        raise FileServerError(f"no file {rel!r} in environment {env!r}")

    def stat(self, env: str, path: str) -> dict[str, Any]:
        """``{path, hash, size, mode}`` of a file; the hash is sha256, cached by mtime."""
        real = self.find(env, path)
        st = real.stat()
        key = (str(real), st.st_ino, st.st_size, st.st_mtime_ns)
        digest = self._hashes.get(key)
        if digest is None:
            digest = file_hash(real)
            if len(self._hashes) > 50_000:
                self._hashes.clear()
            self._hashes[key] = digest
        return {"path": clean_path(path), "hash": digest, "size": st.st_size,
                "mode": st.st_mode & 0o777}

    def read(self, env: str, path: str, offset: int, size: int) -> bytes:
        """Up to `size` bytes (at most CHUNK_MAX) of a file from `offset`."""
        if offset < 0 or size <= 0:
            raise FileServerError("bad offset or size")
        real = self.find(env, path)
        with open(real, "rb") as handle:
            handle.seek(offset)
            return handle.read(min(size, CHUNK_MAX))

    def list(self, env: str, prefix: str = "", dirs: bool = False) -> list[str]:
        """Relative paths of the files (or directories) under `prefix`, each once."""
        start = clean_path(prefix) if prefix.strip("/") else ""
        found: set[str] = set()
        for root in self._dirs(env):
            for rel, is_dir in _walk(root, start):
                if is_dir == dirs:
                    found.add(rel)
                    if len(found) > LIST_MAX:
                        raise FileServerError(f"more than {LIST_MAX} entries; list a subdirectory")
        return sorted(found)


def _inside(real: Path, root: Path) -> bool:
    return real == root or root in real.parents


def _walk(root: Path, start: str) -> Iterator[tuple[str, bool]]:
    top = root / start if start else root
    if not top.is_dir() or not _inside(top.resolve(), root):
        return
    for dirpath, dirnames, filenames in os.walk(top, followlinks=False):
        here = Path(dirpath)
        for name in dirnames + filenames:
            full = here / name
            if name.startswith(".") and name in (".git", ".svn", ".hg"):
                continue
            try:
                real = full.resolve()
            except OSError:
                continue
            if not _inside(real, root):
                continue  # a symlink out of the root is never listed
            yield full.relative_to(root).as_posix(), real.is_dir()
        dirnames[:] = [d for d in dirnames if d not in (".git", ".svn", ".hg")]


def file_hash(path: Path, form: str = "sha256") -> str:
    """Hash a file in chunks, never holding it whole in memory."""
    digest = hashlib.new(form)
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK_MAX):
            digest.update(chunk)
    return digest.hexdigest()
