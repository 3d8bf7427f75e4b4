"""pip module and pip states, answered by a fake runner; the pure requirement/version helpers."""

from __future__ import annotations

import json
import sys
from typing import Any

import pytest

from minion.context import Context
from minion.loader import MODULES, Registry
from minion.runner import CommandResult, FakeRunner
from minion.states import STATE_MODULES
from minion.states.pip import fulfills, parse_requirement, version_key

STATES = Registry.load({}, {}, modules={"pip": STATE_MODULES["pip"]}, kind="states")
FUNS = Registry.load({}, {}, modules={"pip": MODULES["pip"]})
PIP = f"{sys.executable} -m pip"
VERSION = f"{PIP} --version"
LIST = f"{PIP} list --format=json --disable-pip-version-check"


def listing(**pkgs: str) -> CommandResult:
    return CommandResult(json.dumps([{"name": k.replace("_", "-"), "version": v}
                                     for k, v in pkgs.items()]), "", 0)


def run(fun: str, table: dict[str, CommandResult], test: bool = False,
        **kwargs: Any) -> tuple[dict[str, Any], FakeRunner]:
    runner = FakeRunner({VERSION: CommandResult("pip 23.0.1 from /x (python 3.11)", "", 0),
                         **table})
    ctx = Context({}, {}, {}, FUNS, runner=runner, test=test)
    ret: dict[str, Any] = STATES.call(ctx, fun, [], kwargs)
    return ret, runner


@pytest.mark.parametrize(("pkg", "want"), [
    ("requests", ("requests", [])),
    ("Foo_Bar[extra] >=1.0, <2", ("Foo-Bar", [(">=", "1.0"), ("<", "2")])),
    ("demo==1.*; python_version > '3'", ("demo", [("==", "1.*")])),
    ("git+https://example.invalid/x.git", ("", [])),
    ("demo=1.0", "Invalid version specification in package demo=1.0. '=' is not supported, "
                 "use '==' instead."),
])
def test_parse_requirement(pkg: str, want: Any) -> None:
    assert parse_requirement(pkg) == want


@pytest.mark.parametrize(("version", "specs", "ok"), [
    ("1.0", [("==", "1.0.0")], True),
    ("2.0", [(">=", "1.0"), ("<", "3")], True),
    ("3.0", [("<", "3")], False),
    ("2.0rc1", [("<", "2.0")], True),
    ("2.0.post1", [(">", "2.0")], True),
    ("1.4.2", [("~=", "1.4")], True),
    ("2.0", [("~=", "1.4")], False),
    ("1.9", [("==", "1.*")], True),
    ("1.9", [("!=", "1.*")], False),
    ("10.0", [(">", "9.9")], True),
])
def test_fulfills(version: str, specs: list[tuple[str, str]], ok: bool) -> None:
    assert fulfills(version, specs) is ok


def test_version_order() -> None:
    order = ["1.0.dev1", "1.0a1", "1.0b2", "1.0rc1", "1.0", "1.0.post1", "1.1"]
    assert sorted(order, key=version_key) == order


def test_installed_nothing_to_do() -> None:
    ret, runner = run("pip.installed", {LIST: listing(saline_demo="1.0")}, name="saline-demo==1.0")
    assert (ret["result"], ret["changes"]) == (True, {})
    assert ret["comment"] == ("Python package saline-demo==1.0 was already installed\n"
                              "All specified packages are already installed")
    assert "install" not in " ".join(str(c["cmd"]) for c in runner.calls).split()


def test_installed_test_mode() -> None:
    ret, _ = run("pip.installed", {LIST: listing(saline_demo="1.0")}, test=True,
                 name="saline-demo>=2.0")
    assert (ret["result"], ret["comment"]) == (
        None, "Python package saline-demo>=2.0 is set to be installed")
    ret, _ = run("pip.installed", {LIST: listing()}, test=True, name="x", pkgs=["a", "b==1"])
    assert ret["name"] == "a;b==1"
    assert ret["comment"] == "Python package(s) set to be installed:\na\nb==1"


def test_installed_installs_and_reports_version() -> None:
    install = f"{PIP} install --no-index --find-links /srv saline-demo>=2.0"

    class Installing(FakeRunner):
        def run(self, cmd: Any, **kw: Any) -> CommandResult:
            res = super().run(cmd, **kw)
            if " ".join(cmd) == install:
                self.table[LIST] = listing(saline_demo="2.0")
            return res

    runner = Installing({VERSION: CommandResult("pip 23.0.1 from /x", "", 0),
                         LIST: listing(saline_demo="1.0"), install: CommandResult("ok", "", 0)})
    ctx = Context({}, {}, {}, FUNS, runner=runner)
    ret = STATES.call(ctx, "pip.installed", [], {"name": "saline-demo>=2.0", "no_index": True,
                                                 "find_links": "/srv"})
    assert ret["result"] is True
    assert ret["changes"] == {"saline-demo==2.0": "Installed"}
    assert ret["comment"] == "All packages were successfully installed"


def test_installed_failure_and_bad_bin_env() -> None:
    ret, _ = run("pip.installed", {LIST: listing()}, name="nope")
    assert ret["result"] is False and ret["comment"].startswith(
        "Failed to install packages: nope. Error: ")
    ret, _ = run("pip.installed", {}, name="x", bin_env="/nonexistent/venv")
    assert ret["comment"] == ("Error installing 'x': Access denied to /nonexistent/venv, could "
                              "not find a pip binary")


def test_removed() -> None:
    ret, _ = run("pip.removed", {LIST: listing()}, name="saline-demo")
    assert (ret["result"], ret["comment"]) == (True, "Package is not installed.")
    ret, _ = run("pip.removed", {LIST: listing(saline_demo="1")}, test=True, name="saline-demo")
    assert (ret["result"], ret["comment"]) == (None, "Package saline-demo is set to be removed")
    uninstall = f"{PIP} uninstall --yes saline-demo"
    ret, _ = run("pip.removed", {LIST: listing(saline_demo="1"),
                                 uninstall: CommandResult("", "", 0)}, name="saline-demo")
    assert ret["changes"] == {"saline-demo": "Removed"}
    assert ret["comment"] == "Package was successfully removed."


def test_bin_env_picks_the_virtualenv_python(tmp_path: Any) -> None:
    py = tmp_path / "bin" / "python"
    py.parent.mkdir()
    py.write_text("#!/bin/sh\n")
    py.chmod(0o755)
    runner = FakeRunner({f"{py} -m pip list --format=json --disable-pip-version-check":
                         listing(a="1")})
    ctx = Context({}, {}, {}, FUNS, runner=runner)
    assert ctx.call("pip.list", bin_env=str(tmp_path)) == {"a": "1"}
    assert runner.calls[0]["env"]["VIRTUAL_ENV"] == str(tmp_path)  # type: ignore[index]
