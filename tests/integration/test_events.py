"""`master events` and the metrics endpoint, against a real master and minions on loopback.

A subscriber started before a job sees it published, acknowledged and
returned by each minion; a script waits for a new minion's key with
`--count 1 --timeout` (exit 0), or gives up at the timeout (exit 1); the
metrics endpoint, scraped during a run and parsed with prometheus_client's
parser, counts connected minions and returns; it is off by default.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psutil
import pytest

from common import config
from master.localclient import LocalClient
from tests.cluster import Cluster, free_port, wait_for

prometheus_parser = pytest.importorskip("prometheus_client.parser")


@pytest.fixture
def bare(tmp_path: Path) -> Iterator[Cluster]:
    """A running master without minions (keys wait to be accepted)."""
    cluster = Cluster(tmp_path)
    try:
        cluster.start_master()
        yield cluster
    finally:
        cluster.close()


def _subscribe(cluster: Cluster, name: str, *args: str) -> tuple[subprocess.Popen[str], Path]:
    """Start `master events ARGS` writing to a file; return once its poll waits at the master."""
    out = cluster.base / f"{name}.out"
    with open(out, "w") as stdout, open(cluster.base / f"{name}.err", "w") as stderr:
        proc = subprocess.Popen(
            [sys.executable, "-m", "master", "-c", str(cluster.master_dir), "events", *args],
            stdout=stdout, stderr=stderr, text=True, env=cluster.env, cwd=str(cluster.base))
    wait_for(lambda: _status(cluster)["event_subscribers"] >= 1, 15, what="subscriber polling")
    return proc, out


def _status(cluster: Cluster) -> dict[str, Any]:
    client = LocalClient(config.load("master", cluster.master_dir))
    try:
        data: dict[str, Any] = client.call("status")
        return data
    finally:
        client.close()


def _events(out: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in out.read_text().splitlines() if line.strip()]


def _async_jid(cluster: Cluster, *args: str) -> str:
    proc = cluster.master_cmd("run", "--async", *args)
    match = re.search(r"job ID: (\d{20})", proc.stdout)
    assert proc.returncode == 0 and match, (proc.stdout, proc.stderr)
    return match.group(1)


def test_a_subscriber_sees_a_job_published_acknowledged_and_returned(two: Cluster) -> None:
    proc, out = _subscribe(two, "jobs", "--tag", "saline/job/")
    jid = _async_jid(two, "*", "test.retcode", "3")
    tags = {f"saline/job/{jid}/{kind}/{m}" for kind in ("ack", "ret") for m in ("m1", "m2")}
    seen = wait_for(lambda: tags <= {e["tag"] for e in _events(out)} and _events(out), 20,
                    what="ack and ret events of both minions")
    mine = [e for e in seen if e["data"].get("jid") == jid]
    assert mine[0]["tag"] == f"saline/job/{jid}/new"
    assert mine[0]["data"] == {"jid": jid, "fun": "test.retcode", "tgt": "*", "tgt_type": "glob",
                               "minions": ["m1", "m2"], "user": mine[0]["data"]["user"]}
    order = [e["tag"] for e in mine]
    for minion in ("m1", "m2"):
        assert order.index(f"saline/job/{jid}/ack/{minion}") < order.index(
            f"saline/job/{jid}/ret/{minion}")
        ret = next(e for e in mine if e["tag"] == f"saline/job/{jid}/ret/{minion}")["data"]
        assert (ret["id"], ret["fun"], ret["success"], ret["retcode"]) == (
            minion, "test.retcode", False, 3)
        assert isinstance(ret["duration"], float) and ret["duration"] >= 0
    assert len(order) == 5  # each once
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", mine[0]["ts"])

    # The master stopping ends the stream: exit 1, and why.
    two.stop_master()
    assert proc.wait(15) == 1
    assert "the master is stopping" in (two.base / "jobs.err").read_text()


def test_metrics_are_off_by_default(two: Cluster) -> None:
    assert two.master is not None
    listening = {c.laddr.port for c in psutil.Process(two.master.pid).net_connections("tcp")
                 if c.status == psutil.CONN_LISTEN}
    assert listening == {two.ret_port}  # the one port minions connect to


def test_a_script_waits_for_a_new_minion_key(bare: Cluster) -> None:
    wait = ["--tag", "saline/key/pending/*", "--count", "1"]
    start = time.monotonic()
    proc = bare.master_cmd("events", *wait, "--timeout", "1")
    assert proc.returncode == 1 and proc.stdout == ""
    assert "0 of 1 matching event within 1 s" in proc.stderr
    assert time.monotonic() - start < 10

    waiter, out = _subscribe(bare, "pending", *wait, "--timeout", "60")
    bare.add_minion("new1")
    assert waiter.wait(30) == 0
    [event] = _events(out)
    assert event["tag"] == "saline/key/pending/new1"
    assert event["data"] == {"id": "new1", "state": "pending"}

    # A script started after the fact finds it with --since; the minion asking
    # again and again made no second event.
    bare.wait_pending("new1")
    late = bare.master_cmd("events", "--tag", "saline/key/", "--since", "60", "--timeout", "1")
    assert late.returncode == 0
    assert [json.loads(line)["tag"] for line in late.stdout.splitlines()] == [
        "saline/key/pending/new1"]


def test_key_accept_and_delete_are_events(bare: Cluster) -> None:
    bare.add_minion("m1")
    bare.wait_pending("m1")
    proc, out = _subscribe(bare, "keys", "--tag", "saline/key/", "--tag",
                           "saline/minion/m1/connected", "--count", "3", "--timeout", "60")
    assert bare.master_cmd("key", "accept", "m1", "-y").returncode == 0
    wait_for(lambda: len(_events(out)) >= 2, 30, what="accepted and connected events")
    assert bare.master_cmd("key", "delete", "m1", "-y").returncode == 0
    assert proc.wait(30) == 0
    assert [e["tag"] for e in _events(out)] == [
        "saline/key/accepted/m1", "saline/minion/m1/connected", "saline/key/deleted/m1"]


def _scrape(port: int) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as resp:
        text = resp.read().decode()
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in prometheus_parser.text_string_to_metric_families(text)
            for s in family.samples}


def test_metrics_endpoint_during_a_run(tmp_path: Path) -> None:
    port = free_port()
    cluster = Cluster(tmp_path, auto_accept=True, metrics_port=port)
    try:
        cluster.start_master()
        cluster.add_minion("m1")
        cluster.add_minion("m2")
        cluster.wait_answer(["m1", "m2"], timeout=30)
        before = _scrape(port)
        assert before[("saline_minions_connected", ())] == 2
        assert before[("saline_keys", (("state", "accepted"),))] == 2
        assert before[("process_resident_memory_bytes", ())] > 10_000_000

        data, proc = cluster.run_json("*", "test.ping")
        assert data == {"m1": True, "m2": True}, proc.stderr
        _, proc = cluster.run_json("-L", "m1", "test.retcode", "3")
        assert proc.returncode == 1
        after = _scrape(port)

        def moved(name: str, *labels: tuple[str, str]) -> float:
            key = (name, tuple(sorted(labels)))
            return after.get(key, 0) - before.get(key, 0)

        assert moved("saline_job_returns_total", ("outcome", "success")) == 2
        assert moved("saline_job_returns_total", ("outcome", "failed")) == 1
        assert moved("saline_jobs_published_total", ("fun", "test.retcode")) == 1
        assert moved("saline_job_return_seconds_count") == 3
        assert moved("saline_request_seconds_count", ("kind", "ret")) == 3
        assert after[("saline_request_seconds_count", (("kind", "auth"),))] >= 2

        # Bound to the master's interface only.
        assert cluster.master is not None
        bound = {c.laddr.ip for c in psutil.Process(cluster.master.pid).net_connections("tcp")
                 if c.status == psutil.CONN_LISTEN and c.laddr.port == port}
        assert bound == {"127.0.0.1"}

        cluster.stop_minion("m2")
        wait_for(lambda: _scrape(port)[("saline_minions_connected", ())] == 1, 15,
                 what="one minion connected")
    finally:
        cluster.close()


def test_metrics_port_without_prometheus_client_is_refused(tmp_path: Path) -> None:
    # A Python that cannot import prometheus_client: the start says so in one line, exit 2.
    blocker = tmp_path / "block"
    blocker.mkdir()
    (blocker / "prometheus_client.py").write_text("raise ImportError('blocked for the test')\n")
    cluster = Cluster(tmp_path, metrics_port=free_port())
    env = {**cluster.env, "PYTHONPATH": f"{blocker}:{cluster.env['PYTHONPATH']}"}
    proc = subprocess.run(
        [sys.executable, "-m", "master", "-c", str(cluster.master_dir), "start"],
        capture_output=True, text=True, env=env, timeout=30, cwd=str(tmp_path))
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        f"master: error: metrics_port is {cluster_port(cluster)} but prometheus_client is not "
        "installed (pip install 'saline[metrics]')"]


def cluster_port(cluster: Cluster) -> int:
    return int(config.load("master", cluster.master_dir)["metrics_port"])
