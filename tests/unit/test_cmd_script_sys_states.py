from __future__ import annotations

from pathlib import Path

import pytest

from minion.context import Context
from minion.fileclient import LocalFileClient
from minion.loader import Registry


@pytest.fixture
def ctx(tmp_path: Path) -> Context:
    roots = tmp_path / "roots"
    (roots / "s").mkdir(parents=True)
    (roots / "s" / "x.sh").write_text('#!/bin/sh\necho "args: $*"; pwd; exit ${CODE:-0}\n')
    opts = {"cachedir": str(tmp_path / "cache")}
    context = Context(opts, {}, {}, Registry.load(opts, {}))
    context.files = LocalFileClient({"base": [str(roots)]})
    return context


def test_script_from_the_file_server(ctx: Context, tmp_path: Path) -> None:
    ret = ctx.call("cmd.script", "salt://s/x.sh", args="a 'b c'")
    assert ret["retcode"] == 0 and ctx.retcode == 0
    out = ret["stdout"].splitlines()
    assert out[0] == "args: a b c"
    assert "saline-script-" in out[1] and not Path(out[1]).exists()  # cleaned up


def test_script_failure_fails_the_job_unless_ignored(ctx: Context) -> None:
    ret = ctx.call("cmd.script", "salt://s/x.sh", env={"CODE": "4"})
    assert ret["retcode"] == 4 and ctx.retcode == 4
    ctx.retcode = 0
    ctx.call("cmd.script", "salt://s/x.sh", env={"CODE": "4"}, ignore_retcode=True)
    assert ctx.retcode == 0


@pytest.mark.parametrize("source", ["s/x.sh", "salt://../x.sh", "salt://s/missing.sh"])
def test_script_bad_sources(ctx: Context, source: str) -> None:
    with pytest.raises(Exception, match=r"source must be|refused|no file"):
        ctx.call("cmd.script", source)


def test_state_introspection(ctx: Context) -> None:
    modules = ctx.call("sys.list_state_modules")
    assert {"file", "cmd", "pkg", "service", "test"} <= set(modules)
    assert "file.managed" in ctx.call("sys.list_state_functions", "file")
    doc = ctx.call("sys.state_doc", "file.managed")["file.managed"]
    assert doc.strip()
    spec = ctx.call("sys.state_argspec", "file.managed")["file.managed"]
    assert spec["args"][0] == "name" and "source" in spec["args"]
