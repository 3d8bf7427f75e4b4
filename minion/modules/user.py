"""Manage local users, like Salt's ``user`` module on Linux.

Changes run ``useradd``, ``userdel`` and ``usermod`` through ``ctx.run``;
reads come from the passwd and group databases (``pwd``, ``grp``), so they
see NSS users too. A change to a user that does not exist answers with a
one-line ``ERROR: ...`` and fails the job; a command that fails returns
False and fails the job with the command's exit code.
"""

from __future__ import annotations

import grp
import logging
import os
import pwd
from collections.abc import Sequence
from typing import Any

from minion.context import Context

__all__ = [
    "add",
    "chfullname",
    "chgid",
    "chgroups",
    "chhome",
    "chshell",
    "chuid",
    "delete",
    "getent",
    "info",
    "list_groups",
    "list_users",
]

log = logging.getLogger(__name__)

GECOS_FIELDS = ("fullname", "roomnumber", "workphone", "homephone", "other")
Groups = str | Sequence[str] | None


def _passwd(name: str) -> pwd.struct_passwd | None:
    try:
        return pwd.getpwnam(name)
    except KeyError:
        return None


def _group_names(name: str, gid: int) -> list[str]:
    names = set()
    for number in os.getgrouplist(name, gid):
        try:
            names.add(grp.getgrgid(number).gr_name)
        except KeyError:
            names.add(str(number))
    return sorted(names)


def _split_groups(groups: Groups) -> list[str]:
    if groups is None:
        return []
    items = groups.split(",") if isinstance(groups, str) else [str(g) for g in groups]
    return [g.strip() for g in items if g.strip()]


def _gecos(fields: dict[str, str]) -> str:
    return ",".join(str(fields.get(key, "")) for key in GECOS_FIELDS).rstrip(",")


def _run(ctx: Context, argv: list[str]) -> bool:
    """Run a change; on failure log why and fail the job with its exit code."""
    result = ctx.run(argv)
    if result.retcode == 0:
        return True
    why = (result.stderr.strip() or result.stdout.strip() or f"exit code {result.retcode}")
    log.warning("%s failed: %s", " ".join(argv), why.splitlines()[0])
    ctx.retcode = result.retcode
    return False


def _missing(ctx: Context, name: str) -> str | None:
    """The error for a bad or unknown user name (failing the job), else None."""
    if not name or name.startswith("-"):
        ctx.retcode = 1
        return f"ERROR: invalid user name {name!r}"
    if _passwd(name) is None:
        ctx.retcode = 1
        return f"ERROR: user {name!r} does not exist"
    return None


def _usermod(ctx: Context, name: str, *options: str) -> bool | str:
    return _missing(ctx, name) or _run(ctx, ["usermod", *options, name])


def add(
    ctx: Context,
    name: str,
    uid: int | str | None = None,
    gid: int | str | None = None,
    groups: Groups = None,
    home: str | None = None,
    shell: str | None = None,
    unique: bool = True,
    system: bool = False,
    fullname: str = "",
    roomnumber: str = "",
    workphone: str = "",
    homephone: str = "",
    other: str = "",
    createhome: bool = True,
    nologinit: bool = False,
    usergroup: bool | None = None,
) -> bool | str:
    """Create a user.

    name
        The login name.
    uid, gid
        User id and primary group (name or id); default: chosen by useradd.
    groups
        Supplementary groups, a list or ``'wheel,docker'``; they must exist.
    home
        Home directory (default: useradd's, usually /home/NAME).
    shell
        Login shell (default: useradd's).
    unique
        False allows a uid that another user already has.
    system
        Create a system account (uid from the system range).
    fullname, roomnumber, workphone, homephone, other
        The GECOS fields.
    createhome
        Create the home directory (default True).
    nologinit
        Do not add the user to the lastlog and faillog databases.
    usergroup
        True creates a group named like the user, False does not; default:
        as /etc/login.defs says.

    CLI Example:

        master run '*' user.add deploy shell=/bin/bash groups=www-data
    """
    if not name or name.startswith("-"):
        ctx.retcode = 1
        return f"ERROR: invalid user name {name!r}"
    argv = ["useradd"]
    gecos = _gecos({"fullname": fullname, "roomnumber": roomnumber, "workphone": workphone,
                    "homephone": homephone, "other": other})
    if gecos:
        argv += ["-c", gecos]
    if shell:
        argv += ["-s", shell]
    if uid not in (None, ""):
        argv += ["-u", str(uid)]
    if gid not in (None, ""):
        argv += ["-g", str(gid)]
    elif usergroup is not None:
        argv.append("-U" if usergroup else "-N")
    if _split_groups(groups):
        argv += ["-G", ",".join(_split_groups(groups))]
    argv.append("-m" if createhome else "-M")
    if nologinit:
        argv.append("-l")
    if home:
        argv += ["-d", home]
    if not unique:
        argv.append("-o")
    if system:
        argv.append("-r")
    return _run(ctx, [*argv, name])


def delete(ctx: Context, name: str, remove: bool = False, force: bool = False) -> bool | str:
    """Delete a user.

    name
        The login name.
    remove
        Also remove the home directory and mail spool.
    force
        Delete even while the user is logged in (``userdel -f``).

    CLI Example:

        master run '*' user.delete deploy remove=True
    """
    error = _missing(ctx, name)
    if error:
        return error
    argv = ["userdel", *(["-r"] if remove else []), *(["-f"] if force else []), name]
    result = ctx.run(argv)
    if result.retcode == 12 and "mail" in result.stderr:
        # Debian's userdel -r exits 12 when the user had no mail spool; the user is gone.
        return True
    if result.retcode != 0:
        log.warning("%s failed: %s", " ".join(argv), result.stderr.strip())
        ctx.retcode = result.retcode
        return False
    return True


def _format(entry: pwd.struct_passwd) -> dict[str, Any]:
    gecos = entry.pw_gecos.split(",", 4)
    gecos += [""] * (5 - len(gecos))
    return {
        "name": entry.pw_name,
        "uid": entry.pw_uid,
        "gid": entry.pw_gid,
        "home": entry.pw_dir,
        "shell": entry.pw_shell,
        "passwd": entry.pw_passwd,
        "groups": _group_names(entry.pw_name, entry.pw_gid),
        **dict(zip(GECOS_FIELDS, gecos, strict=True)),
    }


def info(ctx: Context, name: str) -> dict[str, Any]:
    """Return a user's passwd entry, groups and GECOS fields; ``{}`` if there is none.

    name
        The login name.

    CLI Example:

        master run '*' user.info deploy
    """
    entry = _passwd(name)
    return _format(entry) if entry else {}


def getent(ctx: Context, refresh: bool = False) -> list[dict[str, Any]]:
    """Return user.info for every user, in passwd order.

    refresh
        Accepted for Salt compatibility; the database is always read afresh.

    CLI Example:

        master run '*' user.getent
    """
    return [_format(entry) for entry in pwd.getpwall()]


def list_users(ctx: Context) -> list[str]:
    """Return the names of all users, sorted.

    CLI Example:

        master run '*' user.list_users
    """
    return sorted({entry.pw_name for entry in pwd.getpwall()})


def list_groups(ctx: Context, name: str) -> list[str] | str:
    """Return the groups a user belongs to, primary group included, sorted.

    name
        The login name.

    CLI Example:

        master run '*' user.list_groups deploy
    """
    entry = _passwd(name)
    if entry is None:
        return _missing(ctx, name) or []
    return _group_names(entry.pw_name, entry.pw_gid)


def chshell(ctx: Context, name: str, shell: str) -> bool | str:
    """Change a user's login shell.

    name
        The login name.
    shell
        The new shell, e.g. /bin/bash.

    CLI Example:

        master run '*' user.chshell deploy /bin/bash
    """
    return _usermod(ctx, name, "-s", shell)


def chhome(ctx: Context, name: str, home: str, persist: bool = False) -> bool | str:
    """Change a user's home directory.

    name
        The login name.
    home
        The new home directory.
    persist
        Move the old home's contents to the new one (``usermod -m``).

    CLI Example:

        master run '*' user.chhome deploy /srv/deploy persist=True
    """
    return _usermod(ctx, name, "-d", home, *(["-m"] if persist else []))


def chgroups(ctx: Context, name: str, groups: Groups, append: bool = False) -> bool | str:
    """Set a user's supplementary groups.

    name
        The login name.
    groups
        The groups, a list or ``'wheel,docker'``; empty removes them all.
    append
        Add to the user's groups instead of replacing them.

    CLI Example:

        master run '*' user.chgroups deploy www-data,docker append=True
    """
    wanted = _split_groups(groups)
    if append and not wanted:
        return _missing(ctx, name) or True
    return _usermod(ctx, name, *(["-a"] if append else []), "-G", ",".join(wanted))


def chuid(ctx: Context, name: str, uid: int | str) -> bool | str:
    """Change a user's uid (files keep their old owner id, except under the home).

    name
        The login name.
    uid
        The new user id.

    CLI Example:

        master run '*' user.chuid deploy 2001
    """
    return _usermod(ctx, name, "-u", str(uid))


def chgid(ctx: Context, name: str, gid: int | str) -> bool | str:
    """Change a user's primary group.

    name
        The login name.
    gid
        The new group, by id or name.

    CLI Example:

        master run '*' user.chgid deploy 2001
    """
    return _usermod(ctx, name, "-g", str(gid))


def chfullname(ctx: Context, name: str, fullname: str) -> bool | str:
    """Change a user's full name, keeping the other GECOS fields.

    name
        The login name.
    fullname
        The new full name.

    CLI Example:

        master run '*' user.chfullname deploy 'Deploy Bot'
    """
    entry = _passwd(name)
    if entry is None:
        return _missing(ctx, name) or False
    fields = dict(zip(GECOS_FIELDS, entry.pw_gecos.split(",", 4), strict=False))
    fields["fullname"] = fullname
    return _usermod(ctx, name, "-c", _gecos(fields))
