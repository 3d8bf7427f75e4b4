"""`master ssh` over ten sshd containers, and `master bootstrap` of three of them.

The containers come from the debootstrap base image with openssh-server
(tests/docker/sshhosts.py): python3 and nothing of saline. `master ssh`
runs here without a master daemon; for bootstrap a real master runs here on
the private network's gateway, where the new minions find it. Containers
and network are removed at the end.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from common.crypto import PublicKeys
from master.ssh import wheelhouse
from tests import sshd
from tests.cluster import Cluster
from tests.docker.conftest import BASE_IMAGE, BASE_TIMEOUT, DOCKER_DIR
from tests.docker.sshhosts import BUILD_TIMEOUT, SshHosts, ssh_image

HOSTS = 10
RUN_TIMEOUT = 180
BOOTSTRAP_TIMEOUT = 600


@pytest.fixture(scope="module")
def hosts(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[SshHosts, Path]]:
    """Ten sshd containers, a client key they let in, a roster and known_hosts for them."""
    subprocess.run(["bash", str(DOCKER_DIR / "base-image.sh"), BASE_IMAGE], check=True,
                   capture_output=True, timeout=BASE_TIMEOUT)
    image = ssh_image()
    base = tmp_path_factory.mktemp("sshhosts")
    key = base / "id_ed25519"
    pub = sshd.keygen(key)
    group = SshHosts(image, HOSTS, pub)
    try:
        cdir = base / "cfg"
        cdir.mkdir()
        (cdir / "master").write_text(f"cachedir: {base}/cache\n")
        group.roster(cdir / "roster", key)
        group.known_hosts(cdir / "known_hosts")
        yield group, cdir
    finally:
        group.close()


def master(cdir: Path, *words: str, timeout: float = RUN_TIMEOUT,
           ) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "master", "-c", str(cdir), *words,
                           "--known-hosts", str(cdir / "known_hosts")],
                          capture_output=True, text=True, timeout=timeout)


def frozen_wheelhouse(tmp: Path) -> Path:
    """A --wheelhouse holding saline's wheel as the sources are now."""
    folder = tmp / "wheelhouse"
    folder.mkdir()
    wheel = wheelhouse.saline_wheel(tmp / "wheelcache")
    (folder / wheel.name).write_bytes(wheel.read_bytes())
    return folder


@pytest.mark.timeout(BASE_TIMEOUT + BUILD_TIMEOUT + 2 * RUN_TIMEOUT)
def test_ssh_ping_and_cmd_run_on_ten_containers(hosts: tuple[SshHosts, Path]) -> None:
    group, cdir = hosts
    ping = master(cdir, "ssh", "*", "test.ping", "--out", "json", "--static")
    assert ping.returncode == 0, ping.stderr
    doc = json.loads(ping.stdout)
    assert {rid: doc[rid] for rid in group.names} == dict.fromkeys(group.names, True)
    assert all(doc["_timings"][rid]["upload"] > 0 for rid in group.names)  # first contact
    run = master(cdir, "ssh", "*", "cmd.run", "hostname", "--out", "json", "--static")
    assert run.returncode == 0, run.stderr
    doc = json.loads(run.stdout)
    assert {rid: doc[rid] for rid in group.names} == {rid: rid for rid in group.names}
    assert all(doc["_timings"][rid]["upload"] == 0.0 for rid in group.names)  # cached


@pytest.mark.timeout(BASE_TIMEOUT + BUILD_TIMEOUT + 3 * BOOTSTRAP_TIMEOUT)
def test_bootstrap_three_containers_to_accepted_minions(
        hosts: tuple[SshHosts, Path], tmp_path: Path) -> None:
    group, cdir = hosts
    gateway = group.gateway()
    cluster = Cluster(tmp_path / "cl", interface=gateway, timeout=10)
    for name in ("roster", "known_hosts"):
        (cluster.master_dir / name).write_bytes((cdir / name).read_bytes())
    three = ["h01", "h02", "h03"]
    # saline's wheel made once: sources edited between the two runs would
    # rightly make the second one install again.
    wheels = frozen_wheelhouse(tmp_path)
    try:
        cluster.start_master()
        first = master(cluster.master_dir, "bootstrap", "-L", ",".join(three),
                       "--wheelhouse", str(wheels), timeout=BOOTSTRAP_TIMEOUT)
        assert first.returncode == 0, first.stderr
        lines = first.stdout.strip().splitlines()
        assert len(lines) == 3 and all("installed saline" in ln and "accepted key" in ln
                                       and ln.endswith("answers test.ping") for ln in lines)
        assert sorted(cluster.keys()["accepted"]) == three
        data, ran = cluster.run_json("-L", ",".join(three), "test.ping")
        assert data == dict.fromkeys(three, True), ran.stderr
        for rid in three:  # the key the master accepted is the one on the host
            host_pub = PublicKeys.loads(group.sh(rid, "cat /etc/saline/pki/minion.pub").stdout)
            prints = cluster.master_cmd("key", "fingerprint", rid, "--out", "json")
            assert json.loads(prints.stdout)["accepted"][rid] == host_pub.fingerprint()
            assert f"{rid}: installed saline" in first.stdout
            assert host_pub.fingerprint() in first.stdout
        again = master(cluster.master_dir, "bootstrap", "-L", ",".join(three),
                       "--wheelhouse", str(wheels), timeout=BOOTSTRAP_TIMEOUT)
        assert again.returncode == 0, again.stderr
        assert [ln.split(":")[0] for ln in again.stdout.strip().splitlines()] == three
        assert all(": nothing changed" in ln for ln in again.stdout.strip().splitlines()), \
            again.stdout
    finally:
        cluster.close()
