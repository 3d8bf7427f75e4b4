"""ini, environ, ssh_auth, sysctl, alias, host.only and cron env states against fakes.

Files live under pytest's tmp_path; commands (sysctl, crontab) are answered by
fake runners; nothing on the host is read or changed except the process's
own environment variables (restored afterwards).
"""

from __future__ import annotations

import base64
import os
import shlex
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from minion.context import Context
from minion.loader import Registry
from minion.modules import ini, sysctl
from minion.runner import CommandResult, FakeRunner
from minion.states import STATE_MODULES

MINE = ("ini", "environ", "ssh_auth", "sysctl", "alias", "host", "cron", "timezone")
OK = CommandResult("", "", 0)


@pytest.fixture(scope="module")
def states() -> Registry:
    return Registry.load({}, {}, modules={m: STATE_MODULES[m] for m in MINE}, kind="states")


def make_ctx(opts: dict[str, Any] | None = None, runner: Any = None,
             test: bool = False) -> Context:
    opts = opts or {}
    return Context(opts, {}, {}, Registry.load(opts, {}), runner=runner or FakeRunner({}),
                   test=test)


def state(states: Registry, ctx: Context, fun: str, **kwargs: Any) -> dict[str, Any]:
    ret: dict[str, Any] = states.call(ctx, fun, [], kwargs)
    return ret


# --- ini ---------------------------------------------------------------------------------------


def test_ini_parse_and_render_keep_comments_and_layout() -> None:
    text = "# top\na=1\n[s]\n#k = old\nx: y\n  continued\n[t]\n"
    entries = ini.parse(text)
    # "x: y" is not an option with separator "=": it stays an unknown line
    assert ini.plain(entries) == {"a": "1", "s": {}, "t": {}}
    changes = ini.update(entries, {"s": {"k": "new"}, "a": 2}, "=")
    assert changes == {"s": {"k": {"before": None, "after": "new"}},
                       "a": {"before": "1", "after": "2"}}
    # the commented default is replaced where it was
    assert ini.render(entries) == "# top\na = 2\n\n[s]\nk = new\nx: y\n  continued\n\n[t]\n"
    assert ini.render(entries, no_spaces=True).startswith("# top\na=2\n")


def test_ini_options_present_rhythm(states: Registry, tmp_path: Path) -> None:
    path = tmp_path / "app.ini"
    path.write_text("[main]\nport = 80\nold = x\n")
    args = {"name": str(path), "sections": {"main": {"port": 8080}, "extra": {"k": "v"}}}
    ret = state(states, make_ctx(test=True), "ini.options_present", **args)
    assert (ret["result"], ret["changes"], ret["comment"]) == (
        None, {}, "Changed key port in section main.\nChanged key k in section extra.\n")
    assert path.read_text() == "[main]\nport = 80\nold = x\n"
    ret = state(states, make_ctx(), "ini.options_present", **args, strict=True)
    assert (ret["result"], ret["comment"]) == (True, "Changes take effect")
    assert ret["changes"] == {
        "main": {"old": {"before": "x", "after": None},
                 "port": {"before": "80", "after": "8080"}},
        "extra": {"before": None, "after": {"k": "v"}}}
    assert path.read_text() == "[main]\nport = 8080\n\n[extra]\nk = v\n"
    ret = state(states, make_ctx(), "ini.options_present", **args)
    assert (ret["changes"], ret["comment"]) == ({}, "No anomaly detected")


def test_ini_absent_states(states: Registry, tmp_path: Path) -> None:
    path = tmp_path / "a.ini"
    path.write_text("top = 1\n[s]\nk = v\n[gone]\nx = 1\n")
    ret = state(states, make_ctx(test=True), "ini.options_absent", name=str(path),
                sections={"s": ["k", "nope"]})
    assert (ret["result"], ret["comment"]) == (
        None, "Deleted key k in section s.\nKey nope in section s does not exist.\n")
    ret = state(states, make_ctx(), "ini.options_absent", name=str(path),
                sections={"s": ["k", "nope"]})
    assert ret["changes"] == {"s": {"k": "v"}}
    ret = state(states, make_ctx(), "ini.sections_absent", name=str(path),
                sections=["gone", "never"])
    assert (ret["changes"], ret["comment"]) == ({"gone": {"x": "1"}}, "Changes take effect")
    assert path.read_text() == "top = 1\n\n[s]\n"
    ret = state(states, make_ctx(), "ini.sections_present", name=str(path), sections=["s", "n"])
    assert ret["changes"] == {"n": {"before": None, "after": {}}}
    assert path.read_text() == "top = 1\n\n[s]\n\n[n]\n"


# --- environ -----------------------------------------------------------------------------------


@pytest.fixture
def clean_env() -> Iterator[None]:
    saved = dict(os.environ)
    yield
    os.environ.clear()
    os.environ.update(saved)


def test_environ_setenv(states: Registry, clean_env: None) -> None:
    os.environ["SALINE_T_KEEP"] = "x"
    value = {"SALINE_T_A": "1", "SALINE_T_KEEP": False}
    ret = state(states, make_ctx(test=True), "environ.setenv", name="n", value=value)
    assert (ret["result"], ret["changes"], ret["comment"]) == (
        True, {"SALINE_T_A": "1", "SALINE_T_KEEP": ""}, "Environ values will be changed")
    assert "SALINE_T_A" not in os.environ
    ret = state(states, make_ctx(), "environ.setenv", name="n", value=value)
    assert (ret["changes"], ret["comment"]) == (
        {"SALINE_T_A": "1", "SALINE_T_KEEP": ""}, "Environ values were set")
    assert (os.environ["SALINE_T_A"], os.environ["SALINE_T_KEEP"]) == ("1", "")
    ret = state(states, make_ctx(), "environ.setenv", name="SALINE_T_KEEP", value=False,
                false_unsets=True)
    assert ret["changes"] == {"SALINE_T_KEEP": None} and "SALINE_T_KEEP" not in os.environ
    ret = state(states, make_ctx(), "environ.setenv", name="SALINE_T_A", value="1")
    assert ret["comment"] == "Environ values were already set with the correct values"
    ret = state(states, make_ctx(), "environ.setenv", name="X", value=3)
    assert (ret["result"], ret["comment"]) == (
        False, "Environ value must be string, dict or False")


# --- ssh_auth ----------------------------------------------------------------------------------


def key(seed: int) -> str:
    raw = b"\x00\x00\x00\x0bssh-ed25519\x00\x00\x00 " + bytes(range(seed, seed + 32))
    return base64.b64encode(raw).decode()


def test_ssh_auth_present_absent(states: Registry, tmp_path: Path) -> None:
    ak = tmp_path / "home" / ".ssh" / "authorized_keys"
    (tmp_path / "home").mkdir()
    me = os.getuid()

    class Users:
        def info(self, ctx: Context, name: str) -> dict[str, Any]:
            return {"name": "me", "home": str(tmp_path / "home"), "uid": me,
                    "gid": os.getgid()} if name == "me" else {}

    ctx = make_ctx()
    ctx.registry.functions["user.info"] = Users().info  # loads every module first
    args = {"name": key(1), "user": "me", "enc": "ed25519", "comment": "me@host"}
    ctx.test = True
    ret = state(states, ctx, "ssh_auth.present", **args)
    assert (ret["result"], ret["changes"], ret["comment"]) == (
        None, {}, f"Key {key(1)} for user me is set to be added")
    ctx.test = False
    ret = state(states, ctx, "ssh_auth.present", **args)
    assert (ret["changes"], ret["comment"]) == (
        {key(1): "New"}, f"The authorized host key {key(1)} for user me was added")
    assert ak.read_text() == f"ssh-ed25519 {key(1)} me@host\n"
    assert (ak.stat().st_mode & 0o777, ak.parent.stat().st_mode & 0o777) == (0o600, 0o700)
    ret = state(states, ctx, "ssh_auth.present",
                name=f"no-pty ssh-ed25519 {key(1)} me@host", user="me")
    assert ret["changes"] == {key(1): "Updated"}
    assert ak.read_text() == f"no-pty ssh-ed25519 {key(1)} me@host\n"
    ret = state(states, ctx, "ssh_auth.present", name="not base64!", user="me")
    assert ret["result"] is False
    ret = state(states, ctx, "ssh_auth.absent", name=key(1), user="me")
    assert (ret["changes"], ret["comment"]) == ({key(1): "Removed"}, "Key removed")
    ret = state(states, ctx, "ssh_auth.absent", name=key(1), user="me")
    assert (ret["changes"], ret["comment"]) == ({}, "Key not present")


# --- sysctl ------------------------------------------------------------------------------------


class SysctlRunner:
    """sysctl -n / -w over a dict of values."""

    def __init__(self, values: dict[str, str]) -> None:
        self.values = values
        self.calls: list[str] = []

    def run(self, cmd: str | Sequence[str], **kwargs: Any) -> CommandResult:
        argv = shlex.split(cmd) if isinstance(cmd, str) else list(cmd)
        self.calls.append(" ".join(argv))
        match argv:
            case ["sysctl", "-n", name]:
                return CommandResult(self.values.get(name, "") + "\n", "", 0)
            case ["sysctl", "-w", setting]:
                name, value = setting.split("=", 1)
                self.values[name] = value
                return CommandResult(f"{name} = {value}\n", "", 0)
        return CommandResult("", "no", 1)


def test_sysctl_present(states: Registry, tmp_path: Path,
                        monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "proc" / "vm").mkdir(parents=True)
    (tmp_path / "proc" / "vm" / "swappiness").write_text("60\n")
    monkeypatch.setattr(sysctl, "PROC_SYS", tmp_path / "proc")
    monkeypatch.setattr(sysctl, "SYSTEMD_RUNTIME", tmp_path / "no-systemd")
    monkeypatch.setattr(sysctl, "PLAIN_CONFIG", str(tmp_path / "etc" / "sysctl.conf"))
    monkeypatch.setattr(sysctl.shutil, "which", lambda name: f"/sbin/{name}")
    runner = SysctlRunner({"vm.swappiness": "60"})
    conf = tmp_path / "etc" / "sysctl.conf"
    ret = state(states, make_ctx(runner=runner, test=True), "sysctl.present",
                name="vm.swappiness", value=10)
    assert (ret["result"], ret["comment"]) == (None, "Sysctl option vm.swappiness set to be "
                                                     "changed to 10")
    ret = state(states, make_ctx(runner=runner), "sysctl.present", name="vm.swappiness",
                value=10)
    assert (ret["changes"], ret["comment"]) == (
        {"vm.swappiness": 10}, "Updated sysctl value vm.swappiness = 10")
    assert conf.read_text() == "#\n# Kernel sysctl configuration\n#\nvm.swappiness = 10\n"
    ret = state(states, make_ctx(runner=runner), "sysctl.present", name="vm.swappiness",
                value=10)
    assert (ret["changes"], ret["comment"]) == ({}, "Sysctl value vm.swappiness = 10 is "
                                                    "already set")
    ret = state(states, make_ctx(runner=runner, test=True), "sysctl.present",
                name="vm.swappiness", value=10)
    assert (ret["result"], ret["comment"]) == (True, "Sysctl value vm.swappiness = 10 is "
                                                     "already set")
    ret = state(states, make_ctx(runner=runner), "sysctl.present", name="vm.nosuch", value=1)
    assert ret["result"] is False
    assert ret["comment"] == "Failed to set vm.nosuch to 1: sysctl vm.nosuch does not exist"


def test_sysctl_without_procps_uses_proc_sys(states: Registry, tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "proc" / "net" / "ipv4").mkdir(parents=True)
    knob = tmp_path / "proc" / "net" / "ipv4" / "ip_forward"
    knob.write_text("0\n")
    monkeypatch.setattr(sysctl, "PROC_SYS", tmp_path / "proc")
    monkeypatch.setattr(sysctl.shutil, "which", lambda name: None)
    conf = tmp_path / "99.conf"
    ctx = make_ctx()
    ret = state(states, ctx, "sysctl.present", name="net.ipv4.ip_forward", value=1,
                config=str(conf))
    assert ret["changes"] == {"net.ipv4.ip_forward": 1} and knob.read_text() == "1\n"
    ret = state(states, ctx, "sysctl.present", name="net.ipv4.ip_forward", value=1,
                config=str(conf))
    assert (ret["result"], ret["changes"]) == (True, {})
    assert ctx.runner.calls == []  # type: ignore[attr-defined]


def test_sysctl_default_config_follows_systemd(tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sysctl, "SYSTEMD_RUNTIME", tmp_path)
    assert sysctl.default_config(make_ctx()) == "/etc/sysctl.d/99-salt.conf"
    monkeypatch.setattr(sysctl, "SYSTEMD_RUNTIME", tmp_path / "none")
    assert sysctl.default_config(make_ctx()) == "/etc/sysctl.conf"


# --- alias and host.only -----------------------------------------------------------------------


def test_alias_present_absent(states: Registry, tmp_path: Path,
                              monkeypatch: pytest.MonkeyPatch) -> None:
    from minion.modules import aliases
    monkeypatch.setattr(aliases.shutil, "which", lambda name: None)
    path = tmp_path / "aliases"
    path.write_text("# mail\npostmaster: root  # keep\nold: x\n")
    ctx = make_ctx({"aliases.file": str(path)})
    ret = state(states, ctx, "alias.present", name="postmaster", target=["root", "ops"])
    assert (ret["changes"], ret["comment"]) == (
        {"alias": "postmaster"}, "Set email alias postmaster -> ['root', 'ops']")
    ret = state(states, ctx, "alias.present", name="postmaster", target=["root", "ops"])
    assert ret["comment"] == "Alias postmaster already present"
    ret = state(states, ctx, "alias.absent", name="old")
    assert ret["changes"] == {"alias": "old"}
    assert path.read_text() == "# mail\npostmaster: root, ops  # keep\n"


def test_host_only(states: Registry, tmp_path: Path) -> None:
    hosts = tmp_path / "hosts"
    hosts.write_text("127.0.0.1 localhost\n10.0.0.2 two\n10.0.0.2 deux\n")
    ctx = make_ctx({"hosts_file": str(hosts)})
    ctx.test = True
    ret = state(states, ctx, "host.only", name="10.0.0.2", hostnames=["two.example", "two"])
    assert (ret["result"], ret["comment"]) == (
        None, 'Would change 10.0.0.2 from "two deux" to "two.example two"')
    ctx.test = False
    ret = state(states, ctx, "host.only", name="10.0.0.2", hostnames=["two.example", "two"])
    assert ret["changes"] == {"10.0.0.2": {"old": "two deux", "new": "two.example two"}}
    assert hosts.read_text() == "127.0.0.1 localhost\n10.0.0.2\t\ttwo.example two\n"
    ret = state(states, ctx, "host.only", name="10.0.0.2", hostnames=["two.example", "two"])
    assert (ret["result"], ret["changes"]) == (True, {})


# --- cron env ----------------------------------------------------------------------------------


class CrontabRunner:
    def __init__(self, text: str) -> None:
        self.text = text

    def run(self, cmd: str | Sequence[str], stdin: str | None = None,
            **kwargs: Any) -> CommandResult:
        argv = list(cmd) if not isinstance(cmd, str) else shlex.split(cmd)
        if argv[:2] == ["crontab", "-l"]:
            return CommandResult(self.text, "", 0)
        self.text = stdin or ""
        return OK


def test_cron_env_present_absent(states: Registry) -> None:
    tag = "# Lines below here are managed by Salt, do not edit"
    runner = CrontabRunner(f"MAILTO=me\n{tag}\nA=1\n0 * * * * /bin/job\n")
    ret = state(states, make_ctx(runner=runner, test=True), "cron.env_present", name="B",
                value="2")
    assert (ret["result"], ret["changes"], ret["comment"]) == (
        None, {}, "Cron env B is set to be added")
    ret = state(states, make_ctx(runner=runner), "cron.env_present", name="B", value="2")
    assert (ret["changes"], ret["comment"]) == ({"root": "B"}, "Cron env B added to root's "
                                                               "crontab")
    assert runner.text == f"MAILTO=me\n{tag}\nA=1\nB=2\n0 * * * * /bin/job\n"
    ret = state(states, make_ctx(runner=runner), "cron.env_present", name="A", value="3")
    assert ret["comment"] == "Cron env A updated"
    assert runner.text == f"MAILTO=me\n{tag}\nB=2\nA=3\n0 * * * * /bin/job\n"
    ret = state(states, make_ctx(runner=runner), "cron.env_present", name="A", value="3")
    assert (ret["changes"], ret["comment"]) == ({}, "Cron env A already present")
    ret = state(states, make_ctx(runner=runner), "cron.env_absent", name="MAILTO")
    assert ret["comment"] == "Cron env MAILTO already absent"  # above the tag: not managed
    ret = state(states, make_ctx(runner=runner), "cron.env_absent", name="B")
    assert (ret["changes"], ret["comment"]) == ({"root": "B"}, "Cron env B removed from root's "
                                                               "crontab")
    assert runner.text == f"MAILTO=me\n{tag}\nA=3\n0 * * * * /bin/job\n"
    runner = CrontabRunner("")
    state(states, make_ctx(runner=runner), "cron.env_present", name="PATH", value="/bin")
    assert runner.text == f"{tag}\nPATH=/bin\n"


# --- timezone ----------------------------------------------------------------------------------


def test_timezone_system_without_systemd(states: Registry, tmp_path: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    from minion.modules import timezone
    zoneinfo = tmp_path / "zoneinfo"
    (zoneinfo / "Europe").mkdir(parents=True)
    (zoneinfo / "Etc").mkdir()
    (zoneinfo / "Europe" / "Paris").write_bytes(b"TZif paris")
    (zoneinfo / "Etc" / "UTC").write_bytes(b"TZif utc")
    etc = tmp_path / "etc"
    etc.mkdir()
    (etc / "localtime").symlink_to(zoneinfo / "Etc" / "UTC")
    (etc / "timezone").write_text("Etc/UTC\n")
    (etc / "adjtime").write_text("0.0 0 0.0\n0\nLOCAL\n")
    for key, value in (("SYSTEMD_RUNTIME", tmp_path / "none"), ("ZONEINFO", zoneinfo),
                       ("LOCALTIME", etc / "localtime"), ("TIMEZONE", etc / "timezone"),
                       ("ADJTIME", etc / "adjtime")):
        monkeypatch.setattr(timezone, key, value)
    ret = state(states, make_ctx(test=True), "timezone.system", name="Europe/Paris")
    assert (ret["result"], ret["comment"]) == (
        None, "Timezone Europe/Paris needs to be set, UTC needs to be set to True")
    ret = state(states, make_ctx(), "timezone.system", name="Europe/Paris")
    assert (ret["result"], ret["changes"], ret["comment"]) == (
        True, {"timezone": "Europe/Paris", "utc": True},
        "Set timezone Europe/Paris, Set UTC to True")
    assert os.readlink(etc / "localtime") == str(zoneinfo / "Europe" / "Paris")
    assert (etc / "timezone").read_text() == "Europe/Paris\n"
    assert (etc / "adjtime").read_text() == "0.0 0 0.0\n0\nUTC\n"
    ret = state(states, make_ctx(), "timezone.system", name="Europe/Paris")
    assert (ret["result"], ret["changes"], ret["comment"]) == (
        True, {}, "Timezone Europe/Paris already set, UTC already set to Europe/Paris")
    ret = state(states, make_ctx(), "timezone.system", name="Mars/Olympus")
    assert ret["result"] is False and "Can't find a local timezone" in ret["comment"]
