"""The test, host, cron and module states, called through the state registry."""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

from minion.context import Context
from minion.loader import Registry
from minion.runner import CommandResult, FakeRunner
from minion.states import STATE_MODULES
from minion.states.cron import TAG
from minion.states.module import old_style_args

# Only the modules under test, so a broken neighbour cannot fail these tests.
MINE = {name: STATE_MODULES[name] for name in ("test", "host", "cron", "module")}
STATES = Registry.load({}, {}, modules=MINE, kind="states")
PRETEND = {"testing": {"old": "Unchanged", "new": "Something pretended to change"}}


def make_ctx(opts: dict[str, Any] | None = None, runner: Any = None,
             test: bool = False) -> Context:
    ctx = Context(opts or {}, {}, {}, Registry.load({}, {}), test=test)
    if runner is not None:
        ctx.runner = runner
    return ctx


def state(ctx: Context, fun: str, **kwargs: Any) -> dict[str, Any]:
    ret: dict[str, Any] = STATES.call(ctx, fun, [], kwargs)
    assert set(ret) >= {"name", "result", "changes", "comment"}
    return ret


def test_registry_lists_the_modules() -> None:
    for fun in ("test.nop", "test.mod_watch", "host.present", "host.absent", "cron.present",
                "cron.absent", "module.run"):
        assert fun in STATES.functions


# --- test -------------------------------------------------------------------------------------


@pytest.mark.parametrize(("fun", "result", "changes", "comment"), [
    ("test.nop", True, {}, "Success!"),
    ("test.succeed_without_changes", True, {}, "Success!"),
    ("test.succeed_with_changes", True, PRETEND, "Success!"),
    ("test.fail_without_changes", False, {}, "Failure!"),
    ("test.fail_with_changes", False, PRETEND, "Failure!"),
])
def test_test_states(fun: str, result: bool, changes: dict[str, Any], comment: str) -> None:
    ret = state(make_ctx(), fun, name="x")
    assert ret == {"name": "x", "result": result, "changes": changes, "comment": comment}


@pytest.mark.parametrize(("fun", "result", "comment"), [
    ("test.succeed_without_changes", True, "Success!"),
    ("test.succeed_with_changes", None,
     "If we weren't testing, this would be successful with changes"),
    ("test.fail_without_changes", False, "If we weren't testing, this would be a failure!"),
    ("test.fail_with_changes", None, "If we weren't testing, this would be failed with changes"),
])
def test_test_states_in_test_mode(fun: str, result: bool | None, comment: str) -> None:
    ret = state(make_ctx(test=True), fun, name="x")
    assert (ret["result"], ret["comment"]) == (result, comment)


def test_nop_takes_any_argument() -> None:
    assert state(make_ctx(), "test.nop", name="x", foo="bar", other=[1])["result"] is True


def test_configurable_test_state() -> None:
    ret = state(make_ctx(), "test.configurable_test_state", name="x", result=False,
                comment="bar.baz")
    assert ret == {"name": "x", "result": False, "changes": PRETEND, "comment": "bar.baz"}
    ret = state(make_ctx(), "test.configurable_test_state", name="x", changes=False)
    assert (ret["result"], ret["changes"]) == (True, {})
    ret = state(make_ctx(), "test.configurable_test_state", name="x", changes="Random",
                result="random", warnings="careful")
    assert ret["result"] in (True, False) and ret["changes"] in ({}, PRETEND)
    assert ret["warnings"] == ["careful"]
    ret = state(make_ctx(), "test.configurable_test_state", name="x", result="maybe")
    assert ret["result"] is False and "'result'" in ret["comment"]
    ret = state(make_ctx(test=True), "test.configurable_test_state", name="x")
    assert (ret["result"], ret["comment"]) == (None, "This is a test")
    ret = state(make_ctx(test=True), "test.configurable_test_state", name="x", changes=False)
    assert ret["result"] is True


def test_show_notification() -> None:
    ret = state(make_ctx(), "test.show_notification", name="x", text="Hello")
    assert ret == {"name": "x", "result": True, "changes": {}, "comment": "Hello"}
    assert state(make_ctx(), "test.show_notification", name="x")["result"] is False


def test_mod_watch() -> None:
    ret = state(make_ctx(), "test.mod_watch", name="x", sfun="succeed_without_changes")
    assert (ret["result"], ret["comment"]) == (True, "Watch statement fired.")
    ret = state(make_ctx(), "test.mod_watch", name="x", comment="custom", result=False,
                changes={"a": 1})
    assert (ret["result"], ret["comment"], ret["changes"]) == (False, "custom", {"a": 1})


# --- host -------------------------------------------------------------------------------------

HOSTS = """\
# The hosts file
127.0.0.1\tlocalhost
10.0.0.5   web1 web1.example.com  # the web server

::1 ip6-localhost
10.0.0.9 db  other
"""


@pytest.fixture
def hosts(tmp_path: Path) -> Path:
    path = tmp_path / "hosts"
    path.write_text(HOSTS)
    return path


def test_host_present_adds_to_the_line_of_its_address(hosts: Path) -> None:
    ctx = make_ctx({"hosts_file": str(hosts)})
    ret = state(ctx, "host.present", name="www", ip="10.0.0.5")
    assert ret["result"] is True
    assert ret["changes"] == {"added": {"10.0.0.5": ["www"]}}
    assert ret["comment"] == "Added host www (10.0.0.5)"
    assert hosts.read_text() == HOSTS.replace(
        "web1 web1.example.com  # the web server", "web1 web1.example.com www  # the web server")
    again = state(ctx, "host.present", name="www", ip="10.0.0.5")
    assert (again["result"], again["changes"]) == (True, {})
    assert again["comment"] == "Host www (10.0.0.5) already present"


def test_host_present_new_address_and_list(hosts: Path) -> None:
    ctx = make_ctx({"hosts_file": str(hosts)})
    ret = state(ctx, "host.present", name="api", ip=["10.0.0.7", "fe80::7"])
    assert ret["changes"] == {"added": {"10.0.0.7": ["api"], "fe80::7": ["api"]}}
    assert hosts.read_text() == HOSTS + "10.0.0.7\tapi\nfe80::7\tapi\n"


def test_host_present_test_mode_changes_nothing(hosts: Path) -> None:
    ret = state(make_ctx({"hosts_file": str(hosts)}, test=True), "host.present", name="www",
                ip="10.0.0.5")
    assert ret["result"] is None
    assert ret["comment"] == "Host www (10.0.0.5) would be added"
    assert ret["changes"] == {"added": {"10.0.0.5": ["www"]}}
    assert hosts.read_text() == HOSTS


def test_host_present_other_address_warns_or_cleans(hosts: Path) -> None:
    ctx = make_ctx({"hosts_file": str(hosts)})
    ret = state(ctx, "host.present", name="db", ip="10.0.0.10")
    assert ret["result"] is True
    assert "Host db present for IP address 10.0.0.9" in ret["warnings"][0]
    assert "10.0.0.9 db  other" in hosts.read_text()
    ret = state(ctx, "host.present", name="db", ip="10.0.0.10", clean=True)
    assert ret["changes"] == {"removed": {"10.0.0.9": ["db"]}}
    assert ret["comment"] == "Host db (10.0.0.10) already present\nRemoved host db (10.0.0.9)"
    text = hosts.read_text()
    assert "10.0.0.9 other\n" in text and "10.0.0.10\tdb\n" in text


def test_host_present_refuses_a_bad_address(hosts: Path) -> None:
    ret = state(make_ctx({"hosts_file": str(hosts)}), "host.present", name="x", ip="10.0.0.300")
    assert ret["result"] is False
    assert ret["comment"] == "Invalid IP Address for x (10.0.0.300)"
    assert hosts.read_text() == HOSTS


def test_host_present_creates_a_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "hosts"
    state(make_ctx({"hosts_file": str(path)}), "host.present", name="a", ip="10.1.1.1")
    assert path.read_text() == "10.1.1.1\ta\n"


def test_host_absent(hosts: Path) -> None:
    ctx = make_ctx({"hosts_file": str(hosts)})
    ret = state(make_ctx({"hosts_file": str(hosts)}, test=True), "host.absent", name="web1",
                ip="10.0.0.5")
    assert (ret["result"], ret["comment"]) == (None, "Host web1 (10.0.0.5) needs to be removed")
    assert hosts.read_text() == HOSTS
    ret = state(ctx, "host.absent", name="web1", ip="10.0.0.5")
    assert ret["changes"] == {"host": "web1"}
    assert ret["comment"] == "Removed host web1 (10.0.0.5)"
    assert "10.0.0.5   web1.example.com  # the web server\n" in hosts.read_text()
    # the last name of a line takes the line with it
    state(ctx, "host.absent", name="web1.example.com", ip=["10.0.0.5"])
    assert "10.0.0.5" not in hosts.read_text()
    text = hosts.read_text()
    assert "# The hosts file\n" in text and "\n\n::1 ip6-localhost\n" in text
    ret = state(ctx, "host.absent", name="web1", ip="10.0.0.5")
    assert (ret["result"], ret["changes"]) == (True, {})
    assert ret["comment"] == "Host web1 (10.0.0.5) already absent"


# --- cron -------------------------------------------------------------------------------------

LIST = "crontab -l -u root"
WRITE = "crontab -u root -"


@dataclasses.dataclass
class CrontabRunner(FakeRunner):
    """A fake runner whose `crontab -u root -` replaces what `crontab -l` answers."""

    def run(self, cmd: str | Sequence[str], *, shell: bool | str = False, cwd: str | None = None,
            env: Mapping[str, str] | None = None, stdin: str | None = None,
            timeout: float | None = None, runas: str | None = None) -> CommandResult:
        res = super().run(cmd, shell=shell, cwd=cwd, env=env, stdin=stdin, timeout=timeout,
                          runas=runas)
        line = cmd if isinstance(cmd, str) else " ".join(cmd)
        if line == WRITE and res.retcode == 0:
            self.table[LIST] = CommandResult(stdin or "", "", 0)
        return res


def _crontab(text: str | None) -> CrontabRunner:
    listing = CommandResult(text, "", 0) if text is not None \
        else CommandResult("", "no crontab for root\n", 1)
    return CrontabRunner({LIST: listing, WRITE: CommandResult("", "", 0)})


def _written(runner: FakeRunner) -> list[str]:
    return [str(call["stdin"]) for call in runner.calls if call["cmd"] == WRITE]


def test_cron_present_into_an_empty_crontab() -> None:
    runner = _crontab(None)
    ret = state(make_ctx(runner=runner), "cron.present", name="/usr/bin/backup", minute=30,
                hour=2)
    assert ret["result"] is True
    assert ret["changes"] == {"root": "/usr/bin/backup"}
    assert ret["comment"] == "Cron /usr/bin/backup added to root's crontab"
    assert _written(runner) == [
        f"{TAG}\n# SALT_CRON_IDENTIFIER:/usr/bin/backup\n30 2 * * * /usr/bin/backup\n"]
    again = state(make_ctx(runner=runner), "cron.present", name="/usr/bin/backup", minute=30,
                  hour=2)
    assert (again["result"], again["changes"]) == (True, {})
    assert again["comment"] == "Cron /usr/bin/backup already present"
    assert len(_written(runner)) == 1


SALT_TAB = f"""\
MAILTO=ops@example.com
5 * * * * /usr/bin/not-managed
{TAG}
# nightly SALT_CRON_IDENTIFIER:backup
0 3 * * * /usr/bin/backup --old
@reboot /usr/bin/at-boot
"""


def test_cron_present_updates_a_salt_managed_job_by_identifier() -> None:
    runner = _crontab(SALT_TAB)
    ret = state(make_ctx(runner=runner), "cron.present", name="/usr/bin/backup --new",
                minute=0, hour=4, identifier="backup")
    assert ret["comment"] == "Cron /usr/bin/backup --new updated"
    assert _written(runner) == [SALT_TAB.replace(
        "0 3 * * * /usr/bin/backup --old", "0 4 * * * /usr/bin/backup --new")]


def test_cron_present_adopts_a_job_without_identifier_and_sets_a_comment() -> None:
    runner = _crontab(SALT_TAB)
    ret = state(make_ctx(runner=runner), "cron.present", name="/usr/bin/at-boot",
                special="@reboot", comment="at boot")
    assert ret["comment"] == "Cron /usr/bin/at-boot updated"
    assert _written(runner)[0].endswith(
        "# at boot SALT_CRON_IDENTIFIER:/usr/bin/at-boot\n@reboot /usr/bin/at-boot\n")
    assert _written(runner)[0].startswith(
        "MAILTO=ops@example.com\n5 * * * * /usr/bin/not-managed\n")


def test_cron_present_test_mode_and_other_user() -> None:
    runner = FakeRunner({"crontab -l -u www": CommandResult("", "no crontab for www", 1)})
    ret = state(make_ctx(runner=runner, test=True), "cron.present", name="/bin/true", user="www")
    assert (ret["result"], ret["comment"]) == (None, "Cron /bin/true is set to be added")
    assert ret["changes"] == {"www": "/bin/true"}
    assert [c["cmd"] for c in runner.calls] == ["crontab -l -u www"]


def test_cron_without_crontab_command_fails_clearly() -> None:
    runner = FakeRunner()  # answers 127 for everything, like a missing command
    ret = state(make_ctx(runner=runner), "cron.present", name="/bin/true")
    assert ret["result"] is False
    assert "crontab command is not available" in ret["comment"]
    assert state(make_ctx(runner=runner), "cron.absent", name="/bin/true")["result"] is False


def test_cron_write_failure() -> None:
    runner = FakeRunner({LIST: CommandResult("", "", 0),
                         WRITE: CommandResult("", "crontab: bad minute", 1)})
    ret = state(make_ctx(runner=runner), "cron.present", name="/bin/true", minute=99)
    assert ret["result"] is False
    assert ret["comment"].startswith("Cron /bin/true for user root failed to commit with error")
    assert "bad minute" in ret["comment"]


def test_cron_absent() -> None:
    runner = _crontab(SALT_TAB)
    ret = state(make_ctx(runner=runner, test=True), "cron.absent", name="/usr/bin/x",
                identifier="backup")
    assert (ret["result"], ret["comment"]) == (None, "Cron /usr/bin/x is set to be removed")
    ret = state(make_ctx(runner=runner), "cron.absent", name="/usr/bin/x", identifier="backup")
    assert ret["changes"] == {"root": "/usr/bin/x"}
    assert ret["comment"] == "Cron /usr/bin/x removed from root's crontab"
    assert _written(runner) == [SALT_TAB.replace(
        "# nightly SALT_CRON_IDENTIFIER:backup\n0 3 * * * /usr/bin/backup --old\n", "")]
    ret = state(make_ctx(runner=runner), "cron.absent", name="/usr/bin/x", identifier="backup")
    assert (ret["result"], ret["comment"]) == (True, "Cron /usr/bin/x already absent")
    # jobs above the tag are not Salt's to remove
    ret = state(make_ctx(runner=runner), "cron.absent", name="/usr/bin/not-managed")
    assert ret["changes"] == {}


# --- module.run -------------------------------------------------------------------------------


def test_module_run_old_style() -> None:
    ret = state(make_ctx(), "module.run", name="test.echo", text="hi")
    assert ret == {"name": "test.echo", "result": True, "changes": {"ret": "hi"},
                   "comment": "Module function test.echo executed"}
    ret = state(make_ctx(), "module.run", name="test.arg", m_args=[1, 2], m_kwargs={"k": "v"})
    assert ret["changes"]["ret"]["args"] == [1, 2]
    assert ret["changes"]["ret"]["kwargs"]["k"] == "v"


def test_module_run_old_style_failures() -> None:
    ret = state(make_ctx(), "module.run", name="nope.nothing")
    assert ret["result"] is False
    assert ret["comment"] == "Module function nope.nothing is not available"
    ret = state(make_ctx(), "module.run", name="test.exception", message="boom")
    assert ret["result"] is False and "threw an exception" in ret["comment"]
    ret = state(make_ctx(), "module.run", name="test.false")
    assert (ret["result"], ret["changes"]) == (False, {"ret": False})


def test_module_run_retcode_fails_and_is_restored() -> None:
    runner = FakeRunner({"false": CommandResult("", "", 1)})
    ctx = make_ctx(runner=runner)
    ret = state(ctx, "module.run", name="cmd.run", cmd="false")
    assert ret["result"] is False
    assert ret["comment"] == "Module function cmd.run executed with retcode 1"
    assert ctx.retcode == 0


def test_module_run_old_style_argument_mapping() -> None:
    def fun(ctx: Context, name: str, fun: str = "", opt: int = 0) -> None: ...

    params = dict(inspect.signature(fun).parameters)
    del params["ctx"]
    args, kwargs = old_style_args(params, {"m_name": "n", "m_fun": "f", "opt": 3, "other": 1,
                                           "m_args": ["a"], "m_kwargs": {"x": 1}})
    assert (args, kwargs) == (["a"], {"name": "n", "fun": "f", "opt": 3, "x": 1})


def test_module_run_new_style() -> None:
    ctx = make_ctx()
    ret = state(ctx, "module.run", name="say", **{"test.echo": [{"text": "hi"}],
                                                 "test.ping": None})
    assert ret["result"] is True
    assert ret["changes"] == {"test.echo": "hi", "test.ping": True}
    assert ret["comment"] == "test.echo: hi, test.ping: True"
    ret = state(ctx, "module.run", name="say", **{"test.echo": ["positional"],
                                                 "test.echo:again": [{"text": "2"}]})
    assert ret["changes"] == {"test.echo": "positional", "test.echo:again": "2"}


def test_module_run_new_style_failures() -> None:
    ret = state(make_ctx(), "module.run", name="x", **{"test.false": [], "test.echo": ["y"]})
    assert ret["result"] is False
    assert ret["comment"] == "'test.false' failed: False, test.echo: y"
    ret = state(make_ctx(), "module.run", name="x", **{"nope.a": [], "test.ping": []})
    assert (ret["result"], ret["comment"]) == (False, "Unavailable function: nope.a.")
    ret = state(make_ctx(), "module.run", name="x", **{"test.echo": [{"bad": 1}]})
    assert ret["result"] is False and ret["comment"].startswith("'test.echo' failed: ")


def test_module_run_test_mode() -> None:
    ret = state(make_ctx(test=True), "module.run", name="test.echo", text="hi")
    assert ret == {"name": "test.echo", "result": None, "changes": {},
                   "comment": "Module function test.echo is set to execute"}
    ret = state(make_ctx(test=True), "module.run", name="x", **{"test.ping": []})
    assert (ret["result"], ret["comment"]) == (None, "Function test.ping to be executed.")


def test_cron_random_disabled_and_stray_comments_round_trip() -> None:
    tab = f"{TAG}\n# just a note\nMAILTO=me\n#DISABLED#1 2 * * * /bin/old\n"
    runner = _crontab(tab)
    ret = state(make_ctx(runner=runner), "cron.present", name="/bin/old", minute="random",
                hour=2, commented=True)
    assert ret["comment"] == "Cron /bin/old updated"  # gains its identifier line
    written = _written(runner)[0]
    assert written == (f"{TAG}\n# just a note\nMAILTO=me\n"
                       "# SALT_CRON_IDENTIFIER:/bin/old\n#DISABLED#1 2 * * * /bin/old\n")
    again = state(make_ctx(runner=runner), "cron.present", name="/bin/old", minute="random",
                  hour=2, commented=True)
    assert again["changes"] == {}
    ret = state(make_ctx(runner=runner), "cron.present", name="/bin/old", minute="random",
                hour=2)
    assert _written(runner)[-1].endswith("\n1 2 * * * /bin/old\n")
