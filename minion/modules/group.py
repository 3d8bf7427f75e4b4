"""Manage local groups, like Salt's ``group`` module on Linux.

Changes run ``groupadd``, ``groupdel`` and ``gpasswd`` through ``ctx.run``;
reads come from the group database (``grp``). A change to a group that does
not exist answers with a one-line ``ERROR: ...`` and fails the job; a
command that fails returns False and fails the job with its exit code.
"""

from __future__ import annotations

import grp
import logging
from collections.abc import Sequence
from typing import Any

from minion.context import Context

__all__ = ["add", "adduser", "delete", "deluser", "getent", "info", "members"]

log = logging.getLogger(__name__)


def _group(name: str) -> grp.struct_group | None:
    try:
        return grp.getgrnam(name)
    except KeyError:
        return None


def _run(ctx: Context, argv: list[str]) -> bool:
    """Run a change; on failure log why and fail the job with its exit code."""
    result = ctx.run(argv)
    if result.retcode == 0:
        return True
    why = (result.stderr.strip() or result.stdout.strip() or f"exit code {result.retcode}")
    log.warning("%s failed: %s", " ".join(argv), why.splitlines()[0])
    ctx.retcode = result.retcode
    return False


def _invalid(ctx: Context, kind: str, name: str) -> str | None:
    if not name or name.startswith("-"):
        ctx.retcode = 1
        return f"ERROR: invalid {kind} name {name!r}"
    return None


def _missing(ctx: Context, name: str) -> str | None:
    """The error for a bad or unknown group name (failing the job), else None."""
    error = _invalid(ctx, "group", name)
    if error is None and _group(name) is None:
        ctx.retcode = 1
        error = f"ERROR: group {name!r} does not exist"
    return error


def _format(entry: grp.struct_group) -> dict[str, Any]:
    return {
        "name": entry.gr_name,
        "passwd": entry.gr_passwd,
        "gid": entry.gr_gid,
        "members": list(entry.gr_mem),
    }


def add(ctx: Context, name: str, gid: int | str | None = None, system: bool = False,
        non_unique: bool = False) -> bool | str:
    """Create a group.

    name
        The group's name.
    gid
        Its id (default: chosen by groupadd).
    system
        Create a system group (gid from the system range).
    non_unique
        Allow a gid that another group already has.

    CLI Example:

        master run '*' group.add deployers gid=2000
    """
    error = _invalid(ctx, "group", name)
    if error:
        return error
    argv = ["groupadd"]
    if gid not in (None, ""):
        argv += ["-g", str(gid)]
    if non_unique:
        argv.append("-o")
    if system:
        argv.append("-r")
    return _run(ctx, [*argv, name])


def delete(ctx: Context, name: str) -> bool | str:
    """Delete a group.

    name
        The group's name.

    CLI Example:

        master run '*' group.delete deployers
    """
    return _missing(ctx, name) or _run(ctx, ["groupdel", name])


def info(ctx: Context, name: str) -> dict[str, Any]:
    """Return a group's name, gid, passwd and members; ``{}`` if there is none.

    name
        The group's name.

    CLI Example:

        master run '*' group.info deployers
    """
    entry = _group(name)
    return _format(entry) if entry else {}


def getent(ctx: Context, refresh: bool = False) -> list[dict[str, Any]]:
    """Return group.info for every group, in group-file order.

    refresh
        Accepted for Salt compatibility; the database is always read afresh.

    CLI Example:

        master run '*' group.getent
    """
    return [_format(entry) for entry in grp.getgrall()]


def adduser(ctx: Context, name: str, username: str) -> bool | str:
    """Add a user to a group.

    name
        The group's name.
    username
        The user to add.

    CLI Example:

        master run '*' group.adduser deployers deploy
    """
    error = _missing(ctx, name) or _invalid(ctx, "user", username)
    return error or _run(ctx, ["gpasswd", "-a", username, name])


def deluser(ctx: Context, name: str, username: str) -> bool | str:
    """Remove a user from a group (True if the user was not in it).

    name
        The group's name.
    username
        The user to remove.

    CLI Example:

        master run '*' group.deluser deployers deploy
    """
    error = _missing(ctx, name) or _invalid(ctx, "user", username)
    if error:
        return error
    entry = _group(name)
    if entry is not None and username not in entry.gr_mem:
        return True
    return _run(ctx, ["gpasswd", "-d", username, name])


def members(ctx: Context, name: str, members_list: str | Sequence[str]) -> bool | str:
    """Replace a group's members.

    name
        The group's name.
    members_list
        The new members, a list or ``'alice,bob'``; empty leaves none.

    CLI Example:

        master run '*' group.members deployers alice,bob
    """
    items = members_list.split(",") if isinstance(members_list, str) else members_list
    wanted = [str(user).strip() for user in items if str(user).strip()]
    bad = next((user for user in wanted if user.startswith("-")), None)
    error = _missing(ctx, name) or (_invalid(ctx, "user", bad) if bad else None)
    return error or _run(ctx, ["gpasswd", "-M", ",".join(wanted), name])
