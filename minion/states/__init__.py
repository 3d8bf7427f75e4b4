"""State modules: idempotent functions that bring one thing into a wanted state.

Contract for every state function (`minion/states/<name>.py`):

- Signature ``fun(ctx: Context, name: str, ...) -> dict``; the exposed names
  are listed in ``__all__`` (``mod_watch`` too, when the module has one).
- Return ``{"name": name, "result": True | False | None, "changes": {...},
  "comment": "one or more sentences"}`` (build it with `minion.states.result`).
- The rhythm: read the actual state, build the wanted one, diff. Nothing to
  do: ``result True``, no changes. ``ctx.test`` is True: change nothing and
  return ``result None`` with the changes that would be made. Otherwise fix
  only what differs and report exactly that in ``changes``.
- Talk to the host through execution functions (``ctx.call("file.x", ...)``)
  or `ctx.run`; never through another state module.
- ``mod_watch(ctx, name, sfun=None, **kwargs)`` is called when a watched
  state changed (service restart, cmd.wait running its command).
- The engine handles for every state: requisites, ``onlyif``/``unless``/
  ``creates``, ``order``, ``names``, ``parallel``, ``failhard``; a state
  function never sees those arguments.

`STATE_MODULES` lists the built-in state modules for the loader.
"""

from __future__ import annotations

STATE_MODULES: dict[str, str] = {
    "test": "minion.states.test",
    "file": "minion.states.file",
    "cmd": "minion.states.cmd",
    "pkg": "minion.states.pkg",
    "service": "minion.states.service",
    "user": "minion.states.user",
    "group": "minion.states.group",
    "host": "minion.states.host",
    "cron": "minion.states.cron",
    "module": "minion.states.module",
    "ini": "minion.states.ini",
    "alternatives": "minion.states.alternatives",
    "debconf": "minion.states.debconf",
    "archive": "minion.states.archive",
    "environ": "minion.states.environ",
    "ssh_auth": "minion.states.ssh_auth",
    "sysctl": "minion.states.sysctl",
    "alias": "minion.states.alias",
    "timezone": "minion.states.timezone",
    "pip": "minion.states.pip",
    "postgres_user": "minion.states.postgres_user",
    "postgres_database": "minion.states.postgres_database",
    "mysql_user": "minion.states.mysql_user",
    "mysql_database": "minion.states.mysql_database",
    "mysql_grants": "minion.states.mysql_grants",
    "mysql_query": "minion.states.mysql_query",
    "git": "minion.states.git",
    "pkgrepo": "minion.states.pkgrepo",
    "iptables": "minion.states.iptables",
    "ssh_known_hosts": "minion.states.ssh_known_hosts",
    "locale": "minion.states.locale",
    "kmod": "minion.states.kmod",
    "mount": "minion.states.mount",
}
