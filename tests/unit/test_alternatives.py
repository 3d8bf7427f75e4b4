"""alternatives module and states, answered by a fake runner."""

from __future__ import annotations

from typing import Any

import pytest

from minion.context import Context
from minion.loader import MODULES, Registry
from minion.runner import CommandResult, FakeRunner
from minion.states import STATE_MODULES

STATES = Registry.load({}, {}, modules={"alternatives": STATE_MODULES["alternatives"]},
                       kind="states")
FUNS = Registry.load({}, {}, modules={"alternatives": MODULES["alternatives"]})
DISPLAY = "update-alternatives --display pager"
SHOWN = ("pager - auto mode\n  link best version is /usr/bin/less\n"
         "  link currently points to /usr/bin/less\n  link pager is /usr/bin/pager\n"
         "/usr/bin/less - priority 77\n/usr/bin/more - priority 50\n")
OK = CommandResult("", "", 0)


def make_ctx(table: dict[str, CommandResult], test: bool = False) -> Context:
    return Context({}, {"os_family": "Debian"}, {}, FUNS, runner=FakeRunner(table), test=test)


@pytest.fixture
def current(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> dict[str, str]:
    """The /etc/alternatives links, faked: name -> target."""
    monkeypatch.setattr("minion.modules.alternatives.ALT_DIR", str(tmp_path))
    links: dict[str, str] = {"pager": "/usr/bin/less"}

    def readlink(path: str) -> str:
        name = path.rsplit("/", 1)[-1]
        if name not in links:
            raise FileNotFoundError(path)
        return links[name]

    monkeypatch.setattr("minion.modules.alternatives.os.readlink", readlink)
    return links


def state(ctx: Context, fun: str, **kwargs: Any) -> dict[str, Any]:
    ret: dict[str, Any] = STATES.call(ctx, fun, [], kwargs)
    return ret


def test_exec_functions(current: dict[str, str]) -> None:
    ctx = make_ctx({DISPLAY: CommandResult(SHOWN, "", 0),
                    "update-alternatives --query pager": CommandResult(
                        "Name: pager\nLink: /usr/bin/pager\nStatus: auto\n", "", 0)})
    assert ctx.call("alternatives.check_exists", "pager", "/usr/bin/more") is True
    # An exact path, not a prefix (Salt would say True for /usr/bin/mor).
    assert ctx.call("alternatives.check_exists", "pager", "/usr/bin/mor") is False
    assert ctx.call("alternatives.show_current", "pager") == "/usr/bin/less"
    assert ctx.call("alternatives.show_current", "nope") is False
    assert ctx.call("alternatives.check_installed", "pager", "/usr/bin/less") is True
    assert ctx.call("alternatives.show_link", "pager") == "/usr/bin/pager"
    assert ctx.call("alternatives.display", "pager").startswith("pager - auto mode")
    with pytest.raises(ValueError):
        ctx.call("alternatives.display", "../x")


def test_install_already_registered(current: dict[str, str]) -> None:
    ctx = make_ctx({DISPLAY: CommandResult(SHOWN, "", 0)})
    ret = state(ctx, "alternatives.install", name="pager", link="/usr/bin/pager",
                path="/usr/bin/more", priority=50)
    assert ret["result"] is True and ret["changes"] == {}
    assert ret["comment"] == "Alternative /usr/bin/more for pager is already registered"
    assert (ret["link"], ret["path"], ret["priority"]) == ("/usr/bin/pager", "/usr/bin/more", 50)


def test_install_test_mode_and_apply(current: dict[str, str]) -> None:
    runner = FakeRunner({DISPLAY: CommandResult(SHOWN, "", 0)})
    ctx = Context({}, {}, {}, FUNS, runner=runner, test=True)
    ret = state(ctx, "alternatives.install", name="pager", link="/usr/bin/pager",
                path="/usr/bin/most", priority=90)
    assert ret["result"] is None and ret["changes"] == {}
    assert ret["comment"] == "Alternative will be set for pager to /usr/bin/most with priority 90"
    assert [c["cmd"] for c in runner.calls] == [DISPLAY]

    install = "update-alternatives --install /usr/bin/pager pager /usr/bin/most 90"

    class Registering(FakeRunner):
        def run(self, cmd: Any, **kw: Any) -> CommandResult:
            res = super().run(cmd, **kw)
            line = " ".join(cmd)
            if line == install:
                self.table[DISPLAY] = CommandResult(SHOWN + "/usr/bin/most - priority 90\n",
                                                    "", 0)
                current["pager"] = "/usr/bin/most"
            return res

    ctx = Context({}, {}, {}, FUNS, runner=Registering({DISPLAY: CommandResult(SHOWN, "", 0),
                                                        install: OK}))
    ret = state(ctx, "alternatives.install", name="pager", link="/usr/bin/pager",
                path="/usr/bin/most", priority=90)
    assert ret["result"] is True
    assert ret["changes"] == {"name": "pager", "link": "/usr/bin/pager",
                              "path": "/usr/bin/most", "priority": 90}
    assert ret["comment"] == "Alternative for pager set to path /usr/bin/most with priority 90"


def test_install_failure_reports_output(current: dict[str, str]) -> None:
    ctx = make_ctx({DISPLAY: CommandResult(SHOWN, "", 0)})
    ret = state(ctx, "alternatives.install", name="pager", link="/usr/bin/pager",
                path="/usr/bin/most", priority=90)
    assert ret["result"] is False
    assert ret["comment"].startswith("Alternative for pager not installed: fake: no answer")


def test_set(current: dict[str, str]) -> None:
    ret = state(make_ctx({}), "alternatives.set", name="pager", path="/usr/bin/less")
    assert ret["comment"] == "Alternative for pager already set to /usr/bin/less"
    ret = state(make_ctx({DISPLAY: CommandResult(SHOWN, "", 0)}, test=True), "alternatives.set",
                name="pager", path="/usr/bin/more")
    assert (ret["result"], ret["comment"]) == (
        None, "Alternative for pager will be set to path /usr/bin/more")
    ret = state(make_ctx({DISPLAY: CommandResult(SHOWN, "", 0)}), "alternatives.set",
                name="pager", path="/usr/bin/nano")
    assert (ret["result"], ret["comment"]) == (
        False, "Alternative /usr/bin/nano for pager doesn't exist")

    class Setting(FakeRunner):
        def run(self, cmd: Any, **kw: Any) -> CommandResult:
            if list(cmd) == ["update-alternatives", "--set", "pager", "/usr/bin/more"]:
                current["pager"] = "/usr/bin/more"
            return super().run(cmd, **kw)

    ctx = Context({}, {}, {}, FUNS, runner=Setting({DISPLAY: CommandResult(SHOWN, "", 0)}))
    ret = state(ctx, "alternatives.set", name="pager", path="/usr/bin/more")
    assert ret["changes"] == {"path": "/usr/bin/more"}
    assert ret["comment"] == "Alternative for pager set to path /usr/bin/more"


def test_remove_and_auto(current: dict[str, str]) -> None:
    ret = state(make_ctx({DISPLAY: CommandResult(SHOWN, "", 0)}), "alternatives.remove",
                name="pager", path="/usr/bin/nano")
    assert ret["comment"] == "Alternative for pager is set to it's default path /usr/bin/less"
    ret = state(make_ctx({}), "alternatives.remove", name="nothing", path="/x")
    assert (ret["result"], ret["comment"]) == (False, "Alternative for nothing doesn't exist")
    ret = state(make_ctx({DISPLAY: CommandResult(SHOWN, "", 0)}, test=True),
                "alternatives.remove", name="pager", path="/usr/bin/more")
    assert (ret["result"], ret["comment"]) == (None, "Alternative for pager will be removed")
    ret = state(make_ctx({DISPLAY: CommandResult(SHOWN, "", 0)}), "alternatives.auto",
                name="pager")
    assert ret["comment"] == "pager already in auto mode"
    manual = SHOWN.replace("auto mode", "manual mode")
    ret = state(make_ctx({DISPLAY: CommandResult(manual, "", 0),
                          "update-alternatives --auto pager": CommandResult("done", "", 0)}),
                "alternatives.auto", name="pager")
    assert ret["changes"] == {"result": "done"}
