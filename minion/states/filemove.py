"""`file.copy` and `file.rename`: put an existing path of the minion somewhere else.

Both keep an existing target unless ``force`` is given, and report the move as
``{target: source}``; a test run reports no changes, only its comment, as Salt does.
"""

from __future__ import annotations

import grp
import hashlib
import os
import pwd
import shutil
from typing import Any

from minion.context import Context
from minion.states import result
from minion.states.filehelpers import (
    StateError,
    apply_perms,
    check_owner,
    mode_str,
    parse_mode,
    perm_changes,
    state,
    stats,
)


def _digest(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 16), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _owner_of(ctx: Context, user: Any, group: Any) -> tuple[str, str]:
    """Salt's copy defaults: the minion's user and that user's primary group."""
    if user is None:
        user = ctx.opts.get("user") or pwd.getpwuid(os.geteuid()).pw_name
    if group is None:
        try:
            group = grp.getgrgid(pwd.getpwnam(str(user)).pw_gid).gr_name
        except KeyError:
            group = user
    return str(user), str(group)


def _make_parent(ctx: Context, path: str, makedirs: bool, user: Any, group: Any,
                 mode: Any) -> None:
    parent = os.path.dirname(path)
    if os.path.isdir(parent):
        return
    if not makedirs:
        raise StateError(f"The target directory {parent} is not present")
    bits = parse_mode(mode)
    # Salt's parent mode: each permission digit of the file's mode, plus x.
    dir_bits = None if bits is None else int("".join(
        str(int(d) | 1) if d != "0" else "0" for d in f"{bits & 0o777:03o}"), 8)
    ctx.call("file.makedirs", path, user, group,
             None if dir_bits is None else mode_str(dir_bits))


@state
def copy_(ctx: Context, name: str, source: str, force: bool = False, makedirs: bool = False,
          preserve: bool = False, user: Any = None, group: Any = None, mode: Any = None,
          subdir: bool = False) -> dict[str, Any]:
    """Copy a file or directory already on the minion to `name`.

    name
        Absolute destination path.
    source
        Absolute path to copy.
    force
        Replace an existing destination (even one with the same content).
    makedirs
        Create missing parent directories of name.
    preserve
        Keep the source's owner and mode (user, group and mode are then ignored).
    user, group, mode
        Owner and mode of the copy (default: the minion's user and its group,
        and the source's mode).
    subdir
        If name is a directory, copy into it under the source's name.

    CLI Example:

        minion call state.single file.copy /etc/app.conf.orig source=/etc/app.conf
    """
    path = os.path.expanduser(str(name))
    source = os.path.expanduser(str(source))
    ret = result.new(name)
    if not os.path.isabs(path):
        raise StateError(f"Specified file {name} is not an absolute path")
    if not os.path.exists(source):
        raise StateError(f'Source file "{source}" is not present')
    if preserve:
        info = ctx.call("file.stats", source)
        user, group, mode = str(info["user"]), str(info["group"]), info["mode"]
    else:
        user, group = _owner_of(ctx, user, group)
        check_owner(ctx, user, group)
        if mode is None:
            mode = ctx.call("file.get_mode", source)
    comment = f'Copied "{source}" to "{name}"'
    if os.path.isdir(path) and subdir:
        # Salt reports under the name given, and names the file inside elsewhere.
        path = os.path.join(path, os.path.basename(source))
        name = path
    changed = True
    if os.path.lexists(path):
        if force and os.path.isfile(path) and _digest(path) == _digest(source):
            comment += " - files are identical but force flag is set"
        changed = bool(force)
    if ctx.test:
        if changed:
            return result.done(ret, f'File "{source}" is set to be copied to "{name}"', None)
        return result.done(ret, f'The target file "{name}" exists and will not be overwritten')
    if not changed:
        return result.done(ret, f'The target file "{name}" exists and will not be overwritten')
    if os.path.lexists(path):
        ctx.call("file.remove", path)
    _make_parent(ctx, path, makedirs, user, group, mode)
    if os.path.isdir(source):
        shutil.copytree(source, path, symlinks=True)
        for root, dirs, files in os.walk(path):
            for entry in [*dirs, *files]:
                uid_gid = _ids(user, group)
                os.lchown(os.path.join(root, entry), *uid_gid)
    else:
        shutil.copy(source, path)
    ret["changes"] = {name: source}
    if not preserve:
        current = stats(ctx, path)
        perms = perm_changes(current, user, group, parse_mode(mode)) if current else {}
        apply_perms(ctx, path, perms)
        ret["changes"] |= perms
    return result.done(ret, comment)


def _ids(user: str, group: str) -> tuple[int, int]:
    uid = int(user) if user.isdigit() else pwd.getpwnam(user).pw_uid
    gid = int(group) if group.isdigit() else grp.getgrnam(group).gr_gid
    return uid, gid


@state
def rename(ctx: Context, name: str, source: str, force: bool = False,
           makedirs: bool = False) -> dict[str, Any]:
    """Move a file or directory of the minion to `name` (once: a moved source is fine).

    name
        Absolute new path.
    source
        Absolute path to move.
    force
        Replace what is already at name.
    makedirs
        Create missing parent directories of name.

    CLI Example:

        minion call state.single file.rename /etc/app.conf source=/etc/app.conf.dpkg-new
    """
    path = os.path.expandvars(os.path.expanduser(str(name)))
    source = os.path.expandvars(os.path.expanduser(str(source)))
    ret = result.new(name)
    if not os.path.isabs(path):
        raise StateError(f"Specified file {name} is not an absolute path")
    if not os.path.lexists(source):
        return result.done(ret, f'Source file "{source}" has already been moved out of place')
    if os.path.lexists(path):
        if not force:
            return result.done(ret, f'The target file "{name}" exists and will not be '
                                    "overwritten")
        if not ctx.test:
            ctx.call("file.remove", path)
    if ctx.test:
        return result.done(ret, f'File "{source}" is set to be moved to "{name}"', None)
    parent = os.path.dirname(path)
    if not os.path.isdir(parent):
        if not makedirs:
            raise StateError(f"The target directory {parent} is not present")
        ctx.call("file.makedirs", path)
    if os.path.islink(source):
        os.symlink(os.readlink(source), path)
        os.unlink(source)
    else:
        shutil.move(source, path)
    ret["changes"] = {name: source}
    return result.done(ret, f'Moved "{source}" to "{name}"')
