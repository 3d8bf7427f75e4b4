"""`file.recurse`: copy a directory tree from the file server."""

from __future__ import annotations

import os
from typing import Any

from common.fileroots import split_url
from minion.context import Context
from minion.states import result
from minion.states.filehelpers import (
    NOTE_TEST,
    Changes,
    StateError,
    absolute,
    apply_file,
    apply_perms,
    check_owner,
    clean_targets,
    mode_str,
    parse_mode,
    path_matches,
    perm_changes,
    plan_file,
    state,
    stats,
)
from minion.states.filesource import render

RECURSE_TYPES = ("user", "group", "mode", "ignore_files", "ignore_dirs", "silent")


@state
def recurse(
    ctx: Context, name: str, source: Any, clean: bool = False, user: Any = None,
    group: Any = None, dir_mode: Any = None, file_mode: Any = None, template: str | None = None,
    context: dict[str, Any] | None = None, defaults: dict[str, Any] | None = None,
    include_empty: bool = False, include_pat: str | None = None, exclude_pat: str | None = None,
    replace: bool = True, backup: str = "", show_changes: bool = True, saltenv: str = "base",
    keep_source: bool = True,
) -> dict[str, Any]:
    """Copy a directory tree from the file server (``salt://``) to the minion.

    name
        Absolute path of the target directory (created if missing).
    source
        ``salt://`` directory (a list: the first one that has files).
    clean
        Remove files and directories in name that are not in the source
        (except what matches exclude_pat).
    include_empty
        Create empty directories of the source too.
    include_pat, exclude_pat
        Globs on the relative path (or ``E@regex``) choosing source files;
        exclude_pat also protects target files from clean.
    template, context, defaults
        Render every file as for file.managed.
    user, group, dir_mode, file_mode
        Owner and modes (``file_mode: keep`` keeps each source file's mode).
    replace
        False: never change the content of existing files.
    backup, show_changes
        As for file.managed.

    CLI Example:

        minion call state.single file.recurse /etc/nginx source=salt://nginx/conf clean=True
    """
    ret = result.new(name)
    path = absolute(name)
    check_owner(ctx, user, group)
    dmode = parse_mode(dir_mode)
    keep_mode = str(file_mode).lower() == "keep"
    fmode = None if keep_mode else parse_mode(file_mode)
    if os.path.lexists(path) and not os.path.isdir(path):
        raise StateError(f"The path {name} exists and is not a directory")
    url, env, files, dirs = _source_tree(ctx, source, saltenv)

    def chosen(rel: str) -> bool:
        wanted = not include_pat or path_matches(rel, include_pat)
        return wanted and not path_matches(rel, exclude_pat)

    files = {sub: full for sub, full in files.items() if chosen(sub)}
    wanted_dirs = {os.path.dirname(sub) for sub in files} - {""}
    wanted_dirs |= {d for d in dirs if include_empty and chosen(d)}
    wanted_dirs |= {p for d in wanted_dirs for p in _parents(d)}
    changes: Changes = {}
    for sub in ["", *sorted(wanted_dirs)]:
        dest = os.path.join(path, sub) if sub else path
        current = stats(ctx, dest)
        found = ({dest: "New Dir"} if current is None
                 else perm_changes(current, user, group, dmode))
        if found:
            changes[dest] = found
    datas: dict[str, bytes] = {}
    for sub, full in sorted(files.items()):
        dest = os.path.join(path, sub)
        if os.path.isdir(dest):
            raise StateError(f"Specified target {dest} is a directory")
        cached = ctx.fileclient().cache_file(env, full)
        data = cached.read_bytes()
        if template:
            data = render(ctx, data.decode("utf-8"), template, f"salt://{full}", env, context,
                          defaults).encode()
        bits = (os.stat(cached).st_mode & 0o7777) if keep_mode else fmode
        keep_content = not replace and os.path.lexists(dest)
        found = plan_file(ctx, dest, None if keep_content else data, user, group, bits,
                          show_changes)
        if found:
            changes[dest], datas[dest] = found, data
    if clean and os.path.isdir(path):
        def keep(rel: str) -> str:
            if path_matches(rel, exclude_pat):
                return "tree"
            return "node" if rel in files or rel in wanted_dirs else ""

        removed, _ = clean_targets(path, keep)
        if removed:
            changes["removed"] = removed
    if not changes:
        return result.done(ret, f"The directory {name} is in the correct state")
    if (r := result.pending(ctx, ret, changes,
                            f"The directory {name} is set to be changed{NOTE_TEST}")):
        return r
    _apply_tree(ctx, changes, datas, user, group, dmode, backup)
    ret["changes"] = changes
    return result.done(ret, f"Recursively updated {name} from {url}")


def _source_tree(ctx: Context, source: Any,
                 saltenv: str) -> tuple[str, str, dict[str, str], set[str]]:
    """The first source with content: url, env, {relative file: full path}, relative dirs."""
    sources = source if isinstance(source, list) else [source]
    for url in map(str, sources):
        if not url.startswith("salt://"):
            raise StateError(f"Invalid source '{url}' (must be a salt:// URI)")
    for url in map(str, sources):
        rel, env = split_url(url, saltenv)
        client = ctx.fileclient()
        prefix = rel.rstrip("/") + "/"
        files = {f[len(prefix):]: f for f in client.list(env, rel) if f.startswith(prefix)}
        dirs = {d[len(prefix):] for d in client.list(env, rel, dirs=True)
                if d.startswith(prefix)}
        if files or dirs:
            return url, env, files, dirs
    raise StateError(f"The directory '{sources[0]}' does not exist on the salt fileserver "
                     f"in saltenv '{saltenv}'")


def _parents(rel: str) -> list[str]:
    out = []
    while (rel := os.path.dirname(rel)):
        out.append(rel)
    return out


def _apply_tree(ctx: Context, changes: Changes, datas: dict[str, bytes], user: Any, group: Any,
                dmode: int | None, backup: str) -> None:
    for dest, change in sorted(changes.items()):
        if dest == "removed":
            continue
        if dest in datas:
            apply_file(ctx, dest, datas[dest], change, backup)
        elif change.get(dest) == "New Dir":
            ctx.call("file.mkdir", dest, user, group, None if dmode is None else mode_str(dmode))
        else:
            apply_perms(ctx, dest, change)
    for path in changes.get("removed", []):
        ctx.call("file.remove", path)
