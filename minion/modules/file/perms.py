"""file.*: modes, owners and directory creation."""

from __future__ import annotations

import os
from typing import Any

from minion.context import Context
from minion.modules.file.common import (
    FileError,
    absolute,
    gid_of,
    os_errors,
    parse_mode,
    uid_of,
)
from minion.modules.file.meta import get_mode

# --- permissions -----------------------------------------------------------------------------


def set_mode(ctx: Context, path: str, mode: str | int) -> str:
    """Set a path's permission bits and return the new mode, e.g. ``'0640'``.

    A missing path or an invalid mode is an error (Salt returns the string
    ``Invalid Mode`` for the latter).

    path
        Absolute path (a symlink's target is changed).
    mode
        Octal mode such as ``0644`` or ``'0o2775'``.

    CLI Example:

        master run '*' file.set_mode /etc/app.conf 0640
    """
    path = absolute(path)
    bits = parse_mode(mode)
    if not os.path.lexists(path):
        raise FileError(f"{path}: file not found")
    with os_errors(path):
        os.chmod(path, bits)
    return get_mode(ctx, path)


def chown(ctx: Context, path: str, user: str | int | None, group: str | int | None) -> None:
    """Change the user and group owning a path (a symlink's target).

    Returns None on success, as Salt does. An unknown user or group or a
    missing path is an error (Salt returns an error string). A broken symlink
    has the link itself changed. None or an empty string leaves that owner
    as it is (Salt takes the minion's own user for a missing user).

    path
        Absolute path.
    user
        User name or uid.
    group
        Group name or gid.

    CLI Example:

        master run '*' file.chown /etc/app.conf root app
    """
    path = absolute(path)
    uid, gid = uid_of(user), gid_of(group)
    with os_errors(path):
        if not os.path.exists(path) and os.path.islink(path):
            os.lchown(path, uid, gid)
        elif not os.path.exists(path):
            raise FileError(f"{path}: file not found")
        else:
            os.chown(path, uid, gid)


def _apply_owner_mode(path: str, uid: int, gid: int, mode: int | None) -> None:
    with os_errors(path):
        if uid != -1 or gid != -1:
            os.chown(path, uid, gid)
        if mode is not None:
            os.chmod(path, mode)


def _make_tree(
    directory: str, user: str | int | None, group: str | int | None, mode: Any
) -> list[str]:
    """Create `directory` and any missing parents, each with the given owner and mode."""
    uid, gid = uid_of(user), gid_of(group)
    bits = None if mode is None or mode == "" else parse_mode(mode)
    missing: list[str] = []
    current = directory
    while not os.path.isdir(current):
        if os.path.lexists(current):
            raise FileError(f"{current}: exists and is not a directory")
        missing.append(current)
        current = os.path.dirname(current)
    for new in reversed(missing):
        with os_errors(new):
            try:
                os.mkdir(new)
            except FileExistsError:
                if not os.path.isdir(new):
                    raise
                continue
        _apply_owner_mode(new, uid, gid, bits)
    return missing


def mkdir(
    ctx: Context,
    dir_path: str,
    user: str | int | None = None,
    group: str | int | None = None,
    mode: str | int | None = None,
) -> bool:
    """Ensure a directory exists, creating missing parents; return True.

    Every directory created gets the given user, group and mode; an existing
    directory is left as it is. A path in the way that is not a directory is
    an error.

    dir_path
        Absolute path of the directory.
    user
        Owner of the new directories.
    group
        Group of the new directories.
    mode
        Mode of the new directories, e.g. ``0750`` (default: from the umask).

    CLI Example:

        master run '*' file.mkdir /opt/app/conf user=app mode=0750
    """
    _make_tree(os.path.normpath(absolute(dir_path)), user, group, mode)
    return True


def makedirs(
    ctx: Context,
    path: str,
    user: str | int | None = None,
    group: str | int | None = None,
    mode: str | int | None = None,
) -> str | None:
    """Ensure the directory that would hold `path` exists, creating it and its parents.

    As in Salt, only the part before the last ``/`` is created: ``/opt/a/b``
    creates ``/opt/a``, and ``/opt/a/b/`` (trailing slash) creates
    ``/opt/a/b``. Returns Salt's ``Directory '<dir>' already exists`` when
    there is nothing to do and None after creating. A path in the way that is
    not a directory is an error (Salt returns a message for that too).

    path
        Absolute path; end it with ``/`` to create the path itself.
    user
        Owner of the new directories.
    group
        Group of the new directories.
    mode
        Mode of the new directories, e.g. ``0755``.

    CLI Example:

        master run '*' file.makedirs /opt/app/releases/
    """
    directory = os.path.normpath(os.path.dirname(absolute(path)))
    if os.path.isdir(directory):
        return f"Directory '{directory}' already exists"
    _make_tree(directory, user, group, mode)
    return None
