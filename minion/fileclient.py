"""Getting files from the file server: the master's (remote) or our own roots (local).

Both clients have one interface, so `cp.*`, templates and states do not care
where files come from. The remote client keeps a cache under
``cachedir/files/<env>/`` and revalidates it by sha256, so an unchanged file
is not transferred again; big files stream in chunks to a temp file and are
checked before they replace the cached copy.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol

from common.fileroots import CHUNK_MAX, FileRoots, FileServerError, clean_path, file_hash

_ENV_RE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}\Z")


class Channel(Protocol):
    def request(self, body: dict[str, Any], timeout: float = 30.0) -> dict[str, Any]:
        """Send a boxed request to the master; raise FileServerError on refusal."""
        ...


class FileClient(Protocol):
    def envs(self) -> list[str]: ...
    def list(self, env: str, prefix: str = "", dirs: bool = False) -> list[str]: ...
    def stat(self, env: str, path: str) -> dict[str, Any]: ...
    def cache_file(self, env: str, path: str) -> Path: ...
    def cache_tree(self, env: str, prefix: str) -> dict[str, Path]: ...
    def get_source(self, env: str, path: str) -> str: ...


def check_env(env: str) -> str:
    if not isinstance(env, str) or not _ENV_RE.match(env):
        raise FileServerError(f"bad environment name {env!r}")
    return env


class LocalFileClient:
    """Files from this minion's own `file_roots` (masterless)."""

    def __init__(self, roots: Mapping[str, Any]) -> None:
        self.roots = FileRoots(roots)

    def envs(self) -> list[str]:
        return self.roots.envs()

    def list(self, env: str, prefix: str = "", dirs: bool = False) -> list[str]:
        return self.roots.list(env, prefix, dirs)

    def stat(self, env: str, path: str) -> dict[str, Any]:
        return self.roots.stat(env, path)

    def cache_file(self, env: str, path: str) -> Path:
        return self.roots.find(env, path)

    def cache_tree(self, env: str, prefix: str) -> dict[str, Path]:
        """Every file under `prefix`: {relative path: local path}."""
        return {rel: self.roots.find(env, rel) for rel in self.roots.list(env, prefix)}

    def get_source(self, env: str, path: str) -> str:
        try:
            return self.cache_file(env, path).read_text(encoding="utf-8")
        except FileServerError as exc:
            raise FileNotFoundError(str(exc)) from None


class RemoteFileClient:
    """Files from the master, cached locally and revalidated by hash."""

    def __init__(self, channel: Channel, cachedir: str) -> None:
        self.channel = channel
        self.cache = Path(cachedir) / "files"
        # sha256 of cached files by (path, size, mtime): revalidating an
        # unchanged cache entry then costs a stat, not a read of the file.
        self._hashes: dict[Path, tuple[int, int, str]] = {}

    def envs(self) -> list[str]:
        """The environments the master's file roots define."""
        envs = self.channel.request({"kind": "file_envs"}).get("envs")
        if not isinstance(envs, list):
            raise FileServerError("bad file_envs reply from the master")
        return [str(e) for e in envs]

    def _local_hash(self, path: Path) -> str | None:
        try:
            st = path.stat()
        except OSError:
            return None
        known = self._hashes.get(path)
        if known is not None and known[:2] == (st.st_size, st.st_mtime_ns):
            return known[2]
        digest = file_hash(path)
        self._hashes[path] = (st.st_size, st.st_mtime_ns, digest)
        return digest

    def cache_tree(self, env: str, prefix: str) -> dict[str, Path]:
        """Fetch every file under `prefix`: one listing with hashes, then the stale
        small files inline in one more request, and big ones in chunks."""
        stats = self._stat_tree(env, prefix, None)
        locals_ = {rel: self.cache / env / clean_path(rel) for rel in stats}
        stale = [rel for rel, stat in stats.items()
                 if self._local_hash(locals_[rel]) != stat.get("hash")]
        if stale:
            fresh = self._stat_tree(env, prefix, stale)
            for rel in stale:
                stat = fresh.get(rel) or stats[rel]
                data = stat.get("data")
                if isinstance(data, bytes):
                    self._store(locals_[rel], data, str(stat["hash"]))
                else:
                    self._download(env, rel, stat, locals_[rel])
        return locals_

    def _stat_tree(self, env: str, prefix: str, inline: list[str] | None) -> dict[str, Any]:
        body: dict[str, Any] = {"kind": "file_list", "saltenv": check_env(env),
                                "prefix": prefix, "stat": True}
        if inline is not None:
            body["inline"] = inline
        stats = self.channel.request(body).get("stats")
        if not isinstance(stats, dict):
            raise FileServerError("bad file_list reply from the master")
        return {str(rel): stat for rel, stat in stats.items() if isinstance(stat, dict)}

    def _store(self, local: Path, data: bytes, digest: str) -> None:
        local.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        tmp = local.with_name(f".{local.name}.part")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        if hashlib.sha256(data).hexdigest() != digest:
            tmp.unlink(missing_ok=True)
            raise FileServerError(f"{local.name}: bad hash in the master's reply")
        os.replace(tmp, local)
        self._remember(local, digest)

    def _remember(self, local: Path, digest: str) -> None:
        st = local.stat()
        self._hashes[local] = (st.st_size, st.st_mtime_ns, digest)

    def list(self, env: str, prefix: str = "", dirs: bool = False) -> list[str]:
        reply = self.channel.request({"kind": "file_list", "saltenv": check_env(env),
                                      "prefix": prefix, "dirs": dirs})
        return [str(p) for p in reply.get("files") or []]

    def stat(self, env: str, path: str) -> dict[str, Any]:
        reply = self.channel.request({"kind": "file_stat", "saltenv": check_env(env),
                                      "path": clean_path(path)})
        stat = reply.get("stat")
        if not isinstance(stat, dict) or not isinstance(stat.get("hash"), str):
            raise FileServerError("bad file_stat reply from the master")
        return stat

    def cache_file(self, env: str, path: str) -> Path:
        rel = clean_path(path)
        stat = self.stat(env, rel)
        local = self.cache / check_env(env) / rel
        if self._local_hash(local) != stat["hash"]:
            self._download(env, rel, stat, local)
        return local

    def _download(self, env: str, rel: str, stat: dict[str, Any], local: Path) -> None:
        local.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        tmp = local.with_name(f".{local.name}.part")
        try:
            if self._fetch(env, rel, int(stat["size"]), tmp) != stat["hash"]:
                raise FileServerError(f"{rel}: changed on the master while it was fetched")
            os.replace(tmp, local)
            self._remember(local, str(stat["hash"]))
        finally:
            tmp.unlink(missing_ok=True)

    def _fetch(self, env: str, rel: str, size: int, tmp: Path) -> str:
        """Stream the file into `tmp` chunk by chunk; return its sha256."""
        digest = hashlib.sha256()
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as out:
            offset = 0
            while offset < size or size == 0:
                reply = self.channel.request({"kind": "file_read", "saltenv": env, "path": rel,
                                              "offset": offset, "size": CHUNK_MAX})
                data = reply.get("data")
                if not isinstance(data, bytes):
                    raise FileServerError("bad file_read reply from the master")
                if not data:
                    break
                out.write(data)
                digest.update(data)
                offset += len(data)
        return digest.hexdigest()

    def get_source(self, env: str, path: str) -> str:
        try:
            return self.cache_file(env, path).read_text(encoding="utf-8")
        except FileServerError as exc:
            raise FileNotFoundError(str(exc)) from None
