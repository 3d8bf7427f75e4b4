"""The example formulas (formulas/, pillar/) applied for real, masterless, in fresh containers.

Each test copies formulas/ to /srv/salt and pillar/ to /srv/pillar in a
container without network, points the minion there (``file_client: local``)
and runs ``minion call --local state.apply SLS --out json`` as a user would.
Every state must succeed, a second run must change nothing, and a pillar
change must be carried out (the web server restarts on its new port).
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.docker.conftest import Container

ROOT = Path(__file__).resolve().parents[2]
FORMULAS = ROOT / "formulas"
PILLAR = ROOT / "pillar"
BUILD_DEB = ROOT / "docker" / "build-saline-httpd-deb.sh"
DEB = FORMULAS / "web" / "files" / "saline-httpd_1.0_all.deb"
MINION = "/opt/saline/bin/minion"

MINION_CONFIG = """\
id: {id}
file_client: local
file_roots:
  base: [/srv/salt]
pillar_roots:
  base: [/srv/pillar]
"""

Results = dict[str, dict[str, Any]]


# --- helpers ---------------------------------------------------------------------------------


def write(box: Container, path: str, text: str) -> None:
    proc = box.sh(f"printf %s {shlex.quote(text)} > {shlex.quote(path)}")
    assert proc.returncode == 0, proc.stderr


def sh_out(box: Container, cmd: str) -> str:
    proc = box.sh(cmd)
    assert proc.returncode == 0, f"{cmd}: {proc.stderr.strip()}"
    return proc.stdout


def masterless(factory: Callable[..., Container], minion_id: str) -> Container:
    """A container without network whose minion serves itself the repo's formulas and pillar."""
    box = factory("--network", "none")
    box.put(FORMULAS, "/srv/salt")
    box.put(PILLAR, "/srv/pillar")
    write(box, "/etc/saline/minion", MINION_CONFIG.format(id=minion_id))
    return box


def run(box: Container, fun: str, *args: str) -> tuple[int, Any]:
    """``minion call --local FUN ARGS --out json``: (exit code, the return value)."""
    cmd = shlex.join([MINION, "call", "--local", fun, *args, "--out", "json"])
    proc = box.sh(cmd, timeout=300)
    try:
        value = json.loads(proc.stdout)["local"]
    except (ValueError, KeyError, TypeError):
        raise AssertionError(f"{cmd} printed no JSON (exit {proc.returncode}):\n"
                             f"stdout: {proc.stdout}\nstderr: {proc.stderr}") from None
    return proc.returncode, value


def state_id(tag: str) -> str:
    """The ID of a result's tag ``mod_|-id_|-name_|-fun``."""
    return tag.split("_|-")[1]


def apply(box: Container, sls: str = "") -> Results:
    """Apply `sls` (the highstate when empty); fail unless every state succeeded."""
    code, results = run(box, "state.apply", *([sls] if sls else []))
    assert isinstance(results, dict), f"state.apply {sls} did not compile: {results}"
    failed = {tag: r["comment"] for tag, r in results.items() if r["result"] is not True}
    assert not failed, f"failed states: {json.dumps(failed, indent=2)}"
    assert code == 0
    return dict(results)


def changed(results: Results) -> dict[str, dict[str, Any]]:
    """``{"id name": changes}`` of the states that changed something."""
    return {f"{state_id(tag)} {r['name']}": r["changes"]
            for tag, r in results.items() if r["changes"]}


def by_id(results: Results, sid: str) -> dict[str, Any]:
    found = [r for tag, r in results.items() if state_id(tag) == sid]
    assert len(found) == 1, f"{sid}: {len(found)} results"
    return found[0]


def assert_clean(box: Container, sls: str = "") -> Results:
    """Apply again: nothing may change."""
    results = apply(box, sls)
    assert changed(results) == {}
    return results


def dry_run(box: Container, sls: str) -> dict[str, Any]:
    """``state.apply SLS test=True``: ``{id: result}`` of the states that would change."""
    code, results = run(box, "state.apply", sls, "test=True")
    assert code == 0 and isinstance(results, dict), results
    assert all(r["result"] is not False for r in results.values()), results
    return {r["__id__"]: r["result"] for r in results.values()
            if r["result"] is not True or r["changes"]}


def fetch(box: Container, port: int) -> tuple[int, str]:
    """GET http://127.0.0.1:PORT/ inside the container: (status, body); status 0: refused."""
    script = ("import sys, urllib.request\n"
              "try:\n"
              "    r = urllib.request.urlopen(f'http://127.0.0.1:{sys.argv[1]}/', timeout=10)\n"
              "except OSError:\n"
              "    print(0); sys.exit()\n"
              "print(r.status); print(r.read().decode(), end='')\n")
    out = sh_out(box, f"python3 -c {shlex.quote(script)} {port}")
    status, _, body = out.partition("\n")
    return int(status), body


def pid_of(box: Container, service: str) -> str:
    return sh_out(box, f"cat /run/{service}.pid").strip()


def getent(box: Container, db: str, key: str) -> str:
    return box.sh(f"getent {db} {shlex.quote(key)}").stdout.strip()


# --- the saline-httpd package ----------------------------------------------------------------


def test_committed_deb_is_what_the_build_script_builds(container: Container) -> None:
    box = container
    box.put(BUILD_DEB, "/tmp/build.sh")
    box.put(DEB, "/tmp/committed.deb")
    rebuilt = sh_out(box, "bash /tmp/build.sh /tmp/rebuilt").strip()
    assert rebuilt == "/tmp/rebuilt/saline-httpd_1.0_all.deb"
    for query in ("dpkg-deb --field {}", "dpkg-deb --contents {}"):
        assert (sh_out(box, query.format("/tmp/committed.deb"))
                == sh_out(box, query.format(rebuilt))), query
    # Every file, control files and maintainer scripts included, byte for byte.
    proc = box.sh(f"dpkg-deb --raw-extract /tmp/committed.deb /tmp/a && "
                  f"dpkg-deb --raw-extract {rebuilt} /tmp/b && diff -r /tmp/a /tmp/b")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    fields = sh_out(box, "dpkg-deb --field /tmp/committed.deb Package Version Architecture")
    assert fields.splitlines() == [
        "Package: saline-httpd", "Version: 1.0", "Architecture: all"]
    listing = sh_out(box, "dpkg-deb --contents /tmp/committed.deb")
    assert [line.split()[-1] for line in listing.splitlines()] == [
        "./", "./etc/", "./etc/init.d/", "./etc/init.d/saline-httpd", "./etc/saline-httpd.conf"]
    assert "-rwxr-xr-x root/root" in listing


# --- web -------------------------------------------------------------------------------------

WEB_IDS = {"web-group", "web-user", "web-root", "web-tree", "web-index", "web-site-settings",
           "web-package", "web-config", "web-service", "web-check"}


@pytest.fixture
def web(container_factory: Callable[..., Container]) -> Container:
    return masterless(container_factory, "web01")


def test_web_serves_the_pillar_greeting_and_follows_pillar_changes(web: Container) -> None:
    box = web
    first = apply(box, "web")
    assert {state_id(tag) for tag in first} == WEB_IDS
    assert {key.split()[0] for key in changed(first)} == WEB_IDS
    assert by_id(first, "web-package")["changes"] == {"saline-httpd": {"old": "", "new": "1.0"}}
    assert by_id(first, "web-check")["changes"]["retcode"] == 0

    status, page = fetch(box, 8080)
    assert status == 200
    assert "<h1>Hello from saline</h1>" in page and "<title>www.example.test</title>" in page
    assert getent(box, "passwd", "www").endswith(":Web server:/srv/www:/usr/sbin/nologin")
    pid = pid_of(box, "saline-httpd")
    assert sh_out(box, f"stat -c %U /proc/{pid}") == "www\n"  # not root
    assert sh_out(box, "stat -c '%U:%G %a %n' /srv/www /srv/www/html /srv/www/conf "
                       "/srv/www/html/index.html").splitlines() == [
        "root:www 755 /srv/www", "root:www 755 /srv/www/html", "root:www 755 /srv/www/conf",
        "root:www 644 /srv/www/html/index.html"]
    assert "PORT=8080\n" in sh_out(box, "cat /etc/saline-httpd.conf")
    assert json.loads(sh_out(box, "cat /srv/www/conf/site.json")) == {
        "server_name": "www.example.test", "port": 8080, "greeting": "Hello from saline"}
    assert sh_out(box, "ls /etc/rc2.d").split() == ["S01saline-httpd"]  # enabled

    assert dry_run(box, "web") == {}
    again = assert_clean(box, "web")
    assert by_id(again, "web-check")["comment"] == (
        "State was not run because none of the onchanges reqs changed")
    assert pid_of(box, "saline-httpd") == pid

    write(box, "/srv/pillar/web.sls", "web:\n  port: 8081\n  server_name: www.example.test\n"
                                      "  greeting: 'Bonjour & <bienvenue>'\n")
    assert dry_run(box, "web") == {sid: None for sid in (
        "web-index", "web-site-settings", "web-config", "web-service", "web-check")}
    assert "PORT=8080\n" in sh_out(box, "cat /etc/saline-httpd.conf")  # test=True changed nothing
    moved = apply(box, "web")
    assert {key.split()[0] for key in changed(moved)} == {
        "web-index", "web-site-settings", "web-config", "web-service", "web-check"}
    assert by_id(moved, "web-service")["comment"] == "Service restarted"
    assert pid_of(box, "saline-httpd") != pid
    status, page = fetch(box, 8081)
    assert status == 200 and "<h1>Bonjour &amp; &lt;bienvenue&gt;</h1>" in page
    assert fetch(box, 8080) == (0, "")  # the old port is closed
    assert_clean(box, "web")


def test_highstate_of_a_web_server(web: Container) -> None:
    box = web
    assert run(box, "state.show_top") == (0, {"base": ["users", "hardening", "web"]})
    first = apply(box)
    assert {r["__sls__"] for r in first.values()} == {"users", "hardening", "web"}
    assert fetch(box, 8080)[0] == 200
    assert getent(box, "passwd", "alice")
    assert_clean(box)


# --- users -----------------------------------------------------------------------------------


def test_users_from_pillar_then_a_pillar_change(container_factory: Callable[..., Container]
                                                ) -> None:
    box = masterless(container_factory, "db01")
    assert run(box, "state.show_top") == (0, {"base": ["users", "hardening"]})
    sh_out(box, "useradd --create-home mallory && touch /home/mallory/notes")

    first = apply(box, "users")
    assert set(changed(first)) == {
        "users-group-developers developers", "users-group-ops ops", "users-alice alice",
        "users-alice-home /home/alice", "users-bob bob", "users-bob-home /srv/home/bob",
        "users-absent-mallory mallory"}
    assert getent(box, "passwd", "alice") == "alice:x:2001:2001:Alice Liddell:/home/alice:/bin/bash"
    assert getent(box, "passwd", "bob") == "bob:x:2002:2002:Bob Builder:/srv/home/bob:/bin/sh"
    assert getent(box, "group", "developers").split(":")[3] == "alice,bob"
    assert getent(box, "group", "ops") == "ops:x:2500:alice"
    assert getent(box, "passwd", "mallory") == ""
    assert box.sh("test -e /home/mallory").returncode == 1  # purged
    assert sh_out(box, "stat -c '%U:%G %a' /home/alice /srv/home/bob").split() == [
        "alice:alice", "750", "bob:bob", "750"]
    assert_clean(box, "users")

    write(box, "/srv/pillar/users.sls", """\
groups: [developers, {ops: 2500}]
users:
  bob: {uid: 2002, fullname: Bob Builder, shell: /bin/bash, home: /srv/home/bob, groups: [ops]}
  carol: {uid: 2003, fullname: Carol Shaw, groups: [developers]}
users_absent: [mallory, alice]
""")
    second = apply(box, "users")
    assert set(changed(second)) == {
        "users-bob bob", "users-carol carol", "users-carol-home /home/carol",
        "users-absent-alice alice"}
    assert by_id(second, "users-bob")["changes"] == {"shell": "/bin/bash", "groups": ["bob", "ops"]}
    assert getent(box, "passwd", "alice") == ""
    assert getent(box, "passwd", "bob").endswith(":/srv/home/bob:/bin/bash")
    assert sh_out(box, "id -nG bob").split() == ["bob", "ops"]
    assert getent(box, "passwd", "carol").startswith("carol:x:2003:2003:Carol Shaw:/home/carol:")
    assert getent(box, "group", "developers").split(":")[3] == "carol"
    assert_clean(box, "users")


def test_a_user_both_present_and_absent_fails_clearly(container_factory: Callable[..., Container]
                                                      ) -> None:
    box = masterless(container_factory, "db01")
    write(box, "/srv/pillar/users.sls", "users: {dave: {uid: 2010}}\nusers_absent: [dave]\n")
    code, results = run(box, "state.apply", "users")
    assert code == 1
    bad = {state_id(tag): r for tag, r in results.items() if r["result"] is not True}
    assert list(bad) == ["users-absent-dave"]
    assert bad["users-absent-dave"]["name"] == (
        "dave is in both pillar users and users_absent; remove it from one")
    assert getent(box, "passwd", "dave").startswith("dave:x:2010:")


# --- hardening -------------------------------------------------------------------------------

DROPIN = "/etc/ssh/sshd_config.d/saline.conf"
BANNER = "Authorized access only. Activity on this system is monitored and logged."


def test_hardening_edits_files_and_restarts_the_watching_service(
        container_factory: Callable[..., Container]) -> None:
    box = masterless(container_factory, "db01")
    # A host that already has its own sshd drop-in, with two settings we fix.
    sh_out(box, f"mkdir -p /etc/ssh/sshd_config.d && printf '%s\\n' 'UseDNS no' "
                f"'PasswordAuthentication yes' '  PermitRootLogin prohibit-password' "
                f"'#PermitRootLogin yes' > {DROPIN}")

    first = apply(box, "hardening")
    assert by_id(first, "hardening-sysctl-load")["comment"] == "onlyif condition is false"
    assert by_id(first, "hardening-service")["changes"] == {"saline-guard": True}
    defs = sh_out(box, "grep -E '^[[:space:]]*PASS_MAX_DAYS' /etc/login.defs")
    assert defs == "PASS_MAX_DAYS\t90\n"
    assert sh_out(box, "cat /etc/issue.net") == f"Debian GNU/Linux 12\n{BANNER}\n"
    assert sh_out(box, "cat /etc/sysctl.d/99-saline.conf") == (
        "# Managed by saline (hardening formula); local changes are overwritten.\n"
        "kernel.dmesg_restrict = 1\n"
        "kernel.kptr_restrict = 2\n"
        "net.ipv4.conf.all.accept_redirects = 0\n"
        "net.ipv4.conf.all.rp_filter = 1\n"
        "net.ipv4.tcp_syncookies = 1\n")
    assert sh_out(box, f"cat {DROPIN}") == (
        "UseDNS no\n"
        "#PermitRootLogin yes\n"
        "# BEGIN saline hardening (managed: do not edit)\n"
        "MaxAuthTries 3\n"
        "PasswordAuthentication no\n"
        "PermitRootLogin no\n"
        "X11Forwarding no\n"
        "# END saline hardening\n")
    assert sh_out(box, f"stat -c '%U:%G %a' {DROPIN}") == "root:root 600\n"
    assert box.sh(f"ls {DROPIN}.bak").returncode != 0  # no backup left next to it
    assert sh_out(box, "service saline-guard status").startswith("saline-guard is running")
    assert sh_out(box, "ls /etc/rc2.d").split() == ["S01saline-guard"]
    pid = pid_of(box, "saline-guard")

    assert_clean(box, "hardening")
    assert pid_of(box, "saline-guard") == pid

    write(box, "/srv/pillar/hardening.sls", "hardening:\n  pass_max_days: 60\n"
                                            f"  banner: {BANNER}\n")
    tightened = apply(box, "hardening")
    assert set(changed(tightened)) == {"hardening-login-defs /etc/login.defs",
                                       "hardening-service saline-guard"}
    assert by_id(tightened, "hardening-service")["comment"] == "Service restarted"
    assert pid_of(box, "saline-guard") != pid
    assert sh_out(box, "grep -c '^PASS_MAX_DAYS\t60$' /etc/login.defs") == "1\n"
    loaded = sh_out(box, "cat /run/saline-guard.loaded")  # what the restarted service read
    assert sh_out(box, "sha256sum /etc/login.defs") in loaded
    assert_clean(box, "hardening")
