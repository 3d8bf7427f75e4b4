"""SSH hosts in containers for the `master ssh` and `master bootstrap` docker tests.

`ssh_image()` builds `saline/sshd:test`: the debootstrap base image
(python3 and venv, no saline) with openssh-server. Each container makes its
own host keys when it starts (none are baked into the image, so every host
has its own key, as real ones do) and lets in the one public key given in
SSH_AUTHORIZED_KEY, as root. `SshHosts` starts N of them on a private
network and writes the roster and known_hosts for them; the known_hosts
lines come from the containers themselves over `docker exec`, not from
the network.
"""

from __future__ import annotations

import socket
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

from tests.docker.conftest import BASE_IMAGE, LABEL, docker

SSH_IMAGE = "saline/sshd:test"
BUILD_TIMEOUT = 900

DOCKERFILE = """\
ARG BASE
FROM ${BASE}
RUN apt-get update \\
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \\
        openssh-server \\
    && rm -rf /var/lib/apt/lists/* /etc/ssh/ssh_host_*_key* \\
    && mkdir -p /run/sshd
COPY start-sshd /usr/local/sbin/start-sshd
CMD ["/usr/local/sbin/start-sshd"]
"""

START = """\
#!/bin/sh
# Host keys of this container's own, the test's public key for root, then sshd.
set -e
ssh-keygen -A -q
mkdir -p -m 700 /root/.ssh
printf '%s\\n' "$SSH_AUTHORIZED_KEY" > /root/.ssh/authorized_keys
chmod 600 /root/.ssh/authorized_keys
exec /usr/sbin/sshd -D -e -o PasswordAuthentication=no -o MaxStartups=100
"""


def ssh_image() -> str:
    """Build (with Docker's cache, so fast after the first time) the sshd image."""
    with tempfile.TemporaryDirectory(prefix="saline-sshd-") as context:
        Path(context, "Dockerfile").write_text(DOCKERFILE)
        start = Path(context, "start-sshd")
        start.write_text(START)
        start.chmod(0o755)
        docker("build", "--quiet", "--build-arg", f"BASE={BASE_IMAGE}", "--tag", SSH_IMAGE,
               "--label", LABEL, context, timeout=BUILD_TIMEOUT, check=True)
    return SSH_IMAGE


class SshHosts:
    """N sshd containers on a private network; `close()` removes them and the network."""

    def __init__(self, image: str, count: int, client_pub: str, prefix: str = "h") -> None:
        tag = uuid.uuid4().hex[:8]
        self.network = f"saline-ssh-{tag}"
        self.names: dict[str, str] = {}  # roster id -> container name
        self.addresses: dict[str, str] = {}
        docker("network", "create", "--label", LABEL, self.network, timeout=60, check=True)
        try:
            for i in range(1, count + 1):
                rid, name = f"{prefix}{i:02d}", f"saline-ssh-{tag}-{i:02d}"
                self.names[rid] = name  # before run: close() removes a half-made one too
                docker("run", "--detach", "--init", "--name", name, "--hostname", rid,
                       "--label", LABEL, "--network", self.network,
                       "--env", f"SSH_AUTHORIZED_KEY={client_pub}", image,
                       timeout=120, check=True)
            for rid, name in self.names.items():
                self.addresses[rid] = docker(
                    "inspect", "--format",
                    "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}", name,
                    timeout=30, check=True).stdout.strip()
            self._wait_listening()
        except BaseException:
            self.close()
            raise

    def _wait_listening(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        waiting = dict(self.addresses)
        while waiting and time.monotonic() < deadline:
            for rid, addr in list(waiting.items()):
                try:
                    with socket.create_connection((addr, 22), timeout=1) as sock:
                        sock.settimeout(2)
                        if sock.recv(4).startswith(b"SSH-"):
                            del waiting[rid]
                except OSError:
                    pass
            time.sleep(0.2)
        if waiting:
            raise RuntimeError(f"sshd did not answer within {timeout:g} s on {sorted(waiting)}")

    def gateway(self) -> str:
        """Where the containers reach this host (the network's gateway)."""
        return docker("network", "inspect", "--format",
                      "{{range .IPAM.Config}}{{.Gateway}}{{end}}", self.network,
                      timeout=30, check=True).stdout.strip()

    def roster(self, path: Path, key: Path) -> Path:
        """A roster naming every container by its id, logging in as root with `key`."""
        path.write_text("".join(f"{rid}: {{host: {addr}, user: root, priv: {key}}}\n"
                                for rid, addr in self.addresses.items()))
        return path

    def known_hosts(self, path: Path) -> Path:
        """known_hosts from each container's own host key, read over docker exec."""
        lines = []
        for rid, name in self.names.items():
            pub = docker("exec", name, "cat", "/etc/ssh/ssh_host_ed25519_key.pub",
                         timeout=30, check=True).stdout.split()
            lines.append(f"{self.addresses[rid]} {pub[0]} {pub[1]}\n")
        path.write_text("".join(lines))
        return path

    def sh(self, rid: str, cmd: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        return docker("exec", self.names[rid], "sh", "-c", cmd, timeout=timeout)

    def close(self) -> None:
        for name in self.names.values():
            docker("rm", "--force", "--volumes", name, timeout=120)
        docker("network", "rm", self.network, timeout=60)
