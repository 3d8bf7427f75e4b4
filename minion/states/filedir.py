"""`file.directory`: one directory, optionally its tree's owners and modes, and cleaning.

Result shapes follow Salt: a test run lists every path that would change as
``{path: {key: value}}`` with a "The following files will be changed" comment;
a real run reports the same per-path entries, the owner/mode keys it fixed at
the top level, and ``removed`` for what clean deleted.
"""

from __future__ import annotations

import fnmatch
import os
import re
from collections.abc import Iterator
from typing import Any

from minion.context import Context
from minion.states import result
from minion.states.filehelpers import (
    Changes,
    StateError,
    check_owner,
    mode_str,
    parse_mode,
    state,
)

RECURSE_TYPES = ("user", "group", "mode", "ignore_files", "ignore_dirs", "silent")
Walk = list[tuple[str, list[str], list[str]]]


@state
def directory(
    ctx: Context, name: str, user: Any = None, group: Any = None, recurse: Any = None,
    max_depth: int | None = None, dir_mode: Any = None, file_mode: Any = None,
    makedirs: bool = False, clean: bool = False, require: Any = None,
    exclude_pat: str | list[str] | None = None, follow_symlinks: bool = False, force: bool = False,
    backupname: str | None = None, allow_symlink: bool = True, children_only: bool = False,
    mode: Any = None,
) -> dict[str, Any]:
    """Make sure a directory exists with the given owner and mode.

    name
        Absolute path of the directory.
    user, group
        Owner of the directory.
    dir_mode (or mode)
        Mode of the directory, and of directories below it with recurse.
    file_mode
        Mode of the files below it with recurse (default: dir_mode).
    makedirs
        Create missing parent directories.
    recurse
        Apply to everything below as well: a list of ``user``, ``group``,
        ``mode``, and ``ignore_files`` or ``ignore_dirs``.
    max_depth
        With recurse, go at most this many levels down.
    clean
        Remove everything inside that does not match exclude_pat.
    exclude_pat
        A glob on the path relative to name (or ``E@regex``) to keep when cleaning.
    force, backupname
        Replace a file or symlink that is in the way (moving it to backupname).
    allow_symlink
        Accept a symlink to a directory at name (default).
    children_only
        With recurse, leave the directory itself alone.

    CLI Example:

        minion call state.single file.directory /srv/app user=app mode=0750 makedirs=True
    """
    ret = result.new(name)
    path = os.path.expanduser(str(name))
    if path.endswith("/") and path != "/":
        path = path[:-1]
        ret["name"] = name = path
    if max_depth is not None and clean:
        raise StateError("Cannot specify both max_depth and clean")
    dmode = parse_mode(dir_mode if dir_mode else mode)
    fmode = parse_mode(file_mode) if file_mode else dmode
    check_owner(ctx, user, group)
    if not os.path.isabs(path):
        raise StateError(f"Specified file {name} is not an absolute path")
    in_the_way = os.path.isfile(path) or (os.path.islink(path) and (not allow_symlink or force))
    if in_the_way and (early := _in_the_way(ctx, ret, path, force, backupname)):
        return early
    what = _recurse_set(recurse) if recurse else set()
    walk = _walk(path, max_depth) if (what or clean) and os.path.isdir(path) else []
    outcome, comment, changes = _check(path, user, group, what, dmode, fmode, clean,
                                       exclude_pat, walk, children_only)
    ret["changes"].update(changes)
    # Nothing to do is reported the way the test run words it, as in Salt.
    if ctx.test or not changes:
        return result.done(ret, comment, outcome)
    if not os.path.isdir(path):
        return _create(ctx, ret, path, user, group, dmode, makedirs)
    return _fix(ctx, ret, path, user, group, what, dmode, fmode, clean, exclude_pat, walk,
                children_only)


def _in_the_way(ctx: Context, ret: dict[str, Any], path: str, force: bool,
                backupname: str | None) -> dict[str, Any] | None:
    """A file or symlink where the directory should be: move it, remove it, or fail."""
    name = ret["name"]
    changes = ret["changes"]
    if backupname is not None:
        if os.path.lexists(backupname):
            if not force:
                raise StateError(f"File exists where the backup target {backupname} should go")
            if ctx.test:
                changes["forced"] = f"Existing file at backup path {backupname} would be removed"
            else:
                ctx.call("file.remove", backupname)
        if ctx.test:
            changes["backup"] = f"{name} would be renamed to {backupname}"
            changes[name] = {"directory": "new"}
            return result.done(ret, f"{name} would be backed up and replaced with a new "
                                    "directory", None)
        os.rename(path, backupname)
        return None
    if not force:
        kind = "file" if os.path.isfile(path) else "symlink"
        raise StateError(f"Specified location {name} exists and is a {kind}")
    kind = "File" if os.path.isfile(path) else "Symlink"
    if ctx.test:
        changes["forced"] = f"{kind} would be forcibly replaced"
    else:
        ctx.call("file.remove", path)
        changes["forced"] = f"{kind} was forcibly replaced"
    return None


def _recurse_set(recurse: Any) -> set[str]:
    if not isinstance(recurse, list):
        raise StateError('"recurse" must be formed as a list of strings')
    what = {str(item) for item in recurse}
    if not what <= set(RECURSE_TYPES):
        allowed = ", ".join(f'"{kind}"' for kind in RECURSE_TYPES)
        raise StateError(f'Types for "recurse" limited to {allowed}.')
    if {"ignore_files", "ignore_dirs"} <= what:
        raise StateError('Must not specify "recurse" options "ignore_files" and '
                         '"ignore_dirs" at the same time.')
    return what


def _walk(top: str, max_depth: int | None) -> Walk:
    """os.walk of the tree (in the file system's order, as Salt lists it), depth-limited."""
    top_depth = top.rstrip("/").count("/")
    found: Walk = []
    for root, dirs, files in os.walk(top):
        if max_depth is not None and root.rstrip("/").count("/") - top_depth >= max_depth:
            continue
        found.append((root, list(dirs), list(files)))
    return found


def _meta(path: str, user: Any, group: Any, mode: int | None) -> Changes:
    """The owner/mode keys of one path that differ (``directory: new`` if it is missing)."""
    try:
        info = os.stat(path)
    except OSError:
        return {"directory": "new"}
    changes: Changes = {}
    if user not in (None, "") and str(user) not in (_user(info.st_uid), str(info.st_uid)):
        changes["user"] = user
    if group not in (None, "") and str(group) not in (_group(info.st_gid), str(info.st_gid)):
        changes["group"] = group
    if mode is not None and f"{info.st_mode & 0o7777:04o}" != mode_str(mode):
        changes["mode"] = mode_str(mode)
    return changes


def _user(uid: int) -> str:
    import pwd

    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return str(uid)


def _group(gid: int) -> str:
    import grp

    try:
        return grp.getgrgid(gid).gr_name
    except KeyError:
        return str(gid)


def _tree_targets(what: set[str], user: Any, group: Any, dmode: int | None,
                  fmode: int | None) -> tuple[Any, Any, int | None, int | None]:
    """The owner and modes recurse applies below the top, from the recurse list."""
    return (user if "user" in what else None, group if "group" in what else None,
            dmode if "mode" in what else None, fmode if "mode" in what else None)


def _entries(walk: Walk, what: set[str]) -> Iterator[tuple[str, bool]]:
    """(path, is_dir) of everything recurse looks at: each directory's files, then subdirs."""
    for root, dirs, files in walk:
        if "ignore_files" not in what:
            for fname in files:
                yield os.path.join(root, fname), False
        if "ignore_dirs" not in what:
            for dname in dirs:
                yield os.path.join(root, dname), True


def _cleanable(top: str, walk: Walk, exclude_pat: str | list[str] | None) -> list[str]:
    found = []
    for root, dirs, files in walk:
        for entry in [*files, *dirs]:
            full = os.path.join(root, entry)
            if not _excluded(os.path.relpath(full, top), exclude_pat):
                found.append(full)
    return found


def _excluded(rel: str, pattern: str | list[str] | None) -> bool:
    if not pattern:
        return False
    if isinstance(pattern, list):  # Salt takes a list too: any of them
        return any(_excluded(rel, str(p)) for p in pattern)
    if pattern.startswith("E@"):
        return re.search(pattern[2:], rel) is not None
    return fnmatch.fnmatch(rel, pattern)


def _check(path: str, user: Any, group: Any, what: set[str], dmode: int | None,
           fmode: int | None, clean: bool, exclude_pat: str | list[str] | None, walk: Walk,
           children_only: bool) -> tuple[bool | None, str, Changes]:
    """What a test run reports: (result, comment, {path: {key: value}})."""
    changes: Changes = {}
    if what:
        tuser, tgroup, tdmode, tfmode = _tree_targets(what, user, group, dmode, fmode)
        for entry, is_dir in _entries(walk, what):
            found = _meta(entry, tuser, tgroup, tdmode if is_dir else tfmode)
            if found:
                changes[entry] = found
    if not children_only:
        found = _meta(path, user, group, dmode)
        if found:
            changes[path] = found
    if clean:
        for entry in _cleanable(path, walk, exclude_pat):
            changes[entry] = {"removed": "Removed due to clean"}
    if not os.path.isdir(path):
        changes[path] = {"directory": "new"}
    if not changes:
        return True, f"The directory {path} is in the correct state", changes
    lines = ["The following files will be changed:\n"]
    lines += [f"{entry}: {key} - {value}\n" for entry, change in changes.items()
              for key, value in change.items()]
    return None, "".join(lines), changes


def _create(ctx: Context, ret: dict[str, Any], path: str, user: Any, group: Any,
            dmode: int | None, makedirs: bool) -> dict[str, Any]:
    bits = None if dmode is None else mode_str(dmode)
    if not os.path.isdir(os.path.dirname(path)):
        if not makedirs:
            return result.fail(ret, f"No directory to create {path} in")
        ctx.call("file.makedirs", path, user, group, bits)
    ctx.call("file.mkdir", path, user, group, bits)
    ret["changes"][path] = {"directory": "new"}
    return result.done(ret, "")


def _fix(ctx: Context, ret: dict[str, Any], path: str, user: Any, group: Any, what: set[str],
         dmode: int | None, fmode: int | None, clean: bool, exclude_pat: str | list[str] | None,
         walk: Walk, children_only: bool) -> dict[str, Any]:
    """A real run on an existing directory: owner and mode, then the tree, then clean."""
    changes = ret["changes"]
    if not children_only:
        _set_perms(ctx, path, _meta(path, user, group, dmode), changes)
    if what:
        tuser, tgroup, tdmode, tfmode = _tree_targets(what, user, group, dmode, fmode)
        if "silent" in what:
            ret["changes"] = changes = {"recursion": "Changes silenced"}
        for entry, is_dir in _entries(walk, what):
            found = _meta(entry, tuser, tgroup, tdmode if is_dir else tfmode)
            _set_perms(ctx, entry, found, changes)
    comment = ""
    if clean:
        removed = []
        for entry in _cleanable(path, walk, exclude_pat):
            if os.path.lexists(entry):
                ctx.call("file.remove", entry)
                removed.append(entry)
        if removed:
            changes["removed"] = removed
            comment = f"Files cleaned from directory {path}"
    if not comment and changes:
        comment = f"Directory {path}/* updated" if children_only else f"Directory {path} updated"
    if not changes:
        comment = f"Directory {path} is in the correct state"
    return result.done(ret, comment)


def _set_perms(ctx: Context, path: str, found: Changes, changes: Changes) -> None:
    """Fix one path's owner/mode and record the keys at the top level, as Salt does."""
    if "user" in found or "group" in found:
        ctx.call("file.chown", path, found.get("user"), found.get("group"))
    if "mode" in found:
        ctx.call("file.set_mode", path, found["mode"])
    for key in ("user", "group", "mode"):
        if key in found:
            changes[key] = found[key]
