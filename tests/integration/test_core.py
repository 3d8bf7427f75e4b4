"""End to end: real master and minion processes on loopback."""

from __future__ import annotations

import json
import time

import zmq

from common import codec, protocol
from common.crypto import KeyPair
from tests.cluster import Cluster, wait_for


def test_keys_start_pending_and_only_accepted_minions_run(cluster: Cluster) -> None:
    cluster.start_master()
    for m in ("m1", "m2", "m3"):
        cluster.add_minion(m)
    cluster.wait_pending("m1", "m2", "m3")
    assert cluster.keys()["accepted"] == []

    proc = cluster.master_cmd("key", "accept", "m1", "-y")
    assert proc.returncode == 0, proc.stderr
    assert "Key for minion m1 accepted." in proc.stdout
    cluster.wait_answer(["m1"])
    data, proc = cluster.run_json("*", "test.ping")
    assert data == {"m1": True}
    assert proc.returncode == 0

    proc = cluster.master_cmd("key", "accept", "--all", "-y")
    assert proc.returncode == 0
    cluster.wait_answer(["m1", "m2", "m3"])
    assert cluster.keys() == {"accepted": ["m1", "m2", "m3"], "pending": [],
                              "rejected": [], "denied": []}


def test_functions_targets_and_output(three: Cluster) -> None:
    data, proc = three.run_json("m1", "cmd.run", "echo hi there | tr a-z A-Z")
    assert proc.returncode == 0, proc.stderr
    assert data == {"m1": "HI THERE"}

    data, proc = three.run_json("-L", "m1,m3", "test.echo", "hello")
    assert data == {"m1": "hello", "m3": "hello"}

    proc = three.master_cmd("run", "*", "grains.item", "os", "num_cpus", "--out", "json")
    assert proc.returncode == 0
    docs = [json.loads(d) for d in proc.stdout.replace("}\n{", "}\x00{").split("\x00")]
    assert sorted(next(iter(d)) for d in docs) == ["m1", "m2", "m3"]
    for doc in docs:
        (ret,) = doc.values()
        assert set(ret) == {"os", "num_cpus"} and ret["num_cpus"] >= 1

    data, _ = three.run_json("m2", "test.arg", "1", "two", "flag=true", "n=3")
    assert data == {"m2": {"args": [1, "two"], "kwargs": {"flag": True, "n": 3}}}

    data, proc = three.run_json("-E", "m[12]$", "grains.get", "id")
    assert data == {"m1": "m1", "m2": "m2"}

    proc = three.master_cmd("run", "m1", "test.ping")
    assert proc.stdout == "m1:\n    True\n"


def test_failures_are_one_readable_line_and_exit_codes(three: Cluster) -> None:
    data, proc = three.run_json("m1", "test.nope")
    assert proc.returncode == 1
    assert data == {"m1": "ERROR: 'test.nope' is not available."}

    data, proc = three.run_json("m1", "test.echo")
    assert proc.returncode == 1
    assert "missing a required argument: 'text'" in data["m1"]

    data, proc = three.run_json("m1", "test.exception", "it broke")
    assert proc.returncode == 1
    assert data["m1"] == "ERROR: test.exception: Exception: it broke"

    data, proc = three.run_json("m1", "cmd.run", "echo out; exit 3")
    assert proc.returncode == 1 and data["m1"] == "out"
    assert "m1: failed (retcode 3)" in proc.stderr

    proc = three.master_cmd("run", "nobody", "test.ping")
    assert proc.returncode == 1 and "No minions matched" in proc.stderr

    proc = three.master_cmd("run", "-C", "G@os:x and ( web*", "test.ping")
    assert proc.returncode == 2 and "unbalanced" in proc.stderr

    # And everything still works afterwards.
    data, proc = three.run_json("*", "test.ping")
    assert data == {"m1": True, "m2": True, "m3": True} and proc.returncode == 0


def test_async_jobs_are_in_the_cache(three: Cluster) -> None:
    proc = three.master_cmd("run", "--async", "*", "test.echo", "later")
    assert proc.returncode == 0
    jid = proc.stdout.strip().rsplit(" ", 1)[-1]
    assert len(jid) == 20 and jid.isdigit()

    def returned() -> dict | None:
        shown = three.master_cmd("jobs", "show", jid, "--out", "json")
        job = json.loads(shown.stdout)
        return job if len(job["returns"]) == 3 else None

    job = wait_for(returned, what="3 returns in the job cache")
    assert {m: r["return"] for m, r in job["returns"].items()} == {
        "m1": "later", "m2": "later", "m3": "later"}
    listing = json.loads(three.master_cmd("jobs", "list", "--out", "json").stdout)
    assert listing[jid]["Function"] == "test.echo" and listing[jid]["Returned"] == "3/3"


def test_ping_answers_while_a_long_job_runs(three: Cluster) -> None:
    proc = three.master_cmd("run", "--async", "m1", "cmd.run", "sleep 20")
    assert proc.returncode == 0
    data, proc = three.run_json("-t", "5", "*", "test.ping")
    assert data == {"m1": True, "m2": True, "m3": True}

    # A job that outlives the timeout is reported as still running.
    proc = three.master_cmd("run", "-t", "1", "m2", "test.sleep", "5")
    assert proc.returncode == 1
    assert proc.stdout.startswith(
        "m2:\n    Minion did not return. [No response]\n    Still running:"), proc.stdout


def test_stopped_minion_is_reported_not_connected(three: Cluster) -> None:
    three.stop_minion("m3")  # it says goodbye before it exits
    data, proc = three.run_json("-t", "3", "*", "test.ping")
    assert data == {"m1": True, "m2": True, "m3": "Minion did not return. [Not connected]"}
    assert proc.returncode == 1


def test_deleted_minion_can_no_longer_read_jobs(three: Cluster) -> None:
    proc = three.master_cmd("key", "delete", "m3", "-y")
    assert proc.returncode == 0
    # The deleted minion asks again and lands in pending.
    three.wait_pending("m3")
    # A grain target is broadcast to every subscriber, m3 included: it must
    # not be able to read it (the session key was rotated).
    proc = three.master_cmd("run", "--out", "json", "--static", "-G", "os:*", "test.echo", "x")
    data = json.loads(proc.stdout)
    assert data == {"m1": "x", "m2": "x"}
    jid = json.loads(three.master_cmd("jobs", "list", "--out", "json").stdout)
    newest = max(jid)
    assert f"job {newest}" in three.minion_log("m1")
    assert f"job {newest}" not in three.minion_log("m3")
    # Its own key no longer opens the request channel either.
    m3 = KeyPair.load_or_create(three.minion_dir("m3") / "pki", "minion")
    master_pub = KeyPair.load_or_create(three.master_dir / "pki", "master").public
    sock = zmq.Context.instance().socket(zmq.DEALER)
    sock.setsockopt(zmq.LINGER, 0)
    sock.connect(f"tcp://127.0.0.1:{three.ret_port}")
    ret = {"kind": "ret", "jid": newest, "ret": {"return": "forged", "success": True}}
    sock.send_multipart([b"r", protocol.make_request(m3.box_to(master_pub), "m3", ret)])
    assert sock.poll(5000)
    assert codec.unpack(sock.recv_multipart()[1]) == {"v": 1, "kind": "error",
                                                      "error": "not accepted"}
    sock.close()
    shown = json.loads(three.master_cmd("jobs", "show", newest, "--out", "json").stdout)
    assert sorted(shown["returns"]) == ["m1", "m2"]
    # Accepting it again brings it back.
    three.master_cmd("key", "accept", "m3", "-y")
    three.wait_answer(["m1", "m2", "m3"])


def test_second_minion_with_a_taken_id_is_denied(three: Cluster) -> None:
    three.add_minion("m1", dirname="minion-impostor")
    wait_for(lambda: "m1" in three.keys()["denied"], what="impostor denied")
    assert three.keys()["accepted"] == ["m1", "m2", "m3"]
    data, _ = three.run_json("m1", "test.ping")
    assert data == {"m1": True}


def test_minions_come_back_after_a_master_restart(three: Cluster) -> None:
    three.stop_master()
    three.start_master()
    three.wait_answer(["m1", "m2", "m3"], timeout=15)
    data, proc = three.run_json("*", "test.ping")
    assert data == {"m1": True, "m2": True, "m3": True} and proc.returncode == 0


def test_reject_rotates_and_shuts_the_minion_out(three: Cluster) -> None:
    proc = three.master_cmd("key", "reject", "m2", "--include-accepted", "-y")
    assert proc.returncode == 0, proc.stderr
    assert three.keys()["rejected"] == ["m2"]
    data, _ = three.run_json("*", "test.ping")
    assert data == {"m1": True, "m3": True}


def test_nodegroups_reach_the_same_minions_on_both_sides(three: Cluster) -> None:
    data, proc = three.run_json("-N", "front", "test.ping")
    assert data == {"m1": True, "m2": True} and proc.returncode == 0
    # The minions evaluate N@ themselves with the definitions the job carries.
    data, proc = three.run_json("-C", "N@back and G@os:*", "cmd.run", "echo x")
    assert data == {"m3": "x"} and proc.returncode == 0


def test_a_return_survives_a_master_restart(three: Cluster) -> None:
    proc = three.master_cmd("run", "--async", "m1", "cmd.run", "sleep 2; echo done")
    jid = proc.stdout.strip().rsplit(" ", 1)[-1]
    three.stop_master()
    time.sleep(3)  # the job ends while no master is there to hear it
    three.start_master()

    def returned() -> bool:
        job = json.loads(three.master_cmd("jobs", "show", jid, "--out", "json").stdout)
        return job["returns"].get("m1", {}).get("return") == "done"

    wait_for(returned, timeout=30, interval=0.5, what="the return after the restart")
