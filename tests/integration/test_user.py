"""`user:` makes a daemon started as root drop to that user."""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path

import psutil
import pytest

from tests.cluster import Cluster


def _others_can_run_python() -> bool:
    # Where Python lives under /root (pyenv), `nobody` cannot import it.
    path = Path(sys.prefix).resolve()
    return all(p.stat().st_mode & 0o001 for p in [path, *path.parents])


pytestmark = [
    pytest.mark.skipif(os.getuid() != 0, reason="needs root to switch users"),
    pytest.mark.skipif(not _others_can_run_python(),
                       reason="this Python is not reachable by other users"),
]


def test_master_and_minion_drop_to_nobody() -> None:
    # Outside pytest's 0700 tmp tree, so that `nobody` can reach its dirs.
    base = Path(tempfile.mkdtemp(prefix="saline-user-"))
    base.chmod(0o755)
    cluster = Cluster(base / "c", user="nobody", auto_accept=True)
    try:
        (base / "c").chmod(0o755)
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
        shutil.rmtree(base, ignore_errors=True)
