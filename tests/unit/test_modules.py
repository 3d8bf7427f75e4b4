"""The test, cmd, grains and sys execution modules, called through the registry."""

from __future__ import annotations

import inspect
import os
import platform
import shutil
from pathlib import Path
from typing import Any

import pytest

from common.version import __version__
from minion.context import Context
from minion.executor import execute
from minion.loader import CallError, Registry
from minion.runner import CommandResult, FakeRunner

GRAINS: dict[str, Any] = {
    "id": "m1",
    "os": "Debian",
    "os_family": "Debian",
    "shell": "/bin/sh",
    "ip_interfaces": {"eth0": ["10.0.0.5", "fe80::1"], "lo": ["127.0.0.1"]},
    "roles": [{"web": {"port": 80}}, {"db": {"port": 5432}}],
    "empty": None,
}


def make_ctx(runner: Any = None) -> Context:
    opts = {"id": "m1"}
    grains = dict(GRAINS)
    registry = Registry.load(opts, grains)
    ctx = Context(opts, grains, {}, registry)
    if runner is not None:
        ctx.runner = runner
    return ctx


@pytest.fixture
def ctx() -> Context:
    return make_ctx()


# --- loader rules ---------------------------------------------------------------------------


def test_registry_exposes_exactly_all(ctx: Context) -> None:
    assert sorted(n for n in ctx.registry.functions if n.startswith("test.")) == [
        "test.arg", "test.echo", "test.exception", "test.false", "test.fib", "test.kwarg",
        "test.outputter", "test.ping", "test.provider", "test.rand_str", "test.retcode",
        "test.sleep", "test.true", "test.version", "test.versions_report",
    ]
    assert sorted(n for n in ctx.registry.functions if n.startswith("cmd.")) == [
        "cmd.has_exec", "cmd.retcode", "cmd.run", "cmd.run_all", "cmd.run_stderr",
        "cmd.run_stdout", "cmd.script", "cmd.shell", "cmd.which",
    ]


@pytest.mark.parametrize(
    "hidden", ["test.true_", "test._libzmq_version", "test.time", "cmd.shlex", "cmd._execute",
               "cmd.log", "grains.traverse", "grains.Context", "sys.inspect", "sys._spec"],
)
def test_loader_hides_names_not_in_all(ctx: Context, hidden: str) -> None:
    with pytest.raises(CallError, match="is not available"):
        ctx.call(hidden)


def test_missing_argument_is_a_call_error(ctx: Context) -> None:
    with pytest.raises(CallError, match="text"):
        ctx.call("test.echo")
    with pytest.raises(CallError, match=r"test\.ping"):
        ctx.call("test.ping", "extra")
    with pytest.raises(CallError, match="nope"):
        ctx.call("cmd.run", "true", nope=1)


def test_every_exposed_function_is_documented_and_typed(ctx: Context) -> None:
    for name, func in ctx.registry.functions.items():
        params = list(inspect.signature(func).parameters)
        assert params[0] == "ctx", name
        doc = inspect.getdoc(func) or ""
        assert doc and doc.splitlines()[0].endswith("."), name
        assert f"master run '*' {name}" in doc, name
        hints = func.__annotations__
        assert "return" in hints and all(p in hints for p in params), name


# --- test ----------------------------------------------------------------------------------


def test_test_basics(ctx: Context) -> None:
    assert ctx.call("test.ping") is True
    assert ctx.call("test.echo", "hello world") == "hello world"
    assert ctx.call("test.version") == __version__
    assert ctx.call("test.true") is True
    assert ctx.call("test.false") is False
    assert ctx.retcode == 0


def test_versions_report(ctx: Context) -> None:
    report = ctx.call("test.versions_report")
    assert set(report) == {"saline", "python", "pyzmq", "libzmq", "pynacl", "msgpack",
                           "jinja2", "pyyaml", "psutil"}
    assert report["saline"] == __version__
    assert report["python"] == platform.python_version()
    import yaml
    import zmq

    assert report["pyyaml"] == yaml.__version__
    assert report["libzmq"] == zmq.zmq_version()


def test_sleep(ctx: Context) -> None:
    assert ctx.call("test.sleep", 0.01) is True
    assert ctx.call("test.sleep", "0") is True
    with pytest.raises(ValueError):
        ctx.call("test.sleep", -1)


def test_arg_and_kwarg(ctx: Context) -> None:
    assert ctx.call("test.arg", 1, "two", kw=3) == {"args": [1, "two"], "kwargs": {"kw": 3}}
    assert ctx.call("test.arg") == {"args": [], "kwargs": {}}
    assert ctx.call("test.kwarg", a=1, b="x") == {"a": 1, "b": "x"}


def test_fib(ctx: Context) -> None:
    value, elapsed = ctx.call("test.fib", 10)
    assert value == 55
    assert isinstance(elapsed, float) and elapsed >= 0
    assert ctx.call("test.fib", 0)[0] == 0
    assert ctx.call("test.fib", "20")[0] == 6765


def test_exception(ctx: Context) -> None:
    with pytest.raises(Exception, match="boom"):
        ctx.call("test.exception", "boom")
    ret = execute(ctx, "test.exception", [], {})
    assert ret["success"] is False
    assert ret["retcode"] == 1
    assert "Test Exception" in ret["return"]


def test_rand_str(ctx: Context) -> None:
    first = ctx.call("test.rand_str")
    assert len(first) == 20 and first.isalnum()
    assert len(ctx.call("test.rand_str", 64)) == 64
    assert ctx.call("test.rand_str", 32) != ctx.call("test.rand_str", 32)


def test_retcode_fails_the_job(ctx: Context) -> None:
    ret = execute(ctx, "test.retcode", [3], {})
    assert ret["return"] == 3
    assert ret["retcode"] == 3
    assert ret["success"] is False


# --- cmd, for real ---------------------------------------------------------------------------


def test_run_with_pipes(ctx: Context) -> None:
    assert ctx.call("cmd.run", "printf 'a\\nb\\nc\\n' | wc -l").strip() == "3"
    assert ctx.retcode == 0


def test_run_appends_stderr_and_strips_trailing_newline(ctx: Context) -> None:
    assert ctx.call("cmd.run", "echo out; echo err >&2") == "out\nerr"
    assert ctx.call("cmd.run", "echo only-err >&2") == "only-err"
    assert ctx.call("cmd.run", "printf 'keep  \\n\\n'", rstrip=False) == "keep  \n\n"


def test_failing_command_sets_retcode(ctx: Context) -> None:
    assert ctx.call("cmd.run", "echo partial; exit 3") == "partial"
    assert ctx.retcode == 3
    ret = execute(ctx.for_job("j1"), "cmd.run", ["echo nope >&2; exit 5"], {})
    assert ret == {**ret, "return": "nope", "retcode": 5, "success": False}


def test_ignore_retcode(ctx: Context) -> None:
    assert ctx.call("cmd.run", "exit 4", ignore_retcode=True) == ""
    assert ctx.retcode == 0


def test_run_stdout_and_stderr(ctx: Context) -> None:
    assert ctx.call("cmd.run_stdout", "echo out; echo err >&2") == "out"
    assert ctx.call("cmd.run_stderr", "echo out; echo err >&2") == "err"
    assert ctx.retcode == 0
    ctx.call("cmd.run_stdout", "false")
    assert ctx.retcode == 1


def test_run_all_reports_and_fails_the_job_as_salt(ctx: Context) -> None:
    ret = ctx.call("cmd.run_all", "echo out; echo err >&2; exit 2")
    assert ret["stdout"] == "out"
    assert ret["stderr"] == "err"
    assert ret["retcode"] == 2
    assert isinstance(ret["pid"], int) and ret["pid"] > 0
    assert ctx.retcode == 2
    ctx.retcode = 0
    ctx.call("cmd.run_all", "exit 2", ignore_retcode=True)
    assert ctx.retcode == 0


def test_retcode_returns_exit_code(ctx: Context) -> None:
    assert ctx.call("cmd.retcode", "true") == 0
    assert ctx.retcode == 0
    assert ctx.call("cmd.retcode", "exit 7") == 7
    assert ctx.retcode == 7


def test_timeout_keeps_output(ctx: Context) -> None:
    out = ctx.call("cmd.run", "echo before; sleep 10; echo finished", timeout=0.5)
    assert out.startswith("before")
    assert "finished" not in out
    assert "Timed out after 0.5 s" in out
    assert ctx.retcode != 0
    fresh = ctx.for_job("j2")
    ret = fresh.call("cmd.run_all", "echo early; sleep 10", timeout=0.3)
    assert ret["stdout"] == "early"
    assert ret["stderr"] == "Timed out after 0.3 s"
    assert fresh.retcode != 0


def test_env_cwd_and_stdin(ctx: Context, tmp_path: Path) -> None:
    assert ctx.call("cmd.run", "echo $GREETING-$N", env={"GREETING": "hi", "N": 2}) == "hi-2"
    assert ctx.call("cmd.run", "echo $A$B", env=[{"A": "x"}, {"B": "y"}]) == "xy"
    with pytest.raises(ValueError, match="env"):
        ctx.call("cmd.run", "true", env="A=1")
    assert ctx.call("cmd.run", "pwd -P", cwd=str(tmp_path)) == str(tmp_path.resolve())
    assert ctx.call("cmd.run", "pwd -P") == str(Path(os.path.expanduser("~")).resolve())
    with pytest.raises(ValueError, match="cwd"):
        ctx.call("cmd.run", "true", cwd=str(tmp_path / "absent"))
    assert ctx.call("cmd.run", "tr a-z A-Z", stdin="hello\n") == "HELLO"


def test_a_missing_home_runs_in_root_dir(ctx: Context, tmp_path: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    # A minion running as `nobody` (home /nonexistent) still runs commands, as Salt does.
    monkeypatch.setenv("HOME", str(tmp_path / "absent"))
    assert ctx.call("cmd.run", "pwd -P") == "/"


def test_python_shell_false_and_lists(ctx: Context) -> None:
    assert ctx.call("cmd.run", ["echo", "a|b", "$HOME"]) == "a|b $HOME"
    assert ctx.call("cmd.run", "echo a | wc -l", python_shell=False) == "a | wc -l"
    assert ctx.call("cmd.run", ["echo", "x y"], python_shell=True) == "x y"


@pytest.mark.skipif(not os.path.exists("/bin/bash"), reason="needs bash")
def test_shell_argument(ctx: Context) -> None:
    assert ctx.call("cmd.run", "echo ${BASH_VERSION:+bash}", shell="/bin/bash") == "bash"


def test_missing_command(ctx: Context) -> None:
    out = ctx.call("cmd.run", "no-such-command-saline-xyz")
    assert "not found" in out
    assert ctx.retcode == 127


def test_which_and_has_exec(ctx: Context) -> None:
    found = ctx.call("cmd.which", "sh")
    assert found == shutil.which("sh") and found.endswith("/sh")
    assert ctx.call("cmd.which", "no-such-command-saline-xyz") is None
    assert ctx.call("cmd.has_exec", "sh") is True
    assert ctx.call("cmd.has_exec", "no-such-command-saline-xyz") is False


# --- cmd, with the fake runner ---------------------------------------------------------------


def test_cmd_uses_the_context_runner() -> None:
    runner = FakeRunner({"uptime": CommandResult("up 3 days\n", "", 0, pid=42)})
    ctx = make_ctx(runner)
    assert ctx.call("cmd.run", "uptime") == "up 3 days"
    assert ctx.call("cmd.run_all", "uptime") == {
        "pid": 42, "retcode": 0, "stdout": "up 3 days", "stderr": "",
    }
    call = runner.calls[0]
    assert call["shell"] == "/bin/sh"
    assert call["cwd"] == os.path.expanduser("~")
    assert ctx.call("cmd.retcode", "other") == 127
    assert ctx.retcode == 127


# --- grains ---------------------------------------------------------------------------------


def test_grains_items_and_ls(ctx: Context) -> None:
    items = ctx.call("grains.items")
    assert items == GRAINS
    items["os"] = "changed"
    assert ctx.grains["os"] == "Debian"
    assert ctx.call("grains.ls") == sorted(GRAINS)


def test_grains_item(ctx: Context) -> None:
    assert ctx.call("grains.item", "os", "os_family") == {"os": "Debian", "os_family": "Debian"}
    assert ctx.call("grains.item", "os", "missing") == {"os": "Debian", "missing": ""}
    assert ctx.call("grains.item", "missing", default=None) == {"missing": None}
    assert ctx.call("grains.item", "ip_interfaces:lo") == {"ip_interfaces:lo": ["127.0.0.1"]}


def test_grains_get_nested(ctx: Context) -> None:
    assert ctx.call("grains.get", "os") == "Debian"
    assert ctx.call("grains.get", "ip_interfaces:eth0") == ["10.0.0.5", "fe80::1"]
    assert ctx.call("grains.get", "ip_interfaces:eth0:1") == "fe80::1"
    assert ctx.call("grains.get", "roles:db:port") == 5432
    assert ctx.call("grains.get", "ip_interfaces|lo|0", delimiter="|") == "127.0.0.1"
    assert ctx.call("grains.get", "empty", "dflt") is None


def test_grains_get_default(ctx: Context) -> None:
    assert ctx.call("grains.get", "missing") == ""
    assert ctx.call("grains.get", "missing", "fallback") == "fallback"
    assert ctx.call("grains.get", "ip_interfaces:eth9", default=[]) == []
    assert ctx.call("grains.get", "ip_interfaces:eth0:7", "none") == "none"
    assert ctx.call("grains.get", "os:deeper", 0) == 0


# --- sys ------------------------------------------------------------------------------------


def test_sys_list_modules_and_functions(ctx: Context) -> None:
    modules = ctx.call("sys.list_modules")
    assert modules == sorted(modules) and {"cmd", "grains", "sys", "test"} <= set(modules)
    assert modules == ctx.registry.modules()
    everything = ctx.call("sys.list_functions")
    assert everything == sorted(ctx.registry.functions)
    grains_funs = ctx.call("sys.list_functions", "grains")
    assert {"grains.get", "grains.item", "grains.items", "grains.ls"} <= set(grains_funs)
    assert all(f.startswith("grains.") for f in grains_funs)
    assert ctx.call("sys.list_functions", "sys.list_*") == [
        "sys.list_functions", "sys.list_modules", "sys.list_state_functions",
        "sys.list_state_modules",
    ]
    assert ctx.call("sys.list_functions", "nope") == []


def test_sys_doc_returns_docstrings(ctx: Context) -> None:
    doc = ctx.call("sys.doc", "test.echo")
    assert list(doc) == ["test.echo"]
    assert doc["test.echo"].startswith("Return the text it was given.")
    assert "master run '*' test.echo" in doc["test.echo"]
    module_doc = ctx.call("sys.doc", "cmd")
    assert set(module_doc) == {n for n in ctx.registry.functions if n.startswith("cmd.")}
    assert set(ctx.call("sys.doc")) == set(ctx.registry.functions)
    assert ctx.call("sys.doc", "test.nope") == {}


def test_sys_argspec(ctx: Context) -> None:
    spec = ctx.call("sys.argspec", "test.echo", "test.arg", "grains.get")
    assert spec["test.echo"] == {"args": ["text"], "defaults": None, "varargs": None,
                                 "kwargs": None}
    assert spec["test.arg"] == {"args": [], "defaults": None, "varargs": "args",
                                "kwargs": "kwargs"}
    # As Salt's sys.argspec grains.get says.
    assert spec["grains.get"]["args"] == ["key", "default", "delimiter", "ordered"]
    assert spec["grains.get"]["defaults"] == ["", ":", True]
    item = ctx.call("sys.argspec", "grains.item")["grains.item"]
    assert item["varargs"] == "keys"
    assert item["kwonlyargs"] == {"default": "", "delimiter": ":"}
    run = ctx.call("sys.argspec", "cmd.run")["cmd.run"]
    assert run["args"][:3] == ["cmd", "cwd", "stdin"]
    assert len(run["defaults"]) == len(run["args"]) - 1
