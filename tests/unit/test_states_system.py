"""cmd, pkg, service, user and group states against a fake host.

cmd runs harmless real commands (echo, sh -c 'exit 3'). The other states talk
to execution functions only, so the context's registry here holds fakes of
``pkg.*``, ``service.*``, ``user.*`` and ``group.*`` over an in-memory host,
and a runner that answers the few commands the states run themselves
(``getent shadow``, ``usermod -p/-c``, ``groupmod -g``, ``dpkg-query``). The
CI host's packages, services and users are never touched.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

from minion.context import Context
from minion.fileclient import LocalFileClient
from minion.loader import Registry
from minion.runner import CommandResult
from minion.states import STATE_MODULES

MINE = ("cmd", "pkg", "service", "user", "group")


@pytest.fixture(scope="module")
def states() -> Registry:
    return Registry.load({}, {}, modules={m: STATE_MODULES[m] for m in MINE}, kind="states")


def real_ctx(**kwargs: Any) -> Context:
    return Context({}, {}, {}, Registry.load({}, {}), **kwargs)


# --- cmd -----------------------------------------------------------------------------------


def test_cmd_run_reports_output_as_changes(states: Registry) -> None:
    ret = states.call(real_ctx(), "cmd.run", [], {"name": "echo hi; echo oops >&2"})
    assert ret["result"] is True
    assert ret["comment"] == 'Command "echo hi; echo oops >&2" run'
    changes = ret["changes"]
    assert (changes["retcode"], changes["stdout"], changes["stderr"]) == (0, "hi", "oops")
    assert changes["pid"] > 0


def test_cmd_run_failure_and_success_retcodes(states: Registry) -> None:
    ctx = real_ctx()
    ret = states.call(ctx, "cmd.run", [], {"name": "exit 3"})
    assert ret["result"] is False and ret["changes"]["retcode"] == 3
    ret = states.call(ctx, "cmd.run", [], {"name": "exit 3", "success_retcodes": [2, 3]})
    assert ret["result"] is True


def test_cmd_run_cwd_env_and_bad_cwd(states: Registry, tmp_path: Path) -> None:
    ctx = real_ctx()
    ret = states.call(ctx, "cmd.run", [], {"name": "pwd; echo $GREETING", "cwd": str(tmp_path),
                                          "env": [{"GREETING": "hello"}]})
    assert ret["changes"]["stdout"] == f"{tmp_path}\nhello"
    ret = states.call(ctx, "cmd.run", [], {"name": "true", "cwd": str(tmp_path / "nope")})
    assert ret["result"] is False and ret["comment"].startswith("Desired working directory")


def test_cmd_run_test_mode_runs_nothing(states: Registry, tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    ret = states.call(real_ctx(test=True), "cmd.run", [], {"name": f"touch {marker}"})
    assert ret == {"name": f"touch {marker}", "result": None,
                   "changes": {"cmd": f"touch {marker}"},
                   "comment": f'Command "touch {marker}" would have been executed'}
    assert not marker.exists()


@pytest.mark.parametrize(("script", "changes", "comment"), [
    ("echo working; echo 'changed=yes comment=\"did it\" extra=1'",
     {"changed": "yes", "extra": "1", "stdout": "working", "stderr": "", "retcode": 0},
     "did it"),
    ("echo 'changed=no comment=\"nothing to do\"'", {}, "nothing to do"),
    ("""echo '{"changed": true, "comment": "json", "n": 2}'""",
     {"changed": True, "n": 2, "stdout": "", "stderr": "", "retcode": 0}, "json"),
    ("true", {}, ""),
])
def test_cmd_run_stateful(states: Registry, script: str, changes: dict[str, Any],
                          comment: str) -> None:
    ret = states.call(real_ctx(), "cmd.run", [], {"name": script, "stateful": True})
    ret["changes"].pop("pid", None)
    assert (ret["result"], ret["changes"], ret["comment"]) == (True, changes, comment)


def test_cmd_run_stateful_bad_output_fails(states: Registry) -> None:
    ret = states.call(real_ctx(), "cmd.run", [], {"name": "echo not pairs", "stateful": True})
    assert ret["result"] is False
    assert ret["comment"].startswith("Failed parsing script output!")
    ret = states.call(real_ctx(), "cmd.run", [], {"name": "echo '[1]'", "stateful": True})
    assert ret["comment"] == "script JSON output must be a JSON object (e.g., {})!"


def test_cmd_run_stateful_test_name_runs_in_test_mode(states: Registry) -> None:
    stateful = [{"test_name": "echo 'changed=yes comment=\"would do\"'"}]
    ret = states.call(real_ctx(test=True), "cmd.run", [],
                      {"name": "exit 9", "stateful": stateful})
    assert (ret["result"], ret["comment"], ret["changes"]["changed"]) == (None, "would do", "yes")


def test_cmd_wait_does_nothing_until_watched(states: Registry, tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    ctx = real_ctx()
    ret = states.call(ctx, "cmd.wait", [], {"name": f"touch {marker}", "cwd": str(tmp_path)})
    assert ret == {"name": f"touch {marker}", "result": True, "changes": {}, "comment": ""}
    assert not marker.exists()
    ret = states.call(ctx, "cmd.mod_watch", [], {"name": f"touch {marker}", "sfun": "wait",
                                                 "cwd": str(tmp_path)})
    assert ret["result"] is True and ret["changes"]["retcode"] == 0 and marker.exists()
    ret = states.call(ctx, "cmd.mod_watch", [], {"name": "true", "sfun": "nosuch"})
    assert ret["result"] is False and "does not work with the watch requisite" in ret["comment"]


def test_cmd_script_from_the_file_server(states: Registry, tmp_path: Path) -> None:
    root = tmp_path / "roots"
    (root / "scripts").mkdir(parents=True)
    (root / "scripts" / "hello.sh").write_text('#!/bin/sh\necho "args: $*"\npwd\n')
    ctx = real_ctx(files=LocalFileClient({"base": [str(root)]}))
    ret = states.call(ctx, "cmd.script", [], {"name": "salt://scripts/hello.sh",
                                             "args": "one 'two words'"})
    assert ret["result"] is True and ret["comment"] == "Command 'salt://scripts/hello.sh' run"
    out, workdir = ret["changes"]["stdout"].splitlines()
    assert out == "args: one two words"
    assert not Path(workdir).exists()  # the temporary copy is cleaned up
    ret = states.call(ctx, "cmd.script", [], {"name": "run-it", "source": "salt://nope.sh"})
    assert ret["result"] is False and ret["comment"].startswith("Unable to cache script")
    assert ret["changes"]["cache_error"] is True
    ret = states.call(ctx, "cmd.mod_watch", [], {"name": "salt://scripts/hello.sh",
                                                 "sfun": "wait_script", "cwd": str(tmp_path)})
    assert ret["changes"]["stdout"] == f"args: \n{tmp_path}"


# --- a fake host for pkg, service, user and group ---------------------------------------------


class FakeHost:
    """In-memory packages, services, users and groups, behind execution-function fakes."""

    def __init__(self) -> None:
        self.installed: dict[str, str] = {"bash": "5.2"}
        self.config_only: dict[str, str] = {}
        self.held: set[str] = set()
        self.repo: dict[str, str] = {"bash": "5.2", "nginx": "1.22", "curl": "7.88"}
        self.services: dict[str, dict[str, bool]] = {
            "web": {"running": False, "enabled": False},
            "db": {"running": True, "enabled": True},
        }
        self.broken: set[str] = set()  # names whose changes fail
        self.offline: str | bool = False  # systemctl's path when systemd is not booted
        self.masks: set[tuple[str, bool]] = set()  # (service, runtime)
        self.users: dict[str, dict[str, Any]] = {}
        self.shadow: dict[str, str] = {}
        self.groups: dict[str, dict[str, Any]] = {"users": {"gid": 100, "members": []}}
        self.calls: list[str] = []

    # pkg
    def list_pkgs(self, ctx: Context, removed: bool = False) -> dict[str, str]:
        return dict(self.config_only if removed else self.installed)

    def pkg_version(self, ctx: Context, *names: str) -> str | dict[str, str]:
        found = {n: self.installed.get(n, "") for n in names}
        return found[names[0]] if len(names) == 1 else found

    def latest_version(self, ctx: Context, *names: str, refresh: bool = False
                       ) -> str | dict[str, str]:
        found = {n: self.repo.get(n, "") for n in names}
        found = {n: "" if self.installed.get(n) == v else v for n, v in found.items()}
        return found[names[0]] if len(names) == 1 else found

    def pkg_install(self, ctx: Context, name: str | None = None, pkgs: list[Any] | None = None,
                    sources: list[Any] | None = None, refresh: bool = False,
                    fromrepo: str | None = None) -> dict[str, Any] | str:
        self.calls.append(f"install {pkgs or sources or name}")
        items = sources or pkgs or [name]
        changes = {}
        for item in items:
            pkg, ver = next(iter(item.items())) if isinstance(item, Mapping) else (item, None)
            if pkg not in self.repo and not sources:
                return f"ERROR: pkg.install: E: Unable to locate package {pkg}"
            ver = self.repo[pkg] if ver is None or "*" in str(ver) else ver
            if str(ver).startswith("/"):
                ver = Path(ver).stem.split("_")[1]
            if pkg in self.broken:
                continue
            changes[pkg] = {"old": self.installed.get(pkg, ""), "new": ver}
            self.installed[pkg] = ver
        return changes

    def _uninstall(self, pkgs: list[str], purge: bool) -> dict[str, Any]:
        changes = {}
        for pkg in pkgs:
            old = self.installed.pop(pkg, "") or self.config_only.get(pkg, "")
            if purge:
                self.config_only.pop(pkg, None)
            else:
                self.config_only[pkg] = old
            changes[pkg] = {"old": old, "new": ""}
        return changes

    def pkg_remove(self, ctx: Context, pkgs: list[str]) -> dict[str, Any]:
        return self._uninstall(pkgs, purge=False)

    def pkg_purge(self, ctx: Context, pkgs: list[str]) -> dict[str, Any]:
        return self._uninstall(pkgs, purge=True)

    def pkg_hold(self, ctx: Context, pkgs: list[str]) -> dict[str, Any]:
        ret = {}
        for pkg in pkgs:
            changed = pkg not in self.held
            self.held.add(pkg)
            ret[pkg] = {"name": pkg, "result": True,
                        "changes": {"old": "install", "new": "hold"} if changed else {}}
        return ret

    # service
    def svc(self, action: str) -> Callable[..., Any]:
        def act(ctx: Context, name: str, sig: str | None = None) -> Any:
            self.calls.append(f"{action} {name}")
            svc = self.services.get(name)
            if action == "available":
                return svc is not None
            assert svc is not None
            if action == "status":
                return svc["running"]
            if action == "enabled":
                return svc["enabled"]
            if name in self.broken:
                return False
            if action in ("start", "restart", "reload"):
                svc["running"] = True
            elif action == "stop":
                svc["running"] = False
            else:
                svc["enabled"] = action == "enable"
            return True
        return act

    def mask_action(self, add: bool) -> Callable[..., Any]:
        def act(ctx: Context, name: str, runtime: bool = False) -> bool:
            self.calls.append(f"{'mask' if add else 'unmask'} {name} {runtime}")
            if name in self.broken:
                return False
            (self.masks.add if add else self.masks.discard)((name, runtime))
            return True
        return act

    # user
    def user_info(self, ctx: Context, name: str) -> dict[str, Any]:
        user = self.users.get(name)
        if user is None:
            return {}
        primary = next(g for g, e in self.groups.items() if e["gid"] == user["gid"])
        groups = sorted({primary} | {g for g, e in self.groups.items() if name in e["members"]})
        return {"name": name, "passwd": "x", "groups": groups, **user}

    def user_add(self, ctx: Context, name: str, uid: int | None = None, gid: Any = None,
                 groups: list[str] | None = None, home: str | None = None,
                 shell: str | None = None, unique: bool = True, system: bool = False,
                 fullname: str = "", roomnumber: str = "", workphone: str = "",
                 homephone: str = "", other: str = "", createhome: bool = True,
                 nologinit: bool = False, usergroup: bool | None = None) -> bool:
        self.calls.append(f"useradd {name}")
        if gid is None:
            gid = 1000 + len(self.groups)
            self.groups[name] = {"gid": gid, "members": []}
        self.users[name] = {
            "uid": uid or 1000 + len(self.users), "gid": int(gid),
            "home": home or f"/home/{name}", "shell": shell or "/bin/sh",
            "fullname": fullname, "roomnumber": roomnumber, "workphone": workphone,
            "homephone": homephone, "other": other}
        for group in groups or []:
            self.groups[group]["members"].append(name)
        self.shadow[name] = "!"
        return True

    def user_ch(self, key: str) -> Callable[..., Any]:
        def change(ctx: Context, name: str, value: Any) -> bool:
            self.calls.append(f"ch{key} {name}")
            if name in self.broken:
                return False
            if key == "groups":
                for group, entry in self.groups.items():
                    if name in entry["members"]:
                        entry["members"].remove(name)
                    if group in value:
                        entry["members"].append(name)
            else:
                self.users[name][key] = int(value) if key in ("uid", "gid") else value
            return True
        return change

    def user_delete(self, ctx: Context, name: str, remove: bool = False,
                    force: bool = False) -> bool:
        self.users.pop(name)
        if name in self.groups:
            del self.groups[name]
        return True

    def list_groups(self, ctx: Context, name: str) -> list[str]:
        return list(self.user_info(ctx, name)["groups"])

    # group
    def group_info(self, ctx: Context, name: str) -> dict[str, Any]:
        entry = self.groups.get(name)
        if entry is None:
            return {}
        return {"name": name, "passwd": "x", "gid": entry["gid"],
                "members": list(entry["members"])}

    def group_getent(self, ctx: Context) -> list[dict[str, Any]]:
        return [self.group_info(ctx, name) for name in self.groups]

    def group_add(self, ctx: Context, name: str, gid: int | None = None, system: bool = False,
                  non_unique: bool = False) -> bool:
        self.groups[name] = {"gid": gid or 2000 + len(self.groups), "members": []}
        return True

    def group_delete(self, ctx: Context, name: str) -> bool:
        del self.groups[name]
        return True

    def group_members(self, ctx: Context, name: str, members_list: Sequence[str]) -> bool:
        self.groups[name]["members"] = list(members_list)
        return True

    def group_adduser(self, ctx: Context, name: str, username: str) -> bool:
        self.groups[name]["members"].append(username)
        return True

    def group_deluser(self, ctx: Context, name: str, username: str) -> bool:
        self.groups[name]["members"].remove(username)
        return True

    def functions(self) -> dict[str, Callable[..., Any]]:
        found: dict[str, Callable[..., Any]] = {
            "pkg.list_pkgs": self.list_pkgs, "pkg.version": self.pkg_version,
            "pkg.latest_version": self.latest_version, "pkg.install": self.pkg_install,
            "pkg.remove": self.pkg_remove, "pkg.purge": self.pkg_purge,
            "pkg.hold": self.pkg_hold,
            "user.info": self.user_info, "user.add": self.user_add,
            "user.delete": self.user_delete, "user.list_groups": self.list_groups,
            "group.info": self.group_info, "group.getent": self.group_getent,
            "group.add": self.group_add, "group.delete": self.group_delete,
            "group.members": self.group_members, "group.adduser": self.group_adduser,
            "group.deluser": self.group_deluser,
        }
        for action in ("available", "status", "enabled", "start", "stop", "restart", "reload",
                       "enable", "disable"):
            found[f"service.{action}"] = self.svc(action)
        found["service.offline"] = lambda ctx: self.offline
        found["service.masked"] = lambda ctx, name, runtime=False: (name, runtime) in self.masks
        found["service.mask"] = self.mask_action(True)
        found["service.unmask"] = self.mask_action(False)
        for key in ("uid", "gid", "shell", "home", "groups"):
            found[f"user.ch{key}"] = self.user_ch(key)
        return found

    # the commands states run themselves
    def run(self, cmd: str | Sequence[str], **kwargs: Any) -> CommandResult:
        argv = shlex.split(cmd) if isinstance(cmd, str) else list(cmd)
        self.calls.append(" ".join(argv))
        match argv:
            case ["getent", "shadow", name] if name in self.shadow:
                return CommandResult(f"{name}:{self.shadow[name]}:19000:0:99999:7:::\n", "", 0)
            case ["usermod", "-p", password, name]:
                self.shadow[name] = password
            case ["usermod", "-c", gecos, name]:
                fields = [*gecos.split(","), "", "", "", "", ""][:5]
                keys = ("fullname", "roomnumber", "workphone", "homephone", "other")
                self.users[name].update(zip(keys, fields, strict=True))
            case ["groupmod", "-g", gid, name] if name not in self.broken:
                self.groups[name]["gid"] = int(gid)
            case ["dpkg-query", "--show", _, *names]:
                lines = "".join(f"{n}\t{'hold' if n in self.held else 'install'} ok installed\n"
                                for n in names if n in self.installed)
                return CommandResult(lines, "", 0)
            case ["dpkg-deb", "--field", path, "Version"]:
                return CommandResult(Path(path).stem.split("_")[1] + "\n", "", 0)
            case _:
                return CommandResult("", f"fake: no answer for {argv}", 2)
        return CommandResult("", "", 0)


@pytest.fixture
def host() -> FakeHost:
    return FakeHost()


def fake_ctx(host: FakeHost, test: bool = False) -> Context:
    return Context({}, {}, {}, Registry(host.functions()), runner=host, test=test)


# --- pkg -----------------------------------------------------------------------------------


def test_pkg_installed_rhythm(states: Registry, host: FakeHost) -> None:
    ret = states.call(fake_ctx(host), "pkg.installed", [], {"name": "bash"})
    assert (ret["result"], ret["changes"], ret["comment"]) == (
        True, {}, "Package bash is already installed")
    ret = states.call(fake_ctx(host, test=True), "pkg.installed", [], {"name": "nginx"})
    assert (ret["result"], ret["changes"], ret["comment"]) == (
        None, {"nginx": {"old": "", "new": "installed"}},
        "The following packages would be installed/updated: nginx")
    assert "nginx" not in host.installed
    ret = states.call(fake_ctx(host), "pkg.installed", [], {"name": "nginx"})
    assert (ret["result"], ret["changes"], ret["comment"]) == (
        True, {"nginx": {"old": "", "new": "1.22"}},
        "The following packages were installed/updated: nginx")


def test_pkg_installed_pkgs_with_versions(states: Registry, host: FakeHost) -> None:
    args = {"name": "x", "pkgs": ["bash", {"curl": "7.88"}, {"nginx": "1.2*"}]}
    host.repo["nginx"] = "1.20"
    ret = states.call(fake_ctx(host), "pkg.installed", [], args)
    assert ret["result"] is True
    assert ret["changes"] == {"curl": {"old": "", "new": "7.88"},
                              "nginx": {"old": "", "new": "1.20"}}
    assert ret["comment"].endswith("The following packages were already installed: bash")
    host.installed["nginx"] = "1.20"
    ret = states.call(fake_ctx(host), "pkg.installed", [], args)
    assert (ret["result"], ret["changes"]) == (True, {})
    assert ret["comment"] == ("All specified packages are already installed "
                              "and are at the desired version")


def test_pkg_installed_failures(states: Registry, host: FakeHost) -> None:
    ret = states.call(fake_ctx(host), "pkg.installed", [], {"name": "nosuch"})
    assert ret["result"] is False
    assert ret["comment"] == ("An error was encountered while installing package(s): "
                              "pkg.install: E: Unable to locate package nosuch")
    host.broken.add("nginx")
    ret = states.call(fake_ctx(host), "pkg.installed", [], {"name": "x",
                                                            "pkgs": ["nginx", "curl"]})
    assert ret["result"] is False
    assert ret["comment"].startswith("The following packages failed to install/update: nginx")
    assert ret["changes"] == {"curl": {"old": "", "new": "7.88"}}


def test_pkg_installed_sources_and_hold(states: Registry, host: FakeHost) -> None:
    deb = "/tmp/debs/hello_1.0_all.deb"
    args = {"name": "hello", "sources": [{"hello": deb}], "hold": True}
    ret = states.call(fake_ctx(host, test=True), "pkg.installed", [], args)
    assert ret["result"] is None
    assert ret["changes"] == {"hello": {"old": "", "new": "1.0", "hold": True}}
    ret = states.call(fake_ctx(host), "pkg.installed", [], args)
    assert ret["result"] is True, ret["comment"]
    assert ret["changes"] == {"hello": {"old": "", "new": "1.0", "hold": True}}
    assert host.held == {"hello"}
    ret = states.call(fake_ctx(host), "pkg.installed", [], args)
    assert (ret["result"], ret["changes"]) == (True, {})


def test_pkg_latest(states: Registry, host: FakeHost) -> None:
    host.installed["curl"] = "7.74"
    args = {"name": "x", "pkgs": ["bash", "curl"]}
    ret = states.call(fake_ctx(host, test=True), "pkg.latest", [], args)
    assert ret["result"] is None and ret["changes"] == {"curl": {"old": "7.74", "new": "7.88"}}
    ret = states.call(fake_ctx(host), "pkg.latest", [], args)
    assert (ret["result"], ret["changes"]) == (True, {"curl": {"old": "7.74", "new": "7.88"}})
    assert ret["comment"] == ("The following packages were successfully installed/upgraded: "
                              "curl The following packages were already up-to-date: bash (5.2)")
    ret = states.call(fake_ctx(host), "pkg.latest", [], args)
    assert (ret["result"], ret["changes"]) == (True, {})
    ret = states.call(fake_ctx(host), "pkg.latest", [], {"name": "nosuch"})
    assert (ret["result"], ret["comment"]) == (False, "No information found for 'nosuch'.")


def test_pkg_removed_and_purged(states: Registry, host: FakeHost) -> None:
    ret = states.call(fake_ctx(host, test=True), "pkg.removed", [], {"name": "bash"})
    assert (ret["result"], ret["changes"]) == (None, {"bash": {"old": "5.2", "new": ""}})
    ret = states.call(fake_ctx(host), "pkg.removed", [], {"name": "bash"})
    assert (ret["result"], ret["comment"]) == (True, "All targeted packages were removed.")
    assert ret["changes"] == {"bash": {"old": "5.2", "new": ""}}
    ret = states.call(fake_ctx(host), "pkg.removed", [], {"name": "bash"})
    assert (ret["result"], ret["changes"], ret["comment"]) == (
        True, {}, "None of the targeted packages are installed")
    ret = states.call(fake_ctx(host), "pkg.purged", [], {"name": "bash"})  # config files left
    assert (ret["result"], ret["changes"]) == (True, {"bash": {"old": "5.2", "new": ""}})
    ret = states.call(fake_ctx(host), "pkg.purged", [], {"name": "bash"})
    assert ret["comment"] == "None of the targeted packages are installed or partially installed"


# --- service -------------------------------------------------------------------------------


def test_service_running_rhythm(states: Registry, host: FakeHost) -> None:
    ret = states.call(fake_ctx(host, test=True), "service.running", [], {"name": "web"})
    assert (ret["result"], ret["changes"], ret["comment"]) == (
        None, {"web": True}, "Service web is set to start")
    assert host.services["web"]["running"] is False
    ret = states.call(fake_ctx(host), "service.running", [], {"name": "web", "enable": True})
    assert (ret["result"], ret["changes"]) == (True, {"web": True})
    assert ret["comment"] == "Service web has been enabled, and is running"
    assert host.services["web"] == {"running": True, "enabled": True}
    ret = states.call(fake_ctx(host), "service.running", [], {"name": "web", "enable": True})
    assert (ret["result"], ret["changes"], ret["comment"]) == (
        True, {}, "The service web is already running")
    ret = states.call(fake_ctx(host), "service.running", [], {"name": "nosuch"})
    assert (ret["result"], ret["comment"]) == (False, "The named service nosuch is not available")
    ret = states.call(fake_ctx(host), "service.running", [], {"name": "web", "enabled": True})
    assert ret["result"] is False and "Perhaps \"enable\"" in ret["comment"]


def test_service_running_failure(states: Registry, host: FakeHost) -> None:
    host.broken.add("web")
    ret = states.call(fake_ctx(host), "service.running", [], {"name": "web"})
    assert (ret["result"], ret["changes"], ret["comment"]) == (
        False, {}, "Service web failed to start")


def test_service_dead_enabled_disabled(states: Registry, host: FakeHost) -> None:
    ret = states.call(fake_ctx(host), "service.dead", [], {"name": "db", "enable": False})
    assert (ret["result"], ret["changes"], ret["comment"]) == (
        True, {"db": True}, "Service db has been disabled, and is dead")
    ret = states.call(fake_ctx(host), "service.dead", [], {"name": "db"})
    assert (ret["result"], ret["comment"]) == (True, "The service db is already dead")
    ret = states.call(fake_ctx(host), "service.dead", [], {"name": "nosuch"})
    assert (ret["result"], ret["comment"]) == (True, "The named service nosuch is not available")
    ret = states.call(fake_ctx(host, test=True), "service.enabled", [], {"name": "db"})
    assert (ret["result"], ret["changes"]) == (None, {"db": True})
    ret = states.call(fake_ctx(host), "service.enabled", [], {"name": "db"})
    assert (ret["result"], ret["changes"]) == (True, {"db": True})
    assert host.services["db"] == {"running": False, "enabled": True}
    ret = states.call(fake_ctx(host), "service.disabled", [], {"name": "web"})
    assert (ret["result"], ret["changes"], ret["comment"]) == (
        True, {}, "Service web is already disabled, and is in the desired state")


def test_service_mod_watch(states: Registry, host: FakeHost) -> None:
    def watch(test: bool = False, **kwargs: Any) -> dict[str, Any]:
        return states.call(fake_ctx(host, test), "service.mod_watch", [], kwargs)

    assert watch(name="db", sfun="running", test=True) == {
        "name": "db", "result": None, "changes": {},
        "comment": "Service is set to be restarted"}
    assert "restart db" not in host.calls
    assert watch(name="db", sfun="running")["comment"] == "Service restarted"
    ret = watch(name="db", sfun="running", reload=True)
    assert (ret["changes"], ret["comment"]) == ({"db": True}, "Service reloaded")
    assert watch(name="web", sfun="running")["comment"] == "Service started"
    assert watch(name="web", sfun="dead")["comment"] == "Service stopped"
    assert watch(name="web", sfun="dead")["comment"] == "Service is already stopped"
    assert watch(name="web", sfun="enabled")["result"] is False
    host.broken.add("db")
    ret = watch(name="db", sfun="running")
    assert (ret["result"], ret["comment"]) == (False, "Failed to restart the service")


# --- user ----------------------------------------------------------------------------------


def test_user_present_creates_then_is_idempotent(states: Registry, host: FakeHost) -> None:
    args = {"name": "deploy", "shell": "/bin/bash", "groups": ["users"], "password": "$6$h",
            "fullname": "Deploy Bot"}
    ret = states.call(fake_ctx(host, test=True), "user.present", [], args)
    assert (ret["result"], ret["changes"], ret["comment"]) == (
        None, {}, "User deploy set to be added")
    assert "deploy" not in host.users
    ret = states.call(fake_ctx(host), "user.present", [], args)
    assert (ret["result"], ret["comment"]) == (True, "New user deploy created")
    assert ret["changes"]["shell"] == "/bin/bash" and ret["changes"]["groups"] == [
        "deploy", "users"]
    assert ret["changes"]["password"] == "XXX-REDACTED-XXX"
    assert host.shadow["deploy"] == "$6$h"
    ret = states.call(fake_ctx(host), "user.present", [], args)
    assert (ret["result"], ret["changes"], ret["comment"]) == (
        True, {}, "User deploy is present and up to date")


def test_user_present_changes_only_what_differs(states: Registry, host: FakeHost) -> None:
    states.call(fake_ctx(host), "user.present", [], {"name": "deploy", "groups": ["users"]})
    host.groups["extra"] = {"gid": 300, "members": []}
    args = {"name": "deploy", "shell": "/bin/zsh", "groups": ["extra"], "password": "$6$new",
            "homephone": "555"}
    ret = states.call(fake_ctx(host, test=True), "user.present", [], args)
    assert (ret["result"], ret["changes"]) == (None, {})
    assert ret["comment"] == (
        "The following user attributes are set to be changed:\ngroups: ['extra']\n"
        "shell: /bin/zsh\npasswd: XXX-REDACTED-XXX\nhomephone: 555\n")
    ret = states.call(fake_ctx(host), "user.present", [], args)
    assert (ret["result"], ret["comment"]) == (True, "Updated user deploy")
    assert ret["changes"] == {"shell": "/bin/zsh", "groups": ["deploy", "extra"],
                              "passwd": "XXX-REDACTED-XXX", "homephone": "555"}
    assert host.shadow["deploy"] == "$6$new"
    assert states.call(fake_ctx(host), "user.present", [], args)["changes"] == {}
    ret = states.call(fake_ctx(host), "user.present", [],
                      {"name": "deploy", "groups": ["users"], "remove_groups": False})
    assert ret["changes"] == {"groups": ["deploy", "extra", "users"]}


def test_user_present_refusals_and_failures(states: Registry, host: FakeHost) -> None:
    ret = states.call(fake_ctx(host), "user.present", [], {"name": "a", "groups": ["nosuch"]})
    assert (ret["result"], ret["comment"]) == (
        False, "The following group(s) are not present: nosuch")
    states.call(fake_ctx(host), "user.present", [], {"name": "a", "uid": 1500})
    ret = states.call(fake_ctx(host), "user.present", [], {"name": "a", "uid": 1600})
    assert ret["result"] is False and ret["comment"].startswith("Changing uid (1500 -> 1600)")
    ret = states.call(fake_ctx(host), "user.present", [],
                      {"name": "a", "uid": 1600, "allow_uid_change": True})
    assert (ret["result"], ret["changes"]) == (True, {"uid": 1600})
    host.broken.add("a")
    ret = states.call(fake_ctx(host), "user.present", [], {"name": "a", "shell": "/bin/zsh"})
    assert ret["result"] is False
    assert ret["comment"] == "These values could not be changed: {'shell': '/bin/zsh'}"


def test_user_present_uses_the_group_named_like_the_user(states: Registry,
                                                         host: FakeHost) -> None:
    host.groups["svc"] = {"gid": 777, "members": []}
    ret = states.call(fake_ctx(host), "user.present", [], {"name": "svc"})
    assert ret["changes"]["gid"] == 777


def test_user_absent(states: Registry, host: FakeHost) -> None:
    states.call(fake_ctx(host), "user.present", [], {"name": "old"})
    ret = states.call(fake_ctx(host, test=True), "user.absent", [], {"name": "old"})
    assert (ret["result"], ret["changes"]) == (None, {"old": "removed"})
    ret = states.call(fake_ctx(host), "user.absent", [], {"name": "old", "purge": True})
    assert (ret["result"], ret["comment"]) == (True, "Removed user old")
    assert ret["changes"] == {"old group": "removed", "old": "removed"}
    ret = states.call(fake_ctx(host), "user.absent", [], {"name": "old"})
    assert (ret["result"], ret["changes"], ret["comment"]) == (True, {}, "User old is not present")


# --- group ---------------------------------------------------------------------------------


def test_group_present_rhythm(states: Registry, host: FakeHost) -> None:
    args = {"name": "devs", "gid": 3000, "members": ["alice", "bob"]}
    ret = states.call(fake_ctx(host, test=True), "group.present", [], args)
    assert (ret["result"], ret["changes"], ret["comment"]) == (
        None, {}, "Group devs set to be added")
    assert "devs" not in host.groups
    ret = states.call(fake_ctx(host), "group.present", [], args)
    assert (ret["result"], ret["comment"]) == (True, "New group devs created")
    assert ret["changes"] == {"name": "devs", "passwd": "x", "gid": 3000,
                              "members": ["alice", "bob"]}
    ret = states.call(fake_ctx(host), "group.present", [], args)
    assert (ret["result"], ret["changes"], ret["comment"]) == (
        True, {}, "Group devs is present and up to date")
    args = {"name": "devs", "gid": 3001, "members": ["bob"]}
    comment = ("The following group attributes are set to be changed:\n"
               "gid: 3001\nmembers: ['bob']\n")
    ret = states.call(fake_ctx(host, test=True), "group.present", [], args)
    assert (ret["result"], ret["changes"], ret["comment"]) == (None, {}, comment)
    ret = states.call(fake_ctx(host), "group.present", [], args)
    assert (ret["result"], ret["changes"], ret["comment"]) == (
        True, {"Final": "All changes applied successfully"}, comment)
    assert host.groups["devs"] == {"gid": 3001, "members": ["bob"]}
    ret = states.call(fake_ctx(host), "group.present", [], {"name": "devs", "members": []})
    assert (ret["result"], ret["comment"]) == (
        True, "The following group attributes are set to be changed:\ndelusers: {'bob'}\n")
    assert host.groups["devs"]["members"] == []


def test_group_addusers_delusers(states: Registry, host: FakeHost) -> None:
    host.groups["devs"] = {"gid": 3000, "members": ["alice"]}
    ret = states.call(fake_ctx(host), "group.present", [],
                      {"name": "devs", "addusers": ["bob"], "delusers": "alice"})
    assert (ret["result"], ret["changes"]) == (
        True, {"Final": "All changes applied successfully"})
    assert host.groups["devs"]["members"] == ["bob"]
    ret = states.call(fake_ctx(host), "group.present", [],
                      {"name": "devs", "addusers": ["bob"], "members": ["bob"]})
    assert ret["result"] is None and "Conflicting options" in ret["comment"]


def test_group_absent(states: Registry, host: FakeHost) -> None:
    host.groups["devs"] = {"gid": 3000, "members": []}
    ret = states.call(fake_ctx(host, test=True), "group.absent", [], {"name": "devs"})
    assert (ret["result"], ret["changes"]) == (None, {})
    ret = states.call(fake_ctx(host), "group.absent", [], {"name": "devs"})
    assert (ret["result"], ret["changes"], ret["comment"]) == (
        True, {"devs": ""}, "Removed group devs")
    ret = states.call(fake_ctx(host), "group.absent", [], {"name": "devs"})
    assert (ret["result"], ret["comment"]) == (True, "Group not present")


# --- service: Salt's offline mode, masks, pending missing services ----------------------------


def test_service_running_and_dead_do_nothing_when_systemd_is_offline(
        states: Registry, host: FakeHost) -> None:
    host.offline = "/usr/bin/systemctl"
    for fun, name in (("service.running", "web"), ("service.dead", "db"),
                      ("service.running", "nosuch")):
        for test in (True, False):
            ret = states.call(fake_ctx(host, test), fun, [], {"name": name, "enable": True})
            assert ret == {"name": name, "result": True, "changes": {},
                           "comment": "Running in OFFLINE mode. Nothing to do"}
    assert host.services["web"] == {"running": False, "enabled": False}
    # enabled/disabled still work offline, as in Salt
    ret = states.call(fake_ctx(host), "service.enabled", [], {"name": "web"})
    assert (ret["result"], ret["changes"]) == (True, {"web": True})


def test_missing_service_is_pending_in_test_mode(states: Registry, host: FakeHost) -> None:
    for fun, done in (("service.running", "started"), ("service.dead", "stopped"),
                      ("service.enabled", "enabled")):
        ret = states.call(fake_ctx(host, True), fun, [], {"name": "later"})
        assert (ret["result"], ret["changes"], ret["comment"]) == (
            None, {}, f"Service later not present; if created in this state run, it would "
                      f"have been {done}")


def test_service_masked_and_unmasked(states: Registry, host: FakeHost,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    from minion.modules import service as service_mod
    monkeypatch.setattr(service_mod, "systemctl_path", lambda: "/usr/bin/systemctl")

    def call(fun: str, test: bool = False, **kwargs: Any) -> dict[str, Any]:
        return states.call(fake_ctx(host, test), fun, [], {"name": "web", **kwargs})

    ret = call("service.masked", test=True)
    assert (ret["result"], ret["changes"], ret["comment"]) == (
        None, {"masked": {"old": False, "new": True}}, "Service web would be masked")
    assert host.masks == set()
    ret = call("service.masked", runtime=True)
    assert (ret["result"], ret["changes"], ret["comment"]) == (
        True, {"runtime masked": {"old": False, "new": True}}, "Service web was runtime masked")
    ret = call("service.masked", runtime=True)
    assert (ret["changes"], ret["comment"]) == ({}, "Service web is already runtime masked")
    ret = call("service.unmasked")
    assert (ret["changes"], ret["comment"]) == ({}, "Service web was already unmasked")
    ret = call("service.unmasked", runtime=True)
    assert (ret["result"], ret["changes"], ret["comment"]) == (
        True, {"runtime masked": {"old": True, "new": False}},
        "Service web was runtime unmasked")
    host.broken.add("web")
    ret = call("service.masked")
    assert (ret["result"], ret["comment"]) == (False, "Failed to mask service 'web'")
    monkeypatch.setattr(service_mod, "systemctl_path", lambda: None)
    ret = call("service.masked")
    assert (ret["result"], ret["comment"]) == (
        False, "Service masking not available on this minion")


def test_service_mod_watch_start_stops_first(states: Registry, host: FakeHost) -> None:
    ret = states.call(fake_ctx(host, True), "service.mod_watch", [],
                      {"name": "web", "sfun": "running"})
    assert (ret["result"], ret["changes"], ret["comment"]) == (
        None, {}, "Service is set to be started")
    host.calls.clear()
    ret = states.call(fake_ctx(host), "service.mod_watch", [], {"name": "web", "sfun": "running"})
    assert (ret["changes"], ret["comment"]) == ({"web": True}, "Service started")
    assert host.calls == ["status web", "stop web", "start web"]


def test_user_present_with_groups_pending_creation(states: Registry, host: FakeHost) -> None:
    args = {"name": "deploy", "groups": ["users", "later"], "gid": "later"}
    ret = states.call(fake_ctx(host, test=True), "user.present", [], args)
    assert (ret["result"], ret["changes"], ret["comment"]) == (
        None, {}, "User deploy set to be added (pending groups: later)")
    states.call(fake_ctx(host), "user.present", [], {"name": "deploy", "groups": ["users"]})
    ret = states.call(fake_ctx(host, test=True), "user.present", [],
                      {"name": "deploy", "groups": ["later"], "shell": "/bin/zsh"})
    assert (ret["result"], ret["comment"]) == (
        None, "The following user attributes are set to be changed:\ngroups: []\n"
              "shell: /bin/zsh\ngroups (pending creation): later\n")
    ret = states.call(fake_ctx(host), "user.present", [], args)
    assert (ret["result"], ret["comment"]) == (
        False, "The following group(s) are not present: later")


def test_group_present_gid_taken_and_failed_changes(states: Registry, host: FakeHost) -> None:
    ret = states.call(fake_ctx(host), "group.present", [], {"name": "devs", "gid": 100})
    assert (ret["result"], ret["comment"]) == (
        False, "Group devs is not present but gid 100 is already taken by group users")
    host.groups["devs"] = {"gid": 3000, "members": []}
    host.broken.add("devs")
    ret = states.call(fake_ctx(host), "group.present", [], {"name": "devs", "gid": 3001})
    assert (ret["result"], ret["changes"]) == (False, {"Failed": {"gid": 3001}})
    assert ret["comment"].endswith("gid: 3001\nSome changes could not be applied")
