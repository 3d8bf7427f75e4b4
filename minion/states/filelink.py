"""`file.symlink`: a symbolic link pointing at a target, owned as asked.

Salt's comments and result shapes are kept: a test run says what it would do
(and that a missing parent is created or missing), a real run replaces a link
with another target, moves a file in the way to ``backupname`` or, with
``force``, replaces it.
"""

from __future__ import annotations

import grp
import os
import pwd
import shutil
from typing import Any

from minion.context import Context
from minion.states import result
from minion.states.filehelpers import mode_str, parse_mode, state


def _owner(path: str) -> tuple[str, str]:
    info = os.lstat(path)
    return _user_name(info.st_uid), _group_name(info.st_gid)


def _user_name(uid: int) -> str:
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return str(uid)


def _group_name(gid: int) -> str:
    try:
        return grp.getgrgid(gid).gr_name
    except KeyError:
        return str(gid)


def _default_owner(ctx: Context, user: Any, group: Any) -> tuple[str, str]:
    """Salt's defaults: the minion's user, and that user's primary group."""
    if user is None:
        user = ctx.opts.get("user") or _user_name(os.geteuid())
    if group is None:
        try:
            group = _group_name(pwd.getpwnam(str(user)).pw_gid)
        except KeyError:
            group = user
    return str(user), str(group)


def _preflight(name: str, path: str, user: str, group: str) -> str:
    errors = []
    if not _exists(pwd.getpwnam, user):
        errors.append(f"User {user} does not exist")
    if not _exists(grp.getgrnam, group):
        errors.append(f"Group {group} does not exist")
    if not os.path.isabs(path):
        errors.append(f"Specified file {name} is not an absolute path")
    return ". ".join(errors) + ("." if len(errors) > 1 else "")


def _exists(lookup: Any, ident: str) -> bool:
    if ident.isdigit():
        return True
    try:
        lookup(ident)
    except KeyError:
        return False
    return True


def _check(name: str, path: str, target: str, force: bool, user: str, group: str,
           follow_symlinks: bool) -> tuple[bool | None, str, dict[str, Any]]:
    """What a test run reports: (result, comment, changes)."""
    exists = os.path.exists if follow_symlinks else os.path.lexists
    if not exists(path) and not os.path.islink(path):
        return None, f"Symlink {name} to {target} is set for creation", {"new": name}
    if os.path.islink(path):
        if os.readlink(path) != target:
            return None, f"Link {name} target is set to be changed to {target}", {"change": name}
        have = _owner(path)
        if have == (user, group):
            return True, f"The symlink {name} is present", {}
        comment = (f"The symlink {name} is present, but the ownership of the symlink would "
                   f"be changed from {have[0]}:{have[1]} to {user}:{group}")
        return None, comment, {"ownership": f"{have[0]}:{have[1]}"}
    if force:
        return None, (f"The file or directory {name} is set for removal to make way for a new "
                      f"symlink targeting {target}"), {}
    return False, (f"File or directory exists where the symlink {name} should be. "
                   "Did you mean to use force?"), {}


@state
def symlink(ctx: Context, name: str, target: str, force: bool = False,
            backupname: str | None = None, makedirs: bool = False, user: Any = None,
            group: Any = None, mode: Any = None, atomic: bool = False,
            disallow_copy_and_unlink: bool = False, inherit_user_and_group: bool = False,
            follow_symlinks: bool = True) -> dict[str, Any]:
    """Make `name` a symbolic link pointing to `target`.

    name
        Absolute path of the link.
    target
        What the link points to (as written into the link).
    force
        Replace a file or directory that is in the way (a directory only
        after it was moved away with backupname).
    backupname
        Move what is in the way here first (an absolute path, or a file name
        beside the link).
    makedirs
        Create the link's missing parent directories (with mode).
    user, group
        Owner of the link itself (default: the minion's user and its group).
    inherit_user_and_group
        Keep the owner of an existing link when user or group is not given.
    atomic, follow_symlinks
        As for the file.symlink execution function.

    CLI Example:

        minion call state.single file.symlink /opt/app/current target=/opt/app/releases/42
    """
    ret = result.new(name)
    path = os.path.expanduser(str(name))
    target = str(target)
    if inherit_user_and_group and (user is None or group is None) and os.path.islink(path):
        have = _owner(path)
        user = have[0] if user is None else user
        group = have[1] if group is None else group
    user, group = _default_owner(ctx, user, group)
    if (error := _preflight(name, path, user, group)):
        return result.fail(ret, error)
    outcome, comment, changes = _check(name, path, target, force, user, group,
                                       follow_symlinks)
    parent = os.path.dirname(path)
    if not os.path.isdir(parent):
        if makedirs and ctx.test:
            comment += f"\n{parent} will be created"
        elif makedirs:
            bits = parse_mode(mode)
            ctx.call("file.makedirs", path, user, group, None if bits is None else mode_str(bits))
        elif ctx.test:
            comment += f"\nDirectory {parent} for symlink is not present"
        else:
            return result.fail(ret, f"Directory {parent} for symlink is not present")
    if ctx.test:
        ret["changes"] = changes
        return result.done(ret, comment, outcome)
    return _apply(ctx, ret, path, target, force, backupname, atomic, user, group,
                  follow_symlinks)


def _apply(ctx: Context, ret: dict[str, Any], path: str, target: str, force: bool,
           backupname: str | None, atomic: bool, user: str, group: str,
           follow_symlinks: bool) -> dict[str, Any]:
    name = ret["name"]
    exists = os.path.exists if follow_symlinks else os.path.lexists
    if os.path.islink(path):
        if os.path.normpath(os.readlink(path)) != os.path.normpath(target):
            os.unlink(path)
        else:
            if _owner(path) == (user, group):
                return result.done(ret, f"Symlink {name} is present and owned by {user}:{group}")
            if not _set_owner(path, user, group):
                return result.fail(ret, f"Failed to set ownership of symlink {name} to "
                                        f"{user}:{group}")
            ret["changes"]["ownership"] = f"{user}:{group}"
            return result.done(ret, f"Set ownership of symlink {name} to {user}:{group}")
    elif exists(path):
        if backupname is not None:
            moved = _backup(path, backupname, force)
            if moved:
                return result.fail(ret, moved.format(name=name, target=target))
        elif not force and not atomic:
            kind = ("File" if os.path.isfile(path)
                    else "Directory" if os.path.isdir(path) else "File system entry")
            return result.fail(ret, f"{kind} exists where the symlink {name} should be")
    if os.path.isdir(path) and not os.path.islink(path):
        return result.fail(ret, f"Unable to create new symlink {name} -> {target}: "
                                f"[Errno 21] Is a directory: '{path}'")
    ctx.call("file.symlink", target, path, force=True)
    ret["changes"]["new"] = name
    comment = f"Created new symlink {name} -> {target}"
    if _owner(path) != (user, group) and not _set_owner(path, user, group):
        return result.fail(ret, f"{comment}, but was unable to set ownership to {user}:{group}")
    return result.done(ret, comment)


def _backup(path: str, backupname: str, force: bool) -> str:
    """Move what is at `path` to the backup name; an error text (with fields) or ''."""
    if not os.path.isabs(backupname):
        if backupname != os.path.basename(backupname):
            return f"Backupname must be an absolute path or a file name: {backupname}"
        backupname = os.path.join(os.path.dirname(os.path.normpath(path)), backupname)
    if os.path.lexists(backupname):
        if not force:
            return ("Symlink & backup dest exists and Force not set. {name} -> {target} - "
                    f"backup: {backupname}")
        if os.path.isdir(backupname) and not os.path.islink(backupname):
            shutil.rmtree(backupname)
        else:
            os.unlink(backupname)
    shutil.move(path, backupname)
    return ""


def _set_owner(path: str, user: str, group: str) -> bool:
    try:
        uid = int(user) if user.isdigit() else pwd.getpwnam(user).pw_uid
        gid = int(group) if group.isdigit() else grp.getgrnam(group).gr_gid
        os.lchown(path, uid, gid)
    except (KeyError, OSError):
        return False
    return True
