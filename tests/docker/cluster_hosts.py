"""Masters sharing a PostgreSQL store, and minions, in containers on one private network.

For tests/docker/test_multimaster.py. Two images, built with Docker's cache
(so only the first session pays) and kept under their tags:

- `saline/postgres:test`: the debootstrap base image with Debian's
  postgresql-15. Each container makes a fresh cluster when it starts; the
  role `saline` logs in over TCP with the password given in
  SALINE_PG_PASSWORD (scram-sha-256), from the container's own networks
  only. No port is published to the host.
- `saline/master-store:test`: the minion image (its wheel carries the whole
  of saline, `master` included) plus psycopg, from wheels fetched here with
  `pip download` as pyproject's `cluster` extra lists them; the image never
  reaches PyPI.

`Site` starts them on a network made for it, where each container is known
by its alias (`db`, `m1`, ...) through Docker's DNS, and `close()` removes
its containers and the network. Every docker command has a timeout.
"""

from __future__ import annotations

import ipaddress
import json
import platform
import secrets
import subprocess
import sys
import tempfile
import time
import tomllib
import uuid
from pathlib import Path
from typing import Any

import yaml

from tests.docker.conftest import BASE_IMAGE, LABEL, ROOT, docker

STORE_IMAGE = "saline/postgres:test"
MASTER_IMAGE = "saline/master-store:test"
BUILD_TIMEOUT = 900
PG_BIN = "/usr/lib/postgresql/15/bin"
RET_PORT = 4506

STORE_DOCKERFILE = """\
ARG BASE
FROM ${BASE}
# No 'main' cluster from the package: each container makes its own at start.
RUN mkdir -p /etc/postgresql-common/createcluster.d \\
    && echo 'create_main_cluster = false' \\
        > /etc/postgresql-common/createcluster.d/saline.conf \\
    && apt-get update \\
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \\
        postgresql-15 \\
    && rm -rf /var/lib/apt/lists/*
COPY start-postgres /usr/local/sbin/start-postgres
CMD ["/usr/local/sbin/start-postgres"]
"""

STORE_START = f"""\
#!/bin/sh
# A fresh cluster: role saline (password from SALINE_PG_PASSWORD) over TCP
# from this container's networks, trust on the local socket for docker exec.
set -e
data=/var/lib/postgresql/saline
install -d -o postgres -g postgres -m 700 "$data"
umask 077
printf '%s\\n' "$SALINE_PG_PASSWORD" > /run/pgpw
chown postgres /run/pgpw
setpriv --reuid postgres --regid postgres --init-groups {PG_BIN}/initdb -D "$data" \\
    -U saline --pwfile=/run/pgpw --auth-local=trust --auth-host=scram-sha-256 \\
    -E UTF8 --locale=C.UTF-8 >/dev/null
rm -f /run/pgpw
echo 'host all saline samenet scram-sha-256' >> "$data/pg_hba.conf"
exec setpriv --reuid postgres --regid postgres --init-groups {PG_BIN}/postgres -D "$data" \\
    -c listen_addresses='*' -c unix_socket_directories=/tmp -c fsync=off
"""

MASTER_DOCKERFILE = """\
ARG BASE
FROM ${BASE}
COPY wheels/ /opt/wheels/
RUN /opt/saline/bin/pip install --no-index --find-links /opt/wheels -r /opt/wheels/req.txt \\
    && /opt/saline/bin/pip check \\
    && rm -rf /opt/wheels
ENTRYPOINT ["master"]
CMD ["start"]
"""


def _build(tag: str, context: Path, base: str) -> None:
    """`docker build` of `context` as `tag`; the image it replaces is removed."""
    previous = docker("image", "inspect", "--format", "{{.Id}}", tag, timeout=60)
    built = docker("build", "--quiet", "--build-arg", f"BASE={base}", "--tag", tag,
                   "--label", LABEL, str(context), timeout=BUILD_TIMEOUT, check=True)
    old_id = previous.stdout.strip()
    if previous.returncode == 0 and old_id not in built.stdout:
        docker("rmi", old_id, timeout=120)  # refused (and kept) while still in use


def store_image() -> str:
    """Build (cached after the first time) the PostgreSQL image from the base image."""
    with tempfile.TemporaryDirectory(prefix="saline-pg-") as context:
        Path(context, "Dockerfile").write_text(STORE_DOCKERFILE)
        start = Path(context, "start-postgres")
        start.write_text(STORE_START)
        start.chmod(0o755)
        _build(STORE_IMAGE, Path(context), BASE_IMAGE)
    return STORE_IMAGE


def _cluster_requirements() -> list[str]:
    with open(ROOT / "pyproject.toml", "rb") as f:
        return list(tomllib.load(f)["project"]["optional-dependencies"]["cluster"])


def _download_wheels(dest: Path, requirements: list[str]) -> None:
    """Wheels of `requirements` for the image's CPython 3.11 on this machine's arch."""
    arch = platform.machine()
    platforms = [f"--platform=manylinux_2_{minor}_{arch}" for minor in range(36, 16, -1)]
    platforms += [f"--platform=manylinux2014_{arch}", "--platform=any"]
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check",
         "--only-binary=:all:", "--implementation", "cp", "--python-version", "3.11",
         *platforms, "--dest", str(dest), *requirements],
        capture_output=True, text=True, timeout=300)
    if proc.returncode != 0:
        raise RuntimeError(f"pip download {' '.join(requirements)} failed: "
                           f"{proc.stderr.strip()[-800:]}")


def master_image(minion_image: str) -> str:
    """Build (cached) the minion image plus psycopg: what a master with a store needs."""
    with tempfile.TemporaryDirectory(prefix="saline-master-") as context:
        wheels = Path(context, "wheels")
        wheels.mkdir()
        requirements = _cluster_requirements()
        _download_wheels(wheels, requirements)
        (wheels / "req.txt").write_text("\n".join(requirements) + "\n")
        Path(context, "Dockerfile").write_text(MASTER_DOCKERFILE)
        _build(MASTER_IMAGE, Path(context), minion_image)
    return MASTER_IMAGE


def wait_until(check: Any, timeout: float, what: str, interval: float = 0.5) -> Any:
    """Poll `check` until it returns something truthy; AssertionError after `timeout` s."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(interval)


def _network_with_subnet(name: str) -> str:
    """Create network `name` with a subnet of its own, so that `--ip` can be used on it.

    Docker allows a chosen address only on a network created with
    `--subnet`: take the subnet Docker picks as free, and create the
    network again naming it (another network may take it meanwhile: retry).
    """
    for _ in range(3):
        docker("network", "create", "--label", LABEL, name, timeout=60, check=True)
        subnet = docker("network", "inspect", "--format", "{{range .IPAM.Config}}"
                        "{{.Subnet}}{{end}}", name, timeout=30, check=True).stdout.strip()
        docker("network", "rm", name, timeout=60, check=True)
        made = docker("network", "create", "--label", LABEL, "--subnet", subnet, name,
                      timeout=60)
        if made.returncode == 0:
            return subnet
    raise RuntimeError(f"docker network create --subnet failed: {made.stderr.strip()}")


class Site:
    """A private network with a store, masters and minions; `close()` removes it all."""

    def __init__(self, store: str, master: str, minion: str) -> None:
        self.images = {"store": store, "master": master, "minion": minion}
        self.tag = uuid.uuid4().hex[:8]
        self.network = f"saline-mm-{self.tag}"
        self.names: dict[str, str] = {}  # alias -> container name
        self.password = secrets.token_urlsafe(18)
        self.subnet = _network_with_subnet(self.network)

    # -- containers ---------------------------------------------------------
    def _start(self, alias: str, image: str, config: tuple[str, str] | None = None,
               *run_args: str) -> str:
        """Create, configure (`config`: its path and text) and start one container."""
        name = f"saline-mm-{self.tag}-{alias}"
        self.names[alias] = name  # before create: close() removes a half-made one too
        docker("create", "--init", "--name", name, "--hostname", alias, "--label", LABEL,
               "--network", self.network, "--network-alias", alias, *run_args, image,
               timeout=120, check=True)
        if config is not None:
            with tempfile.NamedTemporaryFile("w", suffix=".yaml") as f:
                f.write(config[1])
                f.flush()
                docker("cp", f.name, f"{name}:{config[0]}", timeout=60, check=True)
        docker("start", name, timeout=120, check=True)
        return name

    def start_store(self) -> None:
        """The PostgreSQL container `db`, with an empty database `saline`, ready."""
        self._start("db", self.images["store"], None,
                    "--env", f"SALINE_PG_PASSWORD={self.password}")
        psql = [f"{PG_BIN}/psql", "-h", "/tmp", "-U", "saline", "-d", "postgres", "-qAt"]
        wait_until(lambda: self.exec("db", *psql, "-c", "SELECT 1").stdout.strip() == "1",
                   60, "PostgreSQL in the db container")
        created = self.exec("db", *psql, "-c", "CREATE DATABASE saline")
        assert created.returncode == 0, created.stderr

    def store_url(self) -> str:
        return f"postgresql://saline:{self.password}@db:5432/saline"

    def start_master(self, alias: str) -> None:
        """A master on this network whose cluster_store is the `db` container."""
        conf = {"interface": "0.0.0.0", "ret_port": RET_PORT, "heartbeat_interval": 2,
                "cluster_store": self.store_url(), "timeout": 10}
        self._start(alias, self.images["master"], ("/etc/saline/master", yaml.safe_dump(conf)))

    def start_minion(self, minion_id: str, **opts: Any) -> None:
        """A minion container named `minion_id`; `opts` go into its config."""
        conf = {"id": minion_id, "master_port": RET_PORT, "acceptance_wait_time": 2,
                "heartbeat_interval": 2, "random_reauth_delay": 1, **opts}
        self._start(minion_id, self.images["minion"],
                    ("/etc/saline/minion", yaml.safe_dump(conf)))

    def exec(self, alias: str, *argv: str, timeout: float = 60,
             ) -> subprocess.CompletedProcess[str]:
        return docker("exec", self.names[alias], *argv, timeout=timeout)

    def logs(self, alias: str) -> str:
        proc = docker("logs", "--tail", "80", self.names[alias], timeout=30)
        return proc.stdout + proc.stderr

    # -- the network --------------------------------------------------------
    def cut(self, alias: str) -> None:
        """Take `alias` off the network: its peers' packets to it go nowhere."""
        docker("network", "disconnect", self.network, self.names[alias], timeout=60,
               check=True)

    def rejoin(self, alias: str, address: str | None = None) -> None:
        """Put `alias` back on the network under the same name (at `address` if given)."""
        at = ("--ip", address) if address else ()
        docker("network", "connect", "--alias", alias, *at, self.network, self.names[alias],
               timeout=60, check=True)

    def address(self, alias: str) -> str:
        """The container's address on this network ('' while it is cut off)."""
        return docker("inspect", "--format", f"{{{{with index .NetworkSettings.Networks "
                      f"\"{self.network}\"}}}}{{{{.IPAddress}}}}{{{{end}}}}",
                      self.names[alias], timeout=30, check=True).stdout.strip()

    def spare_address(self) -> str:
        """An address of the network's subnet that Docker has not handed out (the 200th)."""
        net = ipaddress.ip_network(self.subnet)
        taken = {self.address(alias) for alias in self.names}
        spare = str(net.network_address + 200)
        assert spare not in taken and ipaddress.ip_address(spare) in net, (spare, net)
        return spare

    # -- master commands ----------------------------------------------------
    def master(self, alias: str, *argv: str, timeout: float = 60,
               ) -> subprocess.CompletedProcess[str]:
        """`master ARGV` inside the master container `alias`."""
        return self.exec(alias, "env", "NO_COLOR=1", "master", *argv, timeout=timeout)

    def run(self, alias: str, *argv: str, timeout: float = 60,
            ) -> tuple[dict[str, Any], subprocess.CompletedProcess[str]]:
        """`master run --out json --static ARGV` on master `alias`: the returns, the process."""
        proc = self.master(alias, "run", "--out", "json", "--static", *argv, timeout=timeout)
        try:
            data = json.loads(proc.stdout) if proc.stdout.strip() else {}
        except ValueError:
            data = {}
        return data, proc

    def close(self) -> None:
        for name in self.names.values():
            docker("rm", "--force", "--volumes", name, timeout=120)
        docker("network", "rm", self.network, timeout=60)
