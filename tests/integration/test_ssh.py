"""`master ssh` against a real sshd on 127.0.0.1 and 127.0.0.2 (tests/sshd.py).

Two roster ids reach the two addresses of one sshd; a third points at a
closed port. Real processes, bounded waits; no master daemon runs.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests import sshd
from tests.cluster import free_port

pytestmark = pytest.mark.skipif(bool(sshd.available()), reason=sshd.available() or "ok")
TIMEOUT = 90


@pytest.fixture
def setup(sshd_server: sshd.Sshd, tmp_path: Path) -> dict[str, Path]:
    cdir = tmp_path / "cfg"
    cdir.mkdir()
    (cdir / "master").write_text(f"cachedir: {tmp_path}/cache\n")
    hosts = {"h1": "127.0.0.1", "h2": "127.0.0.2"}
    lines = [f"{rid}: {{host: {addr}, port: {sshd_server.port}, user: {sshd_server.user}, "
             f"priv: {sshd_server.client_key}}}" for rid, addr in hosts.items()]
    lines.append(f"down: {{host: 127.0.0.1, port: {free_port()}, timeout: 5}}")
    (cdir / "roster").write_text("\n".join(lines) + "\n")
    return {"cdir": cdir, "known_hosts": sshd_server.known_hosts(tmp_path / "known_hosts")}


def ssh(setup: dict[str, Path], *words: str) -> subprocess.CompletedProcess[str]:
    argv = [sys.executable, "-m", "master", "-c", str(setup["cdir"]), "ssh", *words]
    if "--known-hosts" not in words and "--ignore-host-keys" not in words:
        argv += ["--known-hosts", str(setup["known_hosts"])]
    return subprocess.run(argv, capture_output=True, text=True, timeout=TIMEOUT)


def documents(text: str) -> list[dict[str, Any]]:
    """The JSON documents `--out json` prints one after another."""
    decoder, docs, pos = json.JSONDecoder(), [], 0
    text = text.strip()
    while pos < len(text):
        doc, end = decoder.raw_decode(text, pos)
        docs.append(doc)
        pos = end
        while pos < len(text) and text[pos].isspace():
            pos += 1
    return docs


def test_ping_uploads_once_then_runs_from_the_cache(setup: dict[str, Path],
                                                    sshd_server: sshd.Sshd) -> None:
    first = ssh(setup, "h*", "test.ping", "--out", "json", "--static")
    assert first.returncode == 0, first.stderr
    doc = json.loads(first.stdout)
    assert (doc["h1"], doc["h2"]) == (True, True)
    assert set(doc["_timings"]["h1"]) == {"connect", "auth", "upload", "run"}
    cached = list((sshd_server.home / ".cache" / "saline-ssh").iterdir())
    assert len(cached) == 1 and (cached[0] / "__main__.py").is_file()  # both ids, one copy
    again = ssh(setup, "h*", "test.ping", "--out", "json", "--static")
    assert again.returncode == 0, again.stderr
    timings = json.loads(again.stdout)["_timings"]
    assert timings["h1"]["upload"] == timings["h2"]["upload"] == 0.0


def test_cmd_run_and_the_job_cache(setup: dict[str, Path]) -> None:
    proc = ssh(setup, "-L", "h1,h2", "cmd.run", "echo hi from $(hostname)", "--out", "json")
    assert proc.returncode == 0, proc.stderr
    docs = documents(proc.stdout)
    assert sorted(next(k for k in d if k != "_timings") for d in docs) == ["h1", "h2"]
    assert all(v.startswith("hi from ") for d in docs for k, v in d.items() if k != "_timings")
    listed = subprocess.run([sys.executable, "-m", "master", "-c", str(setup["cdir"]), "jobs",
                             "list", "--out", "json"], capture_output=True, text=True,
                            timeout=TIMEOUT)
    assert listed.returncode == 0, listed.stderr
    jobs = json.loads(listed.stdout)
    jid = next(j for j, job in jobs.items() if job["Function"] == "cmd.run")
    shown = subprocess.run([sys.executable, "-m", "master", "-c", str(setup["cdir"]), "jobs",
                            "show", jid, "--out", "json"], capture_output=True, text=True,
                           timeout=TIMEOUT)
    assert shown.returncode == 0, shown.stderr
    record = json.loads(shown.stdout)
    assert record["returns"]["h1"]["return"].startswith("hi from")
    # Each host's phases are kept with the job.
    assert sorted(record["timings"]) == ["h1", "h2"]
    assert set(record["timings"]["h2"]) == {"connect", "auth", "upload", "run"}
    assert all(v >= 0 for v in record["timings"]["h2"].values())


def test_failing_command_exits_1(setup: dict[str, Path]) -> None:
    proc = ssh(setup, "h1", "cmd.run", "exit 3")
    assert proc.returncode == 1
    assert "h1: failed (retcode 3)" in proc.stderr


def test_unreachable_host_reported_others_work(setup: dict[str, Path]) -> None:
    proc = ssh(setup, "*", "test.ping", "--timings")
    assert proc.returncode == 1
    assert "ERROR: cannot connect to 127.0.0.1:" in proc.stdout
    assert "Connection refused" in proc.stdout
    assert proc.stdout.count("True") == 2
    errors = [line for line in proc.stderr.splitlines() if line.startswith("down:")]
    assert len(errors) == 1 and "cannot connect" in errors[0]
    table = proc.stderr.split("phase", 1)[1]
    for phase in ("connect", "auth", "upload", "run", "total"):
        assert f"\n{phase} " in table


def test_changed_host_key_refused_in_one_line(setup: dict[str, Path], sshd_server: sshd.Sshd,
                                              tmp_path: Path) -> None:
    other = sshd.keygen(tmp_path / "other_key")
    known = setup["known_hosts"]
    lines = known.read_text().splitlines()
    # 127.0.0.2 now "has" a different key: as if the host were replaced.
    lines[1] = f"[127.0.0.2]:{sshd_server.port} {' '.join(other.split()[:2])}"
    known.write_text("\n".join(lines) + "\n")
    proc = ssh(setup, "h*", "test.ping")
    assert proc.returncode == 1
    assert "h1:\n    True" in proc.stdout
    refused = [line for line in proc.stderr.splitlines() if line.startswith("h2:")]
    assert len(refused) == 1
    assert "host key does not match the one in" in refused[0]
    known.write_text(lines[0] + "\n")  # no line at all for 127.0.0.2
    proc = ssh(setup, "h2", "test.ping")
    assert proc.returncode == 1
    assert "host key not in" in proc.stderr and "--ignore-host-keys" in proc.stderr
    proc = ssh(setup, "h2", "test.ping", "--ignore-host-keys")
    assert proc.returncode == 0, proc.stderr


def test_bad_usage_exits_2(setup: dict[str, Path], tmp_path: Path) -> None:
    proc = ssh(setup, "*", "test.ping", "--known-hosts", str(tmp_path / "nope"))
    assert proc.returncode == 2 and "known_hosts file" in proc.stderr
    proc = ssh(setup, "*", "test.ping", "--roster-file", str(tmp_path / "nope"))
    assert proc.returncode == 2 and "roster file not found" in proc.stderr
    proc = ssh(setup, "nomatch*", "test.ping")
    assert proc.returncode == 1 and "No hosts in the roster matched" in proc.stderr


def test_grain_target_uses_cached_grains(setup: dict[str, Path]) -> None:
    assert ssh(setup, "h1", "test.ping").returncode == 0
    proc = ssh(setup, "-G", "id:h1", "test.ping")
    assert proc.returncode == 0, proc.stderr
    assert "h1:" in proc.stdout and "h2:" not in proc.stdout


def test_many_ids_first_contact_at_once(setup: dict[str, Path], sshd_server: sshd.Sshd) -> None:
    """Ten ids of two addresses install the zipapp at the same moment: all run, one copy."""
    import shutil

    shutil.rmtree(sshd_server.home / ".cache", ignore_errors=True)
    roster = setup["cdir"] / "roster"
    roster.write_text("".join(
        f"m{i}: {{host: 127.0.0.{1 + i % 2}, port: {sshd_server.port}, user: {sshd_server.user}, "
        f"priv: {sshd_server.client_key}}}\n" for i in range(10)))
    proc = ssh(setup, "*", "test.ping", "--out", "json", "--static")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert [doc[f"m{i}"] for i in range(10)] == [True] * 10
    assert all(t["upload"] > 0 for t in doc["_timings"].values())
    assert len(list((sshd_server.home / ".cache" / "saline-ssh").iterdir())) == 1
