"""Run git in working copies, like Salt's ``git`` module.

Every function runs ``git`` through ``ctx.run`` with an argument list (never a
shell), as `user` when given, with prompts disabled. ``identity`` is an SSH
private key used for this command only. A failing command raises `GitError`
carrying git's own message.
"""

from __future__ import annotations

import re
import shlex
import shutil
from collections.abc import Mapping, Sequence
from typing import Any

from minion.context import Context

__all__ = ["branch", "checkout", "clone", "config_get", "config_get_regexp", "config_set",
           "config_unset", "current_branch", "diff", "discard_local_changes", "fetch",
           "list_branches", "list_tags", "ls_remote", "merge", "merge_base", "remote_set",
           "remotes", "reset", "rev_parse", "revision", "status", "version"]


class GitError(Exception):
    """A git command failed (its stderr says why)."""


def _unavailable(opts: Mapping[str, Any], grains: Mapping[str, Any]) -> str | None:
    return None if shutil.which("git") else "git is not installed"


def _opts(value: str | Sequence[str] | None) -> list[str]:
    if not value:
        return []
    return shlex.split(value) if isinstance(value, str) else [str(v) for v in value]


def _env(identity: str | Sequence[str] | None) -> dict[str, str]:
    env = {"GIT_TERMINAL_PROMPT": "0"}
    keys = [identity] if isinstance(identity, str) else list(identity or [])
    if keys:
        args = " ".join(f"-i {shlex.quote(k)}" for k in keys)
        env["GIT_SSH_COMMAND"] = f"ssh {args} -o IdentitiesOnly=yes -o BatchMode=yes"
    return env


def _git(ctx: Context, cwd: str | None, args: list[str], user: str | None = None,
         identity: str | Sequence[str] | None = None, ok_codes: Sequence[int] = (0,),
         ) -> tuple[int, str, str]:
    argv = ["git", *args]
    res = ctx.run(argv, cwd=cwd, runas=user, env=_env(identity))
    if res.retcode not in ok_codes:
        why = (res.stderr.strip() or res.stdout.strip() or f"exit code {res.retcode}")
        raise GitError(f"Command '{' '.join(argv)}' failed: {why}")
    return res.retcode, res.stdout.rstrip("\n"), res.stderr.rstrip("\n")


def _out(ctx: Context, cwd: str | None, args: list[str], **kwargs: Any) -> str:
    return _git(ctx, cwd, args, **kwargs)[1]


def version(ctx: Context, versioninfo: bool = False) -> str | list[int]:
    """Return git's version (``2.39.2``), or its numbers when versioninfo is True.

    CLI Example:

        master run '*' git.version
    """
    text = _out(ctx, None, ["--version"]).split()[-1]
    return [int(x) for x in re.findall(r"\d+", text)[:3]] if versioninfo else text


def clone(ctx: Context, cwd: str, url: str, name: str | None = None,
          opts: str | Sequence[str] | None = None, user: str | None = None,
          identity: str | Sequence[str] | None = None) -> bool:
    """Clone `url` into `cwd` (or into `cwd`/`name` when name is given).

    opts
        More ``git clone`` options, e.g. ``--depth 1 --branch main``.
    identity
        SSH private key(s) to use.

    CLI Example:

        master run '*' git.clone /srv/app https://example.com/app.git opts='--depth 1'
    """
    if url.startswith("-"):
        raise GitError(f"invalid url {url!r}")
    dest = f"{cwd.rstrip('/')}/{name}" if name else cwd
    _git(ctx, None, ["clone", *_opts(opts), "--", url, dest], user=user, identity=identity)
    return True


def current_branch(ctx: Context, cwd: str, user: str | None = None) -> str:
    """Return the checked-out branch (``HEAD`` when detached).

    CLI Example:

        master run '*' git.current_branch /srv/app
    """
    return _out(ctx, cwd, ["rev-parse", "--abbrev-ref", "HEAD"], user=user)


def rev_parse(ctx: Context, cwd: str, rev: str | None = None,
              opts: str | Sequence[str] | None = None, user: str | None = None) -> str:
    """Return ``git rev-parse [opts] rev`` (e.g. a commit id for a ref).

    CLI Example:

        master run '*' git.rev_parse /srv/app origin/main
    """
    return _out(ctx, cwd, ["rev-parse", *_opts(opts), *([rev] if rev else [])], user=user)


def revision(ctx: Context, cwd: str, rev: str = "HEAD", short: bool = False,
             user: str | None = None) -> str:
    """Return the commit id `rev` points to (HEAD by default).

    CLI Example:

        master run '*' git.revision /srv/app
    """
    return _out(ctx, cwd, ["rev-parse", *(["--short"] if short else []), rev], user=user)


def _fetch_changes(text: str) -> dict[str, list[str]]:
    """``{"new": [...], "updated": [...]}`` from what ``git fetch`` printed."""
    changes: dict[str, list[str]] = {}
    for line in text.splitlines():
        m = re.match(r"^\s*(?:\* \[new (?:branch|tag|ref)\]|[+ ]\s*[0-9a-f]+\.\.\.?[0-9a-f]+"
                     r"|- \[deleted\]|\+ \[[^\]]+\]|t \[tag update\])\s+(\S+)", line)
        if not m:
            continue
        kind = "new" if "[new" in line else "deleted" if "[deleted]" in line else "updated"
        changes.setdefault(kind, []).append(m.group(1))
    return changes


def fetch(ctx: Context, cwd: str, remote: str | None = None, force: bool = False,
          refspecs: str | Sequence[str] | None = None, opts: str | Sequence[str] | None = None,
          user: str | None = None,
          identity: str | Sequence[str] | None = None) -> dict[str, list[str]]:
    """Fetch from a remote; return the refs it changed (``{"new": [...], "updated": [...]}``).

    CLI Example:

        master run '*' git.fetch /srv/app origin
    """
    args = ["fetch", *(["--force"] if force else []), *_opts(opts)]
    args += [remote] if remote else []
    args += _opts(refspecs) if remote else []
    _, out, err = _git(ctx, cwd, args, user=user, identity=identity)
    return _fetch_changes(err + "\n" + out)


def ls_remote(ctx: Context, cwd: str | None = None, remote: str = "origin",
              ref: str | None = None, opts: str | Sequence[str] | None = None,
              user: str | None = None,
              identity: str | Sequence[str] | None = None) -> dict[str, str]:
    """Return the remote's refs as ``{ref: commit id}`` (``HEAD`` included).

    CLI Example:

        master run '*' git.ls_remote remote=https://example.com/app.git
    """
    args = ["ls-remote", *_opts(opts), "--", remote, *([ref] if ref else [])]
    refs: dict[str, str] = {}
    for line in _out(ctx, cwd, args, user=user, identity=identity).splitlines():
        sha, _, name = line.partition("\t")
        if name:
            refs[name] = sha
    return refs


def list_branches(ctx: Context, cwd: str, remote: bool = False,
                  user: str | None = None) -> list[str]:
    """Return the local (or remote-tracking) branch names.

    CLI Example:

        master run '*' git.list_branches /srv/app
    """
    where = "refs/remotes/" if remote else "refs/heads/"
    out = _out(ctx, cwd, ["for-each-ref", "--format=%(refname:short)", where], user=user)
    return sorted(line for line in out.splitlines() if line and not line.endswith("/HEAD"))


def list_tags(ctx: Context, cwd: str, user: str | None = None) -> list[str]:
    """Return the tag names.

    CLI Example:

        master run '*' git.list_tags /srv/app
    """
    out = _out(ctx, cwd, ["for-each-ref", "--format=%(refname:short)", "refs/tags/"], user=user)
    return sorted(line for line in out.splitlines() if line)


def remotes(ctx: Context, cwd: str, user: str | None = None) -> dict[str, dict[str, str]]:
    """Return the remotes as ``{name: {"fetch": url, "push": url}}``.

    CLI Example:

        master run '*' git.remotes /srv/app
    """
    found: dict[str, dict[str, str]] = {}
    for line in _out(ctx, cwd, ["remote", "--verbose"], user=user).splitlines():
        parts = line.split()
        if len(parts) == 3:
            found.setdefault(parts[0], {})[parts[2].strip("()")] = parts[1]
    return found


def remote_set(ctx: Context, cwd: str, url: str, remote: str = "origin",
               user: str | None = None) -> dict[str, str]:
    """Point the remote `remote` at `url` (adding it when missing); return its URLs.

    CLI Example:

        master run '*' git.remote_set /srv/app https://example.com/app.git
    """
    if remote in remotes(ctx, cwd, user=user):
        _git(ctx, cwd, ["remote", "set-url", "--", remote, url], user=user)
    else:
        _git(ctx, cwd, ["remote", "add", "--", remote, url], user=user)
    return remotes(ctx, cwd, user=user).get(remote, {})


def status(ctx: Context, cwd: str, user: str | None = None) -> dict[str, list[str]]:
    """Return changed files as ``{"modified": [...], "new": [...], "deleted": [...], ...}``.

    CLI Example:

        master run '*' git.status /srv/app
    """
    kinds = {"M": "modified", "A": "new", "D": "deleted", "?": "untracked", "R": "renamed"}
    found: dict[str, list[str]] = {}
    for line in _out(ctx, cwd, ["status", "--porcelain"], user=user).splitlines():
        code = (line[:2].strip() or "?")[0]
        found.setdefault(kinds.get(code, "modified"), []).append(line[3:])
    return found


def diff(ctx: Context, cwd: str, item1: str = "HEAD", user: str | None = None) -> str:
    """Return ``git diff item1`` (tracked changes against HEAD by default).

    CLI Example:

        master run '*' git.diff /srv/app
    """
    return _out(ctx, cwd, ["diff", item1, "--"], user=user)


def checkout(ctx: Context, cwd: str, rev: str | None = None, force: bool = False,
             opts: str | Sequence[str] | None = None, user: str | None = None) -> bool:
    """Check out `rev` (``opts=['-b', 'name']`` makes a new branch).

    CLI Example:

        master run '*' git.checkout /srv/app main
    """
    args = ["checkout", *(["--force"] if force else []), *_opts(opts)]
    _git(ctx, cwd, [*args, *([rev] if rev else [])], user=user)
    return True


def reset(ctx: Context, cwd: str, opts: str | Sequence[str] | None = None,
          user: str | None = None) -> bool:
    """Run ``git reset`` with `opts` (e.g. ``--hard origin/main``).

    CLI Example:

        master run '*' git.reset /srv/app opts='--hard origin/main'
    """
    _git(ctx, cwd, ["reset", *_opts(opts)], user=user)
    return True


def merge(ctx: Context, cwd: str, rev: str | None = None,
          opts: str | Sequence[str] | None = None, user: str | None = None) -> bool:
    """Merge `rev` into the current branch (``opts='--ff-only'`` to only fast-forward).

    CLI Example:

        master run '*' git.merge /srv/app origin/main opts=--ff-only
    """
    _git(ctx, cwd, ["merge", *_opts(opts), *([rev] if rev else [])], user=user)
    return True


def merge_base(ctx: Context, cwd: str, refs: Sequence[str], is_ancestor: bool = False,
               user: str | None = None) -> bool | str:
    """Return the best common ancestor of `refs`, or with is_ancestor whether refs[0] is one.

    CLI Example:

        master run '*' git.merge_base /srv/app refs='[main, origin/main]' is_ancestor=True
    """
    if is_ancestor:
        code, _, _ = _git(ctx, cwd, ["merge-base", "--is-ancestor", *refs[:2]], user=user,
                          ok_codes=(0, 1))
        return code == 0
    return _out(ctx, cwd, ["merge-base", *refs], user=user)


def branch(ctx: Context, cwd: str, name: str | None = None,
           opts: str | Sequence[str] | None = None, user: str | None = None) -> bool:
    """Run ``git branch [opts] [name]`` (e.g. ``opts='--set-upstream-to origin/main'``).

    CLI Example:

        master run '*' git.branch /srv/app opts='--set-upstream-to origin/main'
    """
    _git(ctx, cwd, ["branch", *_opts(opts), *([name] if name else [])], user=user)
    return True


def discard_local_changes(ctx: Context, cwd: str, user: str | None = None) -> bool:
    """Throw away uncommitted changes to tracked files.

    CLI Example:

        master run '*' git.discard_local_changes /srv/app
    """
    _git(ctx, cwd, ["checkout", "--", "."], user=user)
    return True


def _scope(cwd: str | None, kwargs: Mapping[str, Any]) -> list[str]:
    if kwargs.get("global"):
        return ["--global"]
    if not cwd:
        raise GitError("'cwd' argument required unless global=True")
    return ["--local"]


def config_get(ctx: Context, key: str, cwd: str | None = None, user: str | None = None,
               **kwargs: Any) -> str | list[str] | None:
    """Return a config value (None when unset); ``all=True`` gives every value as a list.

    global
        Read the user's global config instead of cwd's repository.

    CLI Example:

        master run '*' git.config_get user.email cwd=/srv/app
    """
    args = ["config", *_scope(cwd, kwargs), "--get-all", key]
    code, out, _ = _git(ctx, cwd, args, user=user, ok_codes=(0, 1))
    if code == 1:
        return None
    values = out.split("\n")
    return values if kwargs.get("all") else values[-1]


def config_get_regexp(ctx: Context, key: str, value_regex: str | None = None,
                      cwd: str | None = None, user: str | None = None,
                      **kwargs: Any) -> dict[str, list[str]]:
    """Return ``{key: [values]}`` for keys matching the regex `key` (values matching value_regex).

    CLI Example:

        master run '*' git.config_get_regexp '^user\\.' cwd=/srv/app
    """
    args = ["config", *_scope(cwd, kwargs), "--null", "--get-regexp", key,
            *([value_regex] if value_regex else [])]
    code, out, _ = _git(ctx, cwd, args, user=user, ok_codes=(0, 1))
    found: dict[str, list[str]] = {}
    for item in out.split("\0") if code == 0 else []:
        name, _, value = item.partition("\n")
        if name:
            found.setdefault(name, []).append(value)
    return found


def config_set(ctx: Context, key: str, value: str | None = None,
               multivar: Sequence[str] | None = None, cwd: str | None = None,
               user: str | None = None, **kwargs: Any) -> list[str] | None:
    """Set a config value (or several with multivar); return the values now set.

    global
        Write the user's global config instead of cwd's repository.

    CLI Example:

        master run '*' git.config_set user.email ops@example.com cwd=/srv/app
    """
    if (value is None) == (multivar is None):
        raise GitError("Exactly one of 'value' and 'multivar' is required")
    scope = _scope(cwd, kwargs)
    if value is not None:
        _git(ctx, cwd, ["config", *scope, "--replace-all", key, str(value)], user=user)
    else:
        _git(ctx, cwd, ["config", *scope, "--unset-all", key], user=user, ok_codes=(0, 5))
        for item in multivar or []:
            _git(ctx, cwd, ["config", *scope, "--add", key, str(item)], user=user)
    got = config_get(ctx, key, cwd=cwd, user=user, **{**kwargs, "all": True})
    return got if isinstance(got, list) or got is None else [got]


def config_unset(ctx: Context, key: str, value_regex: str | None = None,
                 cwd: str | None = None, user: str | None = None, **kwargs: Any) -> bool:
    """Unset a config key (``all=True`` for every value of a multivar).

    CLI Example:

        master run '*' git.config_unset user.email cwd=/srv/app
    """
    flag = "--unset-all" if kwargs.get("all") else "--unset"
    args = ["config", *_scope(cwd, kwargs), flag, key, *([value_regex] if value_regex else [])]
    code, _, err = _git(ctx, cwd, args, user=user, ok_codes=(0, 5))
    if code == 5:
        raise GitError(f"Key '{key}' does not exist{': ' + err if err else ''}")
    return True
