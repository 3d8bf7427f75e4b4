"""service, user and group: the exact commands they run, answered by a FakeRunner.

Nothing here touches the host's own services, users or groups: the SysV
tree lives in a temporary directory and the passwd/group databases are
fakes (only `user.info root` reads the real one).
"""

from __future__ import annotations

import grp
import pwd
import subprocess
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from minion.context import Context
from minion.executor import execute
from minion.loader import Registry
from minion.modules import group as group_mod
from minion.modules import service as service_mod
from minion.modules import user as user_mod
from minion.runner import CommandResult, FakeRunner

OK = CommandResult("", "", 0)


def result(stdout: str = "", retcode: int = 0, stderr: str = "") -> CommandResult:
    return CommandResult(stdout, stderr, retcode)


def make_ctx(table: dict[str, CommandResult] | None = None) -> tuple[Context, FakeRunner]:
    runner = FakeRunner(dict(table or {}))
    opts = {"id": "m1"}
    grains: dict[str, Any] = {"id": "m1", "kernel": "Linux", "os_family": "Debian"}
    return Context(opts, grains, {}, Registry.load(opts, grains), runner=runner), runner


def cmds(runner: FakeRunner) -> list[object]:
    return [call["cmd"] for call in runner.calls]


# --- service: SysV init ---------------------------------------------------------------------


@pytest.fixture
def sysv(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fake /etc with init.d scripts `demo`, `other`, README and skeleton; no systemd."""
    etc = tmp_path / "etc"
    (etc / "init.d").mkdir(parents=True)
    for name in ("demo", "other", "README", "skeleton"):
        (etc / "init.d" / name).write_text("#!/bin/sh\n")
    for level in "0123456S":
        (etc / f"rc{level}.d").mkdir()
    monkeypatch.setattr(service_mod, "SYSTEMD_RUNTIME", tmp_path / "run" / "systemd" / "system")
    monkeypatch.setattr(service_mod, "INIT_D", etc / "init.d")
    monkeypatch.setattr(service_mod, "RC_ROOT", etc)
    monkeypatch.setattr(service_mod.shutil, "which", lambda name: f"/usr/sbin/{name}")
    return etc


def link(etc: Path, level: str, name: str) -> None:
    (etc / f"rc{level}.d" / name).symlink_to(f"../init.d/{name[3:]}")


@pytest.mark.parametrize("action", ["start", "stop", "restart", "reload"])
def test_sysv_actions_use_the_service_command(sysv: Path, action: str) -> None:
    ctx, runner = make_ctx({f"service demo {action}": OK})
    assert ctx.call(f"service.{action}", "demo") is True
    assert cmds(runner) == [f"service demo {action}"]
    assert ctx.retcode == 0


def test_sysv_without_service_command_runs_the_script(
        sysv: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(service_mod.shutil, "which", lambda name: None)
    ctx, runner = make_ctx({f"{sysv}/init.d/demo start": OK})
    assert ctx.call("service.start", "demo") is True
    assert cmds(runner) == [f"{sysv}/init.d/demo start"]


def test_sysv_failing_action_is_false_and_fails_the_job(sysv: Path) -> None:
    ctx, _ = make_ctx({"service demo start": result(retcode=3, stderr="boom\nmore")})
    assert ctx.call("service.start", "demo") is False
    assert ctx.retcode == 3


@pytest.mark.parametrize("fun", ["start", "stop", "restart", "reload", "status", "enabled",
                                 "disabled", "enable", "disable"])
def test_missing_service_is_a_one_line_error(sysv: Path, fun: str) -> None:
    ctx, runner = make_ctx()
    ret = execute(ctx, f"service.{fun}", ["nope"], {})
    assert ret["return"] == f"ERROR: service 'nope' not found ({sysv}/init.d)"
    assert ret["retcode"] == 1 and ret["success"] is False
    assert runner.calls == []


@pytest.mark.parametrize("name", ["../../bin/sh", "-x", "a b", "README", ""])
def test_bad_service_names_are_refused(sysv: Path, name: str) -> None:
    ctx, runner = make_ctx()
    assert str(ctx.call("service.start", name)).startswith("ERROR: ")
    assert ctx.retcode == 1
    assert runner.calls == []
    assert ctx.call("service.available", name) is False


def test_sysv_status(sysv: Path) -> None:
    ctx, runner = make_ctx({"service demo status": OK, "service other status": result(retcode=3)})
    assert ctx.call("service.status", "demo") is True
    assert ctx.call("service.status", "other") is False
    assert ctx.retcode == 0
    assert ctx.call("service.status", "*") == {"demo": True, "other": False}
    assert ctx.call("service.status", "d?mo") == {"demo": True}
    assert cmds(runner)[:2] == ["service demo status", "service other status"]


def test_sysv_status_with_sig_looks_at_processes(sysv: Path) -> None:
    ctx, runner = make_ctx()
    marker = f"{time.time_ns()}.25"
    assert str(ctx.call("service.status", "demo", sig="(")).startswith("ERROR: sig: invalid")
    ctx.retcode = 0
    assert ctx.call("service.status", "demo", sig=rf"sleep {marker}") is False
    with subprocess.Popen(["sleep", marker]) as child:
        try:
            assert ctx.call("service.status", "demo", sig=rf"^sleep {marker}$") is True
        finally:
            child.kill()
    assert runner.calls == []


def test_sysv_enabled_means_an_s_link_in_rc2_to_rc5(sysv: Path) -> None:
    ctx, _ = make_ctx()
    link(sysv, "S", "S01demo")
    link(sysv, "1", "S01demo")
    link(sysv, "3", "K01demo")
    assert ctx.call("service.enabled", "demo") is False
    assert ctx.call("service.disabled", "demo") is True
    link(sysv, "4", "S20demo")
    assert ctx.call("service.enabled", "demo") is True
    assert ctx.call("service.disabled", "demo") is False
    assert ctx.call("service.enabled", "other") is False


def test_sysv_enable_creates_links_first_when_there_are_none(sysv: Path) -> None:
    table = {"update-rc.d demo defaults": OK, "update-rc.d demo enable": OK}
    ctx, runner = make_ctx(table)
    assert ctx.call("service.enable", "demo") is True
    assert cmds(runner) == ["update-rc.d demo defaults", "update-rc.d demo enable"]


def test_sysv_enable_toggles_existing_links(sysv: Path) -> None:
    link(sysv, "0", "K01demo")
    ctx, runner = make_ctx({"update-rc.d demo enable": OK})
    assert ctx.call("service.enable", "demo") is True
    assert cmds(runner) == ["update-rc.d demo enable"]


def test_sysv_enable_failure(sysv: Path) -> None:
    ctx, runner = make_ctx({"update-rc.d demo defaults": result(retcode=1, stderr="no LSB")})
    assert ctx.call("service.enable", "demo") is False
    assert ctx.retcode == 1
    assert cmds(runner) == ["update-rc.d demo defaults"]


def test_sysv_disable(sysv: Path) -> None:
    ctx, runner = make_ctx({"update-rc.d demo disable": OK})
    assert ctx.call("service.disable", "demo") is True
    assert runner.calls == []  # no S links: already disabled
    link(sysv, "2", "S01demo")
    assert ctx.call("service.disable", "demo") is True
    assert cmds(runner) == ["update-rc.d demo disable"]


def test_sysv_lists(sysv: Path) -> None:
    link(sysv, "2", "S01demo")
    link(sysv, "3", "S01demo")
    link(sysv, "5", "S02legacy")  # a link whose script is gone still counts, as in Salt
    ctx, _ = make_ctx({"service demo status": OK, "service other status": result(retcode=3),
                       "service legacy status": result(retcode=4)})
    assert ctx.call("service.get_all") == ["demo", "legacy", "other"]
    assert ctx.call("service.get_enabled") == ["demo", "legacy"]
    assert ctx.call("service.get_running") == ["demo"]
    assert ctx.call("service.available", "demo") is True
    assert ctx.call("service.missing", "demo") is False
    assert ctx.call("service.missing", "nope") is True


# --- service: systemd -----------------------------------------------------------------------


@pytest.fixture
def systemd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    runtime = tmp_path / "run" / "systemd" / "system"
    runtime.mkdir(parents=True)
    monkeypatch.setattr(service_mod, "SYSTEMD_RUNTIME", runtime)


def show(unit: str, state: str = "loaded") -> dict[str, CommandResult]:
    return {f"systemctl show --property=LoadState --value {unit}": result(state + "\n")}


@pytest.mark.parametrize("action", ["start", "stop", "restart", "reload", "enable", "disable"])
def test_systemd_actions(systemd: None, action: str) -> None:
    ctx, runner = make_ctx({**show("nginx.service"), f"systemctl {action} nginx.service": OK})
    assert ctx.call(f"service.{action}", "nginx") is True
    assert cmds(runner)[-1] == f"systemctl {action} nginx.service"


def test_systemd_keeps_unit_suffixes(systemd: None) -> None:
    table = {**show("fstrim.timer"), "systemctl start fstrim.timer": OK,
             **show("hwclock.sh.service")}
    ctx, runner = make_ctx(table)
    assert ctx.call("service.start", "fstrim.timer") is True
    assert ctx.call("service.available", "hwclock.sh") is True
    assert cmds(runner)[1] == "systemctl start fstrim.timer"


def test_systemd_missing_unit(systemd: None) -> None:
    ctx, runner = make_ctx(show("nope.service", "not-found"))
    assert ctx.call("service.start", "nope") == "ERROR: service 'nope' not found (systemd)"
    assert ctx.retcode == 1
    assert cmds(runner) == ["systemctl show --property=LoadState --value nope.service"]
    assert ctx.call("service.available", "nope") is False


def test_systemd_failed_start(systemd: None) -> None:
    table = {**show("nginx.service"),
             "systemctl start nginx.service": result(retcode=1, stderr="Job failed.")}
    ctx, _ = make_ctx(table)
    assert ctx.call("service.start", "nginx") is False
    assert ctx.retcode == 1


def test_systemd_status_and_enabled(systemd: None) -> None:
    table = {**show("nginx.service"), **show("cron.service"),
             "systemctl is-active --quiet nginx.service": OK,
             "systemctl is-active --quiet cron.service": result(retcode=3),
             "systemctl is-enabled --quiet nginx.service": OK,
             "systemctl is-enabled --quiet cron.service": result(retcode=1)}
    ctx, _ = make_ctx(table)
    assert ctx.call("service.status", "nginx") is True
    assert ctx.call("service.status", "cron", sig="cron") is False  # sig ignored on systemd
    assert ctx.call("service.enabled", "nginx") is True
    assert ctx.call("service.disabled", "cron") is True
    assert ctx.retcode == 0


UNIT_FILES = """\
cron.service                   enabled         enabled
getty@.service                 enabled         enabled
ssh.service                    disabled        enabled
fstrim.timer                   enabled         enabled
systemd-journald.service       static          -
multi-user.target              static          -
not-a-unit
"""

UNITS = """\
cron.service             loaded active   running Regular background program processing daemon
getty@tty1.service       loaded active   running Getty on tty1
ssh.service              loaded inactive dead    OpenBSD Secure Shell server
fstrim.timer             loaded active   waiting Discard unused blocks once a week
systemd-journald.socket  loaded active   running Journal Socket
"""


def test_systemd_lists(systemd: None) -> None:
    table = {
        "systemctl list-unit-files --full --no-legend --no-pager": result(UNIT_FILES),
        "systemctl list-units --full --all --no-legend --no-pager --plain": result(UNITS),
        "systemctl is-active --quiet cron.service": OK,
        "systemctl is-active --quiet ssh.service": result(retcode=3),
    }
    ctx, _ = make_ctx(table)
    assert ctx.call("service.get_all") == [
        "cron", "fstrim.timer", "multi-user.target", "ssh", "systemd-journald"]
    assert ctx.call("service.get_enabled") == ["cron", "fstrim.timer"]
    assert ctx.call("service.get_running") == ["cron", "getty@tty1", "systemd-journald.socket"]
    assert ctx.call("service.status", "[cs]*") == {"cron": True, "ssh": False,
                                                   "systemd-journald": False}


def test_unavailable_without_any_init(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(service_mod, "SYSTEMD_RUNTIME", tmp_path / "none")
    monkeypatch.setattr(service_mod, "INIT_D", tmp_path / "none")
    ctx, _ = make_ctx()
    ret = execute(ctx, "service.start", ["x"], {})
    assert ret["retcode"] == 254
    assert "neither systemd" in ret["return"]


# --- user -----------------------------------------------------------------------------------

DEPLOY = pwd.struct_passwd(("deploy", "x", 1001, 1001, "Deploy Bot,Room 1,555,,extra",
                            "/home/deploy", "/bin/bash"))
PLAIN = pwd.struct_passwd(("plain", "x", 1002, 100, "", "/home/plain", "/bin/sh"))
GROUPS = {1001: "deploy", 100: "users", 27: "sudo", 33: "www-data"}


@pytest.fixture
def users(monkeypatch: pytest.MonkeyPatch) -> None:
    db = {entry.pw_name: entry for entry in (DEPLOY, PLAIN)}

    def getpwnam(name: str) -> pwd.struct_passwd:
        return db[name]

    def getgrgid(gid: int) -> SimpleNamespace:
        return SimpleNamespace(gr_name=GROUPS[gid])

    def getgrouplist(name: str, gid: int) -> list[int]:
        return [gid, 27, 33] if name == "deploy" else [gid, 4242]

    monkeypatch.setattr(user_mod, "pwd", SimpleNamespace(getpwnam=getpwnam,
                                                         getpwall=lambda: [PLAIN, DEPLOY]))
    monkeypatch.setattr(user_mod, "grp", SimpleNamespace(getgrgid=getgrgid))
    monkeypatch.setattr(user_mod, "os", SimpleNamespace(getgrouplist=getgrouplist))


def test_user_add_minimal() -> None:
    ctx, runner = make_ctx({"useradd -m deploy": OK})
    assert ctx.call("user.add", "deploy") is True
    assert cmds(runner) == ["useradd -m deploy"]


def test_user_add_every_option() -> None:
    line = ("useradd -c Deploy Bot,,,555 -s /bin/bash -u 2001 -g 2000 -G sudo,www-data -M -l "
            "-d /srv/deploy -o -r deploy")
    ctx, runner = make_ctx({line: OK})
    assert ctx.call("user.add", "deploy", uid=2001, gid="2000", groups=["sudo", "www-data"],
                    home="/srv/deploy", shell="/bin/bash", unique=False, system=True,
                    fullname="Deploy Bot", homephone="555", createhome=False,
                    nologinit=True) is True
    assert cmds(runner) == [line]
    assert runner.calls[0]["shell"] is False


@pytest.mark.parametrize(("kwargs", "flags"), [
    ({"usergroup": True}, "-U -m"),
    ({"usergroup": False}, "-N -m"),
    ({"usergroup": True, "gid": 100}, "-g 100 -m"),
    ({"groups": "sudo, www-data"}, "-G sudo,www-data -m"),
])
def test_user_add_group_flags(kwargs: dict[str, Any], flags: str) -> None:
    ctx, runner = make_ctx({f"useradd {flags} deploy": OK})
    assert ctx.call("user.add", "deploy", **kwargs) is True
    assert cmds(runner) == [f"useradd {flags} deploy"]


def test_user_add_failure() -> None:
    ctx, _ = make_ctx({"useradd -m deploy": result(retcode=9, stderr="user exists")})
    assert ctx.call("user.add", "deploy") is False
    assert ctx.retcode == 9
    ctx, runner = make_ctx()
    assert ctx.call("user.add", "-o") == "ERROR: invalid user name '-o'"
    assert runner.calls == [] and ctx.retcode == 1


def test_user_delete(users: None) -> None:
    ctx, runner = make_ctx({"userdel deploy": OK, "userdel -r -f plain": OK})
    assert ctx.call("user.delete", "deploy") is True
    assert ctx.call("user.delete", "plain", remove=True, force=True) is True
    assert cmds(runner) == ["userdel deploy", "userdel -r -f plain"]


def test_user_delete_mail_spool_quirk_and_failure(users: None) -> None:
    spool = result(retcode=12, stderr="userdel: deploy mail spool (/var/mail/deploy) not found")
    ctx, _ = make_ctx({"userdel -r deploy": spool, "userdel plain": result(retcode=8)})
    assert ctx.call("user.delete", "deploy", remove=True) is True
    assert ctx.retcode == 0
    assert ctx.call("user.delete", "plain") is False
    assert ctx.retcode == 8


def test_user_info(users: None) -> None:
    ctx, _ = make_ctx()
    assert ctx.call("user.info", "deploy") == {
        "name": "deploy", "uid": 1001, "gid": 1001, "home": "/home/deploy",
        "shell": "/bin/bash", "passwd": "x", "groups": ["deploy", "sudo", "www-data"],
        "fullname": "Deploy Bot", "roomnumber": "Room 1", "workphone": "555",
        "homephone": "", "other": "extra",
    }
    assert ctx.call("user.info", "plain")["groups"] == ["4242", "users"]
    assert ctx.call("user.info", "nobody-here") == {}
    assert ctx.retcode == 0


def test_user_info_reads_the_real_root_entry() -> None:
    ctx, _ = make_ctx()
    root = ctx.call("user.info", "root")
    assert (root["uid"], root["gid"], root["name"]) == (0, 0, "root")
    assert grp.getgrgid(0).gr_name in root["groups"]
    assert "root" in ctx.call("user.list_users")
    assert any(entry["name"] == "root" for entry in ctx.call("user.getent"))


def test_user_lists(users: None) -> None:
    ctx, _ = make_ctx()
    assert ctx.call("user.list_users") == ["deploy", "plain"]
    assert [u["name"] for u in ctx.call("user.getent")] == ["plain", "deploy"]
    assert ctx.call("user.list_groups", "deploy") == ["deploy", "sudo", "www-data"]
    assert ctx.call("user.list_groups", "ghost") == "ERROR: user 'ghost' does not exist"
    assert ctx.retcode == 1


@pytest.mark.parametrize(("fun", "args", "kwargs", "line"), [
    ("chshell", ["/bin/zsh"], {}, "usermod -s /bin/zsh deploy"),
    ("chhome", ["/srv/deploy"], {}, "usermod -d /srv/deploy deploy"),
    ("chhome", ["/srv/deploy"], {"persist": True}, "usermod -d /srv/deploy -m deploy"),
    ("chgroups", [["sudo", "adm"]], {}, "usermod -G sudo,adm deploy"),
    ("chgroups", ["sudo,adm"], {"append": True}, "usermod -a -G sudo,adm deploy"),
    ("chgroups", [""], {}, "usermod -G  deploy"),
    ("chuid", [2001], {}, "usermod -u 2001 deploy"),
    ("chgid", ["users"], {}, "usermod -g users deploy"),
    ("chfullname", ["New Name"], {}, "usermod -c New Name,Room 1,555,,extra deploy"),
])
def test_user_changes(users: None, fun: str, args: list[Any], kwargs: dict[str, Any],
                      line: str) -> None:
    ctx, runner = make_ctx({line: OK})
    assert ctx.call(f"user.{fun}", "deploy", *args, **kwargs) is True
    assert cmds(runner) == [line]


def test_user_chfullname_on_empty_gecos(users: None) -> None:
    ctx, runner = make_ctx({"usermod -c Plain plain": OK})
    assert ctx.call("user.chfullname", "plain", "Plain") is True
    assert cmds(runner) == ["usermod -c Plain plain"]


def test_user_append_nothing_is_a_no_op(users: None) -> None:
    ctx, runner = make_ctx()
    assert ctx.call("user.chgroups", "deploy", [], append=True) is True
    assert runner.calls == []


@pytest.mark.parametrize(("fun", "args"), [
    ("delete", []), ("chshell", ["/bin/sh"]), ("chhome", ["/x"]), ("chgroups", ["a"]),
    ("chuid", [5]), ("chgid", [5]), ("chfullname", ["X"]),
])
def test_user_changes_to_a_missing_user(users: None, fun: str, args: list[Any]) -> None:
    ctx, runner = make_ctx()
    ret = execute(ctx, f"user.{fun}", ["ghost", *args], {})
    assert ret["return"] == "ERROR: user 'ghost' does not exist"
    assert ret["retcode"] == 1
    assert runner.calls == []


def test_user_change_failure(users: None) -> None:
    ctx, _ = make_ctx({"usermod -u 0 deploy": result(retcode=4, stderr="UID '0' already exists")})
    assert ctx.call("user.chuid", "deploy", 0) is False
    assert ctx.retcode == 4


# --- group ----------------------------------------------------------------------------------

DEPLOYERS = grp.struct_group(("deployers", "x", 2000, ["alice", "bob"]))
EMPTY = grp.struct_group(("empty", "x", 2001, []))


@pytest.fixture
def groups(monkeypatch: pytest.MonkeyPatch) -> None:
    db = {entry.gr_name: entry for entry in (DEPLOYERS, EMPTY)}

    def getgrnam(name: str) -> grp.struct_group:
        return db[name]

    monkeypatch.setattr(group_mod, "grp", SimpleNamespace(getgrnam=getgrnam,
                                                          getgrall=lambda: [DEPLOYERS, EMPTY]))


@pytest.mark.parametrize(("kwargs", "line"), [
    ({}, "groupadd deployers"),
    ({"gid": 2000}, "groupadd -g 2000 deployers"),
    ({"gid": "2000", "system": True, "non_unique": True}, "groupadd -g 2000 -o -r deployers"),
])
def test_group_add(kwargs: dict[str, Any], line: str) -> None:
    ctx, runner = make_ctx({line: OK})
    assert ctx.call("group.add", "deployers", **kwargs) is True
    assert cmds(runner) == [line]


def test_group_add_failure() -> None:
    ctx, _ = make_ctx({"groupadd deployers": result(retcode=9, stderr="group exists")})
    assert ctx.call("group.add", "deployers") is False
    assert ctx.retcode == 9


def test_group_info_and_getent(groups: None) -> None:
    ctx, _ = make_ctx()
    assert ctx.call("group.info", "deployers") == {
        "name": "deployers", "passwd": "x", "gid": 2000, "members": ["alice", "bob"]}
    assert ctx.call("group.info", "ghosts") == {}
    assert [g["name"] for g in ctx.call("group.getent")] == ["deployers", "empty"]


def test_group_changes(groups: None) -> None:
    table = {"groupdel empty": OK, "gpasswd -a carol deployers": OK,
             "gpasswd -d bob deployers": OK, "gpasswd -M alice,carol deployers": OK,
             "gpasswd -M  empty": OK}
    ctx, runner = make_ctx(table)
    assert ctx.call("group.delete", "empty") is True
    assert ctx.call("group.adduser", "deployers", "carol") is True
    assert ctx.call("group.deluser", "deployers", "bob") is True
    assert ctx.call("group.deluser", "deployers", "carol") is True  # not a member: nothing to do
    assert ctx.call("group.members", "deployers", "alice, carol") is True
    assert ctx.call("group.members", "empty", []) is True
    assert cmds(runner) == ["groupdel empty", "gpasswd -a carol deployers",
                            "gpasswd -d bob deployers", "gpasswd -M alice,carol deployers",
                            "gpasswd -M  empty"]


@pytest.mark.parametrize(("fun", "args"), [
    ("delete", []), ("adduser", ["alice"]), ("deluser", ["alice"]), ("members", ["alice"]),
])
def test_group_changes_to_a_missing_group(groups: None, fun: str, args: list[Any]) -> None:
    ctx, runner = make_ctx()
    ret = execute(ctx, f"group.{fun}", ["ghosts", *args], {})
    assert ret["return"] == "ERROR: group 'ghosts' does not exist"
    assert ret["retcode"] == 1
    assert runner.calls == []


def test_group_refuses_option_like_names(groups: None) -> None:
    ctx, runner = make_ctx()
    assert ctx.call("group.adduser", "deployers", "-r") == "ERROR: invalid user name '-r'"
    assert ctx.call("group.members", "deployers", ["ok", "-x"]) == "ERROR: invalid user name '-x'"
    assert ctx.call("group.add", "--help") == "ERROR: invalid group name '--help'"
    assert runner.calls == []
    assert ctx.retcode == 1


# --- service: offline systemd and masks ----------------------------------------------------


def test_offline_is_systemctls_path_when_systemd_is_not_booted(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(service_mod, "SYSTEMD_RUNTIME", tmp_path / "run" / "systemd" / "system")
    monkeypatch.setattr(service_mod.shutil, "which", lambda name: f"/usr/bin/{name}")
    ctx, _ = make_ctx()
    assert ctx.call("service.offline") == "/usr/bin/systemctl"
    monkeypatch.setattr(service_mod.shutil, "which", lambda name: None)
    assert ctx.call("service.offline") is None
    (tmp_path / "run" / "systemd" / "system").mkdir(parents=True)
    assert ctx.call("service.offline") is False


def test_masked_reads_the_dev_null_link(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    dirs = {False: tmp_path / "etc", True: tmp_path / "run"}
    for path in dirs.values():
        path.mkdir()
    monkeypatch.setattr(service_mod, "MASK_DIRS", dirs)
    (dirs[False] / "telnetd.service").symlink_to("/dev/null")
    (dirs[True] / "cron.service").symlink_to("/lib/systemd/system/cron.service")
    ctx, _ = make_ctx()
    assert ctx.call("service.masked", "telnetd") is True
    assert ctx.call("service.masked", "telnetd", True) is False
    assert ctx.call("service.masked", "cron", True) is False
    assert ctx.call("service.masked", "../x") == "ERROR: invalid service name '../x'"


def test_mask_and_unmask_run_systemctl(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    dirs = {False: tmp_path / "etc", True: tmp_path / "run"}
    for path in dirs.values():
        path.mkdir()
    monkeypatch.setattr(service_mod, "MASK_DIRS", dirs)
    monkeypatch.setattr(service_mod.shutil, "which", lambda name: f"/usr/bin/{name}")
    ctx, runner = make_ctx({"systemctl mask --runtime telnetd.service": OK,
                            "systemctl unmask telnetd.service": result(retcode=1)})
    assert ctx.call("service.mask", "telnetd", runtime=True) is True
    assert ctx.call("service.unmask", "telnetd") is True  # not masked: nothing to run
    (dirs[False] / "telnetd.service").symlink_to("/dev/null")
    assert ctx.call("service.unmask", "telnetd") is False
    assert ctx.retcode == 1
    assert cmds(runner) == ["systemctl mask --runtime telnetd.service",
                            "systemctl unmask telnetd.service"]
    monkeypatch.setattr(service_mod.shutil, "which", lambda name: None)
    ctx, runner = make_ctx()
    assert ctx.call("service.mask", "telnetd").startswith("ERROR: masking needs systemd")
    assert runner.calls == []
