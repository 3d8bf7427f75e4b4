"""A master on the host and minions in containers: grain targeting and reconnection.

The master is a normal process of the test (tests.cluster.Cluster) listening
on the Docker bridge gateway, where containers started with
``--add-host salt:<gateway>`` find it. The helpers here are shared with
test_image_build.py.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.cluster import Cluster, wait_for
from tests.docker.conftest import LABEL, Container, docker

START_TIMEOUT = 60


def bridge_gateway() -> str:
    """Where containers on the default bridge reach this host (as the builder finds it)."""
    import docker as sdk
    from master.imagebuild_docker import bridge_gateway as gateway

    client = sdk.from_env()
    try:
        return gateway(client)
    finally:
        client.close()


@pytest.fixture(scope="module")
def gateway() -> str:
    return bridge_gateway()


@pytest.fixture(scope="module")
def host_master(tmp_path_factory: pytest.TempPathFactory, minion_image: str,
                gateway: str) -> Iterator[Cluster]:
    """A master on the host, on the bridge gateway, with its own file roots dir."""
    base = tmp_path_factory.mktemp("hostmaster")
    roots = base / "formulas"
    roots.mkdir()
    cluster = Cluster(base, interface=gateway, file_roots={"base": [str(roots)]},
                      timeout=10)
    cluster.start_master()
    try:
        yield cluster
    finally:
        cluster.close()


def minion_config(cluster: Cluster, minion_id: str, **extra: Any) -> str:
    conf = {"id": minion_id, "master": "salt", "master_port": cluster.ret_port,
            "publish_port": cluster.pub_port, "acceptance_wait_time": 2,
            "heartbeat_interval": 2, **extra}
    return yaml.safe_dump(conf)


@contextlib.contextmanager
def minion_container(image: str, cluster: Cluster, gateway: str, minion_id: str,
                     tmp: Path, *run_args: str) -> Iterator[Container]:
    """`docker run` of the minion image, as a user would: its config names the test master."""
    name = f"saline-test-{uuid.uuid4().hex[:12]}"
    conf = tmp / f"{name}.minion"
    conf.write_text(minion_config(cluster, minion_id))
    docker("create", "--init", "--name", name, "--label", LABEL, "--add-host",
           f"salt:{gateway}", *run_args, image, timeout=120, check=True)
    try:
        docker("cp", str(conf), f"{name}:/etc/saline/minion", timeout=60, check=True)
        docker("start", name, timeout=120, check=True)
        yield Container(name)
    finally:
        docker("rm", "--force", "--volumes", name, timeout=120)


MinionFactory = Callable[[str], Container]


@pytest.fixture
def minion_factory(minion_image: str, host_master: Cluster, gateway: str,
                   tmp_path: Path) -> Iterator[MinionFactory]:
    """Start minion containers of the test master; their keys are deleted afterwards."""
    ids: list[str] = []
    with contextlib.ExitStack() as stack:
        def start(minion_id: str) -> Container:
            ids.append(minion_id)
            return stack.enter_context(
                minion_container(minion_image, host_master, gateway, minion_id, tmp_path))

        yield start
    if ids:
        host_master.master_cmd("key", "delete", "-y", *ids)


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:6]}"


def accept(cluster: Cluster, *ids: str) -> None:
    cluster.wait_pending(*ids, timeout=START_TIMEOUT)
    proc = cluster.master_cmd("key", "accept", "-y", *ids)
    assert proc.returncode == 0, proc.stderr


def test_grain_target_reaches_the_containers_only(
        host_master: Cluster, gateway: str, minion_factory: MinionFactory) -> None:
    ids = [unique(f"c{n}") for n in (1, 2, 3)]
    for minion_id in ids:
        minion_factory(minion_id)
    # The test may itself run in a container; a static grain makes the host
    # minion look like the physical host it stands for.
    host_id = unique("host")
    host_master.add_minion(host_id, master=gateway, grains={"virtual": "physical"})
    try:
        accept(host_master, *ids, host_id)
        host_master.wait_answer([*ids, host_id], timeout=START_TIMEOUT)
        data, proc = host_master.run_json("-t", "15", "-G", "virtual:container", "test.ping")
        assert proc.returncode == 0, proc.stderr
        assert data == dict.fromkeys(ids, True)
        grains, _ = host_master.run_json("-t", "15", "-L", ",".join(ids), "grains.item",
                                         "virtual", "virtual_subtype")
        assert all(grains[m] == {"virtual": "container", "virtual_subtype": "Docker"}
                   for m in ids), grains
    finally:
        host_master.stop_minion(host_id)
        host_master.master_cmd("key", "delete", "-y", host_id)


def test_a_restarted_container_reconnects_by_itself(
        host_master: Cluster, minion_factory: MinionFactory) -> None:
    minion_id = unique("restart")
    box = minion_factory(minion_id)
    accept(host_master, minion_id)
    host_master.wait_answer([minion_id], timeout=START_TIMEOUT)

    docker("stop", box.name, timeout=60, check=True)
    wait_for(lambda: not _answers(host_master, minion_id), 20, 0.5, "the minion to go away")
    docker("start", box.name, timeout=60, check=True)
    host_master.wait_answer([minion_id], timeout=START_TIMEOUT)
    assert host_master.keys()["accepted"].count(minion_id) == 1
    assert minion_id not in host_master.keys()["pending"]


def _answers(cluster: Cluster, minion_id: str) -> bool:
    data, _ = cluster.run_json("-t", "2", "-L", minion_id, "test.ping")
    return data.get(minion_id) is True
