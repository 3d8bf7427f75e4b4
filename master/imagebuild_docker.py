"""The Docker side of `master image build`, through the Docker Engine API.

Uses the ``docker`` Python SDK (``pip install 'saline[docker]'``). The build
container does not run the minion as its main process: a small shell holds
the container, runs ``minion start`` in the background and writes its pid,
so the minion can be stopped on its own (before its files are cleaned up,
or before a failed container is left running for inspection).
"""

from __future__ import annotations

import importlib
import io
import ipaddress
import json
import shlex
import socket
import tarfile
import time
from typing import Any

CONFIG_DIR = "/etc/saline"
PID_FILE = "/tmp/.saline-build-minion.pid"
# Runs as the container's main process (under --init). It keeps the container
# up after the minion stops, so a failed build can be inspected.
HOLDER = (
    f"minion -c {CONFIG_DIR} start & echo $! > {PID_FILE}; wait $!; "
    "echo \"saline build: minion exited ($?)\" >&2; exec tail -f /dev/null"
)
STOP_MINION = (
    f"pid=$(cat {PID_FILE} 2>/dev/null) || exit 0; kill -TERM \"$pid\" 2>/dev/null || exit 0; "
    "i=0; while kill -0 \"$pid\" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done; "
    "kill -KILL \"$pid\" 2>/dev/null; true"
)
# What the minion left behind: keys, file/pillar cache, sockets, logs.
MINION_STATE = ("pki", "cache", "run", "log")


class DockerUnavailable(Exception):
    """No Docker SDK, or the engine does not answer: one line for the user."""


class BuildError(Exception):
    """A Docker step of the build failed: one line for the user."""


def connect() -> Any:
    """A ``docker.DockerClient`` for the engine of the environment (DOCKER_HOST...)."""
    try:
        docker = _sdk()
    except ImportError:
        raise DockerUnavailable(
            "the Docker SDK for Python is not installed: pip install 'saline[docker]' "
            "(or pip install 'docker>=7')"
        ) from None
    try:
        client = docker.from_env(timeout=120)
        client.ping()
    except docker.errors.DockerException as exc:
        raise DockerUnavailable(f"the Docker Engine does not answer: {_first_line(exc)}") from None
    return client


def _sdk() -> Any:
    # By name: the repository's own docker/ directory would otherwise look
    # like the package to mypy (a namespace package).
    return importlib.import_module("docker")


def errors() -> Any:
    """The ``docker.errors`` module (imported lazily: the SDK is optional)."""
    return importlib.import_module("docker.errors")


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]


def bridge_gateway(client: Any, network: str = "bridge") -> str:
    """The address containers on `network` reach the host at.

    The IPAM gateway when the engine reports one; else the address of the
    bridge interface on this host; else the first address of the subnet
    (Docker's own choice for the gateway).
    """
    try:
        attrs = client.networks.get(network).attrs
    except errors().DockerException as exc:
        raise BuildError(f"cannot read the {network!r} network: {_first_line(exc)}") from None
    configs = [c for c in (attrs.get("IPAM") or {}).get("Config") or [] if c.get("Subnet")]
    v4 = [c for c in configs if ":" not in c["Subnet"]]
    for conf in v4:
        if conf.get("Gateway"):
            return str(conf["Gateway"]).split("/")[0]
    iface = (attrs.get("Options") or {}).get("com.docker.network.bridge.name")
    if iface:
        import psutil

        for addr in psutil.net_if_addrs().get(iface, []):
            if addr.family == socket.AF_INET:
                return str(addr.address)
    if v4:
        net = ipaddress.ip_network(v4[0]["Subnet"], strict=False)
        return str(next(net.hosts()))
    raise BuildError(f"the {network!r} network has no IPv4 subnet to find the host on")


def can_connect(host: str, port: int, timeout: float = 2.0) -> bool:
    try:
        with socket.create_connection((host, port), timeout):
            return True
    except OSError:
        return False


def get_image(client: Any, name: str) -> Any:
    """The image `name`, pulled when it is not here."""
    err = errors()
    try:
        return client.images.get(name)
    except err.ImageNotFound:
        pass
    except err.DockerException as exc:
        raise BuildError(f"image {name}: {_first_line(exc)}") from None
    try:
        return client.images.pull(name)
    except err.DockerException as exc:
        raise BuildError(f"image {name} is not here and could not be pulled: "
                         f"{_first_line(exc)}") from None


def tar_of(files: dict[str, bytes], mode: int = 0o600) -> bytes:
    """A tar archive holding `files` (path inside the archive -> content)."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mode = mode
            info.mtime = int(time.time())
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


class BuildContainer:
    """The container a build runs in."""

    def __init__(self, client: Any, image: str, name: str, master_address: str) -> None:
        self.client = client
        self.name = name
        try:
            self.container = client.containers.create(
                image, name=name, entrypoint=[], command=["/bin/sh", "-c", HOLDER],
                extra_hosts={"salt": master_address}, init=True, detach=True,
            )
        except errors().DockerException as exc:
            raise BuildError(f"cannot create the build container: {_first_line(exc)}") from None
        self.original_config = self._read_file(f"{CONFIG_DIR}/minion")

    def _read_file(self, path: str) -> bytes | None:
        """The tar stream of `path` in the container, None if there is no such file."""
        err = errors()
        try:
            chunks, _ = self.container.get_archive(path)
            return b"".join(chunks)
        except err.NotFound:
            return None
        except err.DockerException as exc:
            raise BuildError(f"cannot read {path} in {self.name}: {_first_line(exc)}") from None

    def write_config(self, text: str) -> None:
        """Write the minion config (``/etc/saline/minion``, mode 0600)."""
        self._put("/", tar_of({CONFIG_DIR.lstrip("/") + "/minion": text.encode()}))

    def _put(self, path: str, data: bytes) -> None:
        try:
            ok = self.container.put_archive(path, data)
        except errors().DockerException as exc:
            raise BuildError(f"cannot write into {self.name}: {_first_line(exc)}") from None
        if not ok:
            raise BuildError(f"cannot write into {self.name}")

    def start(self) -> None:
        try:
            self.container.start()
        except errors().DockerException as exc:
            raise BuildError(f"cannot start {self.name}: {_first_line(exc)}") from None

    def running(self) -> bool:
        try:
            self.container.reload()
        except errors().DockerException:
            return False
        return bool(self.container.status == "running")

    def logs(self, lines: int = 20) -> str:
        try:
            raw = self.container.logs(tail=lines)
        except errors().DockerException:
            return ""
        return str(raw.decode(errors="replace")).strip()

    def sh(self, script: str) -> tuple[int, str]:
        """Run `script` with /bin/sh as root in the running container."""
        try:
            result = self.container.exec_run(["/bin/sh", "-c", script], user="0")
        except errors().DockerException as exc:
            raise BuildError(f"docker exec in {self.name}: {_first_line(exc)}") from None
        return int(result.exit_code or 0), result.output.decode(errors="replace")

    def stop_minion(self) -> None:
        """Stop the minion process; the container itself keeps running."""
        if self.running():
            self.sh(STOP_MINION)

    def remove_minion_state(self) -> None:
        """Delete the keys, cache and logs of the build minion and its config.

        The image's own ``/etc/saline/minion`` (if it had one) is put back.
        """
        paths = " ".join(shlex.quote(f"{CONFIG_DIR}/{p}") for p in (*MINION_STATE, "minion"))
        code, out = self.sh(f"rm -rf {paths} {PID_FILE}")
        if code != 0:
            raise BuildError(f"cannot clean the minion's files in {self.name}: {out.strip()}")
        if self.original_config is not None:
            self._put(CONFIG_DIR, self.original_config)

    def stop(self) -> None:
        try:
            self.container.stop(timeout=10)
        except errors().DockerException as exc:
            raise BuildError(f"cannot stop {self.name}: {_first_line(exc)}") from None

    def commit(self, repository: str, tag: str, changes: list[str], message: str) -> Any:
        try:
            return self.container.commit(repository=repository, tag=tag, changes=changes,
                                         message=message, pause=False)
        except errors().DockerException as exc:
            raise BuildError(f"docker commit failed: {_first_line(exc)}") from None

    def remove(self) -> None:
        try:
            self.container.remove(force=True, v=True)
        except errors().NotFound:
            pass
        except errors().DockerException as exc:
            raise BuildError(f"cannot remove {self.name}: {_first_line(exc)}") from None


def exec_form(text: str) -> list[str]:
    """``--cmd``/``--entrypoint`` text as an exec-form list.

    A JSON list is taken as it is; anything else is split like a shell would
    (no shell is involved when the image runs it).
    """
    stripped = text.strip()
    if stripped.startswith("["):
        try:
            value = json.loads(stripped)
        except ValueError:
            raise ValueError(f"not a JSON list: {text!r}") from None
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ValueError(f"expected a JSON list of strings: {text!r}")
        return value
    try:
        return shlex.split(text)
    except ValueError as exc:
        raise ValueError(f"cannot split {text!r}: {exc}") from None


def expose_port(text: str) -> str:
    """``8080`` or ``8080/tcp`` or ``53/udp``, checked."""
    port, _, proto = text.strip().partition("/")
    proto = proto.lower() or "tcp"
    if not port.isdigit() or not 0 < int(port) < 65536 or proto not in ("tcp", "udp", "sctp"):
        raise ValueError(f"bad --expose {text!r}: use PORT or PORT/tcp|udp")
    return f"{int(port)}/{proto}"


def commit_changes(image_config: dict[str, Any], entrypoint: list[str] | None,
                   cmd: list[str] | None, expose: list[str],
                   labels: dict[str, str]) -> list[str]:
    """The Dockerfile instructions for `docker commit`.

    The build container ran a shell of its own (as its CMD, with no
    ENTRYPOINT), so ENTRYPOINT and CMD are always set: the given ones, else
    the base image's. ENTRYPOINT comes first (in a Dockerfile it resets an
    earlier CMD). Docker's commit takes an empty CMD *and* ENTRYPOINT as
    "keep the container's", so that case becomes ``CMD ["/bin/sh"]``.
    """
    if entrypoint is None:
        entrypoint = list(image_config.get("Entrypoint") or [])
    if cmd is None:
        cmd = list(image_config.get("Cmd") or [])
    if not entrypoint and not cmd:
        cmd = ["/bin/sh"]
    changes = [f"ENTRYPOINT {json.dumps(entrypoint)}", f"CMD {json.dumps(cmd)}"]
    changes += [f"EXPOSE {port}" for port in expose]
    changes += [f"LABEL {json.dumps(key)}={json.dumps(value)}" for key, value in labels.items()]
    return changes


def split_tag(text: str) -> tuple[str, str]:
    """``NAME[:TAG]`` (NAME may have a registry host:port) -> (name, tag)."""
    name, sep, tag = text.rpartition(":")
    if not sep or "/" in tag:
        return text, "latest"
    if not name or not tag:
        raise ValueError(f"bad --tag {text!r}: use NAME:TAG")
    return name, tag
