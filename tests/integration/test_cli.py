"""The `minion` command and fingerprints, as an operator uses them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import yaml

from tests.cluster import ROOT, Cluster


def minion(cdir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "minion", "-c", str(cdir), *args],
                          capture_output=True, text=True, timeout=60, cwd=ROOT,
                          env={"NO_COLOR": "1", "PATH": "/usr/bin:/bin"})


def test_minion_call_runs_locally(tmp_path: Path) -> None:
    (tmp_path / "minion").write_text(yaml.safe_dump({"id": "solo", "grains": {"role": "db"}}))
    proc = minion(tmp_path, "call", "--local", "test.echo", "hi there")
    assert proc.returncode == 0 and proc.stdout == "local:\n    hi there\n"
    proc = minion(tmp_path, "call", "--local", "grains.item", "id", "role", "--out", "json")
    assert json.loads(proc.stdout) == {"local": {"id": "solo", "role": "db"}}
    proc = minion(tmp_path, "call", "--local", "cmd.run", "exit 4")
    assert proc.returncode == 1
    proc = minion(tmp_path, "call", "--local", "no.such")
    assert proc.returncode == 1 and "'no.such' is not available." in proc.stdout


def test_bad_minion_id_in_config_is_refused(tmp_path: Path) -> None:
    (tmp_path / "minion").write_text("id: ../etc\n")
    proc = minion(tmp_path, "call", "--local", "test.ping")
    assert proc.returncode == 2
    assert proc.stderr.startswith(f"minion: error: {tmp_path / 'minion'}: id: minion id")


def test_fingerprints_agree_on_both_sides(cluster: Cluster) -> None:
    cluster.start_master()
    cdir = cluster.add_minion("m1")
    cluster.wait_pending("m1")
    shown = minion(cdir, "key", "fingerprint").stdout.splitlines()
    assert shown[0] == "Local Keys:"
    own = shown[1].split(": ", 1)[1]
    seen = json.loads(cluster.master_cmd("key", "fingerprint", "--out", "json").stdout)
    assert seen["pending"] == {"m1": own}
    cluster.master_cmd("key", "accept", "m1", "-y")
    cluster.wait_answer(["m1"])
    shown = minion(cdir, "key", "fingerprint").stdout.splitlines()
    assert shown[2:] == ["Master Key:", f"master.pub: {seen['local']['master.pub']}"]
    for path in (cdir / "pki" / "minion.pem", cdir / "pki" / "master.pub",
                 cluster.master_dir / "pki" / "master.pem",
                 cluster.master_dir / "pki" / "accepted" / "m1"):
        assert path.stat().st_mode & 0o777 == 0o600, path
    for path in (cdir / "pki", cluster.master_dir / "pki", cluster.master_dir / "run",
                 cluster.master_dir / "pki" / "accepted"):
        assert path.stat().st_mode & 0o777 == 0o700, path
