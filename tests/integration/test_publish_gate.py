"""The publish port admits accepted minion keys only: real daemons on loopback."""

from __future__ import annotations

import contextlib
import time
from pathlib import Path

import zmq
from zmq.utils.monitor import parse_monitor_message

from common import protocol
from common.crypto import KeyPair
from tests.cluster import Cluster, wait_for
from tests.integration.test_hostile_bounds import peak_rss

FLOOD_TOPICS = 50_000


def _subscriber(port: int, curve: tuple[bytes, KeyPair] | None) -> tuple[zmq.Socket, zmq.Socket]:
    """An XSUB on the publish port (CURVE with `curve` = (server key, own pair)) and its monitor."""
    sock: zmq.Socket[bytes] = zmq.Context.instance().socket(zmq.XSUB)
    sock.setsockopt(zmq.LINGER, 0)
    sock.setsockopt(zmq.SNDHWM, 0)
    if curve is not None:
        server, pair = curve
        sock.curve_serverkey = server
        sock.curve_publickey = pair.public.box
        sock.curve_secretkey = pair.box_secret()
    mon = sock.get_monitor_socket()
    sock.connect(f"tcp://127.0.0.1:{port}")
    return sock, mon


def _handshake(mon: zmq.Socket, timeout: float = 5.0) -> str:
    """How the first handshake ended: "ok", "auth" (key refused) or "protocol"."""
    deadline = time.monotonic() + timeout
    while (left := deadline - time.monotonic()) > 0:
        if not mon.poll(int(left * 1000)):
            break
        event = parse_monitor_message(mon.recv_multipart())["event"]
        if event == zmq.EVENT_HANDSHAKE_SUCCEEDED:
            return "ok"
        if event == zmq.EVENT_HANDSHAKE_FAILED_AUTH:
            return "auth"
        if event in (zmq.EVENT_HANDSHAKE_FAILED_PROTOCOL, zmq.EVENT_HANDSHAKE_FAILED_NO_DETAIL,
                     zmq.EVENT_DISCONNECTED):
            return "protocol"
    return "none"


def _flood(sock: zmq.Socket) -> None:
    for n in range(FLOOD_TOPICS):
        sock.send(b"\x01flood-" + n.to_bytes(4, "big") * 16, zmq.NOBLOCK)


def test_strangers_cannot_subscribe_and_a_flood_costs_nothing(tmp_path: Path) -> None:
    cluster = Cluster(tmp_path, auto_accept=True)
    sockets: list[zmq.Socket] = []
    try:
        cluster.start_master()
        cluster.add_minion("m1")
        cluster.wait_answer(["m1"])
        assert cluster.master is not None
        master_key = KeyPair.load_or_create(cluster.master_dir / "pki", "master").public.box
        plain, plain_mon = _subscriber(cluster.pub_port, None)
        stranger, stranger_mon = _subscriber(cluster.pub_port, (master_key, KeyPair.generate()))
        sockets += [plain, plain_mon, stranger, stranger_mon]
        assert _handshake(plain_mon) == "protocol"
        assert _handshake(stranger_mon) == "auth"

        with peak_rss(cluster.master.pid) as rss:
            for sock in (plain, stranger):
                with contextlib.suppress(zmq.Again):  # nothing connected: the point
                    _flood(sock)
            started = time.monotonic()
            data, proc = cluster.run_json("-t", "10", "*", "test.ping")
            ping_s = time.monotonic() - started
        assert data == {"m1": True}, proc.stderr
        assert ping_s < 5, ping_s
        assert rss[1] - rss[0] < 20 * 1024 * 1024, rss

        # More strangers from the same address: one log line a minute, not one each.
        for _ in range(3):
            sock, mon = _subscriber(cluster.pub_port, (master_key, KeyPair.generate()))
            sockets += [sock, mon]
            assert _handshake(mon) == "auth"
        log = cluster.master_log()
        assert log.count("refused a publish subscriber from 127.0.0.1") == 1, log

        # The control: an accepted minion's key gets in and hears the publishes.
        nonce, pair = b"n" * protocol.NONCE_SIZE, KeyPair.generate()
        dealer: zmq.Socket[bytes] = zmq.Context.instance().socket(zmq.DEALER)
        dealer.setsockopt(zmq.LINGER, 0)
        sockets.append(dealer)
        dealer.connect(f"tcp://127.0.0.1:{cluster.ret_port}")
        dealer.send_multipart([b"r", protocol.make_auth_request(pair, "spy", nonce)])
        assert dealer.poll(5000)
        auth = protocol.read_auth_reply(dealer.recv_multipart()[1], nonce, "spy")
        assert auth.status == "accepted"
        member, member_mon = _subscriber(cluster.pub_port, (master_key, pair))
        sockets += [member, member_mon]
        assert _handshake(member_mon) == "ok"
        member.send(b"\x01" + protocol.minion_topic("spy"))

        def heard() -> bool:
            cluster.master_cmd("run", "--async", "spy", "test.ping")
            return bool(member.poll(500))

        wait_for(heard, 15, what="an accepted key to hear a publish")
        assert member.recv_multipart()[0] == protocol.minion_topic("spy")
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
