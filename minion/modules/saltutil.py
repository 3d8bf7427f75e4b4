"""Manage the minion itself: sync custom modules, refresh data, see and stop jobs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from common.crypto import write_private
from minion.context import AgentServices, Context

__all__ = [
    "find_job", "kill_job", "refresh_grains", "refresh_modules", "refresh_pillar", "running",
    "sync_all", "sync_grains", "sync_modules", "sync_states",
]

# salt:// directory -> the kind of extension it holds
SYNC_DIRS = {"modules": "_modules", "grains": "_grains", "states": "_states"}


def _agent(ctx: Context) -> AgentServices:
    if ctx.agent is None:
        raise RuntimeError("this needs the running minion daemon (use master run)")
    return ctx.agent


def extmods_dir(opts: Any, kind: str) -> Path:
    """Where synced extensions of one kind live: ``cachedir/extmods/<kind>``."""
    return Path(opts["cachedir"]) / "extmods" / kind


def _sync(ctx: Context, kind: str, saltenv: str) -> list[str]:
    """Mirror ``salt://_<kind>/*.py`` into the extmods dir; return what changed."""
    files = ctx.fileclient()
    source = SYNC_DIRS[kind]
    wanted = {p.rsplit("/", 1)[-1]: p for p in files.list(saltenv, source)
              if p.endswith(".py") and p.count("/") == 1}
    target = extmods_dir(ctx.opts, kind)
    target.mkdir(parents=True, exist_ok=True, mode=0o700)
    changed = []
    for name, rel in sorted(wanted.items()):
        data = files.cache_file(saltenv, rel).read_bytes()
        local = target / name
        if not local.exists() or local.read_bytes() != data:
            write_private(local, data)
            changed.append(f"{kind}.{name[:-3]}")
    for stale in target.glob("*.py"):
        if stale.name not in wanted:
            stale.unlink()
            changed.append(f"{kind}.{stale.stem} (removed)")
    return changed


def sync_modules(ctx: Context, saltenv: str = "base", refresh: bool = True) -> list[str]:
    """Sync custom execution modules from ``salt://_modules`` and load them.

    CLI Example:

        master run '*' saltutil.sync_modules
    """
    changed = _sync(ctx, "modules", saltenv)
    if refresh and ctx.agent is not None:
        ctx.agent.reload_modules()
    return changed


def sync_grains(ctx: Context, saltenv: str = "base", refresh: bool = True) -> list[str]:
    """Sync custom grain modules from ``salt://_grains`` and recompute grains.

    CLI Example:

        master run '*' saltutil.sync_grains
    """
    changed = _sync(ctx, "grains", saltenv)
    if refresh and ctx.agent is not None:
        ctx.agent.refresh_grains()
    return changed


def sync_states(ctx: Context, saltenv: str = "base") -> list[str]:
    """Sync custom state modules from ``salt://_states`` (used by the next state run).

    CLI Example:

        master run '*' saltutil.sync_states
    """
    return _sync(ctx, "states", saltenv)


def sync_all(ctx: Context, saltenv: str = "base", refresh: bool = True) -> dict[str, list[str]]:
    """Sync every kind of extension (modules, states, grains) and reload them.

    CLI Example:

        master run '*' saltutil.sync_all
    """
    return {"modules": sync_modules(ctx, saltenv, refresh),
            "states": sync_states(ctx, saltenv),
            "grains": sync_grains(ctx, saltenv, refresh)}


def refresh_modules(ctx: Context) -> list[str]:
    """Reload the execution modules (built-in and synced); return their names.

    CLI Example:

        master run '*' saltutil.refresh_modules
    """
    return _agent(ctx).reload_modules()


def refresh_grains(ctx: Context) -> bool:
    """Recompute grains (core, config, grains file, synced grain modules).

    CLI Example:

        master run '*' saltutil.refresh_grains
    """
    _agent(ctx).refresh_grains()
    return True


def refresh_pillar(ctx: Context) -> bool:
    """Fetch this minion's pillar again from the master (or local pillar roots).

    CLI Example:

        master run '*' saltutil.refresh_pillar
    """
    _agent(ctx).refresh_pillar()
    return True


def running(ctx: Context) -> list[dict[str, Any]]:
    """List the jobs running on this minion (jid, fun, arg, start time).

    CLI Example:

        master run '*' saltutil.running
    """
    return [job for job in _agent(ctx).running() if job["jid"] != ctx.jid]


def find_job(ctx: Context, jid: str) -> dict[str, Any]:
    """Return the running job `jid`, or {} when it is not running here.

    CLI Example:

        master run '*' saltutil.find_job 20261122012345678901
    """
    for job in _agent(ctx).running():
        if job["jid"] == str(jid):
            return job
    return {}


def kill_job(ctx: Context, jid: str) -> bool:
    """Stop job `jid` by killing the commands it runs; True if there were some.

    CLI Example:

        master run '*' saltutil.kill_job 20261122012345678901
    """
    return _agent(ctx).kill_job(str(jid))
