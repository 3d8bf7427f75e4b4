"""Keep git checkouts and git config as wanted, like Salt's ``git`` states.

.. code-block:: yaml

    https://example.com/app.git:
      git.latest:
        - target: /srv/app
        - rev: main
        - branch: main

``git.latest`` asks the remote (``git ls-remote``) where `rev` points, and
clones, fetches, fast-forwards or (with ``force_reset``) hard-resets the
checkout to match. Comments and changes follow Salt's: ``new`` for a clone,
``revision`` ``{old, new}`` for a move, ``forced update`` for a reset.
"""

from __future__ import annotations

import os
import string
from dataclasses import dataclass
from typing import Any

from minion.context import Context
from minion.states import result

__all__ = ["cloned", "config_set", "config_unset", "latest"]


def _short(sha: str | None) -> str | None:
    return sha[:7] if sha else sha


def _comments(items: list[str]) -> str:
    return ". ".join(items) + ("." if len(items) > 1 else "")


def _fail(ret: dict[str, Any], msg: str, comments: list[str] | None = None) -> dict[str, Any]:
    if comments:
        msg += "\n\nChanges already made: " + _comments(comments)
    return result.fail(ret, msg)


def _uptodate(ctx: Context, ret: dict[str, Any], target: str, comments: list[str] | None = None,
              local_changes: bool = False) -> dict[str, Any]:
    ret["result"] = True
    ret["comment"] = f"Repository {target} is up-to-date"
    if local_changes:
        ret["comment"] += (", but with uncommitted changes. Set 'force_reset' to True to "
                           "purge uncommitted changes.")
    if comments:
        ret["comment"] += "\n\nChanges {}made: {}".format(
            "that would be " if ctx.test else "", _comments(comments))
    return ret


@dataclass
class Remote:
    """Where the wanted rev is on the remote."""

    rev: str | None        # commit id
    kind: str | None       # sha1, branch or tag
    upstream: str | None   # origin/<branch> for a branch
    loc: str | None        # how comments name it
    default_branch: str | None


def _resolve(refs: dict[str, str], rev: str, remote: str) -> Remote:
    head = refs.get("HEAD")
    default = next((r.partition("refs/heads/")[2] for r, sha in refs.items()
                    if r.startswith("refs/heads/") and sha == head), None) if head else None
    sha: str | None
    upstream = None
    if rev == "HEAD":
        sha, kind = head, "sha1" if head else None
    elif "refs/heads/" + rev in refs:
        sha, kind, upstream = refs["refs/heads/" + rev], "branch", f"{remote}/{rev}"
    elif "refs/tags/" + rev + "^{}" in refs:
        sha, kind = refs["refs/tags/" + rev + "^{}"], "tag"
    elif "refs/tags/" + rev in refs:
        sha, kind = refs["refs/tags/" + rev], "tag"
    elif len(rev) <= 40 and all(c in string.hexdigits for c in rev):
        sha, kind = rev.lower(), "sha1"
    else:
        sha, kind = None, None
    if kind == "sha1" and sha:
        loc = f"remote HEAD ({sha[:7]})" if rev == "HEAD" else sha[:7]
    elif sha:
        loc = f"{upstream if kind == 'branch' else rev} ({sha[:7]})"
    else:
        loc = None
    return Remote(sha, kind, upstream, loc, default)


def _same(local: str | None, remote: Remote) -> bool:
    if not local or not remote.rev:
        return False
    return local.startswith(remote.rev) if remote.kind == "sha1" else local == remote.rev


def _try(ctx: Context, fun: str, *args: Any, **kwargs: Any) -> Any:
    try:
        return ctx.call(fun, *args, **kwargs)
    except Exception:
        return None


def _local(ctx: Context, target: str, user: str | None) -> tuple[str | None, str | None]:
    rev = _try(ctx, "git.revision", target, user=user)
    branch = _try(ctx, "git.current_branch", target, user=user)
    return rev, (None if branch == "HEAD" else branch)


def _not_fast_forward(ret: dict[str, Any], rev: str, pre: str | None, post: str | None,
                      branch: str | None, local_branch: str | None, remote: Remote,
                      local_changes: bool, comments: list[str]) -> dict[str, Any]:
    hint = ""
    if branch is None and rev != "HEAD" and local_branch != rev:
        hint = (f" The desired rev ({rev}) differs from the name of the local branch "
                f"({local_branch}), if the desired rev is a branch name then a forced update "
                f"could possibly be avoided by setting the 'branch' argument to '{rev}' "
                "instead.")
    elif branch is None and rev == "HEAD" and remote.default_branch not in (None, local_branch):
        d = remote.default_branch
        hint = (f" The default remote branch ({d}) differs from the local branch "
                f"({local_branch}). This could be caused by changing the default remote "
                "branch, or if the local branch was manually changed. Rather than forcing an "
                f"update, it may be advisable to set the 'branch' argument to '{d}' instead. "
                f"To ensure that this state follows the '{d}' branch instead of the remote "
                f"HEAD, set the 'rev' argument to '{d}'.")
    moved = (f"from {_short(pre)} to {_short(post)}" if local_changes and pre != post
             else f"to {_short(post)}")
    after = (f" (after checking out local branch '{branch}')"
             if branch is not None and branch != local_branch else "")
    why = "there are uncommitted changes" if local_changes else "this is not a fast-forward merge"
    alt = " (or 'remote-changes')" if local_changes else ""
    discard = " and discard these changes" if local_changes else ""
    return _fail(ret, f"Repository would be updated {moved}{after}, but {why}. Set "
                      f"'force_reset' to True{alt} to force this update{discard}.{hint}",
                 comments)


def latest(
    ctx: Context,
    name: str,
    rev: str = "HEAD",
    target: str | None = None,
    branch: str | None = None,
    user: str | None = None,
    remote: str = "origin",
    force_clone: bool = False,
    force_checkout: bool = False,
    force_fetch: bool = False,
    force_reset: bool | str = False,
    depth: int | None = None,
    identity: str | list[str] | None = None,
    update_head: bool = True,
) -> dict[str, Any]:
    """Make sure `target` is a checkout of the remote `name` at the latest `rev`.

    name
        The remote repository (URL or path).
    target
        The working copy's absolute path.
    rev
        Branch, tag or commit to follow (default: the remote's HEAD).
    branch
        The local branch to keep checked out (created from rev when missing).
    user
        Run git as this user.
    force_clone
        Empty a non-git target directory and clone into it.
    force_reset
        Hard-reset when a fast-forward is impossible or there are local changes
        (``remote-changes``: only when the remote moved).
    depth
        Shallow clone of this depth (rev must be a branch or tag).
    identity
        SSH private key(s) for the remote.

    CLI Example:

        minion call --local state.single git.latest https://example.com/app.git target=/srv/app
    """
    ret = result.new(name)
    if not target:
        return _fail(ret, "'target' argument is required")
    rev, target = str(rev) if rev is not None else "", str(target)
    if not rev:
        return _fail(ret, f"'{rev}' is not a valid value for the 'rev' argument")
    if force_reset not in (True, False, "remote-changes"):
        return _fail(ret, "'force_reset' must be one of True, False, or 'remote-changes'")
    if not os.path.isabs(target):
        return _fail(ret, f"target '{target}' is not an absolute path")
    if isinstance(identity, str):
        identity = [identity]
    for key in identity or []:
        if not os.path.isabs(key):
            return _fail(ret, f"identity '{key}' is not an absolute path")
    if os.path.isfile(target):
        return _fail(ret, f"Target '{target}' exists and is a regular file, cannot proceed")
    try:
        refs = ctx.call("git.ls_remote", None, name, user=user, identity=identity)
    except Exception as exc:
        return _fail(ret, f"Failed to check remote refs: {_strip(exc)}")
    want = _resolve(refs, rev, remote)
    if depth is not None and want.kind not in ("branch", "tag"):
        return _fail(ret, "When 'depth' is used, 'rev' must be set to the name of a branch or "
                          "tag on the remote repository")
    if want.rev is None and rev != "HEAD":
        return _fail(ret, f"No revision matching '{rev}' exists in the remote repository")
    args = _Args(name, rev, target, branch, user, remote, force_reset, force_fetch,
                 force_checkout, identity, update_head)
    try:
        if os.path.isdir(os.path.join(target, ".git")):
            return _update(ctx, ret, args, want)
        return _clone(ctx, ret, args, want, refs, depth, force_clone)
    except Exception as exc:
        return _fail(ret, _strip(exc))


def _strip(exc: Exception) -> str:
    return str(exc).strip()


@dataclass
class _Args:
    name: str
    rev: str
    target: str
    branch: str | None
    user: str | None
    remote: str
    force_reset: bool | str
    force_fetch: bool
    force_checkout: bool
    identity: list[str] | None
    update_head: bool


def _clone(ctx: Context, ret: dict[str, Any], a: _Args, want: Remote, refs: dict[str, str],
           depth: int | None, force_clone: bool) -> dict[str, Any]:
    if os.path.isdir(a.target) and os.listdir(a.target):
        if not force_clone:
            return _fail(ret, f"Target '{a.target}' exists, is non-empty and is not a git "
                              "repository. Set the 'force_clone' option to True to remove this "
                              "directory's contents and proceed with cloning the remote "
                              "repository")
        if ctx.test:
            ret["changes"] = {"forced clone": True, "new": f"{a.name} => {a.target}"}
            return result.done(ret, f"Target directory {a.target} exists. Since "
                               f"force_clone=True, the contents of {a.target} would be "
                               f"deleted, and {a.name} would be cloned into this directory.",
                               None)
        for item in os.listdir(a.target):
            ctx.call("file.remove", os.path.join(a.target, item))
        ret["changes"]["forced clone"] = True
    if ctx.test:
        ret["changes"]["new"] = f"{a.name} => {a.target}"
        return result.done(ret, f"Repository {a.name} would be cloned to {a.target}", None)
    opts = [] if a.remote == "origin" else ["--origin", a.remote]
    if depth is not None:
        opts += ["--depth", str(depth), "--branch", a.rev]
    comments: list[str] = []
    try:
        ctx.call("git.clone", a.target, a.name, opts=opts, user=a.user, identity=a.identity)
    except Exception as exc:
        return _fail(ret, f"Clone failed: {_strip(exc)}", comments)
    ret["changes"]["new"] = f"{a.name} => {a.target}"
    comments.append(f"{a.name} cloned to {a.target}")
    if want.rev is None:
        if a.rev != "HEAD":
            return _fail(ret, f"Repository was cloned but is empty, so {a.remote}/{a.rev} "
                              "cannot be checked out", comments)
    else:
        if a.branch is not None and a.branch not in ctx.call("git.list_branches", a.target,
                                                              user=a.user):
            start = want.rev if a.rev == "HEAD" else (want.upstream or a.rev)
            ctx.call("git.checkout", a.target, start, opts=["-b", a.branch], user=a.user)
            comments.append(f"Branch '{a.branch}' checked out, with {want.loc} as a starting "
                            "point")
        local_rev, local_branch = _local(ctx, a.target, a.user)
        if not _same(local_rev, want):
            ctx.call("git.reset", a.target, opts=["--hard", want.rev], user=a.user)
            comments.append(f"Repository was reset to {want.loc}")
        _track(ctx, a, want, local_branch, comments)
    new_rev = _try(ctx, "git.revision", a.target, user=a.user)
    ret["changes"]["revision"] = {"old": None, "new": new_rev}
    return result.done(ret, _comments(comments))


def _track(ctx: Context, a: _Args, want: Remote, local_branch: str | None,
           comments: list[str]) -> None:
    """Set the branch's upstream to origin/<rev> when rev is a branch (not in test mode)."""
    if not want.upstream or local_branch is None:
        return
    upstream = _try(ctx, "git.rev_parse", a.target, f"{local_branch}@{{upstream}}",
                    opts=["--abbrev-ref"], user=a.user)
    if upstream == want.upstream:
        return
    ctx.call("git.branch", a.target, opts=["--set-upstream-to", want.upstream], user=a.user)
    comments.append(f"Tracking branch was {'updated' if upstream else 'set'} to {want.upstream}")


def _has_rev(ctx: Context, a: _Args, want: Remote, base_rev: str | None) -> bool:
    """Whether the wanted commit (and, for a branch, origin/<branch>) is already here."""
    if want.kind == "sha1" and base_rev and want.rev and base_rev.startswith(want.rev):
        return True
    if want.rev is None or _try(ctx, "git.rev_parse", a.target, want.rev + "^{commit}",
                                user=a.user) is None:
        return False
    if want.kind == "branch":
        return bool(_try(ctx, "git.rev_parse", a.target, want.upstream, user=a.user)
                    == want.rev)
    if want.kind == "tag":
        return bool(_try(ctx, "git.rev_parse", a.target, a.rev + "^{commit}", user=a.user)
                    == want.rev)
    return True


def _update(ctx: Context, ret: dict[str, Any], a: _Args, want: Remote) -> dict[str, Any]:
    local_rev, local_branch = _local(ctx, a.target, a.user)
    if want.rev is None and local_rev is not None:
        return _fail(ret, "Remote repository is empty, cannot update from a non-empty to an "
                          "empty repository")
    branches = ctx.call("git.list_branches", a.target, user=a.user)
    base_rev = local_rev
    change_branch = a.branch is not None and a.branch != local_branch
    if change_branch:
        base_rev = (want.rev if a.branch not in branches
                    else ctx.call("git.rev_parse", a.target, f"{a.branch}^{{commit}}",
                                  user=a.user))
    match = _same(local_rev, want)
    local_changes = bool(_try(ctx, "git.diff", a.target, "HEAD", user=a.user))
    if local_changes and match:
        if a.force_reset is not True:
            return _uptodate(ctx, ret, a.target, local_changes=True)
        if ctx.test:
            ret["changes"]["forced update"] = True
            return result.done(ret, f"{a.target} is up-to-date, but with uncommitted changes. "
                               "Since 'force_reset' is set to True, these local changes would "
                               "be reset. To only reset when there are changes in the remote "
                               "repository, set 'force_reset' to 'remote-changes'.", None)
    has_rev = _has_rev(ctx, a, want, base_rev)
    ff: bool | None = False if (local_changes and a.force_reset != "remote-changes") else None
    if has_rev and ff is not False:
        ff = True if base_rev is None else ctx.call(
            "git.merge_base", a.target, [base_rev, want.rev], is_ancestor=True, user=a.user)
    if ff is False and a.force_reset is False:
        return _not_fast_forward(ret, a.rev, base_rev, want.rev, a.branch, local_branch, want,
                                 local_changes, [])
    if want.rev is None:
        return _uptodate(ctx, ret, a.target)
    if ctx.test:
        return _predict(ctx, ret, a, want, local_rev, local_branch, branches, has_rev, ff,
                        match)
    return _apply(ctx, ret, a, want, local_rev, local_branch, branches, base_rev, has_rev, ff,
                  local_changes)


def _predict(ctx: Context, ret: dict[str, Any], a: _Args, want: Remote, local_rev: str | None,
             local_branch: str | None, branches: list[str], has_rev: bool, ff: bool | None,
             match: bool) -> dict[str, Any]:
    actions = [] if has_rev else [f"Remote '{a.remote}' would be fetched"]
    change_branch = a.branch is not None and a.branch != local_branch
    if not match and (a.update_head or change_branch):
        ret["changes"]["revision"] = {"old": local_rev, "new": want.rev}
    if change_branch and a.branch not in branches:
        actions.append(f"New branch '{a.branch}' would be checked out, with {want.loc} as a "
                       "starting point")
    elif change_branch:
        how = "hard-reset" if ff is False else "fast-forwarded" if ff else "updated"
        actions.append(f"Branch '{a.branch}' would be checked out and {how} to "
                       f"{_short(want.rev)}")
    elif not match and a.update_head:
        how = ("fast-forwarded" if ff is True else
               "hard-reset" if a.force_reset and has_rev else "updated")
        actions.append(f"Repository would be {how} from {_short(local_rev)} to "
                       f"{_short(want.rev)}")
    elif not match:
        actions.append(f"Local HEAD ({(local_rev or '')[:7]}) does not match {want.loc} but "
                       "update_head=False, HEAD would not be updated locally")
    upstream = (_try(ctx, "git.rev_parse", a.target, f"{local_branch}@{{upstream}}",
                     opts=["--abbrev-ref"], user=a.user) if local_branch else None)
    if want.upstream and upstream != want.upstream:
        actions.append(f"Tracking branch would be {'updated' if upstream else 'set'} to "
                       f"{want.upstream}")
    if ret["changes"]:
        return result.done(ret, _comments(actions), None)
    if not match and not a.update_head and actions:
        return result.done(ret, _comments(actions))
    return _uptodate(ctx, ret, a.target, actions)


def _apply(ctx: Context, ret: dict[str, Any], a: _Args, want: Remote, local_rev: str | None,
           local_branch: str | None, branches: list[str], base_rev: str | None,
           has_rev: bool, ff: bool | None, local_changes: bool) -> dict[str, Any]:
    comments: list[str] = []
    assert want.rev is not None
    if not has_rev:
        try:
            fetched = ctx.call("git.fetch", a.target, remote=a.remote, force=a.force_fetch,
                               user=a.user, identity=a.identity)
        except Exception as exc:
            return _fail(ret, "Fetch failed. Set 'force_fetch' to True to force the fetch if "
                              "the failure was due to not being able to fast-forward. Output "
                              f"of the fetch command follows:\n\n{_strip(exc)}", comments)
        if fetched:
            comments.append(f"{a.name} was fetched, resulting in updated refs")
        if _try(ctx, "git.rev_parse", a.target, want.rev + "^{commit}", user=a.user) is None:
            return _fail(ret, f"Fetch did not successfully retrieve rev '{a.rev}' from "
                              f"{a.name}")
        ff = True if base_rev is None else ctx.call(
            "git.merge_base", a.target, [base_rev, want.rev], is_ancestor=True, user=a.user)
        if (ff is False and a.force_reset is False) or (
                ff is True and local_changes and a.force_reset is False):
            return _not_fast_forward(ret, a.rev, base_rev, want.rev, a.branch, local_branch,
                                     want, local_changes, comments)
    if a.branch is not None and a.branch != local_branch:
        if local_changes and not a.force_checkout:
            return _fail(ret, f"Local branch '{local_branch}' has uncommitted changes. Set "
                              "'force_checkout' to True to discard them and proceed.")
        if a.branch not in branches:
            start = want.rev if a.rev == "HEAD" else (want.upstream or a.rev)
            ctx.call("git.checkout", a.target, start, force=a.force_checkout,
                     opts=["-b", a.branch], user=a.user)
            comments.append(f"New branch '{a.branch}' was checked out, with {want.loc} as a "
                            "starting point")
        else:
            ctx.call("git.checkout", a.target, a.branch, force=a.force_checkout, user=a.user)
            comments.append(f"'{a.branch}' was checked out")
    if ff is False:
        ctx.call("git.reset", a.target, opts=["--hard", want.rev], user=a.user)
        ret["changes"]["forced update"] = True
        if local_changes:
            comments.append("Uncommitted changes were discarded")
        comments.append(f"Repository was hard-reset to {want.loc}")
    elif ff is True and local_changes and a.force_reset is not False:
        ctx.call("git.discard_local_changes", a.target, user=a.user)
        comments.append("Uncommitted changes were discarded")
    _track(ctx, a, want, a.branch or local_branch, comments)
    if ff is True and not _same(base_rev, want):
        if want.upstream or a.rev == "HEAD":
            ctx.call("git.merge", a.target, want.rev, opts=["--ff-only"], user=a.user)
            comments.append(f"Repository was fast-forwarded to {want.loc}")
        else:
            ctx.call("git.reset", a.target, opts=["--hard", want.rev if a.rev == "HEAD"
                                                  else a.rev], user=a.user)
            comments.append(f"Repository was reset to {a.rev} (fast-forward)")
    new_rev = _try(ctx, "git.revision", a.target, user=a.user)
    if not _same(new_rev, want):
        return _fail(ret, "Failed to update repository", comments)
    if local_rev != new_rev:
        ret["changes"]["revision"] = {"old": local_rev, "new": new_rev}
        return result.done(ret, _comments(comments))
    return _uptodate(ctx, ret, a.target, comments)


def cloned(ctx: Context, name: str, target: str | None = None, branch: str | None = None,
           user: str | None = None, identity: str | list[str] | None = None) -> dict[str, Any]:
    """Make sure the remote `name` is cloned into `target` (never updated afterwards).

    name
        The remote repository.
    target
        The working copy's absolute path.
    branch
        Check out this branch (and switch to it if another is checked out).

    CLI Example:

        minion call --local state.single git.cloned https://example.com/app.git target=/srv/app
    """
    ret = {**result.new(name), "result": False}
    if target is None:
        return result.fail(ret, "'target' argument is required")
    target = str(target)
    if not os.path.isabs(target):
        return result.fail(ret, "'target' path must be absolute")
    if branch is not None and not str(branch):
        return result.fail(ret, "Invalid 'branch' argument")
    with_branch = f" with branch '{branch}'" if branch is not None else ""
    if not os.path.exists(target):
        ret["changes"]["new"] = f"{name} => {target}"
        if ctx.test:
            return result.done(ret, f"{name} would be cloned to {target}{with_branch}", None)
        try:
            ctx.call("git.clone", target, name, opts=["--branch", branch] if branch else None,
                     user=user, identity=identity)
        except Exception as exc:
            ret["changes"] = {}
            return result.fail(ret, f"Clone failed: {_strip(exc)}")
        return result.done(ret, f"{name} cloned to {target}{with_branch}")
    try:
        ctx.call("git.status", target, user=user)
    except Exception as exc:
        return result.fail(ret, str(exc))
    current = None if branch is None else ctx.call("git.current_branch", target, user=user)
    if branch is None or current == branch:
        return result.done(ret, f"Repository already exists at {target}" + (
            f" and is checked out to branch '{branch}'" if branch else ""))
    ret["changes"]["branch"] = {"old": current, "new": branch}
    if ctx.test:
        return result.done(ret, f"Branch would be changed to '{branch}'", None)
    exists = _try(ctx, "git.rev_parse", target, branch, user=user) is not None
    try:
        ctx.call("git.checkout", target, branch if exists else f"origin/{branch}",
                 opts=None if exists else ["-b", branch], user=user)
    except Exception as exc:
        ret["changes"] = {}
        return result.fail(ret, f"Failed to change branch to '{branch}': {exc}")
    return result.done(ret, f"Branch changed to '{branch}'")


def _scope_error(repo: str | None, global_: bool) -> str | None:
    if not global_ and not repo:
        return "Non-global config options require the 'repo' argument to be set"
    return None


def config_set(ctx: Context, name: str, value: Any = None, multivar: Any = None,
               repo: str | None = None, user: str | None = None,
               **kwargs: Any) -> dict[str, Any]:
    """Make sure a git config key has the given value (or values, with multivar).

    name
        The key, e.g. ``user.email``.
    value, multivar
        One value, or a list of values (in order).
    repo
        The repository (required unless ``global: True``).
    global
        Set it in the user's global config.

    CLI Example:

        minion call --local state.single git.config_set user.email \\
            value=ops@example.com repo=/srv/app
    """
    ret = result.new(name)
    global_ = bool(kwargs.get("global", False))
    if value is not None and multivar is not None:
        return _fail(ret, "Only one of 'value' and 'multivar' is permitted")
    error = _scope_error(repo, global_)
    if error:
        return _fail(ret, error)
    if multivar is not None:
        desired = ([str(m) for m in multivar] if isinstance(multivar, list)
                   else str(multivar).split(","))
        shown: Any = desired
    else:
        desired = [str(value)]
        shown = f"'{value}'"
    scope = {"global": global_}
    pre = ctx.call("git.config_get", name, cwd=repo, user=user, **{"all": True, **scope})
    prefix = "Global key " if global_ else ""
    if pre == desired:
        return result.done(ret, f"{prefix}'{name}' is already set to {shown}")
    verb = "added as" if pre is None else "set to"
    if ctx.test:
        ret["changes"] = {"old": pre, "new": desired}
        return result.done(ret, f"{prefix}'{name}' would be {verb} {shown}", None)
    try:
        post = ctx.call("git.config_set", name, value=None if multivar is not None else
                        str(value), multivar=desired if multivar is not None else None,
                        cwd=repo, user=user, **scope)
    except Exception as exc:
        return _fail(ret, f"Failed to set {prefix.lower()}'{name}' to {shown}: {_strip(exc)}")
    if pre != post:
        ret["changes"][name] = {"old": pre, "new": post}
    if post != desired:
        return _fail(ret, f"Failed to set {prefix.lower()}'{name}' to {shown}")
    return result.done(ret, f"{prefix}'{name}' was {verb} {shown}")


def config_unset(ctx: Context, name: str, value_regex: str | None = None,
                 repo: str | None = None, user: str | None = None,
                 **kwargs: Any) -> dict[str, Any]:
    """Make sure a git config key (a regex, anchored) has no value (or none matching value_regex).

    name
        The key, e.g. ``user.email``.
    value_regex
        Only unset values matching this.
    repo
        The repository (required unless ``global: True``).
    all
        Unset every value of a multivar.

    CLI Example:

        minion call --local state.single git.config_unset user.email repo=/srv/app
    """
    ret = {**result.new(name), "comment": "No matching keys are set"}
    global_, all_ = bool(kwargs.get("global", False)), bool(kwargs.get("all", False))
    error = _scope_error(repo, global_)
    if error:
        return _fail(ret, error)
    key = "^" + name.lstrip("^").rstrip("$") + "$"
    scope = {"global": global_}
    pre = ctx.call("git.config_get_regexp", key, value_regex=value_regex, cwd=repo, user=user,
                   **scope)
    if not pre:
        return ret
    greedy = [f"{k} ({', '.join(v)})" for k, v in pre.items() if len(v) > 1]
    if greedy and not all_:
        what = ("Multiple values are matched by value_regex for the following keys"
                if value_regex is not None else "Multivar(s) matched by the key expression")
        return _fail(ret, f"{what} (set 'all' to True to force removal): {'; '.join(greedy)}")
    if ctx.test:
        ret["changes"] = pre
        return result.done(ret, f"{len(pre)} key(s) would have value(s) unset", None)
    before = ctx.call("git.config_get_regexp", key, cwd=repo, user=user, **scope)
    failed = []
    for key_name in pre:
        try:
            ctx.call("git.config_unset", key_name, value_regex=value_regex, cwd=repo,
                     user=user, **{"all": all_, **scope})
        except Exception:
            failed.append(key_name)
    if failed:
        return _fail(ret, "Error(s) occurred unsetting values for the following keys (see the "
                          f"minion log for details): {', '.join(failed)}")
    post = ctx.call("git.config_get_regexp", key, cwd=repo, user=user, **scope)
    for key_name, values in before.items():
        gone = [v for v in values if v not in post.get(key_name, [])]
        if gone:
            ret["changes"][key_name] = gone
    left = ctx.call("git.config_get_regexp", key, value_regex=value_regex, cwd=repo,
                    user=user, **scope)
    if left:
        return _fail(ret, "Failed to unset value(s): " + "; ".join(
            f"{k} ({', '.join(v)})" for k, v in left.items()))
    return result.done(ret, "Value(s) successfully unset")
