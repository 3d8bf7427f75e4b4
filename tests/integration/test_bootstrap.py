"""`master bootstrap` against a real sshd on 127.0.0.1 (tests/sshd.py) and a real master.

The "host" is this machine through the loopback sshd; saline goes under a
temp dir (the hidden --host-root) instead of /, so the minion runs as a
plain daemon (`minion start -d`) and is stopped at the end. One install
(a venv and pip from the master's wheels) serves the whole story: refused
while the master holds another key for the id, bootstrapped once that key
is deleted, and nothing changed the second time.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from common.crypto import KeyPair, PublicKeys
from master.keys import KeyStore
from master.ssh import wheelhouse
from tests import sshd
from tests.cluster import Cluster, free_port

pytestmark = pytest.mark.skipif(bool(sshd.available()), reason=sshd.available() or "ok")
TIMEOUT = 300


@pytest.fixture
def cluster(tmp_path: Path, sshd_server: sshd.Sshd) -> Iterator[Cluster]:
    cl = Cluster(tmp_path / "cl")
    lines = [f"b1: {{host: 127.0.0.1, port: {sshd_server.port}, user: {sshd_server.user}, "
             f"priv: {sshd_server.client_key}, minion_opts: {{log_level: debug}}}}",
             f"down: {{host: 127.0.0.1, port: {free_port()}, timeout: 5}}"]
    (cl.master_dir / "roster").write_text("\n".join(lines) + "\n")
    sshd_server.known_hosts(cl.master_dir / "known_hosts")
    try:
        yield cl
    finally:
        cl.close()


@pytest.fixture
def host_root(tmp_path: Path) -> Iterator[Path]:
    root = tmp_path / "hostroot"
    root.mkdir()
    yield root
    minion = root / "opt" / "saline" / "bin" / "minion"
    if minion.exists():
        subprocess.run([str(minion), "-c", str(root / "etc" / "saline"), "stop"],
                       capture_output=True, timeout=30)


def bootstrap(cl: Cluster, root: Path, *words: str) -> subprocess.CompletedProcess[str]:
    # saline's wheel made once per test: sources edited between two runs
    # would rightly make the next one install again.
    wheels = cl.base / "wheelhouse"
    if not wheels.is_dir():
        wheels.mkdir()
        wheel = wheelhouse.saline_wheel(cl.base / "wheelcache")
        (wheels / wheel.name).write_bytes(wheel.read_bytes())
    return cl.master_cmd("bootstrap", "--known-hosts", str(cl.master_dir / "known_hosts"),
                         "--host-root", str(root), "--wait", "60", "--wheelhouse", str(wheels),
                         *words, timeout=TIMEOUT)


@pytest.mark.timeout(2 * TIMEOUT)
def test_bootstrap_refuses_a_foreign_key_then_installs_then_changes_nothing(
        cluster: Cluster, host_root: Path) -> None:
    cluster.start_master()
    store = KeyStore(cluster.master_dir / "pki")
    foreign = KeyPair.generate().public
    store.backend.add("pending", "b1", foreign, replace=False)

    first = bootstrap(cluster, host_root, "-L", "b1,down")
    assert first.returncode == 1
    lines = first.stderr.strip().splitlines()
    b1 = [ln for ln in lines if ln.startswith("b1: ERROR:")]
    assert len(b1) == 1 and "pending key" in b1[0] and foreign.fingerprint() in b1[0], lines
    assert "installed saline" in b1[0]  # what was done before the refusal is said
    down = [ln for ln in lines if ln.startswith("down: ERROR:")]
    assert len(down) == 1 and "Connection refused" in down[0], lines
    assert store.read("pending", "b1") == foreign and store.read("accepted", "b1") is None

    assert cluster.master_cmd("key", "delete", "b1", "-y").returncode == 0
    second = bootstrap(cluster, host_root, "b1")
    assert second.returncode == 0, second.stderr
    host_pub = PublicKeys.loads((host_root / "etc/saline/pki/minion.pub").read_text())
    assert second.stdout.strip() == (f"b1: accepted key {host_pub.fingerprint()}; started "
                                     "the minion (daemon); answers test.ping")
    assert store.read("accepted", "b1") == host_pub
    conf = (host_root / "etc/saline/minion").read_text()
    assert f"master_port: {cluster.ret_port}" in conf and "log_level: debug" in conf
    assert (host_root / "etc/saline/minion").stat().st_mode & 0o777 == 0o600
    assert (host_root / "usr/local/bin/minion").resolve() == (
        host_root / "opt/saline/bin/minion").resolve()
    data, ran = cluster.run_json("b1", "test.ping")
    assert data == {"b1": True}, ran.stderr

    third = bootstrap(cluster, host_root, "b1")
    assert third.returncode == 0, third.stderr
    assert third.stdout.startswith("b1: nothing changed") and "answers test.ping" in third.stdout


def test_bootstrap_needs_the_running_master(cluster: Cluster, host_root: Path) -> None:
    proc = bootstrap(cluster, host_root, "b1")
    assert proc.returncode == 1
    assert proc.stderr.count("\n") == 1 and "master is not running" in proc.stderr
    assert not any(host_root.iterdir())  # nothing was done on the host


def test_bootstrap_bad_usage_is_one_line(cluster: Cluster) -> None:
    proc = cluster.master_cmd("bootstrap", "nomatch*", "--known-hosts",
                              str(cluster.master_dir / "known_hosts"))
    assert proc.returncode == 1 and "No hosts in the roster matched" in proc.stderr
    proc = cluster.master_cmd("bootstrap", "b1", "--known-hosts", "/nonexistent/kh")
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1, proc.stderr


def test_cli_lists_bootstrap() -> None:
    proc = subprocess.run([sys.executable, "-m", "master", "bootstrap", "--help"],
                          capture_output=True, text=True, timeout=30)
    assert proc.returncode == 0 and "--wheelhouse" in proc.stdout
