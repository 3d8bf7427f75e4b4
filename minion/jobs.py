"""Publishes from the master: notices, jobs for this minion, and their returns.

A job is verified and decrypted, dropped if replayed or not targeted at
this minion, then run in the worker pool; its return is sent with a few
bounded retries and otherwise kept until the master is back.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import os
import threading
import time
from typing import Any

from common import logs, protocol, targeting
from common.protocol import BadMessage
from common.transport import tcp_address
from common.transport.aio import Subscriber
from common.transport.zap import CurveClient
from minion.context import Context
from minion.executor import execute
from minion.services import Services

log = logging.getLogger("minion.agent")
RETURN_ATTEMPTS = 3
SUBSCRIBE_WAIT = 30.0


class Jobs(Services):
    """The publish side: what arrives on the subscription and what it starts."""

    async def _subscribe(self) -> None:
        """Listen on the publish port, once accepted (the port admits accepted keys only).

        zmq never retries a connection the master refused, so a subscriber
        refused earlier (our key was not accepted then) is replaced. Waits
        (boundedly) for the subscription to be up, so that the hello which
        follows, and makes the master count us as connected, comes after it.
        """
        master = self.pin.pinned
        if not self.wants_publishes or master is None:
            return
        if self.sub is not None and self.sub.refused:
            self._unsubscribe()
        if self.sub is None:
            self._open_subscriber(master.box)
        assert self.sub is not None
        try:
            async with asyncio.timeout(SUBSCRIBE_WAIT):
                await self.sub.ready.wait()
        except TimeoutError:
            log.warning("the publish subscription is not up after %g s; going on without it",
                        SUBSCRIBE_WAIT)

    def _open_subscriber(self, master_box: bytes) -> None:
        opts = self.opts
        self.sub = Subscriber(
            tcp_address(opts["master"], opts["publish_port"]),
            [protocol.TOPIC_ALL, self.topic, protocol.TOPIC_NOTICE],
            int(opts["max_msg_size"]),
            self._on_reconnect,
            CurveClient(master_box, self.pair.public.box, self.pair.box_secret()),
        )
        self.sub_task = asyncio.ensure_future(self._sub_loop(self.sub))

    def _unsubscribe(self) -> None:
        if self.sub_task is not None:
            self.sub_task.cancel()
        if self.sub is not None:
            self.sub.close()
        self.sub, self.sub_task = None, None

    def _on_reconnect(self) -> None:
        # A fresh connection (maybe a restarted master): say hello now
        # rather than at the next heartbeat.
        self.wake_hb.set()
        if self.status != "accepted":
            self.wake_auth.set()

    async def _sub_loop(self, sub: Subscriber) -> None:
        while True:
            topic, payload = await sub.recv()
            if topic not in (protocol.TOPIC_ALL, self.topic, protocol.TOPIC_NOTICE):
                continue  # a longer id that shares our prefix
            envelope = self._open_publish(payload, topic)
            if envelope is None:
                continue
            if envelope["kind"] == "notice":
                self._on_notice(envelope)
            else:
                await self._on_job(envelope)

    def _on_push(self, payload: bytes) -> None:
        """A notice the master pushed down the request connection (we were accepted)."""
        envelope = self._open_publish(payload, protocol.TOPIC_NOTICE)
        if envelope is not None and envelope["kind"] == "notice":
            log.info("the master pushed a notice: %s", envelope.get("event"))
            self._on_notice(envelope)

    def _open_publish(self, payload: bytes, topic: bytes) -> dict[str, Any] | None:
        master = self.pin.pinned or self.candidate
        if master is None:
            return None
        try:
            return protocol.open_publish(payload, topic, master)
        except BadMessage as exc:
            log.warning("dropped a publish: %s", exc)
            return None

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
        self.seen.add(job.jid)  # on disk before it runs: a replay after a restart is dropped
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
        logs.bind(jid=job.jid, fun=job.fun)  # this task only: JSON log lines name the job
        log.info("job %s: %s", job.jid, job.fun)
        ack = asyncio.ensure_future(self._send({"kind": "ack", "jid": job.jid}))
        loop = asyncio.get_running_loop()
        ctx = self.ctx.for_job(job.jid)
        info = {"jid": job.jid, "fun": job.fun, "arg": job.arg, "pid": os.getpid(),
                "start": time.time(), "thread": None}
        self.running_jobs[job.jid] = info
        try:
            # The job's log fields follow it into the worker thread.
            ret = await loop.run_in_executor(self.pool, contextvars.copy_context().run,
                                             _in_worker, info, ctx, job)
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


def _in_worker(info: dict[str, Any], ctx: Context, job: protocol.Job) -> dict[str, Any]:
    info["thread"] = threading.get_ident()  # so saltutil.kill_job finds its commands
    return execute(ctx, job.fun, job.arg, job.kwarg)
