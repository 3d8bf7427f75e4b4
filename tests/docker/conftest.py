"""The Docker tier: a real minion image and fresh containers for each test.

The whole tier is skipped, with the reason, only when ``docker info`` fails.
Otherwise a session builds the images (no registry is needed):

- ``docker/base-image.sh``: Debian bookworm from debootstrap, reused if present;
- ``docker/build-wheelhouse.sh``: saline's wheel and its dependencies;
- ``docker/minion.Dockerfile`` built as ``saline/minion:test`` from a temp
  build context that holds only the Dockerfile and the wheelhouse (Docker's
  layer cache makes the second session fast).

Fixtures: ``minion_image`` (session; the image tag), ``container`` (a fresh
container running ``sleep infinity`` under ``--init``, removed afterwards) and
``container_factory`` (the same, with extra ``docker run`` options). Every
docker command has a timeout.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCKER_DIR = ROOT / "docker"
IMAGE = os.environ.get("SALINE_TEST_IMAGE", "saline/minion:test")
BASE_IMAGE = os.environ.get("SALINE_BASE_IMAGE", "saline/debian:bookworm")
LABEL = "saline.test=1"

BASE_TIMEOUT = 1800  # debootstrap from the mirror, first time only
WHEELHOUSE_TIMEOUT = 600
BUILD_TIMEOUT = 1200
# Setting up the image is slow the first time; tests that need it get this
# much (pytest-timeout counts fixture set-up) instead of the default.
IMAGE_TEST_TIMEOUT = BASE_TIMEOUT + WHEELHOUSE_TIMEOUT + BUILD_TIMEOUT


def docker(*argv: str, timeout: float = 120, check: bool = False,
           input: str | None = None) -> subprocess.CompletedProcess[str]:
    """Run one docker command, always bounded by `timeout` seconds."""
    proc = subprocess.run(["docker", *argv], capture_output=True, text=True,
                          timeout=timeout, input=input)
    if check and proc.returncode != 0:
        raise RuntimeError(f"docker {' '.join(argv[:3])} failed ({proc.returncode}): "
                           f"{proc.stderr.strip() or proc.stdout.strip()}")
    return proc


def _docker_unavailable() -> str | None:
    """Why the Docker tier cannot run here, or None when `docker info` works."""
    if shutil.which("docker") is None:
        return "docker is not installed"
    try:
        proc = docker("info", "--format", "{{.ServerVersion}}", timeout=30)
    except subprocess.TimeoutExpired:
        return "docker info did not answer within 30 s"
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        return f"docker info failed: {last}"
    return None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in item.path.parents:
            item.add_marker(pytest.mark.docker)  # so that -m 'not docker' leaves the tier out
        if here in item.path.parents and "minion_image" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.timeout(IMAGE_TEST_TIMEOUT))


@pytest.fixture(scope="session", autouse=True)
def _docker_available() -> None:
    reason = _docker_unavailable()
    if reason:
        pytest.skip(f"Docker tier skipped: {reason}")


def _script(name: str, *args: str, timeout: float) -> None:
    proc = subprocess.run(["bash", str(DOCKER_DIR / name), *args], capture_output=True,
                          text=True, timeout=timeout)
    if proc.returncode != 0:
        tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-15:])
        raise RuntimeError(f"docker/{name} failed ({proc.returncode}):\n{tail}")


@pytest.fixture(scope="session")
def minion_image() -> str:
    """Build the base image (once per machine) and `saline/minion:test` (per session)."""
    _script("base-image.sh", BASE_IMAGE, timeout=BASE_TIMEOUT)
    previous = docker("image", "inspect", "--format", "{{.Id}}", IMAGE, timeout=60)
    with tempfile.TemporaryDirectory(prefix="saline-image-") as context:
        _script("build-wheelhouse.sh", str(Path(context, "wheelhouse")),
                timeout=WHEELHOUSE_TIMEOUT)
        shutil.copy(DOCKER_DIR / "minion.Dockerfile", Path(context, "Dockerfile"))
        built = docker("build", "--quiet", "--build-arg", f"BASE={BASE_IMAGE}", "--tag", IMAGE,
                       "--label", LABEL, context, timeout=BUILD_TIMEOUT, check=True)
    old_id = previous.stdout.strip()
    if previous.returncode == 0 and old_id not in built.stdout:
        # The last session's image, now untagged; still in use it stays (rmi refuses).
        docker("rmi", old_id, timeout=120)
    # Untagged test images left by earlier sessions (dangling only, ours only).
    docker("image", "prune", "--force", "--filter", f"label={LABEL}", timeout=120)
    return IMAGE


class Container:
    """A running test container: run shell commands and minion functions in it."""

    def __init__(self, name: str) -> None:
        self.name = name

    def sh(self, cmd: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        """Run `cmd` with ``sh -c`` inside the container (as root)."""
        return docker("exec", self.name, "sh", "-c", cmd, timeout=timeout)

    def call(self, fun: str, *args: str, timeout: float = 300) -> tuple[int, Any]:
        """Run ``minion call --local --out json FUN ARGS``: (exit code, the value)."""
        proc = docker("exec", self.name, "minion", "call", "--local", "--out", "json",
                      fun, *args, timeout=timeout)
        try:
            value = json.loads(proc.stdout)["local"]
        except (ValueError, KeyError, TypeError):
            raise AssertionError(
                f"minion call {fun} printed no JSON (exit {proc.returncode}):\n"
                f"stdout: {proc.stdout.strip()}\nstderr: {proc.stderr.strip()}"
            ) from None
        return proc.returncode, value

    def put(self, src: str | Path, dest: str) -> None:
        """Copy a host file or directory into the container."""
        docker("cp", str(src), f"{self.name}:{dest}", timeout=120, check=True)

    def get(self, src: str, dest: str | Path) -> None:
        """Copy a file or directory out of the container to the host."""
        docker("cp", f"{self.name}:{src}", str(dest), timeout=120, check=True)


@contextlib.contextmanager
def running_container(image: str, *run_args: str) -> Iterator[Container]:
    """Start a detached `image` container under --init running `sleep infinity`."""
    name = f"saline-test-{uuid.uuid4().hex[:12]}"
    docker("run", "--detach", "--init", "--name", name, "--label", LABEL, *run_args,
           "--entrypoint", "sleep", image, "infinity", timeout=120, check=True)
    try:
        yield Container(name)
    finally:
        docker("rm", "--force", "--volumes", name, timeout=120)


@pytest.fixture
def container_factory(minion_image: str) -> Iterator[Callable[..., Container]]:
    """Start containers from the minion image with extra `docker run` options."""
    with contextlib.ExitStack() as stack:
        def start(*run_args: str) -> Container:
            return stack.enter_context(running_container(minion_image, *run_args))

        yield start


@pytest.fixture
def container(container_factory: Callable[..., Container]) -> Container:
    """A fresh minion container (default bridge network), removed after the test."""
    return container_factory()


@pytest.fixture
def privileged(minion_image: str) -> Iterator[Callable[[], Container]]:
    """A privileged container, or a skip saying why this engine cannot start one."""
    names: list[str] = []

    def start() -> Container:
        name = f"saline-test-{uuid.uuid4().hex[:12]}"
        proc = docker("run", "--detach", "--init", "--privileged", "--name", name, "--label",
                      LABEL, "--entrypoint", "sleep", minion_image, "infinity", timeout=120)
        names.append(name)
        if proc.returncode != 0:
            reason = (proc.stderr.strip().splitlines() or ["no output"])[0]
            pytest.skip(f"this Docker Engine cannot run privileged containers: {reason}")
        return Container(name)

    yield start
    for name in names:
        docker("rm", "--force", "--volumes", name, timeout=120)
