"""Keep local users present with the wanted attributes, or absent, like Salt's ``user``.

``user.present`` reads the account with ``user.info`` (and its password hash
from the shadow database), compares only the attributes that were given, and
changes only those that differ. A new user's changes are its whole
``user.info``; an existing user's are the attributes that changed, with their
new values. Password hashes never appear in results.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from minion.context import Context
from minion.states import result

__all__ = ["absent", "present"]

REDACTED = "XXX-REDACTED-XXX"
GECOS_FIELDS = ("fullname", "roomnumber", "workphone", "homephone", "other")


def _group_list(groups: str | Sequence[Any] | None) -> list[str] | None:
    if groups is None:
        return None
    items = groups.split(",") if isinstance(groups, str) else [str(g) for g in groups]
    return [g.strip() for g in items if g.strip()]


def _shadow_hash(ctx: Context, name: str) -> str | None:
    """The user's password field from the shadow database; None when it cannot be read."""
    answer = ctx.run(["getent", "shadow", name])
    fields = answer.stdout.strip().split(":")
    if answer.retcode != 0 or len(fields) < 2 or fields[0] != name:
        return None
    return fields[1]


def _set_password(ctx: Context, name: str, password: str) -> bool:
    argv = ["passwd", "-d", name] if password == "" else ["usermod", "-p", password, name]
    return ctx.run(argv).retcode == 0


def _gid_of(ctx: Context, gid: int | str) -> int | None:
    """A numeric gid from a gid or a group name; None when there is no such group."""
    if isinstance(gid, int) or str(gid).isdigit():
        return int(gid)
    info = ctx.call("group.info", str(gid))
    return int(info["gid"]) if info else None


def _primary_name(ctx: Context, gid: int) -> str:
    for entry in ctx.call("group.getent"):
        if entry["gid"] == gid:
            return str(entry["name"])
    return str(gid)


def _wanted_groups(ctx: Context, groups: list[str] | None,
                   optional: list[str] | None) -> list[str] | None:
    """Supplementary groups wanted: all of `groups`, the existing ones of `optional`."""
    if groups is None and optional is None:
        return None
    found = [g for g in optional or [] if ctx.call("group.info", g)]
    return sorted(set(groups or []) | set(found))


def _diff(ctx: Context, info: dict[str, Any], want: dict[str, Any],
          remove_groups: bool) -> dict[str, Any]:
    """The wanted attributes that differ from `info` (user.info plus ``passwd``)."""
    diff = {key: value for key, value in want.items()
            if key not in ("groups", "passwd") and info.get(key) != value}
    if want.get("passwd") is not None and info.get("passwd") != want["passwd"]:
        diff["passwd"] = want["passwd"]
    if want.get("groups") is not None:
        primary = _primary_name(ctx, int(want.get("gid", info["gid"])))
        have = set(info["groups"]) - {primary}
        wanted = set(want["groups"]) - {primary}
        if remove_groups and have != wanted:
            diff["groups"] = sorted(wanted)
        elif not remove_groups and not wanted <= have:
            diff["groups"] = sorted(wanted | have)
    return {key: diff[key] for key in sorted(diff, key=_ORDER.index)}


# The order Salt lists changed attributes in.
_ORDER = ["uid", "gid", "groups", "home", "shell", "passwd", "fullname", "roomnumber",
          "workphone", "homephone", "other"]


def _apply(ctx: Context, name: str, info: dict[str, Any], diff: dict[str, Any]) -> None:
    """Change the differing attributes; failures show when the state reads them again."""
    simple = {"uid": "user.chuid", "gid": "user.chgid", "shell": "user.chshell",
              "home": "user.chhome"}
    for key, fun in simple.items():
        if key in diff:
            ctx.call(fun, name, diff[key])
    if "groups" in diff:
        ctx.call("user.chgroups", name, diff["groups"])
    if any(key in diff for key in GECOS_FIELDS):
        fields = [str(diff.get(key, info.get(key, ""))) for key in GECOS_FIELDS]
        ctx.run(["usermod", "-c", ",".join(fields).rstrip(","), name])
    if "passwd" in diff:
        _set_password(ctx, name, diff["passwd"])


def _read(ctx: Context, name: str, with_password: bool) -> dict[str, Any]:
    info = dict(ctx.call("user.info", name))
    if info and with_password:
        info["passwd"] = _shadow_hash(ctx, name)
    return info


def _create(ctx: Context, ret: dict[str, Any], name: str, want: dict[str, Any],
            options: dict[str, Any]) -> dict[str, Any]:
    gecos = {key: want.get(key, "") for key in GECOS_FIELDS}
    added = ctx.call("user.add", name, uid=want.get("uid"), gid=want.get("gid"),
                     groups=want.get("groups"), home=want.get("home"),
                     shell=want.get("shell"), **gecos, **options)
    if added is not True:
        return result.fail(ret, f"Failed to create new user {name}")
    ret["changes"] = dict(ctx.call("user.info", name))
    if not options["createhome"]:
        ret["changes"]["home"] = ""
    if want.get("passwd") is not None:
        ret["changes"]["password"] = REDACTED
        _set_password(ctx, name, want["passwd"])
        if _shadow_hash(ctx, name) != want["passwd"]:
            return result.fail(ret, f"User {name} created but failed to set password to "
                                    f"{REDACTED}")
    return result.done(ret, f"New user {name} created")


def _refused_id_change(info: dict[str, Any], diff: dict[str, Any], allow_uid: bool,
                       allow_gid: bool) -> str | None:
    for key, allowed in (("uid", allow_uid), ("gid", allow_gid)):
        if key in diff and not allowed:
            return (f"Changing {key} ({info[key]} -> {diff[key]}) not permitted, set "
                    f"allow_{key}_change to True to force this change. Note that this will "
                    "not change file ownership.")
    return None


def present(
    ctx: Context,
    name: str,
    uid: int | str | None = None,
    gid: int | str | None = None,
    usergroup: bool | None = None,
    groups: str | list[str] | None = None,
    optional_groups: str | list[str] | None = None,
    remove_groups: bool = True,
    home: str | None = None,
    createhome: bool = True,
    password: str | None = None,
    enforce_password: bool = True,
    empty_password: bool = False,
    shell: str | None = None,
    unique: bool = True,
    system: bool = False,
    fullname: str | None = None,
    roomnumber: str | None = None,
    workphone: str | None = None,
    homephone: str | None = None,
    other: str | None = None,
    allow_uid_change: bool = False,
    allow_gid_change: bool = False,
    nologinit: bool = False,
) -> dict[str, Any]:
    """Make sure a user exists with the given attributes; unset ones are left alone.

    name
        The login name.
    uid, gid
        User id; primary group (name or id). A group named like the user is
        used as primary group when gid is not given.
    groups
        Supplementary groups (they must exist); remove_groups (default True)
        removes the user from the groups not listed.
    optional_groups
        Supplementary groups joined only if they exist.
    home, createhome, shell, unique, system, nologinit, usergroup
        As for user.add (home is not moved when it changes).
    password
        The password hash (as in /etc/shadow); enforce_password=False sets it
        only for a new user. empty_password=True removes the password.
    fullname, roomnumber, workphone, homephone, other
        The GECOS fields.
    allow_uid_change, allow_gid_change
        Let the state change the uid or primary group of an existing user.

    CLI Example:

        minion call --local state.single user.present deploy shell=/bin/bash groups='[www-data]'
    """
    ret = result.new(name)
    wanted_groups = _group_list(groups)
    missing = [g for g in wanted_groups or [] if not ctx.call("group.info", g)]
    if missing and not ctx.test:
        return result.fail(ret, f"The following group(s) are not present: {','.join(missing)}")
    # Under test=True a missing group may come from a group.present earlier in
    # the run: Salt reports it as pending and compares the other groups.
    wanted_groups = [g for g in wanted_groups or [] if g not in missing] if missing else \
        wanted_groups
    if gid is None and usergroup is not False and ctx.call("group.info", name):
        gid = name
    numeric_gid = None if gid is None or gid == "" else _gid_of(ctx, gid)
    pending_gid = ctx.test and not ctx.call("user.info", name)
    if numeric_gid is None and gid is not None and gid != "" and not pending_gid:
        return result.fail(ret, f"Default group {gid} does not exist")
    want: dict[str, Any] = {
        "uid": None if uid is None or uid == "" else int(uid),
        "gid": numeric_gid, "home": home, "shell": shell, "fullname": fullname,
        "roomnumber": roomnumber, "workphone": workphone, "homephone": homephone,
        "other": other, "groups": _wanted_groups(ctx, wanted_groups,
                                                 _group_list(optional_groups)),
        "passwd": "" if empty_password else password,
    }
    want = {key: value for key, value in want.items() if value is not None}
    info = _read(ctx, name, "passwd" in want)
    pending = f" (pending groups: {','.join(missing)})" if missing else ""
    if not info:
        if ctx.test:
            return result.done(ret, f"User {name} set to be added{pending}", None)
        options = {"unique": unique, "system": system, "createhome": createhome,
                   "nologinit": nologinit, "usergroup": usergroup}
        return _create(ctx, ret, name, want, options)
    if not enforce_password:
        want.pop("passwd", None)
    diff = _diff(ctx, info, want, remove_groups)
    if not diff:
        return result.done(ret, f"User {name} is present and up to date")
    refused = _refused_id_change(info, diff, allow_uid_change, allow_gid_change)
    if refused:
        return result.fail(ret, refused)
    shown = {k: (REDACTED if k == "passwd" else v) for k, v in diff.items()}
    lines = "".join(f"{key}: {value}\n" for key, value in shown.items())
    if ctx.test:
        # Salt names the changes in the comment and predicts none in changes.
        if missing:
            lines += f"groups (pending creation): {','.join(missing)}\n"
        return result.done(
            ret, f"The following user attributes are set to be changed:\n{lines}", None)
    _apply(ctx, name, info, diff)
    after = _read(ctx, name, "passwd" in want)
    ret["changes"] = {key: (REDACTED if key == "passwd" else value)
                      for key, value in after.items() if info.get(key) != value}
    left = _diff(ctx, after, want, remove_groups)
    if left:
        shown = {k: (REDACTED if k == "passwd" else v) for k, v in left.items()}
        return result.fail(ret, f"These values could not be changed: {shown}")
    return result.done(ret, f"Updated user {name}")


def absent(ctx: Context, name: str, purge: bool = False, force: bool = False) -> dict[str, Any]:
    """Make sure a user does not exist.

    name
        The login name.
    purge
        Also remove the home directory and mail spool.
    force
        Remove the user even while logged in.

    CLI Example:

        minion call --local state.single user.absent olduser purge=True
    """
    ret = result.new(name)
    if not ctx.call("user.info", name):
        return result.done(ret, f"User {name} is not present")
    if (r := result.pending(ctx, ret, {name: "removed"}, f"User {name} set for removal")):
        return r
    groups_before = list(ctx.call("user.list_groups", name))
    if ctx.call("user.delete", name, remove=purge, force=force) is not True:
        return result.fail(ret, f"Failed to remove user {name}")
    for group in groups_before:
        if not ctx.call("group.info", group):
            ret["changes"][f"{group} group"] = "removed"
    ret["changes"][name] = "removed"
    return result.done(ret, f"Removed user {name}")
