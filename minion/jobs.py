"""What the master pushes: notices, jobs for this minion, and their returns.

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
from minion.context import Context
from minion.executor import execute
from minion.services import Services

log = logging.getLogger("minion.agent")
RETURN_ATTEMPTS = 3


class Jobs(Services):
    """The publish side: what the master pushes and what it starts."""

    def _on_reconnect(self) -> None:
        # A fresh connection (maybe a restarted master): say hello now
        # rather than at the next heartbeat.
        self.wake_hb.set()
        if self.status != "accepted":
            self.wake_auth.set()

    def _on_push(self, payload: bytes) -> None:
        """A job or notice the master pushed down our request connection."""
        master = self.pin.pinned or self.candidate
        if master is None:
            return
        try:
            envelope = protocol.open_push(payload, master, self.topics)
        except BadMessage as exc:
            log.warning("dropped a publish: %s", exc)
            return
        if envelope["kind"] == "notice":
            log.info("the master pushed a notice: %s", envelope.get("event"))
            self._on_notice(envelope)
            return
        fut = asyncio.ensure_future(self._on_job(envelope))
        self.jobs.add(fut)
        fut.add_done_callback(self.jobs.discard)

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
