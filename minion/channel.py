"""Boxed requests to the master, the heartbeat, returns kept for later, pillar."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from common import protocol
from common.pillar import PillarCompiler
from common.protocol import BadMessage
from common.transport import TransportError
from minion.session import MinionState
from minion.states.jinjactx import SaltFunctions

log = logging.getLogger("minion.agent")
# How long a stopping minion waits for the master to take its goodbye.
BYE_TIMEOUT = 1.0


class Channel(MinionState):
    """The request channel to the master, once authenticated."""

    async def _send(self, body: dict[str, Any], timeout: float | None = None) -> dict[str, Any]:
        """Send a boxed request; returns the reply, or {} when it went nowhere."""
        if self.box is None or self.client is None:
            return {}
        box = self.box
        if self.listens and body["kind"] in ("hello", "hb"):
            # This connection is where the master pushes our jobs.
            body = {**body, "listen": True}
        try:
            data = await self.client.request(
                protocol.make_request(box, self.id, body),
                timeout or float(self.opts["auth_timeout"]),
            )
            reply = protocol.open_reply(data, box)
        except (TransportError, BadMessage) as exc:
            log.debug("%s request: %s", body["kind"], exc)
            return {}
        self.last_answer = time.monotonic()
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

    async def _say_goodbye(self) -> None:
        """Tell the master this minion is stopping, so runs stop waiting for it.

        Best effort and bounded: a master that does not answer within
        BYE_TIMEOUT still sees the connection close, or the heartbeats stop.
        Jobs still in flight send no return afterwards: the last word is the
        goodbye, so the master does not count the minion as back.
        """
        if self.status != "accepted" or self.box is None or self.client is None:
            return
        self.status = "stopping"
        for job in list(self.jobs):
            job.cancel()
        try:
            data = await self.client.request(
                protocol.make_request(self.box, self.id, {"kind": "bye"}), BYE_TIMEOUT)
            protocol.open_reply(data, self.box)
        except (TransportError, BadMessage) as exc:
            log.debug("goodbye not taken: %s", exc)

    async def _flush_unsent(self) -> None:
        # Taken off the queue before sending: with several masters, two
        # connections may flush at once and must not send one return twice.
        while self.unsent:
            body = self.unsent.popleft()
            if not await self._send(body):
                self.unsent.appendleft(body)
                return

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
