"""Minions that do not return: told at once, and shown in the output as Salt shows them.

Real master and minions on loopback: a minion stopped with SIGTERM says
goodbye and is not connected at once; one killed outright is seen by its
closed connection; both appear in the output itself (nested, json and yaml
with --static), and a run over more than ten minions ends with a summary
line on stderr.
"""

from __future__ import annotations

import json
import re
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import yaml

from common.output import NO_RESPONSE, NOT_CONNECTED
from tests.cluster import Cluster, wait_for
from tests.integration.test_hardening import FakeMinion

SUMMARY = re.compile(r"^Summary: (\d+) minions targeted, (\d+) returned \((\d+) failed\), "
                     r"(\d+) not connected, (\d+) still running, (\d+) no response; "
                     r"jid (\d{20})$")


def _timed_run(cluster: Cluster, *args: str) -> tuple[subprocess.CompletedProcess[str], float]:
    start = time.monotonic()
    proc = cluster.master_cmd("run", *args)
    return proc, time.monotonic() - start


def _json(proc: subprocess.CompletedProcess[str]) -> Any:
    assert proc.stdout.strip(), (proc.returncode, proc.stderr)
    return json.loads(proc.stdout)


def _newest_jid(cluster: Cluster) -> str:
    return max(_json(cluster.master_cmd("jobs", "list", "--out", "json")))


def _connected(cluster: Cluster, minion: str) -> bool:
    proc = cluster.master_cmd("run", "--preview", "--out", "json", "-L", minion)
    return bool(_json(proc)[minion]["connected"])


def test_a_stopped_minion_is_shown_not_connected_at_once(two: Cluster) -> None:
    two.stop_minion("m2")  # SIGTERM
    wait_for(lambda: "minion m2 said goodbye" in two.master_log(), 5,
             what="m2's goodbye in the master log")

    proc, took = _timed_run(two, "-t", "20", "*", "test.ping")
    assert proc.stdout == "m1:\n    True\nm2:\n    Minion did not return. [Not connected]\n"
    assert proc.returncode == 1 and took < 5, (took, proc.stderr)
    assert "Summary" not in proc.stderr  # two minions: no summary line

    data, proc = two.run_json("-t", "20", "*", "test.ping")
    assert data == {"m1": True, "m2": NOT_CONNECTED} and proc.returncode == 1
    proc, took = _timed_run(two, "--out", "yaml", "--static", "-t", "20", "*", "test.ping")
    assert yaml.safe_load(proc.stdout) == {"m1": True, "m2": NOT_CONNECTED}
    assert took < 5

    # Started again, it is connected again and answers.
    two.add_minion("m2")
    two.wait_answer(["m1", "m2"], timeout=30)

    # Killed outright (no goodbye), a moment before the run: its closed
    # connection tells the master, and the run does not wait for the timeout.
    killed = two.minions.pop("m2")
    killed.send_signal(signal.SIGKILL)
    killed.wait(10)
    proc, took = _timed_run(two, "-t", "20", "*", "test.ping")
    assert proc.stdout.endswith("m2:\n    Minion did not return. [Not connected]\n"), proc.stdout
    assert proc.returncode == 1 and took < 5, (took, proc.stderr)


def test_a_goodbye_counts_even_while_the_connection_stays_open(two: Cluster) -> None:
    fake = FakeMinion(two, "fake")
    try:
        assert fake.auth() == "accepted"
        assert fake.request({"kind": "hb"})["ok"] is True
        assert _connected(two, "fake")

        assert fake.request({"kind": "bye"})["ok"] is True
        assert not _connected(two, "fake")
        proc, took = _timed_run(two, "-t", "20", "-L", "fake", "test.ping")
        assert proc.stdout == "fake:\n    Minion did not return. [Not connected]\n"
        assert took < 5

        # Heard from again, it is connected; it never acknowledges a job.
        assert fake.request({"kind": "hb"})["ok"] is True
        assert _connected(two, "fake")
        data, proc = two.run_json("-t", "2", "-L", "m1,fake", "test.ping")
        assert data == {"m1": True, "fake": f"{NO_RESPONSE}\nConnected, but it did not "
                        "acknowledge the job within 2 s."}
        assert proc.returncode == 1
    finally:
        fake.close()


def test_a_job_outliving_the_timeout_is_shown_still_running(two: Cluster) -> None:
    proc = two.master_cmd("run", "-t", "1", "m2", "test.sleep", "5")
    assert proc.stdout == (
        "m2:\n"
        "    Minion did not return. [No response]\n"
        f"    Still running: it acknowledged the job; `master jobs show {_newest_jid(two)}` shows "
        "its return once it lands.\n")
    assert proc.returncode == 1


MIX_SLS = """\
{% if grains['id'] == 'm00' %}
slow:
  cmd.run:
    - name: sleep 60
{% elif grains['id'] == 'm01' %}
broken:
  test.fail_without_changes
{% else %}
fine:
  test.succeed_without_changes
{% endif %}
"""


def test_a_run_over_more_than_ten_minions_ends_with_a_summary(tmp_path: Path) -> None:
    roots = tmp_path / "roots"
    roots.mkdir()
    (roots / "mix.sls").write_text(MIX_SLS)
    # A long heartbeat window: the fake minion below sends no heartbeats of
    # its own during a run, and must stay connected.
    cluster = Cluster(tmp_path, auto_accept=True, heartbeat_interval=30,
                      file_roots={"base": [str(roots)]})
    ids = [f"m{i:02d}" for i in range(11)]
    fake = FakeMinion(cluster, "fake")
    try:
        cluster.start_master()
        for minion in ids:
            cluster.add_minion(minion, log_level="info")
        cluster.wait_answer(ids, timeout=60)
        cluster.stop_minion("m10")
        assert fake.auth() == "accepted"
        assert fake.request({"kind": "hb"})["ok"] is True

        # m00 is still sleeping at the timeout, m01 fails, m02..m09 succeed,
        # m10 is stopped and fake never acknowledges.
        proc = cluster.master_cmd("run", "-t", "8", "*", "state.sls", "mix")
        found = SUMMARY.match(proc.stderr.strip().splitlines()[-1])
        assert found, proc.stderr
        assert found.groups()[:6] == ("12", "9", "1", "1", "1", "1"), proc.stderr
        assert found.group(7) == _newest_jid(cluster)
        assert "m10:\n    Minion did not return. [Not connected]\n" in proc.stdout
        assert proc.returncode == 1

        proc = cluster.master_cmd("run", "--out", "json", "--static", "-t", "3", "*",
                                  "test.ping")
        data = _json(proc)  # the summary is never inside the document
        assert data == {**dict.fromkeys(ids[:10], True), "m10": NOT_CONNECTED,
                        "fake": f"{NO_RESPONSE}\nConnected, but it did not acknowledge "
                                "the job within 3 s."}
        found = SUMMARY.match(proc.stderr.strip().splitlines()[-1])
        assert found and found.groups()[:6] == ("12", "10", "0", "1", "0", "1"), proc.stderr

        proc = cluster.master_cmd("run", "-t", "5", "-L", ",".join(ids[:10]), "test.ping")
        assert proc.returncode == 0 and proc.stderr == ""  # ten minions: no summary
    finally:
        fake.close()
        cluster.close()
