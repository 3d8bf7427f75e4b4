"""Bad input from the network and from users: rejected, logged, daemons keep serving."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path

import msgpack
import zmq

from common import codec, protocol
from common.crypto import KeyPair, SessionKey
from tests.cluster import ROOT, Cluster, wait_for
from tests.relay import Relay

BAD_IDS = ["../x", "", "a\x00b", "x" * 300, ".hidden", "a/b"]


def dealer(port: int) -> zmq.Socket[bytes]:
    sock = zmq.Context.instance().socket(zmq.DEALER)
    sock.setsockopt(zmq.LINGER, 0)
    sock.connect(f"tcp://127.0.0.1:{port}")
    return sock


def ask(sock: zmq.Socket[bytes], payload: bytes, rid: bytes = b"r") -> dict:
    sock.send_multipart([rid, payload])
    assert sock.poll(5000), "no reply"
    frames = sock.recv_multipart()
    assert frames[0] == rid
    return codec.unpack(frames[1])


def test_master_survives_garbage_on_the_return_port(tmp_path: Path) -> None:
    cluster = Cluster(tmp_path, max_msg_size=1024 * 1024)
    try:
        _hostile_master_session(cluster)
    finally:
        cluster.close()


def _hostile_master_session(cluster: Cluster) -> None:
    cluster.start_master()
    cluster.add_minion("m1")
    cluster.wait_pending("m1")
    cluster.master_cmd("key", "accept", "m1", "-y")
    cluster.wait_answer(["m1"])
    sock = dealer(cluster.ret_port)

    sock.send_multipart([b"only one frame"])
    sock.send_multipart([b"a", b"b", b"c"])
    assert ask(sock, b"\xc1\xc1garbage")["kind"] == "error"
    assert ask(sock, msgpack.packb([1, 2, 3]))["kind"] == "error"
    assert ask(sock, codec.pack({"v": 99, "kind": "auth"}))["kind"] == "error"
    assert ask(sock, codec.pack({"kind": "auth", "signed": b"short"}))["kind"] == "error"
    assert ask(sock, codec.pack({"kind": "nope"}))["kind"] == "error"

    # Auth requests with ids that must never become file names.
    pair = KeyPair.generate()
    for bad in BAD_IDS:
        reply = ask(sock, protocol.make_auth_request(pair, bad, b"n" * 24))
        assert reply["kind"] == "error", bad
        assert "minion id" in reply["error"]
    pki = cluster.master_dir / "pki"
    stored = {p.name for state in ("pending", "accepted", "rejected", "denied")
              for p in (pki / state).iterdir()}
    assert stored == {"m1"}
    assert not (cluster.base / "x").exists()

    # A request signed by one key but presenting another.
    other = KeyPair.generate()
    forged = codec.unpack(protocol.make_auth_request(pair, "forger", b"n" * 24))
    body = forged["signed"][64:]
    resigned = codec.pack({"kind": "auth", "signed": other.sign(body)})
    assert ask(sock, resigned)["kind"] == "error"

    # A return for m1 boxed with a key that is not m1's.
    master_pub = KeyPair.load_or_create(pki, "master").public
    wrong = KeyPair.generate().box_to(master_pub)
    ret = protocol.make_request(wrong, "m1", {"kind": "ret", "jid": "1", "ret": {}})
    reply = ask(sock, ret)
    assert reply["kind"] == "error" and "box did not open" in reply["error"]

    # A frame over max_msg_size: zmq drops the connection, the master goes on.
    big = dealer(cluster.ret_port)
    big.send_multipart([b"r", b"x" * (2 * 1024 * 1024)])
    assert big.poll(500) == 0
    big.close()

    # Bytes that are not ZMTP at all.
    with socket.create_connection(("127.0.0.1", cluster.ret_port), timeout=5) as raw:
        raw.sendall(b"\xff" * 64 + b"GET / HTTP/1.0\r\n\r\n" + bytes(range(256)))

    data, proc = cluster.run_json("*", "test.ping")
    assert data == {"m1": True} and proc.returncode == 0
    assert cluster.master is not None and cluster.master.poll() is None
    assert "rejected a request" in cluster.master_log()
    sock.close()


def _fake_minion_session(cluster: Cluster) -> tuple[SessionKey, int]:
    """Authenticate as an auto-accepted minion to learn the session key."""
    pair = KeyPair.generate()
    sock = dealer(cluster.ret_port)
    nonce = b"s" * 24
    sock.send_multipart([b"r", protocol.make_auth_request(pair, "spy", nonce)])
    assert sock.poll(5000)
    reply = protocol.read_auth_reply(sock.recv_multipart()[1], nonce, "spy")
    sock.close()
    assert reply.status == "accepted" and reply.session is not None
    return SessionKey(pair.unseal(reply.session)), reply.key_gen


def test_minion_drops_forged_and_replayed_publishes(tmp_path: Path) -> None:
    cluster = Cluster(tmp_path, auto_accept=True)
    cluster.start_master()
    # In the middle of the minion's connection: injects pushes of its own,
    # with the master's signing key at hand (the strongest forger there is).
    relay = Relay(cluster.ret_port)
    try:
        cluster.add_minion("m1", master_port=relay.port)
        cluster.wait_answer(["m1"])
        session, gen = _fake_minion_session(cluster)
        master = KeyPair.load_or_create(cluster.master_dir / "pki", "master")
        topic = protocol.minion_topic("m1")

        def job(jid: str, ts: float | None = None) -> protocol.Job:
            return protocol.Job(jid, "m1", "glob", "test.ping", [], {},
                                time.time() if ts is None else ts, 1)

        first = job("20260101000000000001")
        good = protocol.make_publish(master, session, gen, topic, first)
        assert relay.push(good)
        wait_for(lambda: f"job {first.jid}" in cluster.minion_log("m1"),
                 what="the minion to run a first job")

        intruder = KeyPair.generate()
        relay.push(b"\xc1 garbage")
        relay.inject(protocol.PUSH_RID, b"x", b"y")
        relay.push(codec.pack(first.to_map()))  # unsigned
        relay.push(protocol.make_publish(intruder, session, gen, topic,
                                         job("20260101000000000002")))
        relay.push(protocol.make_publish(master, session, gen, protocol.minion_topic("m2"),
                                         job("20260101000000000003")))  # m2's job
        relay.push(protocol.make_publish(master, SessionKey(), gen, topic,
                                         job("20260101000000000004")))  # wrong session key
        relay.push(protocol.make_publish(master, session, gen, topic,
                                         job("20260101000000000005", time.time() - 3600)))
        relay.push(good)  # replay
        last = job("20260101000000000006")
        relay.push(protocol.make_publish(master, session, gen, topic, last))
        wait_for(lambda: f"job {last.jid}" in cluster.minion_log("m1"), what="the last job")

        log = cluster.minion_log("m1")
        assert log.count(f"job {first.jid}: test.ping") == 1
        for jid in ("2", "3", "4", "5"):
            assert f"job 2026010100000000000{jid}:" not in log
        assert "bad signature" in log
        assert "signed for another topic" in log
        assert "session box did not open" in log
        assert "outside the 300 s window" in log
        assert "dropped a reply with 3 frames" in log
        assert f"dropped replayed job {first.jid}" in log
        assert cluster.minions["m1"].poll() is None
    finally:
        relay.close()
        cluster.close()


def _master(cdir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "master", "-c", str(cdir), *args],
        capture_output=True, text=True, timeout=30, cwd=ROOT,
    )


def test_missing_and_broken_config_files(tmp_path: Path) -> None:
    proc = _master(tmp_path / "none", "key", "list")
    assert proc.returncode == 2
    missing = tmp_path / "none" / "master"
    assert proc.stderr.strip() == f"master: error: {missing}: config file not found"

    (tmp_path / "master").write_text("interface: 127.0.0.1\npublish_port: [\n")
    proc = _master(tmp_path, "start")
    assert proc.returncode == 2
    assert len(proc.stderr.strip().splitlines()) == 1
    assert "master: line 3" in proc.stderr and "YAML error" in proc.stderr

    (tmp_path / "master").write_text("publish_port: lots\n")
    proc = _master(tmp_path, "start")
    assert proc.returncode == 2
    assert "publish_port must be an integer, not a string" in proc.stderr


def test_port_in_use_is_one_clear_line(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        (tmp_path / "master").write_text(f"interface: 127.0.0.1\nret_port: {port}\n")
        proc = _master(tmp_path, "start")
    assert proc.returncode == 1
    assert f"cannot bind tcp://127.0.0.1:{port}: address already in use" in proc.stderr
    assert "Traceback" not in proc.stderr
