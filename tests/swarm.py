"""Many simulated minions in one process, speaking the real protocol to a real master.

Each simulated minion has its own key pair, id, grains, DEALER socket
and session, and goes through the same code paths as the minion
daemon for everything on the wire: `common.protocol` builds and opens every
message, `common.crypto` does the signatures and boxes, `common.transport`
moves the bytes. Only the work is fake: `test.ping`, `test.echo` and
`grains.item` are answered in-line instead of in a worker thread.

Run as a worker process (the swarm benchmark and test start a few)::

    python -m tests.swarm --ret-port 4506 --first 0 --count 1000

It runs until SIGTERM. On a master restart (a reply with a new `key_gen` or
an error reply) each minion waits a random delay of up to
`--reauth-delay` seconds before it authenticates again, as the daemon does
with `random_reauth_delay`.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import signal
import sys
import time
from typing import Any

import zmq

from common import protocol, targeting
from common.crypto import KeyPair, PeerBox, PublicKeys, SessionKey, random_bytes
from common.protocol import BadMessage
from common.transport import TransportError, tcp_address
from common.transport.aio import Client, context

MAX_MSG = 1 << 20
AUTH_TIMEOUT = 10.0
# Bounded like the daemon: auth retries back off up to this many seconds.
ACCEPTANCE_WAIT = 2.0


def minion_id(prefix: str, index: int) -> str:
    return f"{prefix}{index:05d}"


def _answer(fun: str, arg: list[Any], grains: dict[str, Any]) -> tuple[Any, bool]:
    if fun == "test.ping":
        return True, True
    if fun == "test.echo":
        return (arg[0] if arg else ""), True
    if fun == "grains.item":
        return {k: grains.get(k, "") for k in arg}, True
    return f"'{fun}' is not available in the swarm", False


class SimMinion:
    """One simulated minion: auth, hello, pillar, heartbeats, jobs and returns."""

    def __init__(self, mid: str, ret_addr: str, hb: float, reauth_delay: float) -> None:
        self.id = mid
        self.pair = KeyPair.generate()
        self.grains = {"id": mid, "os": "Debian", "os_family": "Debian", "kernel": "Linux",
                       "num_cpus": 2, "swarm": True,
                       "roles": ["web" if int(mid[-1]) % 2 else "db"]}
        self.ret_addr = ret_addr
        self.hb = hb
        self.reauth_delay = reauth_delay
        self.spread_next = False
        self.topics = (protocol.TOPIC_ALL, protocol.minion_topic(mid), protocol.TOPIC_NOTICE)
        self.master: PublicKeys | None = None
        self.session: SessionKey | None = None
        self.box: PeerBox | None = None
        self.key_gen = 0
        self.status = "new"
        self.wake = asyncio.Event()
        self.seen: set[str] = set()
        self.client: Client | None = None
        self.jobs: set[asyncio.Future[None]] = set()
        self.held: list[dict[str, Any]] = []

    async def run(self) -> None:
        self.client = Client(self.ret_addr, MAX_MSG, on_push=self._on_push)
        tasks = [asyncio.ensure_future(self._auth_loop()), asyncio.ensure_future(self._hb_loop())]
        try:
            await asyncio.gather(*tasks)
        finally:
            for task in tasks:
                task.cancel()
            self.client.close()

    # -- auth ---------------------------------------------------------------
    async def _auth_loop(self) -> None:
        delay = 1.0
        while True:
            self.wake.clear()
            if self.status != "accepted":
                # Once per lost session, as the daemon does; retries back off.
                if self.spread_next and self.reauth_delay > 0:
                    await asyncio.sleep(random.uniform(0, self.reauth_delay))
                self.spread_next = False
                ok = await self._authenticate()
                delay = 1.0 if ok else min(delay * 2, ACCEPTANCE_WAIT)
            if self.status == "accepted":
                await self.wake.wait()
                continue
            try:
                async with asyncio.timeout(delay * random.uniform(0.5, 1.0)):
                    await self.wake.wait()
            except TimeoutError:
                pass

    async def _authenticate(self) -> bool:
        assert self.client is not None
        nonce = random_bytes(protocol.NONCE_SIZE)
        try:
            data = await self.client.request(
                protocol.make_auth_request(self.pair, self.id, nonce), AUTH_TIMEOUT)
            reply = protocol.read_auth_reply(data, nonce, self.id)
        except (TransportError, BadMessage):
            return False
        if self.master is not None and reply.master != self.master:
            return False  # the pin: never follow another master
        self.master = reply.master
        if reply.status != "accepted" or reply.session is None:
            self.status = reply.status
            return False
        self.session = SessionKey(self.pair.unseal(reply.session))
        self.key_gen = reply.key_gen
        self.box = self.pair.box_to(reply.master)
        self.status = "accepted"
        await self._send({"kind": "hello", "grains": self.grains, "listen": True})
        await self._send({"kind": "pillar", "grains": self.grains}, 30.0)
        held, self.held = self.held, []
        for envelope in held:
            await self._on_job(envelope)
        return True

    def _need_auth(self) -> None:
        if self.status == "accepted":
            self.status = "reauth"
            self.spread_next = True
        self.wake.set()

    async def _send(self, body: dict[str, Any], timeout: float = AUTH_TIMEOUT) -> dict[str, Any]:
        if self.box is None or self.client is None:
            return {}
        box = self.box
        try:
            data = await self.client.request(protocol.make_request(box, self.id, body), timeout)
            reply = protocol.open_reply(data, box)
        except (TransportError, BadMessage):
            return {}
        if reply["kind"] == "error":
            self._need_auth()
            return {}
        if reply.get("key_gen") != self.key_gen:
            self._need_auth()
        return reply

    async def _hb_loop(self) -> None:
        await asyncio.sleep(random.uniform(0, self.hb))  # spread the heartbeats
        while True:
            if self.status == "accepted":
                await self._send({"kind": "hb", "listen": True})
            await asyncio.sleep(self.hb)

    # -- publishes ----------------------------------------------------------
    def _on_push(self, payload: bytes) -> None:
        # As the daemon does: jobs and notices come down the request connection.
        if self.master is None:
            return
        try:
            envelope = protocol.open_push(payload, self.master, self.topics)
        except BadMessage:
            return
        if envelope["kind"] == "notice":
            self._on_notice(envelope)
            return
        task = asyncio.ensure_future(self._on_job(envelope))
        self.jobs.add(task)
        task.add_done_callback(self.jobs.discard)

    def _on_notice(self, envelope: dict[str, Any]) -> None:
        event = envelope.get("event")
        if event == "accepted" and self.id in (envelope.get("ids") or []):
            self.wake.set()
        elif event == "rotate":
            self._need_auth()

    async def _on_job(self, envelope: dict[str, Any]) -> None:
        gen = envelope.get("key_gen")
        if self.session is None or gen != self.key_gen:
            # As the daemon does: a job sealed with a newer session key than
            # ours (we are still authenticating) is held and read afterwards.
            if isinstance(gen, int) and gen > self.key_gen and len(self.held) < 100:
                self.held.append(envelope)
                self._need_auth()
            return
        try:
            job = protocol.open_job(envelope, self.session)
        except BadMessage:
            return
        if job.jid in self.seen:
            return
        self.seen.add(job.jid)
        me = {"id": self.id, "grains": self.grains, "pillar": {}}
        try:
            if not targeting.matches(me, job.tgt, job.tgt_type, delimiter=job.delimiter,
                                     nodegroups=job.nodegroups):
                return
        except targeting.TargetError:
            return
        task = asyncio.ensure_future(self._run_job(job))
        self.jobs.add(task)
        task.add_done_callback(self.jobs.discard)

    async def _run_job(self, job: protocol.Job) -> None:
        ack = asyncio.ensure_future(self._send({"kind": "ack", "jid": job.jid}))
        start = time.monotonic()
        value, ok = _answer(job.fun, job.arg, self.grains)
        ret = {"fun": job.fun, "return": value, "retcode": 0 if ok else 1, "success": ok,
               "duration": time.monotonic() - start}
        await ack
        for _ in range(3):
            if await self._send({"kind": "ret", "jid": job.jid, "ret": ret}):
                return
            await asyncio.sleep(0.5)


async def run_swarm(args: argparse.Namespace) -> None:
    """Run `args.count` minions until SIGTERM or SIGINT."""
    # A socket per minion: lift libzmq's default cap of 1023 sockets.
    context().set(zmq.MAX_SOCKETS, max(1024, args.count + 16))
    ret_addr = tcp_address(args.host, args.ret_port)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    minions = [SimMinion(minion_id(args.prefix, i), ret_addr, args.hb, args.reauth_delay)
               for i in range(args.first, args.first + args.count)]
    tasks = []
    for i, m in enumerate(minions):
        tasks.append(asyncio.ensure_future(m.run()))
        if i % 100 == 99:
            await asyncio.sleep(0)  # let the first ones start talking
    await stop.wait()
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="simulated minions for the swarm benchmark")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--ret-port", type=int, required=True)
    ap.add_argument("--prefix", default="swarm")
    ap.add_argument("--first", type=int, default=0)
    ap.add_argument("--count", type=int, default=100)
    ap.add_argument("--hb", type=float, default=5.0, help="heartbeat interval (s)")
    ap.add_argument("--reauth-delay", type=float, default=0.0,
                    help="re-authenticate after a master restart within this random delay (s)")
    args = ap.parse_args(argv)
    if not 1 <= args.count <= 10_000:
        ap.error("--count must be 1..10000")
    asyncio.run(run_swarm(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
