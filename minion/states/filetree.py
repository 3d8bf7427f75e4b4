"""`file.recurse`: copy a directory tree from the file server."""

from __future__ import annotations

import os
from typing import Any

from common.fileroots import split_url
from minion.context import Context
from minion.states import result
from minion.states.filedir import directory
from minion.states.filehelpers import (
    Patterns,
    StateError,
    check_owner,
    mode_str,
    parse_mode,
    path_matches,
    state,
)
from minion.states.filemanaged import managed


@state
def recurse(
    ctx: Context, name: str, source: Any, clean: bool = False, require: Any = None,
    user: Any = None, group: Any = None, dir_mode: Any = None, file_mode: Any = None,
    template: str | None = None, context: dict[str, Any] | None = None,
    defaults: dict[str, Any] | None = None, include_empty: bool = False,
    backup: str = "", include_pat: Patterns = None, exclude_pat: Patterns = None,
    maxdepth: int | None = None, replace: bool = True, saltenv: str = "base",
    keep_source: bool = True, show_changes: bool = True,
) -> dict[str, Any]:
    """Copy a directory tree from the file server (``salt://``) to the minion.

    Each directory is handled as file.directory and each file as file.managed
    would, and their results are gathered under their paths, as Salt does.

    name
        Absolute path of the target directory (created if missing).
    source
        ``salt://`` directory (a list: the first one that exists).
    clean
        Remove files and directories in name that are not in the source
        (except what matches exclude_pat).
    include_empty
        Create empty directories of the source too.
    include_pat, exclude_pat
        Globs on the relative path (or ``E@regex``) choosing source files;
        exclude_pat also protects target files from clean.
    maxdepth
        Only take files this many directories deep at most (0: the top only).
    template, context, defaults
        Render every file as for file.managed.
    user, group, dir_mode, file_mode
        Owner and modes (``file_mode: keep`` keeps each source file's mode).
    replace
        False: never change the content of existing files.
    backup
        As for file.managed.

    CLI Example:

        minion call state.single file.recurse /etc/nginx source=salt://nginx/conf clean=True
    """
    ret = result.new(name)
    path = os.path.expanduser(str(name))
    dmode = parse_mode(dir_mode)
    keep_mode = str(file_mode).lower() == "keep"
    if not keep_mode:
        parse_mode(file_mode)  # refuse a bad mode before anything is written
    check_owner(ctx, user, group)
    if not os.path.isabs(path):
        raise StateError(f"Specified file {name} is not an absolute path")
    sources = [str(s).rstrip("/") for s in (source if isinstance(source, list) else [source])]
    for url in sources:
        if not url.startswith("salt://"):
            raise StateError(f"Invalid source '{url}' (must be a salt:// URI)")
    found = _first_source(ctx, sources, saltenv)
    if found is None:
        raise StateError("Recurse failed: none of the specified sources were found")
    env, prefix = found
    if not os.path.isdir(path):
        if os.path.exists(path):
            raise StateError(f"The path {name} exists and is not a directory")
        if not ctx.test:
            ctx.call("file.makedirs", path + "/", user, group,
                     None if dmode is None else mode_str(dmode))
    files, dirs = _wanted(ctx, env, prefix, path, include_pat, exclude_pat, maxdepth,
                          include_empty)
    comments: dict[str, list[str]] = {}

    def merge(target: str, sub: dict[str, Any]) -> None:
        if sub["result"] is False or ret["result"] is True:
            ret["result"] = sub["result"]
        if sub["result"] is not True and sub["comment"]:
            comments.setdefault(target, []).append(sub["comment"])
        if sub["changes"]:
            ret["changes"][target] = sub["changes"]

    for target in sorted(dirs):
        merge(target, directory(ctx, target, user=user, group=group, dir_mode=dir_mode,
                                makedirs=True))
    for target, url in sorted(files.items()):
        if clean and os.path.isdir(target) and not os.path.islink(target) and replace:
            if ctx.test:
                merge(target, {"result": None, "changes": {},
                               "comment": f"Replacing directory {target} with a file"})
                continue
            ctx.call("file.remove", target)
        merge(target, managed(ctx, target, source=url, user=user, group=group,
                              mode="keep" if keep_mode else file_mode, template=template,
                              makedirs=True, replace=replace, context=context,
                              defaults=defaults, backup=backup, saltenv=env,
                              show_changes=show_changes))
    if clean:
        removed = _clean(ctx, path, set(files) | dirs, exclude_pat)
        if removed and ctx.test:
            if ret["result"]:
                ret["result"] = None
            comments["removed"] = removed
        elif removed:
            ret["changes"]["removed"] = removed
    text = "\n".join(f"\n#### {key} ####\n" + "\n".join(value)
                     for key, value in comments.items()).strip()
    ret["comment"] = text or f"Recursively updated {name}"
    if not ret["changes"] and ret["result"]:
        ret["comment"] = f"The directory {name} is in the correct state"
    return ret


def _first_source(ctx: Context, sources: list[str], saltenv: str) -> tuple[str, str] | None:
    """(env, directory) of the first source that is a directory on the file server."""
    client = ctx.fileclient()
    for url in sources:
        rel, env = split_url(url, saltenv)
        rel = rel.strip("/")
        if rel in client.list(env, rel, dirs=True) or client.list(env, rel + "/"):
            return env, rel
    return None


def _wanted(ctx: Context, env: str, prefix: str, top: str, include_pat: Patterns,
            exclude_pat: Patterns, maxdepth: int | None,
            include_empty: bool) -> tuple[dict[str, str], set[str]]:
    """{target file: salt:// url} and the target directories that hold them (or are empty)."""
    client = ctx.fileclient()
    start = prefix + "/"

    def chosen(rel: str) -> bool:
        if maxdepth is not None and rel.count("/") > maxdepth:
            return False
        wanted = not include_pat or path_matches(rel, include_pat)
        return wanted and not (exclude_pat and path_matches(rel, exclude_pat))

    files: dict[str, str] = {}
    dirs: set[str] = set()
    for full in client.list(env, start):
        rel = full[len(start):] if full.startswith(start) else ""
        if rel and chosen(rel):
            target = os.path.join(top, rel)
            files[target] = f"salt://{full}" + (f"?saltenv={env}" if env != "base" else "")
            dirs.add(os.path.dirname(target))
    if include_empty:
        for full in client.list(env, start, dirs=True):
            rel = full[len(start):].strip("/") if full.startswith(start) else ""
            if rel and chosen(rel):
                dirs.add(os.path.join(top, rel))
    return files, dirs


def _clean(ctx: Context, top: str, keep: set[str], exclude_pat: Patterns) -> list[str]:
    """Remove (in a real run) what is not kept under `top`; the paths, as Salt lists them."""
    kept = set(keep)
    for path in keep:
        while (path := os.path.dirname(path)) and path.startswith(top) and path != top:
            kept.add(path)
    removed: list[str] = []
    for root, dirs, files in os.walk(top):
        for entry in [*dirs, *files]:
            full = os.path.join(root, entry)
            if full in kept:
                continue
            if exclude_pat and path_matches(os.path.relpath(full, top), exclude_pat):
                continue
            removed.append(full)
            if not ctx.test:
                ctx.call("file.remove", full)
    return removed
