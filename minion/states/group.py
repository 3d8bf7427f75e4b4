"""Keep local groups present with the wanted gid and members, or absent, like Salt's ``group``.

``group.present`` reads the group with ``group.info``, compares the gid and
the members it was given, and changes only those. As in Salt, a new group's
changes are its ``group.info``, an existing group's are
``{"Final": "All changes applied successfully"}`` with the changed keys in
the comment, and ``test=True`` names what would change without changes.
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
    """What differs between the group `info` and the wanted gid and members (Salt's keys)."""
    diff: dict[str, Any] = {}
    if gid and info["gid"] != gid:
        diff["gid"] = gid
    have = set(info["members"])
    if members is not None and not members:
        if have:
            diff["delusers"] = have
    elif members and have != set(members):
        diff["members"] = members
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
    for user in sorted(diff.get("delusers", [])):
        ctx.call("group.deluser", name, user)


def _conflict(members: list[str] | None, addusers: list[str] | None,
              delusers: list[str] | None) -> str | None:
    if members is not None and (addusers is not None or delusers is not None):
        return ('Error: Conflicting options "members" with "addusers" and/or "delusers" '
                "can not be used together. ")
    if set(addusers or []) & set(delusers or []):
        return "Error. Same user(s) can not be added and deleted simultaneously"
    return None


def _gid_taken(ctx: Context, gid: int | None) -> str | None:
    if gid is None:
        return None
    for entry in ctx.call("group.getent"):
        if entry["gid"] == gid:
            return str(entry["name"])
    return None


def _create(ctx: Context, ret: dict[str, Any], name: str, gid: int | None, system: bool,
            non_unique: bool, members: list[str] | None,
            addusers: list[str] | None) -> dict[str, Any]:
    if ctx.test:
        # Salt predicts no changes for a group it would add.
        return result.done(ret, f"Group {name} set to be added", None)
    taken = None if non_unique else _gid_taken(ctx, gid)
    if taken is not None:
        return result.fail(ret, f"Group {name} is not present but gid {gid} is already taken "
                                f"by group {taken}")
    if ctx.call("group.add", name, gid=gid, system=system, non_unique=non_unique) is not True:
        return result.fail(ret, f"Failed to create new group {name}")
    wanted = addusers or members
    if wanted:
        ctx.call("group.members", name, wanted)
    ret["changes"] = ctx.call("group.info", name)
    left = _diff(ret["changes"], gid, members, addusers, None)
    if left:
        ret["changes"] = {"Failed": left}
        return result.fail(ret, f"Group {name} has been created but, some changes could not "
                                "be applied")
    return result.done(ret, f"New group {name} created")


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
        Exactly these members (not together with addusers/delusers); an
        empty list removes every member.
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
        return result.done(ret, error, None)
    try:
        number = None if gid is None or gid == "" else int(gid)
    except (TypeError, ValueError):
        return result.fail(ret, "Invalid gid")
    info = ctx.call("group.info", name)
    if not info:
        return _create(ctx, ret, name, number, system, non_unique, wanted_members, add)
    diff = _diff(info, number, wanted_members, add, remove)
    if not diff:
        return result.done(ret, f"Group {name} is present and up to date")
    comment = "The following group attributes are set to be changed:\n" + "".join(
        f"{key}: {value}\n" for key, value in diff.items())
    if ctx.test:
        return result.done(ret, comment, None)
    _apply(ctx, name, diff)
    left = _diff(ctx.call("group.info", name), number, wanted_members, add, remove)
    if left:
        ret["changes"] = {"Failed": left}
        return result.fail(ret, comment + "Some changes could not be applied")
    ret["changes"] = {"Final": "All changes applied successfully"}
    return result.done(ret, comment)


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
    if ctx.test:
        return result.done(ret, f"Group {name} is set for removal", None)
    if ctx.call("group.delete", name) is not True:
        return result.fail(ret, f"Failed to remove group {name}")
    ret["changes"][name] = ""
    return result.done(ret, f"Removed group {name}")
