"""Minion data bounds, replays after a restart, dead minions: real daemons on loopback."""

from __future__ import annotations

import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import msgpack
import zmq

from common import codec, protocol
from common.crypto import KeyPair
from tests.cluster import Cluster, wait_for
from tests.relay import Relay


def _deep_map(depth: int) -> bytes:
    # msgpack's packer refuses this depth, so the bytes are written by hand.
    return b"\x81\xa1a" * depth + msgpack.packb("bottom")


def _dealer(port: int) -> zmq.Socket[bytes]:
    sock: zmq.Socket[bytes] = zmq.Context.instance().socket(zmq.DEALER)
    sock.setsockopt(zmq.LINGER, 0)
    sock.connect(f"tcp://127.0.0.1:{port}")
    return sock


def _ask(sock: zmq.Socket[bytes], payload: bytes) -> bytes:
    sock.send_multipart([b"r", payload])
    assert sock.poll(5000), "no reply"
    return sock.recv_multipart()[1]


def test_a_600_deep_grain_is_refused_and_grain_targeting_still_works(tmp_path: Path) -> None:
    cluster = Cluster(tmp_path, auto_accept=True)
    try:
        cluster.start_master()
        cluster.add_minion("m1", grains={"role": "web"})
        cluster.wait_answer(["m1"], timeout=30)

        # An accepted minion says hello with a grain nested 600 levels deep.
        pair, nonce = KeyPair.generate(), b"d" * protocol.NONCE_SIZE
        sock = _dealer(cluster.ret_port)
        auth = protocol.read_auth_reply(
            _ask(sock, protocol.make_auth_request(pair, "deep", nonce)), nonce, "deep")
        assert auth.status == "accepted"
        box = pair.box_to(auth.master)
        body = (b"\x84" + msgpack.packb("v") + msgpack.packb(codec.VERSION)
                + msgpack.packb("kind") + msgpack.packb("hello")
                + msgpack.packb("ts") + msgpack.packb(time.time())
                + msgpack.packb("grains") + b"\x81" + msgpack.packb("nest") + _deep_map(600))
        reply = codec.unpack(_ask(sock, codec.pack(
            {"kind": "req", "id": "deep", "box": box.encrypt(body)})))
        if reply["kind"] == "rep":
            assert protocol.open_reply(codec.pack(reply), box)["ok"] is False
        sock.close()

        for args in (("-G", "role:web"), ("-C", "G@nest:*:zzz or G@role:web"),
                     ("-C", "G@role:web or deep")):
            data, proc = cluster.run_json("-t", "5", *args, "test.ping")
            assert data.get("m1") is True, (args, proc.stderr)
            assert "recursion" not in proc.stderr
        assert "deep" not in cluster.run_json("-t", "5", "-G", "nest:*", "test.ping")[0]

        # Grains that deep already in the cache (written by an older master).
        cluster.stop_master()
        db = sqlite3.connect(cluster.master_dir / "cache" / "jobs.sqlite")
        db.execute("INSERT OR REPLACE INTO minions VALUES (?,?,?)",
                   ("deep", b"\x81" + msgpack.packb("nest") + _deep_map(600), time.time()))
        db.commit()
        db.close()
        cluster.start_master()
        cluster.wait_answer(["m1"], timeout=30)
        data, proc = cluster.run_json("-t", "5", "-G", "role:web", "test.ping")
        assert data == {"m1": True}, proc.stderr
        log = cluster.master_log()
        assert "grains from deep refused, not stored: nested deeper than" in log
        assert "cached grains of deep ignored" in log
        assert cluster.master is not None and cluster.master.poll() is None
    finally:
        cluster.close()


def test_a_publish_replayed_after_a_minion_restart_does_not_run(tmp_path: Path) -> None:
    cluster = Cluster(tmp_path, auto_accept=True)
    cluster.start_master()
    relay = Relay(cluster.ret_port)
    try:
        cluster.add_minion("m1", master_port=relay.port)
        cluster.wait_answer(["m1"], timeout=30)
        out = tmp_path / "ran.txt"
        proc = cluster.master_cmd("run", "-t", "20", "m1", "cmd.run", f"echo once >> {out}")
        assert proc.returncode == 0, proc.stderr
        assert out.read_text() == "once\n"
        jid = re.findall(r"job (\d+): cmd\.run", cluster.minion_log("m1"))[-1]
        with relay.lock:
            captured = relay.pushes[-1]

        cluster.stop_minion("m1")
        cluster.add_minion("m1", master_port=relay.port)
        wait_for(lambda: cluster.minion_log("m1").count("authenticated with the master") >= 2,
                 20, what="m1 back")

        def dropped() -> bool:
            relay.push(captured)  # again until it lands on the new connection
            return f"dropped replayed job {jid}" in cluster.minion_log("m1")

        wait_for(dropped, 20, interval=0.2, what="the replay to be dropped")
        assert out.read_text() == "once\n"
        assert cluster.minion_log("m1").count(f"job {jid}: cmd.run") == 1
        seen = cluster.minion_dir("m1") / "cache" / "seen_jids"
        assert oct(seen.stat().st_mode & 0o777) == "0o600"
    finally:
        relay.close()
        cluster.close()


def _pids_running(argv: bytes) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if (entry / "cmdline").read_bytes() != argv:
                continue
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z":
            found.append(int(entry.name))
    return found


def test_a_killed_minion_is_not_connected_at_once_and_its_commands_die(
        tmp_path: Path) -> None:
    cluster = Cluster(tmp_path, auto_accept=True)
    try:
        cluster.start_master()
        cluster.add_minion("m1")
        cluster.wait_answer(["m1"], timeout=30)
        seconds = f"3{os.getpid() % 10}.{os.getpid()}"  # unique to this test run
        sleep_argv = b"sleep\x00" + seconds.encode() + b"\x00"
        # Through the shell, so the sleep is a grandchild of the minion.
        run = subprocess.Popen(
            [sys.executable, "-m", "master", "-c", str(cluster.master_dir), "run", "-t", "60",
             "m1", "cmd.run", f"sleep {seconds}; echo done"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=cluster.env,
        )
        try:
            pids = wait_for(lambda: _pids_running(sleep_argv), 20, what="the sleep to start")
            killed = time.monotonic()
            cluster.minions["m1"].send_signal(signal.SIGKILL)
            out, err = run.communicate(timeout=20)
            took = time.monotonic() - killed
        finally:
            if run.poll() is None:
                run.kill()
                run.wait()
        assert out == "m1:\n    Minion did not return. [Not connected]\n", (out, err)
        assert run.returncode == 1
        assert took < 10, f"reported after {took:.1f} s"
        wait_for(lambda: not _pids_running(sleep_argv), 10, what=f"sleep {pids} to be gone")
    finally:
        cluster.close()


def test_master_sigkilled_during_a_run_loses_no_landed_return(tmp_path: Path) -> None:
    cluster = Cluster(tmp_path, auto_accept=True)
    try:
        cluster.start_master()
        cluster.add_minion("fast")
        cluster.add_minion("slow")
        cluster.wait_answer(["fast", "slow"], timeout=30)
        proc = cluster.master_cmd("run", "--async", "-L", "fast,slow", "cmd.run", "echo ok")
        first = re.search(r"job ID: (\d+)", proc.stdout)
        assert first, proc.stdout + proc.stderr
        proc = cluster.master_cmd("run", "--async", "slow", "cmd.run", "sleep 4; echo late")
        second = re.search(r"job ID: (\d+)", proc.stdout)
        assert second, proc.stdout + proc.stderr

        def shown(jid: str) -> dict[str, Any]:
            out = cluster.master_cmd("jobs", "show", jid, "--out", "json")
            return dict(json.loads(out.stdout)) if out.returncode == 0 else {}

        wait_for(lambda: len(shown(first.group(1)).get("returns") or {}) == 2, 20,
                 what="both returns of the first job landed")
        assert cluster.master is not None
        cluster.master.kill()  # SIGKILL while `slow` still runs the second job
        cluster.master.wait(10)
        cluster.master = None
        cluster.start_master()
        returns = shown(first.group(1))["returns"]
        assert {m: r["return"] for m, r in returns.items()} == {"fast": "ok", "slow": "ok"}
        # The second job's return, made while no master was there, lands after the restart.
        wait_for(lambda: (shown(second.group(1)).get("returns") or {}).get("slow", {})
                 .get("return") == "late", 40, 0.5, what="the late return after the restart")
        listed = cluster.master_cmd("jobs", "list", "--out", "json")
        assert listed.returncode == 0 and second.group(1) in listed.stdout
    finally:
        cluster.close()
