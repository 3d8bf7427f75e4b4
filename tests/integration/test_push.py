"""Jobs and notices travel down each minion's own connection: real daemons on loopback.

There is no publish port for a stranger to subscribe to: the master pushes a
job only down the connection a minion's daemon authenticated and said hello
on, and tells a pending minion of its acceptance down the connection it last
authenticated on.
"""

from __future__ import annotations

import socket
import time
from pathlib import Path

import pytest
import zmq

from common import codec, protocol
from common.crypto import KeyPair
from tests.cluster import Cluster


def _dealer(port: int) -> zmq.Socket[bytes]:
    sock: zmq.Socket[bytes] = zmq.Context.instance().socket(zmq.DEALER)
    sock.setsockopt(zmq.LINGER, 0)
    sock.connect(f"tcp://127.0.0.1:{port}")
    return sock


def _auth(sock: zmq.Socket[bytes], pair: KeyPair, minion_id: str) -> protocol.AuthReply:
    nonce = minion_id.encode().ljust(protocol.NONCE_SIZE, b".")[: protocol.NONCE_SIZE]
    sock.send_multipart([b"a", protocol.make_auth_request(pair, minion_id, nonce)])
    assert sock.poll(5000), "no auth reply"
    return protocol.read_auth_reply(sock.recv_multipart()[1], nonce, minion_id)


def _unasked(sock: zmq.Socket[bytes], wait_ms: int) -> list[list[bytes]]:
    """Every message that arrives on `sock` within `wait_ms` (none was asked for)."""
    got = []
    deadline = time.monotonic() + wait_ms / 1000
    while (left := deadline - time.monotonic()) > 0:
        if sock.poll(int(left * 1000) + 1):
            got.append(sock.recv_multipart())
    return got


def test_no_publish_port_and_jobs_reach_only_listening_minions(tmp_path: Path) -> None:
    cluster = Cluster(tmp_path, auto_accept=True)
    sockets: list[zmq.Socket[bytes]] = []
    try:
        cluster.start_master()
        cluster.add_minion("m1", grains={"role": "web"})
        cluster.wait_answer(["m1"])
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", cluster.pub_port), timeout=2).close()

        # A stranger (pending with auto_accept off is the same: it gets no
        # session) and an accepted minion that never says it listens.
        stranger = _dealer(cluster.ret_port)
        quiet = _dealer(cluster.ret_port)
        sockets += [stranger, quiet]
        stranger.send_multipart([b"x", b"\xc1 not a message"])
        assert stranger.poll(5000) and stranger.recv_multipart()[0] == b"x"
        quiet_pair = KeyPair.generate()
        assert _auth(quiet, quiet_pair, "quiet").status == "accepted"

        # A listening spy: accepted, says hello with `listen`, hears its pushes.
        spy = _dealer(cluster.ret_port)
        sockets.append(spy)
        spy_pair = KeyPair.generate()
        auth = _auth(spy, spy_pair, "spy")
        box = spy_pair.box_to(auth.master)
        spy.send_multipart([b"h", protocol.make_request(
            box, "spy", {"kind": "hello", "grains": {"role": "db"}, "listen": True})])
        assert spy.poll(5000) and spy.recv_multipart()[0] == b"h"

        for target in (("m1",), ("-G", "role:web"), ("*",)):
            proc = cluster.master_cmd("run", "-t", "5", *target, "test.ping")
            assert "m1:" in proc.stdout, proc.stderr
        assert _unasked(stranger, 300) == [] and _unasked(quiet, 300) == []
        pushed = _unasked(spy, 1000)
        topics = [codec.unpack(frames[1][64:])["topic"] for frames in pushed]
        # Not m1's own job; the grain job (judged by each minion) and its own.
        assert all(frames[0] == protocol.PUSH_RID for frames in pushed)
        assert topics == [protocol.TOPIC_ALL, protocol.minion_topic("spy")], topics
    finally:
        for sock in sockets:
            sock.close(linger=0)
        cluster.close()


def test_an_accepted_key_is_told_at_once_over_its_request_connection(tmp_path: Path) -> None:
    cluster = Cluster(tmp_path)
    try:
        cluster.start_master()
        # Retries back off to 60 s: without the push the minion would sit pending.
        cluster.add_minion("m1", acceptance_wait_time=60)
        cluster.wait_pending("m1")
        time.sleep(3)  # let its auth retries back off past the test's bound below
        proc = cluster.master_cmd("key", "accept", "m1", "-y")
        assert proc.returncode == 0, proc.stderr
        accepted = time.monotonic()
        cluster.wait_answer(["m1"], timeout=30)
        assert time.monotonic() - accepted < 3
        assert "the master pushed a notice: accepted" in cluster.minion_log("m1")
    finally:
        cluster.close()

