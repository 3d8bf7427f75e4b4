"""The moves of ``git.latest``: where the remote's rev is, then clone, predict or update.

Kept apart from `minion.states.git` (which holds the state functions) so each
file stays small; nothing here is a state function.
"""

from __future__ import annotations

import os
import string
from dataclasses import dataclass
from typing import Any

from minion.context import Context
from minion.states import result


def _short(sha: str | None) -> str | None:
    return sha[:7] if sha else sha


def _comments(items: list[str]) -> str:
    return ". ".join(items) + ("." if len(items) > 1 else "")


def fail(ret: dict[str, Any], msg: str, comments: list[str] | None = None) -> dict[str, Any]:
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


def resolve_rev(refs: dict[str, str], rev: str, remote: str) -> Remote:
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


def try_call(ctx: Context, fun: str, *args: Any, **kwargs: Any) -> Any:
    try:
        return ctx.call(fun, *args, **kwargs)
    except Exception:
        return None


def _local(ctx: Context, target: str, user: str | None) -> tuple[str | None, str | None]:
    rev = try_call(ctx, "git.revision", target, user=user)
    branch = try_call(ctx, "git.current_branch", target, user=user)
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
    return fail(ret, f"Repository would be updated {moved}{after}, but {why}. Set "
                      f"'force_reset' to True{alt} to force this update{discard}.{hint}",
                 comments)


def strip_exc(exc: Exception) -> str:
    return str(exc).strip()


@dataclass
class Args:
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


def clone_fresh(ctx: Context, ret: dict[str, Any], a: Args, want: Remote, refs: dict[str, str],
           depth: int | None, force_clone: bool) -> dict[str, Any]:
    if os.path.isdir(a.target) and os.listdir(a.target):
        if not force_clone:
            return fail(ret, f"Target '{a.target}' exists, is non-empty and is not a git "
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
        return fail(ret, f"Clone failed: {strip_exc(exc)}", comments)
    ret["changes"]["new"] = f"{a.name} => {a.target}"
    comments.append(f"{a.name} cloned to {a.target}")
    if want.rev is None:
        if a.rev != "HEAD":
            return fail(ret, f"Repository was cloned but is empty, so {a.remote}/{a.rev} "
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
    new_rev = try_call(ctx, "git.revision", a.target, user=a.user)
    ret["changes"]["revision"] = {"old": None, "new": new_rev}
    return result.done(ret, _comments(comments))


def _track(ctx: Context, a: Args, want: Remote, local_branch: str | None,
           comments: list[str]) -> None:
    """Set the branch's upstream to origin/<rev> when rev is a branch (not in test mode)."""
    if not want.upstream or local_branch is None:
        return
    upstream = try_call(ctx, "git.rev_parse", a.target, f"{local_branch}@{{upstream}}",
                    opts=["--abbrev-ref"], user=a.user)
    if upstream == want.upstream:
        return
    ctx.call("git.branch", a.target, opts=["--set-upstream-to", want.upstream], user=a.user)
    comments.append(f"Tracking branch was {'updated' if upstream else 'set'} to {want.upstream}")


def _has_rev(ctx: Context, a: Args, want: Remote, base_rev: str | None) -> bool:
    """Whether the wanted commit (and, for a branch, origin/<branch>) is already here."""
    if want.kind == "sha1" and base_rev and want.rev and base_rev.startswith(want.rev):
        return True
    if want.rev is None or try_call(ctx, "git.rev_parse", a.target, want.rev + "^{commit}",
                                user=a.user) is None:
        return False
    if want.kind == "branch":
        return bool(try_call(ctx, "git.rev_parse", a.target, want.upstream, user=a.user)
                    == want.rev)
    if want.kind == "tag":
        return bool(try_call(ctx, "git.rev_parse", a.target, a.rev + "^{commit}", user=a.user)
                    == want.rev)
    return True


def update_checkout(ctx: Context, ret: dict[str, Any], a: Args, want: Remote) -> dict[str, Any]:
    local_rev, local_branch = _local(ctx, a.target, a.user)
    if want.rev is None and local_rev is not None:
        return fail(ret, "Remote repository is empty, cannot update from a non-empty to an "
                          "empty repository")
    branches = ctx.call("git.list_branches", a.target, user=a.user)
    base_rev = local_rev
    change_branch = a.branch is not None and a.branch != local_branch
    if change_branch:
        base_rev = (want.rev if a.branch not in branches
                    else ctx.call("git.rev_parse", a.target, f"{a.branch}^{{commit}}",
                                  user=a.user))
    match = _same(local_rev, want)
    local_changes = bool(try_call(ctx, "git.diff", a.target, "HEAD", user=a.user))
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


def _predict(ctx: Context, ret: dict[str, Any], a: Args, want: Remote, local_rev: str | None,
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
    upstream = (try_call(ctx, "git.rev_parse", a.target, f"{local_branch}@{{upstream}}",
                     opts=["--abbrev-ref"], user=a.user) if local_branch else None)
    if want.upstream and upstream != want.upstream:
        actions.append(f"Tracking branch would be {'updated' if upstream else 'set'} to "
                       f"{want.upstream}")
    if ret["changes"]:
        return result.done(ret, _comments(actions), None)
    if not match and not a.update_head and actions:
        return result.done(ret, _comments(actions))
    return _uptodate(ctx, ret, a.target, actions)


def _apply(ctx: Context, ret: dict[str, Any], a: Args, want: Remote, local_rev: str | None,
           local_branch: str | None, branches: list[str], base_rev: str | None,
           has_rev: bool, ff: bool | None, local_changes: bool) -> dict[str, Any]:
    comments: list[str] = []
    assert want.rev is not None
    if not has_rev:
        try:
            fetched = ctx.call("git.fetch", a.target, remote=a.remote, force=a.force_fetch,
                               user=a.user, identity=a.identity)
        except Exception as exc:
            return fail(ret, "Fetch failed. Set 'force_fetch' to True to force the fetch if "
                              "the failure was due to not being able to fast-forward. Output "
                              f"of the fetch command follows:\n\n{strip_exc(exc)}", comments)
        if fetched:
            comments.append(f"{a.name} was fetched, resulting in updated refs")
        if try_call(ctx, "git.rev_parse", a.target, want.rev + "^{commit}", user=a.user) is None:
            return fail(ret, f"Fetch did not successfully retrieve rev '{a.rev}' from "
                              f"{a.name}")
        ff = True if base_rev is None else ctx.call(
            "git.merge_base", a.target, [base_rev, want.rev], is_ancestor=True, user=a.user)
        if (ff is False and a.force_reset is False) or (
                ff is True and local_changes and a.force_reset is False):
            return _not_fast_forward(ret, a.rev, base_rev, want.rev, a.branch, local_branch,
                                     want, local_changes, comments)
    if a.branch is not None and a.branch != local_branch:
        if local_changes and not a.force_checkout:
            return fail(ret, f"Local branch '{local_branch}' has uncommitted changes. Set "
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
    new_rev = try_call(ctx, "git.revision", a.target, user=a.user)
    if not _same(new_rev, want):
        return fail(ret, "Failed to update repository", comments)
    if local_rev != new_rev:
        ret["changes"]["revision"] = {"old": local_rev, "new": new_rev}
        return result.done(ret, _comments(comments))
    return _uptodate(ctx, ret, a.target, comments)
