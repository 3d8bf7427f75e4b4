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
from typing import Any

from minion.context import Context
from minion.states import result
from minion.states.gitlatest import (
    Args,
    clone_fresh,
    fail,
    resolve_rev,
    strip_exc,
    try_call,
    update_checkout,
)

__all__ = ["cloned", "config_set", "config_unset", "latest"]


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
        return fail(ret, "'target' argument is required")
    rev, target = str(rev) if rev is not None else "", str(target)
    if not rev:
        return fail(ret, f"'{rev}' is not a valid value for the 'rev' argument")
    if force_reset not in (True, False, "remote-changes"):
        return fail(ret, "'force_reset' must be one of True, False, or 'remote-changes'")
    if not os.path.isabs(target):
        return fail(ret, f"target '{target}' is not an absolute path")
    if isinstance(identity, str):
        identity = [identity]
    for key in identity or []:
        if not os.path.isabs(key):
            return fail(ret, f"identity '{key}' is not an absolute path")
    if os.path.isfile(target):
        return fail(ret, f"Target '{target}' exists and is a regular file, cannot proceed")
    try:
        refs = ctx.call("git.ls_remote", None, name, user=user, identity=identity)
    except Exception as exc:
        return fail(ret, f"Failed to check remote refs: {strip_exc(exc)}")
    want = resolve_rev(refs, rev, remote)
    if depth is not None and want.kind not in ("branch", "tag"):
        return fail(ret, "When 'depth' is used, 'rev' must be set to the name of a branch or "
                          "tag on the remote repository")
    if want.rev is None and rev != "HEAD":
        return fail(ret, f"No revision matching '{rev}' exists in the remote repository")
    args = Args(name, rev, target, branch, user, remote, force_reset, force_fetch,
                 force_checkout, identity, update_head)
    try:
        if os.path.isdir(os.path.join(target, ".git")):
            return update_checkout(ctx, ret, args, want)
        return clone_fresh(ctx, ret, args, want, refs, depth, force_clone)
    except Exception as exc:
        return fail(ret, strip_exc(exc))


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
            return result.fail(ret, f"Clone failed: {strip_exc(exc)}")
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
    exists = try_call(ctx, "git.rev_parse", target, branch, user=user) is not None
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
        return fail(ret, "Only one of 'value' and 'multivar' is permitted")
    error = _scope_error(repo, global_)
    if error:
        return fail(ret, error)
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
        return fail(ret, f"Failed to set {prefix.lower()}'{name}' to {shown}: {strip_exc(exc)}")
    if pre != post:
        ret["changes"][name] = {"old": pre, "new": post}
    if post != desired:
        return fail(ret, f"Failed to set {prefix.lower()}'{name}' to {shown}")
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
        return fail(ret, error)
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
        return fail(ret, f"{what} (set 'all' to True to force removal): {'; '.join(greedy)}")
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
        return fail(ret, "Error(s) occurred unsetting values for the following keys (see the "
                          f"minion log for details): {', '.join(failed)}")
    post = ctx.call("git.config_get_regexp", key, cwd=repo, user=user, **scope)
    for key_name, values in before.items():
        gone = [v for v in values if v not in post.get(key_name, [])]
        if gone:
            ret["changes"][key_name] = gone
    left = ctx.call("git.config_get_regexp", key, value_regex=value_regex, cwd=repo,
                    user=user, **scope)
    if left:
        return fail(ret, "Failed to unset value(s): " + "; ".join(
            f"{k} ({', '.join(v)})" for k, v in left.items()))
    return result.done(ret, "Value(s) successfully unset")
