"""Smoke tests of the minion image: it runs functions locally in a real container."""

from __future__ import annotations

import json

from tests.docker.conftest import Container, docker


def test_ping(container: Container) -> None:
    assert container.call("test.ping") == (0, True)


def test_grains_of_a_debian_container(container: Container) -> None:
    code, grains = container.call("grains.item", "os", "os_family", "virtual")
    assert code == 0
    assert grains == {"os": "Debian", "os_family": "Debian", "virtual": "container"}


def test_image_runs_a_call_without_a_master(minion_image: str) -> None:
    proc = docker("run", "--rm", "--init", "--network", "none", minion_image,
                  "call", "--local", "--out", "json", "test.ping", timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == {"local": True}


def test_config_names_the_master_salt(container: Container) -> None:
    assert container.sh("cat /etc/saline/minion").stdout == "master: salt\n"
    assert container.sh("command -v minion").stdout.strip() == "/opt/saline/bin/minion"
