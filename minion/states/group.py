"""Keep local groups present with the wanted gid and members, or absent, like Salt's ``group``.

``group.present`` reads the group with ``group.info``, compares the gid and
the members it was given, and changes only those. A new group's changes are
its ``group.info``; an existing group's are the keys that changed (``gid``,
``members``) with their new values.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from minion.context import Context
from minion.states import result

__all__ = ["absent", "present"]


def _users(value: str | Sequence[Any] | None) -> list[str] | None:
    if value is None:
        return None
    items = value.split(",") if isinstance(value, str) else [str(u) for u in value]
    return [u.strip() for u in items if u.strip()]


def _diff(info: dict[str, Any], gid: int | None, members: list[str] | None,
          addusers: list[str] | None, delusers: list[str] | None) -> dict[str, Any]:
    """What differs between the group `info` and the wanted gid and members."""
    diff: dict[str, Any] = {}
    if gid is not None and info["gid"] != gid:
        diff["gid"] = gid
    have = set(info["members"])
    if members is not None and have != set(members):
        diff["members"] = sorted(set(members))
    missing = [u for u in addusers or [] if u not in have]
    if missing:
        diff["addusers"] = missing
    extra = [u for u in delusers or [] if u in have]
    if extra:
        diff["delusers"] = extra
    return diff


def _apply(ctx: Context, name: str, diff: dict[str, Any]) -> None:
    """Make the changes; failures show when the state reads the group again."""
    if "gid" in diff:
        ctx.run(["groupmod", "-g", str(diff["gid"]), name])
    if "members" in diff:
        ctx.call("group.members", name, diff["members"])
    for user in diff.get("addusers", []):
        ctx.call("group.adduser", name, user)
    for user in diff.get("delusers", []):
        ctx.call("group.deluser", name, user)


def _conflict(members: list[str] | None, addusers: list[str] | None,
              delusers: list[str] | None) -> str | None:
    if members is not None and (addusers is not None or delusers is not None):
        return ('Error: Conflicting options "members" with "addusers" and/or "delusers" '
                "can not be used together.")
    if set(addusers or []) & set(delusers or []):
        return "Error. Same user(s) can not be added and deleted simultaneously"
    return None


def present(
    ctx: Context,
    name: str,
    gid: int | str | None = None,
    system: bool = False,
    addusers: str | list[str] | None = None,
    delusers: str | list[str] | None = None,
    members: str | list[str] | None = None,
    non_unique: bool = False,
) -> dict[str, Any]:
    """Make sure a group exists with the given gid and members; unset ones are left alone.

    name
        The group's name.
    gid
        Its id.
    system
        Create it as a system group (only when it is created).
    members
        Exactly these members (not together with addusers/delusers).
    addusers, delusers
        Users to add to / remove from the group, leaving the other members.
    non_unique
        Allow a gid another group has.

    CLI Example:

        minion call --local state.single group.present deployers members='[alice, bob]'
    """
    ret = result.new(name)
    wanted_members, add, remove = _users(members), _users(addusers), _users(delusers)
    error = _conflict(wanted_members, add, remove)
    if error:
        return result.fail(ret, error)
    number = None if gid is None or gid == "" else int(gid)
    info = ctx.call("group.info", name)
    if not info:
        new = {"name": name, "gid": number, "members": sorted(set(wanted_members or add or []))}
        new = {key: value for key, value in new.items() if value not in (None, [])}
        if (r := result.pending(ctx, ret, new, f"Group {name} set to be added")):
            return r
        if ctx.call("group.add", name, gid=number, system=system,
                    non_unique=non_unique) is not True:
            return result.fail(ret, f"Failed to create new group {name}")
        _apply(ctx, name, _diff(ctx.call("group.info", name), None, wanted_members, add, None))
        ret["changes"] = ctx.call("group.info", name)
        left = _diff(ret["changes"], number, wanted_members, add, None)
        if left:
            return result.fail(ret, f"Group {name} created, but these changes failed: {left}")
        return result.done(ret, f"New group {name} created")
    diff = _diff(info, number, wanted_members, add, remove)
    if not diff:
        return result.done(ret, f"Group {name} is present and up to date")
    lines = "".join(f"{key}: {value}\n" for key, value in diff.items())
    if (r := result.pending(ctx, ret, diff,
                            f"The following group attributes are set to be changed:\n{lines}")):
        return r
    _apply(ctx, name, diff)
    after = ctx.call("group.info", name)
    ret["changes"] = {key: after[key] for key in ("gid", "members") if info[key] != after[key]}
    left = _diff(after, number, wanted_members, add, remove)
    if left:
        return result.fail(ret, f"Some changes could not be applied: {left}")
    return result.done(ret, f"Updated group {name}")


def absent(ctx: Context, name: str) -> dict[str, Any]:
    """Make sure a group does not exist.

    name
        The group's name.

    CLI Example:

        minion call --local state.single group.absent olddevs
    """
    ret = result.new(name)
    if not ctx.call("group.info", name):
        return result.done(ret, "Group not present")
    if (r := result.pending(ctx, ret, {name: ""}, f"Group {name} is set for removal")):
        return r
    if ctx.call("group.delete", name) is not True:
        return result.fail(ret, f"Failed to remove group {name}")
    ret["changes"][name] = ""
    return result.done(ret, f"Removed group {name}")
