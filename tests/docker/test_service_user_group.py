"""service, user and group for real, inside a fresh Debian container.

Containers have no systemd, so service goes through its SysV fallback: a tiny
init script (`demo`, a background `sleep` with a pidfile) is installed into
/etc/init.d. Users and groups are checked with `getent` inside the container.
"""

from __future__ import annotations

import shlex

from tests.docker.conftest import Container

DEMO_SCRIPT = r"""#!/bin/sh
### BEGIN INIT INFO
# Provides:          demo
# Required-Start:
# Required-Stop:
# Default-Start:     2 3 4 5
# Default-Stop:      0 1 6
# Short-Description: saline's test service
### END INIT INFO
PIDFILE=/run/demo.pid
running() { [ -f "$PIDFILE" ] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; }
case "$1" in
    start)
        running && exit 0
        sleep 86400 </dev/null >/dev/null 2>&1 &
        echo $! >"$PIDFILE"
        ;;
    stop)
        running && kill "$(cat "$PIDFILE")"
        rm -f "$PIDFILE"
        ;;
    restart)
        "$0" stop && "$0" start
        ;;
    reload)
        running || exit 7
        echo reloaded >>/run/demo.log
        ;;
    status)
        running && { echo "demo is running"; exit 0; }
        echo "demo is not running"
        exit 3
        ;;
    *)
        echo "Usage: $0 {start|stop|restart|reload|status}" >&2
        exit 2
        ;;
esac
exit 0
"""


def install_demo(container: Container) -> None:
    script = shlex.quote(DEMO_SCRIPT)
    proc = container.sh(f"printf '%s' {script} >/etc/init.d/demo && chmod 755 /etc/init.d/demo")
    assert proc.returncode == 0, proc.stderr


def demo_pid(container: Container) -> str:
    return container.sh("cat /run/demo.pid 2>/dev/null").stdout.strip()


def alive(container: Container, pid: str) -> bool:
    return container.sh(f"kill -0 {pid} 2>/dev/null").returncode == 0


def test_sysv_service_start_status_restart_reload_stop(container: Container) -> None:
    assert container.sh("test -d /run/systemd/system").returncode != 0  # the fallback is used
    install_demo(container)
    assert container.call("service.available", "demo") == (0, True)
    assert container.call("service.missing", "demo") == (0, False)
    assert container.call("service.status", "demo") == (0, False)

    assert container.call("service.start", "demo") == (0, True)
    first = demo_pid(container)
    assert first and alive(container, first)
    assert container.call("service.status", "demo") == (0, True)
    assert container.call("service.status", "dem*") == (0, {"demo": True})
    assert container.call("service.status", "demo", "sig=^sleep 86400$") == (0, True)
    code, running = container.call("service.get_running")
    assert code == 0 and "demo" in running

    assert container.call("service.restart", "demo") == (0, True)
    second = demo_pid(container)
    assert second and second != first and alive(container, second)

    assert container.call("service.reload", "demo") == (0, True)
    assert container.sh("cat /run/demo.log").stdout == "reloaded\n"

    assert container.call("service.stop", "demo") == (0, True)
    assert container.call("service.status", "demo") == (0, False)
    assert container.call("service.status", "demo", "sig=^sleep 86400$") == (0, False)
    assert container.call("service.reload", "demo") == (1, False)  # the script exits 7


def test_sysv_service_enable_disable(container: Container) -> None:
    install_demo(container)
    code, everything = container.call("service.get_all")
    assert code == 0 and "demo" in everything
    assert container.call("service.enabled", "demo") == (0, False)
    assert container.call("service.disabled", "demo") == (0, True)

    assert container.call("service.enable", "demo") == (0, True)
    links = container.sh("ls /etc/rc2.d /etc/rc5.d /etc/rc0.d").stdout.split()
    assert "S01demo" in links and "K01demo" in links
    assert container.call("service.enabled", "demo") == (0, True)
    code, enabled = container.call("service.get_enabled")
    assert code == 0 and "demo" in enabled

    assert container.call("service.disable", "demo") == (0, True)
    assert container.sh("ls /etc/rc[2-5].d | grep -c '^K01demo$'").stdout.strip() == "4"
    assert container.sh("ls /etc/rc[2-5].d | grep -c '^S..demo$'").stdout.strip() == "0"
    assert container.call("service.enabled", "demo") == (0, False)
    assert container.call("service.disable", "demo") == (0, True)  # already disabled

    assert container.call("service.enable", "demo") == (0, True)  # toggles K back to S
    assert container.call("service.enabled", "demo") == (0, True)


def test_service_that_does_not_exist(container: Container) -> None:
    for fun in ("service.start", "service.status", "service.enable"):
        assert container.call(fun, "nope") == (
            1, "ERROR: service 'nope' not found (/etc/init.d)"), fun
    assert container.call("service.available", "nope") == (0, False)


def getent(container: Container, db: str, key: str) -> str:
    return container.sh(f"getent {db} {shlex.quote(key)}").stdout.strip()


def test_user_add_modify_delete(container: Container) -> None:
    assert container.call("group.add", "deployers", "gid=2500") == (0, True)
    assert container.call("user.add", "deploy", "uid=2001", "shell=/bin/bash",
                          "fullname=Deploy Bot", "groups=deployers,users") == (0, True)
    assert getent(container, "passwd", "deploy") == (
        "deploy:x:2001:2001:Deploy Bot:/home/deploy:/bin/bash")
    assert container.sh("test -d /home/deploy").returncode == 0
    code, info = container.call("user.info", "deploy")
    assert code == 0
    assert {k: info[k] for k in ("name", "uid", "gid", "home", "shell", "fullname")} == {
        "name": "deploy", "uid": 2001, "gid": 2001, "home": "/home/deploy",
        "shell": "/bin/bash", "fullname": "Deploy Bot"}
    assert info["groups"] == ["deploy", "deployers", "users"]
    assert container.call("user.list_groups", "deploy") == (0, ["deploy", "deployers", "users"])
    code, users = container.call("user.list_users")
    assert code == 0 and {"root", "deploy"} <= set(users)
    code, entries = container.call("user.getent")
    assert code == 0 and "deploy" in [e["name"] for e in entries]

    assert container.call("user.add", "deploy") == (1, False)  # already there

    assert container.call("user.chshell", "deploy", "/bin/sh") == (0, True)
    assert container.call("user.chfullname", "deploy", "Deploy Robot") == (0, True)
    assert container.call("user.chuid", "deploy", "2002") == (0, True)
    assert container.call("user.chgid", "deploy", "deployers") == (0, True)
    container.sh("touch /home/deploy/keep")
    assert container.call("user.chhome", "deploy", "/srv/deploy", "persist=True") == (0, True)
    assert getent(container, "passwd", "deploy") == (
        "deploy:x:2002:2500:Deploy Robot:/srv/deploy:/bin/sh")
    assert container.sh("test -f /srv/deploy/keep && test ! -e /home/deploy").returncode == 0

    assert container.call("user.chgroups", "deploy", "users") == (0, True)
    assert getent(container, "group", "users").endswith(":deploy")
    assert container.call("user.chgroups", "deploy", "sudo", "append=True") == (0, True)
    # The primary group is deployers now (chgid above), so the deploy group is gone from it.
    assert container.call("user.list_groups", "deploy") == (0, ["deployers", "sudo", "users"])
    assert container.call("user.chgroups", "deploy", "") == (0, True)
    assert container.call("user.list_groups", "deploy") == (0, ["deployers"])

    assert container.call("user.delete", "deploy", "remove=True") == (0, True)
    assert container.sh("getent passwd deploy").returncode == 2
    assert container.sh("test -e /srv/deploy").returncode != 0
    assert container.call("user.info", "deploy") == (0, {})
    assert container.call("user.chshell", "deploy", "/bin/sh") == (
        1, "ERROR: user 'deploy' does not exist")
    assert container.call("user.delete", "deploy") == (1, "ERROR: user 'deploy' does not exist")


def test_system_user_without_home(container: Container) -> None:
    assert container.call("user.add", "svc", "system=True", "createhome=False",
                          "home=/var/lib/svc", "shell=/usr/sbin/nologin") == (0, True)
    entry = getent(container, "passwd", "svc").split(":")
    assert int(entry[2]) < 1000 and entry[5:] == ["/var/lib/svc", "/usr/sbin/nologin"]
    assert container.sh("test -e /var/lib/svc").returncode != 0
    assert container.call("user.delete", "svc") == (0, True)


def test_group_add_members_delete(container: Container) -> None:
    for name in ("alice", "bob", "carol"):
        assert container.call("user.add", name, "createhome=False") == (0, True)
    assert container.call("group.add", "ops", "gid=2600") == (0, True)
    assert getent(container, "group", "ops") == "ops:x:2600:"
    assert container.call("group.add", "ops") == (1, False)  # already there
    assert container.call("group.add", "sysops", "system=True") == (0, True)
    assert int(getent(container, "group", "sysops").split(":")[2]) < 1000

    assert container.call("group.adduser", "ops", "alice") == (0, True)
    assert container.call("group.adduser", "ops", "bob") == (0, True)
    assert getent(container, "group", "ops") == "ops:x:2600:alice,bob"
    assert container.call("group.info", "ops") == (
        0, {"name": "ops", "passwd": "x", "gid": 2600, "members": ["alice", "bob"]})
    assert container.call("group.deluser", "ops", "alice") == (0, True)
    assert container.call("group.deluser", "ops", "alice") == (0, True)  # not a member now
    assert getent(container, "group", "ops") == "ops:x:2600:bob"

    assert container.call("group.members", "ops", "carol,alice") == (0, True)
    assert getent(container, "group", "ops") == "ops:x:2600:carol,alice"
    code, groups = container.call("group.getent")
    assert code == 0 and "ops" in [g["name"] for g in groups]
    assert container.call("group.adduser", "ops", "nobody-here") == (1, False)

    assert container.call("group.delete", "ops") == (0, True)
    assert container.sh("getent group ops").returncode == 2
    assert container.call("group.info", "ops") == (0, {})
    assert container.call("group.delete", "ops") == (1, "ERROR: group 'ops' does not exist")
