"""Copy files from the file server (`salt://` URLs) to this minion."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from common.fileroots import FileServerError, split_url
from minion.context import Context

__all__ = [
    "cache_dir", "cache_file", "get_dir", "get_file", "get_file_str", "hash_file",
    "list_master", "list_master_dirs", "list_states",
]


def get_file(ctx: Context, path: str, dest: str, saltenv: str = "base",
             makedirs: bool = False) -> str:
    """Copy a file from the file server to `dest`; return `dest`, or '' if it is missing.

    path
        ``salt://path/in/roots`` (``?saltenv=dev`` may choose the environment).
    dest
        Absolute destination; an existing directory receives the file under
        its own name.
    makedirs
        Create missing parent directories of `dest`.

    CLI Example:

        master run '*' cp.get_file salt://motd /etc/motd
    """
    rel, env = split_url(path, saltenv)
    target = _dest(dest, rel)
    try:
        cached = ctx.fileclient().cache_file(env, rel)
    except FileServerError as exc:
        if "no file" in str(exc):
            return ""
        raise
    if not target.parent.is_dir():
        if not makedirs:
            raise FileNotFoundError(f"{target.parent} does not exist (pass makedirs=True)")
        target.parent.mkdir(parents=True)
    _copy_atomic(cached, target)
    return str(target)


def get_dir(ctx: Context, path: str, dest: str, saltenv: str = "base") -> list[str]:
    """Copy a directory tree from the file server under `dest`; return the files written.

    The directory keeps its name: ``salt://web/conf`` lands in ``dest/conf``.

    CLI Example:

        master run '*' cp.get_dir salt://web/conf /srv
    """
    rel, env = split_url(path, saltenv)
    base = Path(_absolute(dest))
    parent = rel.rsplit("/", 1)[0] if "/" in rel else ""
    written = []
    for item, cached in sorted(ctx.fileclient().cache_tree(env, rel).items()):
        local = base / (item[len(parent) + 1:] if parent else item)
        local.parent.mkdir(parents=True, exist_ok=True)
        _copy_atomic(cached, local)
        written.append(str(local))
    return written


def cache_file(ctx: Context, path: str, saltenv: str = "base") -> str:
    """Fetch a file into the minion's cache and return its local path ('' if missing).

    CLI Example:

        master run '*' cp.cache_file salt://web/index.html
    """
    rel, env = split_url(path, saltenv)
    try:
        return str(ctx.fileclient().cache_file(env, rel))
    except FileServerError as exc:
        if "no file" in str(exc):
            return ""
        raise


def cache_dir(ctx: Context, path: str, saltenv: str = "base") -> list[str]:
    """Fetch every file under a directory into the cache; return their local paths.

    CLI Example:

        master run '*' cp.cache_dir salt://web
    """
    rel, env = split_url(path, saltenv)
    return [str(p) for _, p in sorted(ctx.fileclient().cache_tree(env, rel).items())]


def get_file_str(ctx: Context, path: str, saltenv: str = "base") -> str:
    """Return the text of a file on the file server.

    CLI Example:

        master run '*' cp.get_file_str salt://motd
    """
    rel, env = split_url(path, saltenv)
    return ctx.fileclient().cache_file(env, rel).read_text(encoding="utf-8")


def list_master(ctx: Context, saltenv: str = "base", prefix: str = "") -> list[str]:
    """List the files the file server has in an environment (under `prefix`).

    CLI Example:

        master run '*' cp.list_master prefix=web
    """
    return ctx.fileclient().list(saltenv, prefix)


def list_states(ctx: Context, saltenv: str | None = None) -> list[str]:
    """List the SLS names the file server has in an environment, sorted.

    ``a/b.sls`` is ``a.b`` and ``a/init.sls`` is ``a``.

    saltenv
        The environment (default: the minion's ``saltenv`` option, else ``base``).

    CLI Example:

        master run '*' cp.list_states
    """
    env = saltenv or ctx.opts.get("saltenv") or "base"
    states = set()
    for path in ctx.fileclient().list(env):
        if path.endswith("/init.sls"):
            states.add(path[:-9].replace("/", "."))
        elif path.endswith(".sls"):
            states.add(path[:-4].replace("/", "."))
    return sorted(states)


def list_master_dirs(ctx: Context, saltenv: str = "base", prefix: str = "") -> list[str]:
    """List the directories the file server has in an environment.

    CLI Example:

        master run '*' cp.list_master_dirs
    """
    return ctx.fileclient().list(saltenv, prefix, dirs=True)


def hash_file(ctx: Context, path: str, saltenv: str = "base") -> dict[str, Any]:
    """Return the sha256 of a file on the file server, as ``{hash_type, hsum}``.

    CLI Example:

        master run '*' cp.hash_file salt://motd
    """
    rel, env = split_url(path, saltenv)
    try:
        stat = ctx.fileclient().stat(env, rel)
    except FileServerError as exc:
        if "no file" in str(exc):
            return {}
        raise
    return {"hash_type": "sha256", "hsum": stat["hash"]}


def _absolute(dest: str) -> str:
    if not os.path.isabs(dest):
        raise ValueError(f"destination must be an absolute path: {dest!r}")
    return dest


def _dest(dest: str, rel: str) -> Path:
    target = Path(_absolute(dest))
    if target.is_dir():
        target = target / rel.rsplit("/", 1)[-1]
    return target


def _copy_atomic(src: Path, dest: Path) -> None:
    fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.")
    os.close(fd)
    try:
        shutil.copyfile(src, tmp)
        if dest.exists():
            shutil.copymode(dest, tmp)
        else:
            os.chmod(tmp, 0o644)
        os.replace(tmp, dest)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
