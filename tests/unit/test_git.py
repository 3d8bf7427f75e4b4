"""git module parsers (fake runner) and git states against real repositories in temp dirs."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from minion.context import Context
from minion.loader import MODULES, Registry
from minion.modules.git import _fetch_changes
from minion.runner import CommandResult, FakeRunner
from minion.states import STATE_MODULES
from minion.states.gitlatest import resolve_rev as _resolve

STATES = Registry.load({}, {}, modules={"git": STATE_MODULES["git"]}, kind="states")
FUNS = Registry.load({}, {}, modules={"git": MODULES["git"], "file": MODULES["file"]})
needs_git = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
ENV = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.invalid",
       "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.invalid",
       "GIT_CONFIG_NOSYSTEM": "1"}


def test_ls_remote_and_config_parsing() -> None:
    runner = FakeRunner({
        "git ls-remote -- /r.git": CommandResult("aaa\tHEAD\naaa\trefs/heads/main\n"
                                                 "bbb\trefs/tags/v1\nccc\trefs/tags/v1^{}\n",
                                                 "", 0),
        "git config --local --get-all user.email": CommandResult("a@x\nb@x\n", "", 0),
        "git config --local --get-all nothing": CommandResult("", "", 1),
    })
    ctx = Context({}, {}, {}, FUNS, runner=runner)
    refs = ctx.call("git.ls_remote", None, "/r.git")
    assert refs == {"HEAD": "aaa", "refs/heads/main": "aaa", "refs/tags/v1": "bbb",
                    "refs/tags/v1^{}": "ccc"}
    assert ctx.call("git.config_get", "user.email", cwd="/w") == "b@x"
    assert ctx.call("git.config_get", "user.email", cwd="/w", all=True) == ["a@x", "b@x"]
    assert ctx.call("git.config_get", "nothing", cwd="/w") is None
    assert runner.calls[0]["env"]["GIT_TERMINAL_PROMPT"] == "0"  # type: ignore[index]
    want = _resolve(refs, "v1", "origin")
    assert (want.rev, want.kind, want.loc) == ("ccc", "tag", "v1 (ccc)")
    want = _resolve(refs, "main", "origin")
    assert (want.upstream, want.loc, want.default_branch) == (
        "origin/main", "origin/main (aaa)", "main")


def test_fetch_output_parsing() -> None:
    text = ("From /srv/repo\n   e363129..4ac72e6  main       -> origin/main\n"
            " * [new branch]      dev        -> origin/dev\n * [new tag]  v2 -> v2\n")
    assert _fetch_changes(text) == {"updated": ["main"], "new": ["dev", "v2"]}


def test_identity_goes_to_ssh_only() -> None:
    runner = FakeRunner()
    ctx = Context({}, {}, {}, FUNS, runner=runner)
    with pytest.raises(Exception, match="failed"):
        ctx.call("git.clone", "/t", "git@example.invalid:x.git", identity="/k/id_ed25519")
    env: Any = runner.calls[0]["env"]
    assert "-i /k/id_ed25519" in env["GIT_SSH_COMMAND"]
    with pytest.raises(Exception, match="invalid url"):
        ctx.call("git.clone", "/t", "--upload-pack=evil")


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True,
                          env={**os.environ, **ENV}).stdout.strip()


@pytest.fixture
def upstream(tmp_path: Path) -> tuple[Path, Path]:
    """A bare repository with one commit on main, and the work tree that pushes to it."""
    bare, src = tmp_path / "repo.git", tmp_path / "src"
    git(tmp_path, "init", "-q", "--bare", str(bare))
    git(bare, "symbolic-ref", "HEAD", "refs/heads/main")
    git(tmp_path, "init", "-q", str(src))
    git(src, "checkout", "-q", "-b", "main")
    (src / "a.txt").write_text("one\n")
    git(src, "add", "a.txt")
    git(src, "commit", "-q", "-m", "one")
    git(src, "push", "-q", str(bare), "main")
    return bare, src


def latest(test: bool = False, **kwargs: Any) -> dict[str, Any]:
    ctx = Context({}, {}, {}, FUNS, test=test)
    ret: dict[str, Any] = STATES.call(ctx, "git.latest", [], kwargs)
    return ret


@needs_git
def test_latest_local_changes_and_force_reset(tmp_path: Path,
                                              upstream: tuple[Path, Path]) -> None:
    bare, src = upstream
    target = tmp_path / "co"
    ret = latest(name=str(bare), target=str(target))
    assert ret["result"] is True and ret["comment"] == f"{bare} cloned to {target}"
    (target / "a.txt").write_text("local edit\n")
    ret = latest(name=str(bare), target=str(target))
    assert ret["result"] is True and ret["changes"] == {}
    assert ret["comment"] == (f"Repository {target} is up-to-date, but with uncommitted "
                              "changes. Set 'force_reset' to True to purge uncommitted changes.")
    (src / "b.txt").write_text("two\n")
    git(src, "add", "b.txt")
    git(src, "commit", "-q", "-m", "two")
    git(src, "push", "-q", str(bare), "main")
    ret = latest(name=str(bare), target=str(target))
    assert ret["result"] is False
    assert "but there are uncommitted changes" in ret["comment"]
    ret = latest(name=str(bare), target=str(target), force_reset=True)
    # The remote moved forward: the edit is discarded, then a fast-forward (as Salt does).
    head = git(src, "rev-parse", "HEAD")
    assert ret["result"] is True and ret["changes"]["revision"]["new"] == head
    assert ret["comment"].endswith("Uncommitted changes were discarded. Repository was "
                                   f"fast-forwarded to remote HEAD ({head[:7]}).")
    assert (target / "a.txt").read_text() == "one\n" and (target / "b.txt").exists()


@needs_git
def test_latest_refuses_a_non_git_dir_and_unknown_rev(tmp_path: Path,
                                                      upstream: tuple[Path, Path]) -> None:
    bare, _ = upstream
    target = tmp_path / "full"
    target.mkdir()
    (target / "x").write_text("x")
    ret = latest(name=str(bare), target=str(target))
    assert ret["result"] is False and "is non-empty and is not a git repository" in ret["comment"]
    ret = latest(name=str(bare), target=str(target), force_clone=True, test=True)
    assert ret["result"] is None and ret["changes"]["forced clone"] is True
    ret = latest(name=str(bare), target=str(tmp_path / "y"), rev="nope")
    assert ret["comment"] == "No revision matching 'nope' exists in the remote repository"
    ret = latest(name=str(bare), target=str(tmp_path / "y"), depth=1)
    assert ret["comment"].startswith("When 'depth' is used, 'rev' must be set")


@needs_git
def test_config_set_and_unset(tmp_path: Path, upstream: tuple[Path, Path]) -> None:
    _, src = upstream
    ctx = Context({}, {}, {}, FUNS)
    ret = STATES.call(ctx, "git.config_set", [], {"name": "demo.list", "multivar": ["a", "b"],
                                                  "repo": str(src)})
    assert ret["changes"] == {"demo.list": {"old": None, "new": ["a", "b"]}}
    assert ret["comment"] == "'demo.list' was added as ['a', 'b']"
    ret = STATES.call(ctx, "git.config_unset", [], {"name": "demo.list", "repo": str(src)})
    assert ret["result"] is False and ret["comment"].startswith("Multivar(s) matched")
    ctx.test = True
    ret = STATES.call(ctx, "git.config_unset", [], {"name": "demo.list", "repo": str(src),
                                                    "all": True})
    assert (ret["result"], ret["comment"]) == (None, "1 key(s) would have value(s) unset")
    ctx.test = False
    ret = STATES.call(ctx, "git.config_unset", [], {"name": "demo.list", "repo": str(src),
                                                    "all": True})
    assert ret["changes"] == {"demo.list": ["a", "b"]}
    assert ret["comment"] == "Value(s) successfully unset"
    ret = STATES.call(ctx, "git.config_unset", [], {"name": "demo.list", "repo": str(src)})
    assert ret["comment"] == "No matching keys are set"
