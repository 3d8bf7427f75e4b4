"""ini, alias, host.only, environ, ssh_auth, service masks, group/user and sysctl states for real.

Each test runs in a fresh Debian container. The states are called in one
Python process inside the container (so environ changes are seen by the
states after them), each applied twice: the first run changes the host, the
second reports no changes. sysctl needs a privileged container: it runs when
this Docker Engine can start one and is skipped, with the engine's answer,
when it cannot.
"""

from __future__ import annotations

import base64
import shlex
from collections.abc import Callable

from tests.docker.conftest import Container
from tests.docker.staterun import run_states, twice


def text(box: Container, path: str) -> str:
    proc = box.sh(f"cat {shlex.quote(path)}")
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_ini_alias_and_hosts_files(container: Container) -> None:
    box = container
    assert box.sh("printf '[main]\\n#port = 80\\nname = x\\n' > /etc/app.ini").returncode == 0
    sections = {"main": {"port": 8080}, "extra": {"debug": True}}
    ret = run_states(box, ("ini.options_present", {"name": "/etc/app.ini",
                                                   "sections": sections}, True))[0]
    assert (ret["result"], ret["changes"]) == (None, {})
    first, second = twice(box, "ini.options_present", name="/etc/app.ini", sections=sections)
    assert first["changes"] == {"main": {"port": {"before": None, "after": "8080"}},
                                "extra": {"before": None, "after": {"debug": "True"}}}
    assert (second["changes"], second["comment"]) == ({}, "No anomaly detected")
    assert text(box, "/etc/app.ini") == "[main]\nport = 8080\nname = x\n\n[extra]\ndebug = True\n"

    first, second = twice(box, "alias.present", name="root", target="admin@example.com")
    assert (first["changes"], second["changes"]) == ({"alias": "root"}, {})
    assert "root: admin@example.com\n" in text(box, "/etc/aliases")

    # /etc/hosts is a file Docker bind-mounts: it is rewritten in place
    first, second = twice(box, "host.only", name="10.9.8.7", hostnames=["app.example", "app"])
    assert first["changes"] == {"10.9.8.7": {"old": "", "new": "app.example app"}}
    assert (second["result"], second["changes"]) == (True, {})
    assert "10.9.8.7\t\tapp.example app\n" in text(box, "/etc/hosts")


def test_environ_is_seen_by_later_commands(container: Container) -> None:
    rets = run_states(
        container,
        ("environ.setenv", {"name": "SALINE_PROXY", "value": "http://proxy:3128"}),
        ("environ.setenv", {"name": "SALINE_PROXY", "value": "http://proxy:3128"}),
        ("cmd.run", {"name": "echo $SALINE_PROXY"}))
    assert rets[0]["changes"] == {"SALINE_PROXY": "http://proxy:3128"}
    assert (rets[1]["changes"], rets[1]["comment"]) == (
        {}, "Environ values were already set with the correct values")
    assert rets[2]["changes"]["stdout"] == "http://proxy:3128"


def test_group_user_pending_then_ssh_key(container: Container) -> None:
    box = container
    key = base64.b64encode(b"\x00\x00\x00\x0bssh-ed25519\x00\x00\x00 " + bytes(32)).decode()
    plan = [("group.present", {"name": "deployers", "gid": 3300}),
            ("user.present", {"name": "deploy", "groups": ["deployers"],
                              "gid": "deployers"})]
    rets = run_states(box, *((fun, kwargs, True) for fun, kwargs in plan))
    assert (rets[0]["result"], rets[0]["changes"], rets[0]["comment"]) == (
        None, {}, "Group deployers set to be added")
    assert (rets[1]["result"], rets[1]["comment"]) == (
        None, "User deploy set to be added (pending groups: deployers)")
    assert box.sh("getent group deployers").returncode == 2
    rets = run_states(box, *plan)
    assert [r["result"] for r in rets] == [True, True]
    assert [r["changes"] for r in run_states(box, *plan)] == [{}, {}]

    args = {"name": key, "user": "deploy", "enc": "ed25519", "comment": "ci",
            "options": ["no-pty"]}
    first, second = twice(box, "ssh_auth.present", **args)
    assert first["changes"] == {key: "New"}
    assert (second["changes"], second["comment"]) == (
        {}, f"The authorized host key {key} is already present for user deploy")
    stat = box.sh("stat -c '%a %U' /home/deploy/.ssh /home/deploy/.ssh/authorized_keys")
    assert stat.stdout.split("\n")[:2] == ["700 deploy", "600 deploy"]
    assert text(box, "/home/deploy/.ssh/authorized_keys") == f"no-pty ssh-ed25519 {key} ci\n"
    first, second = twice(box, "ssh_auth.absent", name=key, user="deploy")
    assert (first["changes"], second["changes"]) == ({key: "Removed"}, {})


# A stand-in for systemctl where systemd is installed but not running: only
# mask/unmask, which work on unit-file links without a running systemd.
FAKE_SYSTEMCTL = r"""#!/bin/sh
[ "$1" = mask ] && shift && exec ln -sf /dev/null "/etc/systemd/system/$1"
[ "$1" = unmask ] && shift && exec rm -f "/etc/systemd/system/$1"
exit 1
"""


def test_service_offline_mode_and_masks(container: Container) -> None:
    box = container
    script = shlex.quote(FAKE_SYSTEMCTL)
    assert box.sh(f"printf '%s' {script} >/usr/bin/systemctl && chmod 755 /usr/bin/systemctl "
                  "&& mkdir -p /etc/systemd/system").returncode == 0
    ret = run_states(box, ("service.running", {"name": "anything", "enable": True}))[0]
    assert (ret["result"], ret["changes"], ret["comment"]) == (
        True, {}, "Running in OFFLINE mode. Nothing to do")
    first, second = twice(box, "service.masked", name="telnetd")
    assert first["changes"] == {"masked": {"old": False, "new": True}}
    assert (second["changes"], second["comment"]) == ({}, "Service telnetd is already masked")
    assert box.sh("readlink /etc/systemd/system/telnetd.service").stdout == "/dev/null\n"
    first, second = twice(box, "service.unmasked", name="telnetd")
    assert first["changes"] == {"masked": {"old": True, "new": False}}
    assert second["comment"] == "Service telnetd was already unmasked"


def test_timezone_system(container: Container) -> None:
    box = container
    ret = run_states(box, ("timezone.system", {"name": "Europe/Paris"}, True))[0]
    assert (ret["result"], ret["comment"]) == (None, "Timezone Europe/Paris needs to be set")
    first, second = twice(box, "timezone.system", name="Europe/Paris")
    assert (first["result"], first["changes"]) == (True, {"timezone": "Europe/Paris"})
    assert (second["result"], second["changes"]) == (True, {})
    assert text(box, "/etc/timezone") == "Europe/Paris\n"
    assert box.sh("readlink /etc/localtime").stdout == "/usr/share/zoneinfo/Europe/Paris\n"
    assert box.sh("date +%Z").stdout.strip() in ("CET", "CEST")


def test_sysctl_present_in_a_privileged_container(privileged: Callable[[], Container]) -> None:
    box = privileged()
    first, second = twice(box, "sysctl.present", name="vm.swappiness", value=13)
    assert first["changes"] == {"vm.swappiness": 13}
    assert (second["changes"], second["comment"]) == (
        {}, "Sysctl value vm.swappiness = 13 is already set")
    assert text(box, "/proc/sys/vm/swappiness") == "13\n"
    assert "vm.swappiness = 13\n" in text(box, "/etc/sysctl.conf")
