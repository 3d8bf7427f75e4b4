"""file.*: links, copies, renames and removal."""

from __future__ import annotations

import os
import secrets
import shutil
import stat

from minion.context import Context
from minion.modules.file.common import (
    FileError,
    absolute,
    os_errors,
)

# --- links, copies, moves and removal --------------------------------------------------------


def readlink(ctx: Context, path: str, canonicalize: bool = False) -> str:
    """Return the path a symlink points to.

    path
        Absolute path of the symlink; anything else is an error.
    canonicalize
        Return the final target with every symlink on the way resolved.

    CLI Example:

        master run '*' file.readlink /etc/localtime
    """
    path = absolute(os.path.expandvars(str(path)))
    if not os.path.islink(path):
        raise FileError(f"{path}: not a symbolic link")
    if canonicalize:
        return os.path.realpath(path)
    with os_errors(path):
        return os.readlink(path)


def symlink(
    ctx: Context,
    src: str,
    path: str,
    force: bool = False,
    atomic: bool = False,
    follow_symlinks: bool = True,
) -> bool:
    """Create a symlink at `path` pointing to `src`; return True.

    A link already pointing to src is left alone. Another link or file at
    path is an error unless force (or atomic) is set; it is then replaced
    atomically. A real directory at path is never replaced.

    src
        What the link points to; may be relative (to the link's directory).
    path
        Absolute path of the link.
    force
        Replace an existing link or file at path.
    atomic
        Replace through a temporary link and a rename (always done when
        replacing); implies force.
    follow_symlinks
        False checks for an existing path with lexists (a broken link counts).

    CLI Example:

        master run '*' file.symlink /opt/app/releases/42 /opt/app/current force=True
    """
    path = absolute(path)
    exists = os.path.exists if follow_symlinks else os.path.lexists
    replace_ok = force or atomic
    if os.path.islink(path):
        if os.path.normpath(os.readlink(path)) == os.path.normpath(str(src)):
            return True
        if not replace_ok:
            raise FileError(f"{path}: found existing symlink (force=True replaces it)")
    elif exists(path) and not replace_ok:
        raise FileError(f"{path}: existing path is not a symlink (force=True replaces it)")
    if os.path.isdir(path) and not os.path.islink(path):
        raise FileError(f"{path}: is a directory; remove it before linking")
    if not os.path.lexists(path):
        with os_errors(path):
            os.symlink(src, path)
        return True
    temp = os.path.join(os.path.dirname(path), f".{os.path.basename(path)}.{secrets.token_hex(4)}")
    with os_errors(path):
        os.symlink(src, temp)
        try:
            os.replace(temp, path)
        except OSError:
            os.unlink(temp)
            raise
    return True


def rename(ctx: Context, src: str, dst: str) -> bool:
    """Rename (move) a file or directory; return True.

    src
        Absolute path to move.
    dst
        Absolute new path; an existing file there is replaced.

    CLI Example:

        master run '*' file.rename /etc/app.conf /etc/app.conf.old
    """
    src, dst = absolute(src), absolute(dst)
    with os_errors(f"{src} -> {dst}"):
        os.rename(src, dst)
    return True


def _copy_owner_mode(src: str, dst: str) -> None:
    """Give `dst` the mode of `src`, and its owner when we may (running as root)."""
    info = os.stat(src)
    os.chmod(dst, stat.S_IMODE(info.st_mode))
    if os.geteuid() == 0:
        os.chown(dst, info.st_uid, info.st_gid)


def copy(
    ctx: Context, src: str, dst: str, recurse: bool = False, remove_existing: bool = False
) -> bool:
    """Copy a file or a directory tree; return True.

    A file's content is copied and dst gets src's mode (and owner, when the
    minion runs as root). A directory needs recurse: its tree is merged into
    dst, overwriting files of the same name and keeping others (like
    ``cp -r``); symlinks in it are copied as symlinks. A file copied onto an
    existing directory with recurse goes inside it.

    src
        Absolute path to copy.
    dst
        Absolute destination path.
    recurse
        Allow copying directories.
    remove_existing
        With recurse, remove dst first so it ends up an exact copy.

    CLI Example:

        master run '*' file.copy /srv/app/conf /etc/app recurse=True
    """
    src, dst = absolute(src), absolute(dst)
    if not os.path.exists(src):
        raise FileError(f"{src}: no such file or directory")
    src_dir, dst_dir = os.path.isdir(src), os.path.isdir(dst)
    if (src_dir or dst_dir) and not recurse:
        raise FileError(f"{dst}: cannot copy overwriting a directory without recurse=True")
    with os_errors(f"{src} -> {dst}"):
        if src_dir:
            if remove_existing and os.path.lexists(dst):
                _remove_path(dst)
            shutil.copytree(src, dst, symlinks=True, dirs_exist_ok=True)
        else:
            if dst_dir:
                dst = os.path.join(dst, os.path.basename(src))
            shutil.copyfile(src, dst)
        _copy_owner_mode(src, dst)
    return True


def _remove_path(path: str) -> bool:
    if os.path.islink(path) or (os.path.lexists(path) and not os.path.isdir(path)):
        os.remove(path)
        return True
    if os.path.isdir(path):
        # rmtree unlinks symlinks inside the tree rather than descending into them.
        shutil.rmtree(path)
        return True
    return False


def remove(ctx: Context, path: str) -> bool:
    """Remove a file, a symlink or a whole directory tree; False if nothing is there.

    A symlink is removed, never its target; symlinks inside a removed tree
    are removed without following them, so nothing outside the tree goes.

    path
        Absolute path to remove.

    CLI Example:

        master run '*' file.remove /tmp/build
    """
    path = absolute(path)
    with os_errors(path):
        return _remove_path(path)
