"""cmd, pkg, service, user and group states for real, inside a fresh Debian container.

The states are called through a small Python script run by the image's
interpreter (it builds the function and state registries as a minion does
and prints each result as JSON), so these tests do not depend on the state
engine. Each state is run twice where that matters: the second run must
report no changes.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable
from typing import Any

import pytest

from tests.docker import staterun
from tests.docker.conftest import Container
from tests.docker.test_service_user_group import install_demo

PKG = "saline-state-demo"
DEBS = "/tmp/debs"
# `sh -c BUILD_DEB build VERSION PKG DIR` writes DIR/PKG_VERSION_all.deb (conffile /etc/PKG.conf).
BUILD_DEB = r"""
set -eu
version="$1" pkg="$2" out="$3" root="$(mktemp -d)"
mkdir -p "$root/DEBIAN" "$root/etc" "$out"
cat >"$root/DEBIAN/control" <<CONTROL
Package: $pkg
Version: $version
Architecture: all
Maintainer: saline tests <tests@example.invalid>
Description: saline state test package
CONTROL
echo "/etc/$pkg.conf" >"$root/DEBIAN/conffiles"
echo "version=$version" >"$root/etc/$pkg.conf"
dpkg-deb --root-owner-group --build "$root" "$out/${pkg}_${version}_all.deb" >/dev/null
rm -rf "$root"
"""
ROOTS = "/srv/salt"
REDACTED = "XXX-REDACTED-XXX"
HASH = "$6$salinetest$" + "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ./" + "ab"

SYSTEM_STATES = ("cmd", "pkg", "service", "user", "group")


def run_states(box: Container, *calls: tuple[Any, ...]) -> list[Any]:
    """Run (fun, kwargs[, test]) state calls with the system state modules and /srv/salt."""
    return staterun.run_states(box, *calls, modules=SYSTEM_STATES, roots=[ROOTS])


def state(box: Container, fun: str, test: bool = False, **kwargs: Any) -> dict[str, Any]:
    ret: dict[str, Any] = run_states(box, (fun, kwargs, test))[0]
    return ret


def deb(version: str) -> str:
    return f"{DEBS}/{PKG}_{version}_all.deb"


def getent(box: Container, db: str, key: str) -> str:
    return box.sh(f"getent {db} {shlex.quote(key)}").stdout.strip()


def test_user_and_group_present_twice_then_absent(container: Container) -> None:
    box = container
    ret = state(box, "group.present", name="devs", gid=3100, test=True)
    assert (ret["result"], ret["changes"], ret["comment"]) == (
        None, {}, "Group devs set to be added")
    ret = state(box, "group.present", name="devs", gid=3100)
    assert (ret["result"], ret["comment"]) == (True, "New group devs created")
    assert ret["changes"] == {"name": "devs", "passwd": "x", "gid": 3100, "members": []}

    user = {"name": "alice", "uid": 3001, "shell": "/bin/bash", "groups": ["devs"],
            "fullname": "Alice A", "password": HASH}
    ret = state(box, "user.present", test=True, **user)
    assert (ret["result"], ret["comment"]) == (None, "User alice set to be added")
    assert box.sh("getent passwd alice").returncode == 2
    ret = state(box, "user.present", **user)
    assert (ret["result"], ret["comment"]) == (True, "New user alice created")
    changes = ret["changes"]
    assert {k: changes[k] for k in ("uid", "shell", "fullname", "home", "password")} == {
        "uid": 3001, "shell": "/bin/bash", "fullname": "Alice A", "home": "/home/alice",
        "password": REDACTED}
    assert changes["groups"] == ["alice", "devs"]
    assert getent(box, "passwd", "alice") == "alice:x:3001:3001:Alice A:/home/alice:/bin/bash"
    assert getent(box, "shadow", "alice").split(":")[1] == HASH
    assert getent(box, "group", "devs") == "devs:x:3100:alice"

    again = state(box, "user.present", **user)
    assert (again["result"], again["changes"], again["comment"]) == (
        True, {}, "User alice is present and up to date")

    changed = {**user, "shell": "/bin/sh", "groups": ["users"], "password": HASH + "x"}
    ret = state(box, "user.present", test=True, **changed)
    assert (ret["result"], ret["changes"], ret["comment"]) == (
        None, {}, "The following user attributes are set to be changed:\n"
                  f"groups: ['users']\nshell: /bin/sh\npasswd: {REDACTED}\n")
    ret = state(box, "user.present", **changed)
    assert (ret["result"], ret["comment"]) == (True, "Updated user alice")
    assert ret["changes"] == {"shell": "/bin/sh", "groups": ["alice", "users"],
                              "passwd": REDACTED}
    assert getent(box, "group", "devs") == "devs:x:3100:"
    assert getent(box, "shadow", "alice").split(":")[1] == HASH + "x"
    assert state(box, "user.present", **changed)["changes"] == {}

    final = {"Final": "All changes applied successfully"}
    ret = state(box, "group.present", name="devs", members=["alice"])
    assert (ret["result"], ret["changes"]) == (True, final)
    assert getent(box, "group", "devs") == "devs:x:3100:alice"
    assert state(box, "group.present", name="devs", members=["alice"])["changes"] == {}
    ret = state(box, "group.present", name="devs", gid=3200, delusers=["alice"])
    assert (ret["result"], ret["changes"]) == (True, final)
    assert getent(box, "group", "devs") == "devs:x:3200:"

    ret = state(box, "user.absent", name="alice", purge=True)
    assert (ret["result"], ret["changes"]) == (True, {"alice group": "removed",
                                                      "alice": "removed"})
    assert box.sh("getent passwd alice || test -e /home/alice").returncode != 0
    assert state(box, "user.absent", name="alice")["comment"] == "User alice is not present"
    ret = state(box, "group.absent", name="devs", test=True)
    assert (ret["result"], ret["changes"]) == (None, {})
    ret = state(box, "group.absent", name="devs")
    assert (ret["result"], ret["changes"]) == (True, {"devs": ""})
    assert state(box, "group.absent", name="devs")["comment"] == "Group not present"


def test_service_running_dead_and_watch(container: Container) -> None:
    box = container
    install_demo(box)
    ret = state(box, "service.running", test=True, name="demo", enable=True)
    assert (ret["result"], ret["changes"]) == (None, {"demo": True})
    assert box.sh("service demo status").returncode != 0

    ret = state(box, "service.running", name="demo", enable=True)
    assert (ret["result"], ret["changes"], ret["comment"]) == (
        True, {"demo": True}, "Service demo has been enabled, and is running")
    assert box.sh("service demo status").returncode == 0
    assert "S01demo" in box.sh("ls /etc/rc2.d").stdout.split()
    ret = state(box, "service.running", name="demo", enable=True)
    assert (ret["result"], ret["changes"], ret["comment"]) == (
        True, {}, "The service demo is already running")

    pid = box.sh("cat /run/demo.pid").stdout.strip()
    ret = state(box, "service.mod_watch", name="demo", sfun="running")
    assert (ret["result"], ret["changes"], ret["comment"]) == (
        True, {"demo": True}, "Service restarted")
    assert box.sh("cat /run/demo.pid").stdout.strip() not in ("", pid)
    ret = state(box, "service.mod_watch", name="demo", sfun="running", reload=True)
    assert ret["comment"] == "Service reloaded"
    assert box.sh("cat /run/demo.log").stdout == "reloaded\n"

    ret = state(box, "service.dead", name="demo", enable=False)
    assert (ret["result"], ret["changes"], ret["comment"]) == (
        True, {"demo": True}, "Service demo has been disabled, and is dead")
    assert box.sh("service demo status").returncode != 0
    assert box.sh("ls /etc/rc[2-5].d | grep -c '^S..demo$'").stdout.strip() == "0"
    ret = state(box, "service.dead", name="demo", enable=False)
    assert (ret["result"], ret["changes"]) == (True, {})
    ret = state(box, "service.enabled", name="demo")
    assert (ret["result"], ret["changes"]) == (True, {"demo": True})
    assert state(box, "service.running", name="nope")["result"] is False


@pytest.fixture
def box(container_factory: Callable[..., Container]) -> Container:
    """A container without network access, holding saline-hello 1.0 and 2.0 as .deb files."""
    box = container_factory("--network", "none")
    for version in ("1.0", "2.0"):
        proc = box.sh(f"sh -c {shlex.quote(BUILD_DEB)} build {version} {PKG} {DEBS}")
        assert proc.returncode == 0, proc.stderr
    return box


def test_pkg_installed_from_sources_twice_held_then_removed(box: Container) -> None:
    args = {"name": PKG, "sources": [{PKG: deb("1.0")}]}
    ret = state(box, "pkg.installed", test=True, **args)
    assert (ret["result"], ret["changes"], ret["comment"]) == (
        None, {PKG: {"old": "", "new": "1.0"}},
        f"The following packages would be installed/updated: {PKG}")
    assert box.sh(f"dpkg -s {PKG}").returncode != 0

    ret = state(box, "pkg.installed", **args)
    assert (ret["result"], ret["changes"]) == (True, {PKG: {"old": "", "new": "1.0"}})
    ret = state(box, "pkg.installed", **args)
    assert (ret["result"], ret["changes"], ret["comment"]) == (
        True, {}, "All specified packages are already installed")
    assert state(box, "pkg.installed", name=PKG)["comment"] == f"Package {PKG} is already installed"

    ret = state(box, "pkg.installed", name=PKG, sources=[{PKG: deb("2.0")}], hold=True)
    assert (ret["result"], ret["changes"]) == (
        True, {PKG: {"old": "1.0", "new": "2.0", "hold": True}}), ret["comment"]
    assert box.sh(f"dpkg --get-selections {PKG}").stdout.split() == [PKG, "hold"]
    ret = state(box, "pkg.installed", name=PKG, version="2.0", hold=True)
    assert (ret["result"], ret["changes"]) == (True, {})
    ret = state(box, "pkg.installed", name=PKG, hold=False)
    assert ret["changes"] == {PKG: {"old": "hold", "new": "install"}}

    ret = state(box, "pkg.removed", name=PKG)
    assert (ret["result"], ret["changes"]) == (True, {PKG: {"old": "2.0", "new": ""}})
    assert box.sh(f"test -f /etc/{PKG}.conf").returncode == 0  # conffile kept
    assert state(box, "pkg.removed", name=PKG)["changes"] == {}
    ret = state(box, "pkg.purged", name=PKG)
    assert (ret["result"], ret["changes"]) == (True, {PKG: {"old": "2.0", "new": ""}})
    assert box.sh(f"test -e /etc/{PKG}.conf").returncode != 0
    ret = state(box, "pkg.installed", name="saline-nosuch")
    assert ret["result"] is False and "Unable to locate package" in ret["comment"]


def test_cmd_run_stateful_script_and_runas(container: Container) -> None:
    box = container
    script = "#!/bin/sh\necho \"$(id -un) in $(pwd): $*\"\necho 'changed=yes comment=\"done\"'\n"
    proc = box.sh(f"mkdir -p {ROOTS}/scripts && printf '%s' {shlex.quote(script)} "
                  f"> {ROOTS}/scripts/report.sh")
    assert proc.returncode == 0, proc.stderr
    first, watched, as_nobody, tested = run_states(
        box,
        ("cmd.run", {"name": "echo hi > /tmp/ran; cat /tmp/ran", "cwd": "/tmp"}),
        ("cmd.mod_watch", {"name": "salt://scripts/report.sh", "sfun": "wait_script",
                           "args": "a b", "stateful": True}),
        ("cmd.script", {"name": "salt://scripts/report.sh", "runas": "nobody"}),
        ("cmd.run", {"name": "touch /tmp/not-made"}, True),
    )
    assert (first["result"], first["changes"]["stdout"]) == (True, "hi")
    assert (watched["result"], watched["comment"]) == (True, "done")
    assert watched["changes"]["stdout"].startswith("root in /tmp/saline-script-")
    assert watched["changes"]["stdout"].endswith(": a b")
    assert as_nobody["changes"]["stdout"].startswith("nobody in /tmp/saline-script-")
    assert tested["result"] is None and box.sh("test -e /tmp/not-made").returncode != 0
    assert box.sh("ls -d /tmp/saline-script-* 2>/dev/null").stdout == ""  # cleaned up
