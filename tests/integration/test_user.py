"""`user:` makes a daemon started as root drop to that user."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest
import yaml

from tests.cluster import ROOT, Cluster, free_port

pytestmark = pytest.mark.skipif(os.getuid() != 0, reason="needs root to switch users")

# What the daemons need once they are `nobody`: the same privilege drop, then
# the imports they make later (psutil for the grains, the daemons' own code).
_DROP_AND_IMPORT = """
import sys
from common.config import ConfigError
from common.privileges import switch_user
try:
    switch_user("nobody", [])
except ConfigError as exc:
    sys.exit(str(exc))
import jinja2, msgpack, nacl, psutil, yaml, zmq
import master.server, minion.fleet
"""


def _why_nobody_cannot_run_python() -> str | None:
    """None when `nobody` can run this Python and import saline after dropping root."""
    proc = subprocess.run([sys.executable, "-c", _DROP_AND_IMPORT], capture_output=True,
                          text=True, timeout=60, cwd="/",
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    if proc.returncode == 0:
        return None
    last = (proc.stderr.strip().splitlines() or [f"exit {proc.returncode}"])[-1]
    return f"nobody cannot run this Python after dropping root: {last}"


@pytest.fixture
def public_dir() -> Iterator[Path]:
    """A temp dir `nobody` can reach (pytest's own tmp tree is 0700)."""
    base = Path(tempfile.mkdtemp(prefix="saline-user-"))
    base.chmod(0o755)
    yield base
    shutil.rmtree(base, ignore_errors=True)


def test_master_and_minion_drop_to_nobody(public_dir: Path) -> None:
    reason = _why_nobody_cannot_run_python()
    if reason:
        pytest.skip(reason)
    cluster = Cluster(public_dir / "c", user="nobody", auto_accept=True)
    try:
        (public_dir / "c").chmod(0o755)
        cluster.master_dir.chmod(0o755)
        cluster.start_master()
        cluster.add_minion("m1", user="nobody")
        cluster.wait_answer(["m1"])
        assert cluster.master is not None
        assert psutil.Process(cluster.master.pid).username() == "nobody"
        assert psutil.Process(cluster.minions["m1"].pid).username() == "nobody"
        data, _ = cluster.run_json("m1", "cmd.run", "id -un")
        assert data == {"m1": "nobody"}
        key = cluster.master_dir / "pki" / "master.pem"
        assert key.stat().st_uid == psutil.Process(cluster.master.pid).uids().real
        assert key.stat().st_mode & 0o777 == 0o600
    finally:
        cluster.close()


@pytest.fixture
def closed_python() -> Iterator[Path]:
    """A virtualenv inside a 0700 root-owned dir whose packages (this Python's
    site-packages, reached through a link in that dir) `nobody` cannot read,
    whatever the base interpreter's modes."""
    closed = Path(tempfile.mkdtemp(prefix="saline-closed-"))
    try:
        subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(closed / "venv")],
                       check=True, timeout=60)
        links = []
        for index, site in enumerate(dict.fromkeys(sysconfig.get_path(k)
                                                   for k in ("purelib", "platlib"))):
            (closed / f"site{index}").symlink_to(site)
            links.append(str(closed / f"site{index}"))
        venv_site = subprocess.run(
            [str(closed / "venv" / "bin" / "python"), "-c",
             "import sysconfig; print(sysconfig.get_path('purelib'))"],
            capture_output=True, text=True, check=True, timeout=60).stdout.strip()
        Path(venv_site, "saline.pth").write_text("\n".join([*links, str(ROOT)]) + "\n")
        yield closed / "venv" / "bin" / "python"
    finally:
        shutil.rmtree(closed, ignore_errors=True)


@pytest.mark.parametrize("prog", ["master", "minion"])
def test_a_user_who_cannot_read_python_is_one_line(
        prog: str, closed_python: Path, public_dir: Path) -> None:
    # Without the check the minion died on its first later import (psutil,
    # for the grains) with a ModuleNotFoundError traceback.
    conf = {"user": "nobody", "interface": "127.0.0.1", "publish_port": free_port(),
            "ret_port": free_port()} if prog == "master" else {
            "user": "nobody", "id": "m1", "master": "127.0.0.1", "master_port": free_port(),
            "publish_port": free_port()}
    (public_dir / prog).write_text(yaml.safe_dump(conf))
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "SALINE_CONFIG_DIR")}
    proc = subprocess.run([str(closed_python), "-m", prog, "-c", str(public_dir), "start"],
                          capture_output=True, text=True, timeout=60, cwd=str(public_dir),
                          env=env)
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 2, proc.stderr
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith(f"{prog}: error: user: cannot run as 'nobody': it cannot read "
                               "the Python installation at /"), lines[0]
    assert "closed to it): give it read access" in lines[0]
    assert proc.stdout == ""
