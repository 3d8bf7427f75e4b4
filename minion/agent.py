"""The minion daemon: authenticate, listen for jobs, run them, return results.

Sockets live here and nowhere else in the minion; jobs run in a thread pool
so the event loop keeps answering (a `test.ping` is served while a long
`cmd.run` is going on).
"""

from __future__ import annotations

import asyncio
import collections
import logging
import os
import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from common import protocol, targeting
from common.crypto import (
    KeyPair,
    PeerBox,
    PublicKeys,
    SessionKey,
    ensure_private_dir,
    random_bytes,
    seal,
)
from common.fileroots import FileServerError
from common.ids import check_minion_id
from common.pillar import PillarCompiler
from common.protocol import BadMessage
from common.transport import TransportError, tcp_address
from common.transport.aio import Client, Subscriber
from minion.context import Context
from minion.executor import execute
from minion.fileclient import LocalFileClient, RemoteFileClient
from minion.masterkey import MasterKeyMismatch, MasterPin
from minion.states.jinjactx import SaltFunctions

log = logging.getLogger(__name__)
SEEN_JIDS = 10_000
RETURN_ATTEMPTS = 3
UNSENT_MAX = 1000


class Minion:
    """One minion's keys, connection state and job loop."""

    def __init__(self, opts: dict[str, Any], ctx: Context) -> None:
        self.opts = opts
        self.id = check_minion_id(opts["id"])
        self.ctx = ctx
        pki = Path(opts["pki_dir"])
        self.pair = KeyPair.load_or_create(pki, "minion")
        ensure_private_dir(Path(opts["cachedir"]))
        self.join_token = opts.get("join_token") or os.environ.get("SALINE_JOIN_TOKEN") or None
        finger = opts["master_finger"]
        if self.join_token and not finger:
            # The token names the master it is for: pin only that one.
            finger = join_token_fingerprint(self.join_token)
        self.pin = MasterPin(pki, finger)
        self.token_tried = False
        # Keys a pending reply came with: good enough to check notices
        # (which only ever make us ask again), never pinned.
        self.candidate: PublicKeys | None = self.pin.pinned
        self.session: SessionKey | None = None
        self.box: PeerBox | None = None
        self.key_gen = 0
        self.status = "new"
        self.topic = protocol.minion_topic(self.id)
        self.seen: collections.OrderedDict[str, None] = collections.OrderedDict()
        self.held: list[dict[str, Any]] = []
        self.unsent: collections.deque[dict[str, Any]] = collections.deque(maxlen=UNSENT_MAX)
        self.wake_auth = asyncio.Event()
        self.wake_hb = asyncio.Event()
        self.stopping = asyncio.Event()
        self.pool = ThreadPoolExecutor(int(opts["worker_threads"]), thread_name_prefix="job")
        self.jobs: set[asyncio.Future[Any]] = set()
        self.running_jobs: dict[str, dict[str, Any]] = {}
        self.client: Client | None = None
        self.loop: asyncio.AbstractEventLoop | None = None
        self.loop_thread = 0

    # -- lifecycle ----------------------------------------------------------
    def _connect(self) -> None:
        """Open the request channel and point the context's file client at it."""
        opts = self.opts
        self.client = Client(
            tcp_address(opts["master"], opts["master_port"]), int(opts["max_msg_size"]),
            self._on_reconnect,
        )
        self.loop = asyncio.get_running_loop()
        self.loop_thread = threading.get_ident()
        if opts["file_client"] == "local":
            self.ctx.files = LocalFileClient(opts["file_roots"])
        else:
            self.ctx.files = RemoteFileClient(self, opts["cachedir"])

    async def open_session(self) -> str:
        """Authenticate (for `minion call`): the status the master gave.

        A join token is presented on a second attempt, once the first reply
        has shown the master's key.
        """
        self._connect()
        if not await self._authenticate() and self.join_token and self.status == "pending":
            await self._authenticate()
        return self.status

    def close_session(self) -> None:
        if self.client is not None:
            self.client.close()
        self.pool.shutdown(wait=False)

    async def serve(self) -> None:
        opts = self.opts
        size = int(opts["max_msg_size"])
        self._connect()
        sub = Subscriber(
            tcp_address(opts["master"], opts["publish_port"]),
            [protocol.TOPIC_ALL, self.topic, protocol.TOPIC_NOTICE],
            size,
            self._on_reconnect,
        )
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, self.stopping.set)
        self.ctx.agent = self
        self.ctx.on_grains_changed = self._grains_changed
        log.info("minion %s starting, fingerprint %s", self.id, self.pair.public.fingerprint())
        tasks = [
            asyncio.ensure_future(self._auth_loop()),
            asyncio.ensure_future(self._sub_loop(sub)),
            asyncio.ensure_future(self._heartbeat_loop()),
        ]
        await self.stopping.wait()
        for task in tasks:
            task.cancel()
        # Running commands die with the minion, so worker threads end and
        # the process can exit instead of waiting for a `sleep 600`.
        terminate = getattr(self.ctx.runner, "terminate_all", None)
        if terminate is not None:
            terminate()
        self.pool.shutdown(wait=False, cancel_futures=True)
        sub.close()
        assert self.client is not None
        self.client.close()
        log.info("minion %s stopped", self.id)

    def _on_reconnect(self) -> None:
        # A fresh connection (maybe a restarted master): say hello now
        # rather than at the next heartbeat.
        self.wake_hb.set()
        if self.status != "accepted":
            self.wake_auth.set()

    # -- auth ---------------------------------------------------------------
    async def _auth_loop(self) -> None:
        delay = 1.0
        cap = float(self.opts["acceptance_wait_time"])
        while True:
            self.wake_auth.clear()
            if self.status != "accepted":
                ok = await self._authenticate()
                delay = 1.0 if ok else min(delay * 2, cap)
            if self.status == "accepted":
                await self.wake_auth.wait()
                self.status = "reauth"
                continue
            try:
                async with asyncio.timeout(delay):
                    await self.wake_auth.wait()
            except TimeoutError:
                pass

    async def _authenticate(self) -> bool:
        assert self.client is not None
        nonce = random_bytes(protocol.NONCE_SIZE)
        token = None
        if (self.join_token and self.status == "pending" and self.candidate is not None
                and not self.token_tried):
            # Sealed to the master's key, which the pin check below has
            # matched against the token's fingerprint on the first reply.
            self.token_tried = True
            secret = self.join_token.rsplit(".", 1)[0]
            token = seal(self.candidate, secret.encode())
        try:
            data = await self.client.request(
                protocol.make_auth_request(self.pair, self.id, nonce, token),
                float(self.opts["auth_timeout"]),
            )
            reply = protocol.read_auth_reply(data, nonce, self.id)
            self.pin.check(reply.master)
        except TransportError as exc:
            log.debug("auth: %s", exc)
            return False
        except (BadMessage, MasterKeyMismatch) as exc:
            log.error("auth refused: %s", exc)
            return False
        self.candidate = reply.master
        if reply.status != "accepted":
            if token is not None:
                log.warning("the master did not accept the join token (see its log)")
            elif self.join_token and not self.token_tried and reply.status == "pending":
                self.wake_auth.set()  # now that the master is known, present the token
            if reply.status != self.status:
                log.warning("master says this minion's key is %s (fingerprint %s)",
                            reply.status, self.pair.public.fingerprint())
            self.status = reply.status
            return False
        assert reply.session is not None
        self.pin.pin(reply.master)
        self.session = SessionKey(self.pair.unseal(reply.session))
        self.key_gen = reply.key_gen
        self.box = self.pair.box_to(reply.master)
        self.status = "accepted"
        log.info("authenticated with the master (session generation %d)", self.key_gen)
        await self._send({"kind": "hello", "grains": self.ctx.grains})
        await self._load_pillar()
        await self._flush_unsent()
        held, self.held = self.held, []
        for envelope in held:
            await self._on_job(envelope)
        return True

    # -- requests to the master ----------------------------------------------
    async def _send(self, body: dict[str, Any], timeout: float | None = None) -> dict[str, Any]:
        """Send a boxed request; returns the reply, or {} when it went nowhere."""
        if self.box is None or self.client is None:
            return {}
        box = self.box
        try:
            data = await self.client.request(
                protocol.make_request(box, self.id, body),
                timeout or float(self.opts["auth_timeout"]),
            )
            reply = protocol.open_reply(data, box)
        except (TransportError, BadMessage) as exc:
            log.debug("%s request: %s", body["kind"], exc)
            return {}
        if reply["kind"] == "error":
            # Unauthenticated hint (our key was removed, or the master lost
            # us): asking again is always safe.
            log.warning("master refused %s: %s", body["kind"], reply["error"])
            self._need_auth()
            return {}
        gen = reply.get("key_gen")
        if isinstance(gen, int) and gen != self.key_gen:
            self._need_auth()
        return reply

    def _need_auth(self) -> None:
        self.status = "reauth"
        self.wake_auth.set()

    async def _heartbeat_loop(self) -> None:
        interval = float(self.opts["heartbeat_interval"])
        while True:
            try:
                async with asyncio.timeout(interval):
                    await self.wake_hb.wait()
            except TimeoutError:
                pass
            self.wake_hb.clear()
            if self.status == "accepted" and await self._send({"kind": "hb"}):
                await self._flush_unsent()

    # -- pillar -------------------------------------------------------------
    async def _load_pillar(self) -> dict[str, Any]:
        pillar: Any
        if self.opts["file_client"] == "local":
            compiler = PillarCompiler(self.opts["pillar_roots"], self.opts,
                                      SaltFunctions(self.ctx))
            pillar = await asyncio.get_running_loop().run_in_executor(
                self.pool, compiler.compile, self.id, self.ctx.grains)
        else:
            reply = await self._send({"kind": "pillar", "grains": self.ctx.grains}, 30.0)
            pillar = reply.get("pillar")
            if not isinstance(pillar, dict):
                log.warning("no pillar from the master: %s", reply.get("error", "no answer"))
                return self.ctx.pillar
        self.ctx.pillar = pillar
        for error in pillar.get("_errors", []):
            log.error("pillar: %s", error)
        return pillar

    # -- services for functions running in worker threads ------------------
    def _on_loop(self, coro: Any, timeout: float) -> Any:
        assert self.loop is not None
        if threading.get_ident() == self.loop_thread:
            raise RuntimeError("this call blocks; it cannot run on the event loop")
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def request(self, body: dict[str, Any], timeout: float = 30.0) -> dict[str, Any]:
        """Ask the master (file server, pillar) from a job; FileServerError if refused."""
        reply = self._on_loop(self._send(body, timeout), timeout + 5)
        if not reply:
            raise FileServerError("the master did not answer")
        if not reply.get("ok"):
            raise FileServerError(str(reply.get("error")))
        return dict(reply)

    def _grains_changed(self, grains: dict[str, Any]) -> None:
        # Called from a job's thread: tell the master (for grain targeting)
        # without making the job wait for it.
        if self.loop is not None:
            asyncio.run_coroutine_threadsafe(
                self._send({"kind": "hello", "grains": dict(grains)}), self.loop)

    def refresh_pillar(self) -> dict[str, Any]:
        return dict(self._on_loop(self._load_pillar(), 60.0))

    def refresh_grains(self) -> dict[str, Any]:
        from minion.grains.core import compute_grains

        grains = compute_grains(self.opts, self.opts["config_dir"])
        self.ctx.grains.clear()
        self.ctx.grains.update(grains)
        self._on_loop(self._send({"kind": "hello", "grains": grains}), 30.0)
        return grains

    def reload_modules(self) -> list[str]:
        from minion.loader import Registry

        self.ctx.registry = Registry.load(self.opts, self.ctx.grains)
        return self.ctx.registry.modules()

    def running(self) -> list[dict[str, Any]]:
        return [{k: v for k, v in job.items() if k != "thread"}
                for job in list(self.running_jobs.values())]

    def kill_job(self, jid: str) -> bool:
        job = self.running_jobs.get(jid)
        terminate = getattr(self.ctx.runner, "terminate_all", None)
        if job is None or job.get("thread") is None or terminate is None:
            return False
        return bool(terminate(job["thread"]))

    # -- jobs ---------------------------------------------------------------
    async def _sub_loop(self, sub: Subscriber) -> None:
        while True:
            topic, payload = await sub.recv()
            if topic not in (protocol.TOPIC_ALL, self.topic, protocol.TOPIC_NOTICE):
                continue  # a longer id that shares our prefix
            master = self.pin.pinned or self.candidate
            if master is None:
                continue
            try:
                envelope = protocol.open_publish(payload, topic, master)
            except BadMessage as exc:
                log.warning("dropped a publish: %s", exc)
                continue
            if envelope["kind"] == "notice":
                self._on_notice(envelope)
            else:
                await self._on_job(envelope)

    def _on_notice(self, notice: dict[str, Any]) -> None:
        event = notice.get("event")
        if event == "accepted" and self.id in (notice.get("ids") or []):
            self.wake_auth.set()
        elif event == "rotate" and self.status == "accepted":
            self._need_auth()

    async def _on_job(self, envelope: dict[str, Any]) -> None:
        gen = envelope.get("key_gen")
        if self.session is None or gen != self.key_gen:
            if isinstance(gen, int) and gen > self.key_gen and len(self.held) < 100:
                self.held.append(envelope)  # read it once we have the new key
                self._need_auth()
            return
        try:
            job = protocol.open_job(envelope, self.session)
        except BadMessage as exc:
            log.warning("dropped a job: %s", exc)
            return
        if job.jid in self.seen:
            log.debug("dropped replayed job %s", job.jid)
            return
        self.seen[job.jid] = None
        while len(self.seen) > SEEN_JIDS:
            self.seen.popitem(last=False)
        if not self._targets_me(job):
            log.debug("job %s is not for this minion", job.jid)
            return
        fut = asyncio.ensure_future(self._run_job(job))
        self.jobs.add(fut)
        fut.add_done_callback(self.jobs.discard)

    def _targets_me(self, job: protocol.Job) -> bool:
        me = {"id": self.id, "grains": self.ctx.grains, "pillar": self.ctx.pillar}
        try:
            return targeting.matches(me, job.tgt, job.tgt_type, delimiter=job.delimiter,
                                     nodegroups=job.nodegroups)
        except targeting.TargetError as exc:
            log.warning("job %s has a target this minion cannot read: %s", job.jid, exc)
            return False

    async def _run_job(self, job: protocol.Job) -> None:
        log.info("job %s: %s", job.jid, job.fun)
        ack = asyncio.ensure_future(self._send({"kind": "ack", "jid": job.jid}))
        loop = asyncio.get_running_loop()
        ctx = self.ctx.for_job(job.jid)
        info = {"jid": job.jid, "fun": job.fun, "arg": job.arg, "pid": os.getpid(),
                "start": time.time(), "thread": None}
        self.running_jobs[job.jid] = info
        try:
            ret = await loop.run_in_executor(self.pool, _in_worker, info, ctx, job)
        finally:
            self.running_jobs.pop(job.jid, None)
        await ack
        body = {"kind": "ret", "jid": job.jid, "ret": ret}
        delay = 0.5
        for _ in range(RETURN_ATTEMPTS):
            if await self._send(body):
                return
            await asyncio.sleep(delay)  # master away: try again, bounded
            delay *= 2
        # Keep it for when the master is back (next heartbeat or auth).
        if len(self.unsent) == self.unsent.maxlen:
            log.error("job %s: return queue full, oldest return dropped",
                      self.unsent[0]["jid"])
        self.unsent.append(body)
        log.warning("job %s: master unreachable, return kept for later", job.jid)

    async def _flush_unsent(self) -> None:
        while self.unsent:
            if not await self._send(self.unsent[0]):
                return
            self.unsent.popleft()


def join_token_fingerprint(token: str) -> str:
    """The master fingerprint a join token names (its last part)."""
    parts = token.strip().split(".")
    if len(parts) != 3 or len(parts[2]) != 64:
        raise MasterKeyMismatch("join_token: not a saline join token")
    return parts[2]


def _in_worker(info: dict[str, Any], ctx: Context, job: protocol.Job) -> dict[str, Any]:
    info["thread"] = threading.get_ident()  # so saltutil.kill_job finds its commands
    return execute(ctx, job.fun, job.arg, job.kwarg)


def run(opts: dict[str, Any], ctx: Context) -> int:
    """Start the minion in the foreground; the return value is the exit code."""
    try:
        minion = Minion(opts, ctx)
    except (OSError, MasterKeyMismatch) as exc:
        log.error("cannot start: %s", exc)
        return 1
    try:
        asyncio.run(minion.serve())
    except TransportError as exc:
        log.error("%s", exc)
        return 1
    return 0
