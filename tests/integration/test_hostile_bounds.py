"""Frames built to expand in memory, at real daemons: refused at a bounded cost."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psutil
import zmq

from common import codec
from tests.cluster import Cluster, free_port, wait_for


# A msgpack array of `n` empty maps: n + 5 bytes on the wire, ~64 * n bytes
# as Python dicts if decoded without limits.
def empty_maps(n: int) -> bytes:
    return b"\xdd" + n.to_bytes(4, "big") + b"\x80" * n


RSS_BOUND = 100 * 1024 * 1024


@contextmanager
def peak_rss(pid: int) -> Iterator[list[int]]:
    """Sample a process's RSS every 10 ms; yields [baseline, peak]."""
    proc = psutil.Process(pid)
    box = [proc.memory_info().rss, 0]
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            box[1] = max(box[1], proc.memory_info().rss)
            done.wait(0.01)

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    try:
        yield box
    finally:
        done.set()
        thread.join(5)


def test_sixty_mib_frame_of_empty_maps_costs_the_master_little(tmp_path: Path) -> None:
    cluster = Cluster(tmp_path, auto_accept=True)
    sock: zmq.Socket[bytes] = zmq.Context.instance().socket(zmq.DEALER)
    sock.setsockopt(zmq.LINGER, 0)
    try:
        cluster.start_master()
        cluster.add_minion("m1")
        cluster.wait_answer(["m1"])
        assert cluster.master is not None
        sock.connect(f"tcp://127.0.0.1:{cluster.ret_port}")
        frame = empty_maps(60 * 1024 * 1024)
        with peak_rss(cluster.master.pid) as rss:
            ran: list[tuple[dict, int]] = []

            def run() -> None:
                data, proc = cluster.run_json("-t", "10", "m1", "test.ping")
                ran.append((data, proc.returncode))

            runner = threading.Thread(target=run)
            runner.start()
            replies = []
            deadline = time.monotonic() + 20
            for rid in (b"a", b"b", b"c"):
                # One at a time: what is measured is the cost of one frame.
                sock.send_multipart([rid, frame])
                while time.monotonic() < deadline and not sock.poll(200):
                    pass
                if sock.poll(0):
                    replies.append(codec.unpack(sock.recv_multipart()[1]))
            runner.join(30)
        assert [r["kind"] for r in replies] == ["error"] * 3
        assert "max_array_len" in replies[0]["error"]
        assert ran == [({"m1": True}, 0)]
        # Receiving a frame costs 2-3 times its size (libzmq's buffer and
        # the bytes handed to Python); decoding it must add almost nothing
        # (it was 4.4 GB for this frame).
        growth = rss[1] - rss[0]
        assert growth < 3 * len(frame), f"master grew {growth >> 20} MB"
        assert cluster.master.poll() is None
        # Three identical bad frames from one address: one log line.
        assert cluster.master_log().count(
            "rejected a request from 127.0.0.1: malformed msgpack") == 1
    finally:
        sock.close()
        cluster.close()


def test_eight_mib_reply_costs_the_minion_little(tmp_path: Path) -> None:
    # A fake master on the return port answers every request with 8 MiB of
    # empty maps; the minion must refuse them unread and keep trying.
    cluster = Cluster(tmp_path)
    fake: zmq.Socket[bytes] = zmq.Context.instance().socket(zmq.ROUTER)
    fake.setsockopt(zmq.LINGER, 0)
    port = free_port()
    fake.bind(f"tcp://127.0.0.1:{port}")
    try:
        cluster.add_minion("m1", master_port=port, publish_port=free_port(), auth_timeout=2,
                           acceptance_wait_time=1)
        proc = cluster.minions["m1"]
        wait_for(lambda: (psutil.Process(proc.pid).memory_info().rss > 0 and
                 "starting" in cluster.minion_log("m1").lower()) or
                 fake.poll(0), timeout=20, what="the minion to start")
        reply = empty_maps(8 * 1024 * 1024)
        answered = 0
        with peak_rss(proc.pid) as rss:
            deadline = time.monotonic() + 20
            while answered < 3 and time.monotonic() < deadline:
                if fake.poll(200):
                    peer, rid, _ = fake.recv_multipart()
                    fake.send_multipart([peer, rid, reply])
                    answered += 1
            # Let the minion read the last one.
            wait_for(lambda: cluster.minion_log("m1").count("auth refused") >= answered,
                     timeout=10, what="the minion to refuse the replies")
        assert answered == 3
        growth = rss[1] - rss[0]
        assert growth < RSS_BOUND, f"minion grew {growth >> 20} MB"
        assert proc.poll() is None
        assert "over the" in cluster.minion_log("m1")
    finally:
        fake.close()
        cluster.close()
