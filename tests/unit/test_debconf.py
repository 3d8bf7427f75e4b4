"""debconf module and the debconf.set state, answered by a fake runner."""

from __future__ import annotations

from typing import Any

import pytest

from minion.context import Context
from minion.loader import MODULES, Registry
from minion.runner import CommandResult, FakeRunner
from minion.states import STATE_MODULES

STATES = Registry.load({}, {}, modules={"debconf": STATE_MODULES["debconf"]}, kind="states")
GET = "debconf-get-selections"
SELECTIONS = (
    "# Geographic area:\n"
    "tzdata\ttzdata/Areas\tselect\tEurope\n"
    "tzdata\ttzdata/Zones/Europe\tselect\tParis\n"
    "demo\tdemo/enable\tboolean\ttrue\n"
    "demo\tdemo/secret\tpassword\t\n"
)


@pytest.fixture
def funs(monkeypatch: pytest.MonkeyPatch) -> Registry:
    monkeypatch.setattr("minion.modules.debconf.shutil.which", lambda _: "/usr/bin/x")
    return Registry.load({}, {"os_family": "Debian"}, modules={"debconf": MODULES["debconf"]})


def test_get_selections_and_show(funs: Registry) -> None:
    ctx = Context({}, {}, {}, funs, runner=FakeRunner({GET: CommandResult(SELECTIONS, "", 0)}))
    sel = ctx.call("debconf.get_selections")
    assert sel["tzdata"] == [["tzdata/Areas", "select", "Europe"],
                             ["tzdata/Zones/Europe", "select", "Paris"]]
    assert sel["demo"][1] == ["demo/secret", "password", ""]
    assert "demo/secret" not in str(ctx.call("debconf.get_selections", fetchempty=False))
    assert ctx.call("debconf.show", "nothing") is None


def test_set_feeds_stdin(funs: Registry) -> None:
    runner = FakeRunner({"debconf-set-selections": CommandResult("", "", 0)})
    ctx = Context({}, {}, {}, funs, runner=runner)
    assert ctx.call("debconf.set", "demo", "demo/name", "string", "two", "words") is True
    assert runner.calls[0]["stdin"] == "demo demo/name string two words\n"
    with pytest.raises(ValueError):
        ctx.call("debconf.set", "demo", "demo/name; rm", "string", "x")


def run(funs: Registry, data: dict[str, Any], test: bool = False,
        set_ok: bool = True) -> tuple[dict[str, Any], FakeRunner]:
    runner = FakeRunner({GET: CommandResult(SELECTIONS, "", 0)})
    if set_ok:
        runner.table["debconf-set-selections"] = CommandResult("", "", 0)
    ctx = Context({}, {}, {}, funs, runner=runner, test=test)
    ret: dict[str, Any] = STATES.call(ctx, "debconf.set", [], {"name": "demo", "data": data})
    return ret, runner


def test_state_already_set(funs: Registry) -> None:
    ret, runner = run(funs, {"demo/enable": {"type": "boolean", "value": True}})
    assert (ret["result"], ret["changes"]) == (True, {})
    assert ret["comment"] == "All specified answers are already set"
    assert [c["cmd"] for c in runner.calls] == [GET]


def test_state_test_mode(funs: Registry) -> None:
    ret, runner = run(funs, {"demo/enable": {"type": "boolean", "value": False},
                             "demo/secret": {"type": "password", "value": ""}}, test=True)
    assert ret["result"] is None
    assert ret["changes"] == {"demo/enable": "New value: false"}
    assert ret["comment"] == "Unchanged answers: demo/secret "
    assert [c["cmd"] for c in runner.calls] == [GET]


def test_state_sets_and_hides_passwords(funs: Registry) -> None:
    ret, runner = run(funs, {"demo/enable": {"type": "boolean", "value": False},
                             "demo/secret": {"type": "password", "value": "s3cret"}})
    assert ret["result"] is True
    assert ret["changes"] == {"demo/enable": "false", "demo/secret": "(password hidden)"}
    assert "s3cret" not in str(ret)
    assert [c["stdin"] for c in runner.calls[1:]] == ["demo demo/enable boolean false\n",
                                                      "demo demo/secret password s3cret\n"]


def test_state_failure(funs: Registry) -> None:
    ret, _ = run(funs, {"demo/enable": {"type": "boolean", "value": False}}, set_ok=False)
    assert ret["result"] is False
    assert ret["changes"] == {"demo/enable": "Failed to set!"}
    assert ret["comment"] == "Some settings failed to be applied."
