"""Files served from `file_roots`: path checks, lookup, listing, hashing, chunks.

Used by the master to serve minions and by a masterless minion to read its
own roots, so both apply exactly the same rules. A path is always relative
to an environment's roots; anything that could step outside a root
(``..``, absolute paths, backslashes, NUL, percent-encoded separators or
dots, symlinks pointing out of the root) is refused.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

CHUNK_MAX = 1024 * 1024
LIST_MAX = 100_000
INLINE_FILE_MAX = 64 * 1024  # files this small travel inside a listing...
INLINE_TOTAL_MAX = 8 * 1024 * 1024  # ...up to this much per reply
_ENCODED = re.compile(r"%(2e|2f|5c|00)", re.IGNORECASE)
_LOGGED_MAX = 1000

log = logging.getLogger(__name__)
# Broken symlinks already reported: a listing runs for every minion, and one
# loop in the roots must not fill the log.
_logged_links: set[str] = set()


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
        return self._stat_real(clean_path(path), self.find(env, path))

    def _stat_real(self, rel: str, real: Path) -> dict[str, Any]:
        st = real.stat()
        key = (str(real), st.st_ino, st.st_size, st.st_mtime_ns)
        digest = self._hashes.get(key)
        if digest is None:
            digest = file_hash(real)
            if len(self._hashes) > 50_000:
                self._hashes.clear()
            self._hashes[key] = digest
        return {"path": rel, "hash": digest, "size": st.st_size, "mode": st.st_mode & 0o777}

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
        return sorted(self._tree(env, prefix, dirs))

    def _tree(self, env: str, prefix: str, dirs: bool = False) -> dict[str, Path]:
        """{relative path: real path} under `prefix`; the first root holding a path wins."""
        start = clean_path(prefix) if prefix.strip("/") else ""
        found: dict[str, Path] = {}
        for root in self._dirs(env):
            for rel, real, is_dir in _walk(root, start):
                if is_dir == dirs and rel not in found:
                    found[rel] = real
                    if len(found) > LIST_MAX:
                        raise FileServerError(f"more than {LIST_MAX} entries; list a subdirectory")
        return found

    def stat_tree(self, env: str, prefix: str = "",
                  inline: Sequence[str] | None = None) -> dict[str, Any]:
        """Stat of every file under `prefix`, with the bytes of the small files named
        in `inline` (within a total budget; the others are fetched in chunks)."""
        stats: dict[str, Any] = {}
        budget = INLINE_TOTAL_MAX
        wanted: set[str] = set(inline or ())
        for rel, real in sorted(self._tree(env, prefix).items()):
            stat = self._stat_real(rel, real)
            if rel in wanted and stat["size"] <= min(INLINE_FILE_MAX, budget):
                stat["data"] = real.read_bytes()
                budget -= stat["size"]
            stats[rel] = stat
        return stats


def _inside(real: Path, root: Path) -> bool:
    return real == root or root in real.parents


def _walk(root: Path, start: str) -> Iterator[tuple[str, Path, bool]]:
    """(relative path, real path, is a directory) under `start`, never leaving `root`.

    Only symlinks are resolved (a plain entry found by walking down from the
    root is inside it), which keeps listing big trees cheap.
    """
    top = root / start if start else root
    if not top.is_dir() or not _inside(top.resolve(), root):
        return
    pending = [top]
    while pending:
        here = pending.pop()
        try:
            entries = sorted(os.scandir(here), key=lambda e: e.name)
        except OSError:
            continue
        for entry in entries:
            if entry.name in (".git", ".svn", ".hg"):
                continue
            full = Path(entry.path)
            if entry.is_symlink():
                try:
                    real = full.resolve()
                except (OSError, RuntimeError) as exc:
                    # Python 3.11 raises RuntimeError on a symlink loop.
                    _log_once(full, exc)
                    continue
                if not _inside(real, root) or not real.exists():
                    continue  # a symlink out of the root is never listed
                is_dir = real.is_dir()
            else:
                real = full
                is_dir = entry.is_dir(follow_symlinks=False)
                if is_dir:
                    pending.append(full)
            yield full.relative_to(root).as_posix(), real, is_dir


def _log_once(link: Path, exc: BaseException) -> None:
    key = str(link)
    if key in _logged_links or len(_logged_links) >= _LOGGED_MAX:
        return
    _logged_links.add(key)
    log.warning("file roots: skipping %s: %s", link, exc)


def file_hash(path: Path, form: str = "sha256") -> str:
    """Hash a file in chunks, never holding it whole in memory."""
    digest = hashlib.new(form)
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK_MAX):
            digest.update(chunk)
    return digest.hexdigest()
