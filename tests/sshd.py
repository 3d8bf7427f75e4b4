"""A real OpenSSH server on loopback for the SSH tests, run from a temp dir.

It listens on one free port on 127.0.0.1 and 127.0.0.2 (two roster hosts;
the benchmark asks for more addresses),
with its own host key, its own authorized_keys and no PAM, and logs in the
user running the tests. The login's HOME is the temp dir (sshd's SetEnv),
so the zipapp cache of each test server starts empty and goes away with it.
"""

from __future__ import annotations

import getpass
import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

SSHD = shutil.which("sshd") or "/usr/sbin/sshd"
ADDRESSES = ("127.0.0.1", "127.0.0.2")


def available() -> str:
    """Why the tests cannot run here ("" when they can)."""
    if not Path(SSHD).exists():
        return "no sshd (install openssh-server: .ci/setup does)"
    if not shutil.which("ssh-keygen"):
        return "no ssh-keygen"
    return ""


def keygen(path: Path) -> str:
    """Make an ed25519 key pair at `path` (and path.pub); return the public line."""
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "", "-f", str(path)],
                   check=True, timeout=30)
    return (path.with_suffix(".pub")).read_text().strip()


class Sshd:
    """One sshd process; `stop()` ends it."""

    def __init__(self, base: Path, port: int, home: Path | None = None,
                 addresses: tuple[str, ...] = ADDRESSES) -> None:
        self.base, self.port, self.addresses = base, port, addresses
        self.home = home or base / "home"
        self.home.mkdir(parents=True, exist_ok=True)
        self.user = getpass.getuser()
        self.client_key = base / "id_ed25519"
        client_pub = keygen(self.client_key)
        (base / "authorized_keys").write_text(client_pub + "\n")
        self.host_key = base / "host_ed25519"
        self.host_pub = keygen(self.host_key)
        if os.geteuid() == 0:  # sshd as root wants its privilege-separation dir
            Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)
        config = base / "sshd_config"
        config.write_text(self._config())
        self.log = base / "sshd.log"
        with self.log.open("wb") as log:
            self.proc = subprocess.Popen([SSHD, "-D", "-e", "-f", str(config)],
                                         stdout=log, stderr=subprocess.STDOUT)
        self._wait_listening()

    def _config(self) -> str:
        listen = "".join(f"ListenAddress {a}:{self.port}\n" for a in self.addresses)
        return (f"{listen}HostKey {self.host_key}\nPidFile {self.base}/sshd.pid\n"
                f"AuthorizedKeysFile {self.base}/authorized_keys\nUsePAM no\n"
                "StrictModes no\nPasswordAuthentication no\nKbdInteractiveAuthentication no\n"
                "PubkeyAuthentication yes\nPermitRootLogin prohibit-password\n"
                f"SetEnv HOME={self.home}\nMaxStartups 200\nMaxSessions 50\n"
                "Subsystem sftp internal-sftp\nLogLevel ERROR\n")

    def _wait_listening(self, timeout: float = 15.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"sshd exited: {self.log.read_text()[-500:]}")
            try:
                with socket.create_connection((self.addresses[-1], self.port), timeout=1):
                    return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"sshd did not listen on port {self.port} within {timeout} s")

    def known_hosts(self, path: Path, public_line: str | None = None) -> Path:
        """Write a known_hosts file naming this server's key (or `public_line`) for each address."""
        key = " ".join((public_line or self.host_pub).split()[:2])
        path.write_text("".join(f"[{a}]:{self.port} {key}\n" for a in self.addresses))
        return path

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
