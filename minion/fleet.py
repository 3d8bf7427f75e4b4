"""The minion daemon over its masters: one, several at once, or one at a time.

`master` may name several masters (Salt's multi-master). With
`master_type: str` (the default) the minion keeps a connection to each,
takes jobs from any, and returns each result to the master that sent the
job, or, when that one is gone, to whichever master answers next. With
`master_type: failover` it uses one master at a time in list order, checks
it every `master_alive_interval` seconds, moves on when it stops answering
and goes round the list for ever: a minion never exits because its masters
are down.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import time
from typing import Any

from common import masterlist
from common.transport import TransportError
from minion import statusfile
from minion.agent import Minion
from minion.context import Context
from minion.fileclient import LocalFileClient, RemoteFileClient
from minion.masterkey import MasterKeyMismatch

log = logging.getLogger("minion.agent")


class Fleet:
    """A minion's connections to its masters, and what jobs may ask of them."""

    def __init__(self, opts: dict[str, Any], ctx: Context) -> None:
        self.ctx = ctx
        self.links: list[Minion] = []
        for host, port in masterlist.parse(opts["master"], opts["master_port"]):
            shared = self.links[0] if self.links else None
            self.links.append(Minion({**opts, "master": host, "master_port": port}, ctx, shared))
        self.id = self.links[0].id
        self.failover = opts["master_type"] == "failover" and len(self.links) > 1
        self.stopping = self.links[0].stopping

    # -- what statusfile and jobs see ---------------------------------------
    def best(self) -> Minion:
        """The first accepted connection, in list order (else the first)."""
        return next((m for m in self.links if m.status == "accepted"), self.links[0])

    @property
    def opts(self) -> dict[str, Any]:
        return self.best().opts

    @property
    def status(self) -> str:
        return self.best().status

    def request(self, body: dict[str, Any], timeout: float = 30.0) -> dict[str, Any]:
        """Ask a master (file server, pillar) from a job; FileServerError if refused."""
        return self.best().request(body, timeout)

    def refresh_pillar(self) -> dict[str, Any]:
        return self.best().refresh_pillar()

    def refresh_grains(self) -> dict[str, Any]:
        grains = self.best().refresh_grains()
        for link in self._others():
            link._grains_changed(grains)
        return grains

    def _grains_changed(self, grains: dict[str, Any]) -> None:
        for link in self.links:
            if link.status == "accepted":
                link._grains_changed(grains)

    def _others(self) -> list[Minion]:
        best = self.best()
        return [m for m in self.links if m is not best and m.status == "accepted"]

    def reload_modules(self) -> list[str]:
        return self.best().reload_modules()

    def running(self) -> list[dict[str, Any]]:
        return self.best().running()

    def kill_job(self, jid: str) -> bool:
        return self.best().kill_job(jid)

    # -- lifecycle ------------------------------------------------------------
    async def serve(self) -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, self.stopping.set)
        first = self.links[0]
        self.ctx.agent = self
        self.ctx.on_grains_changed = self._grains_changed
        if first.opts["file_client"] == "local":
            self.ctx.files = LocalFileClient(first.opts["file_roots"])
        else:
            self.ctx.files = RemoteFileClient(self, first.opts["cachedir"])
        log.info("minion %s starting, fingerprint %s", self.id, first.pair.public.fingerprint())
        running: dict[int, list[asyncio.Future[Any]]] = {}
        tasks = [asyncio.ensure_future(statusfile.follow(self))]  # ready; status; SIGHUP
        if self.failover:
            tasks.append(asyncio.ensure_future(self._failover(running)))
        else:
            running.update((i, link.start()) for i, link in enumerate(self.links))
            if len(self.links) > 1:
                tasks.extend(asyncio.ensure_future(self._reconnect_when_silent(link))
                             for link in self.links)
        await self.stopping.wait()
        for task in tasks:
            task.cancel()
        for i, link_tasks in list(running.items()):
            await self.links[i].stop(link_tasks)
        # Running commands die with the minion, so worker threads end and
        # the process can exit instead of waiting for a `sleep 600`.
        terminate = getattr(self.ctx.runner, "terminate_all", None)
        if terminate is not None:
            terminate()
        first.pool.shutdown(wait=False, cancel_futures=True)
        log.info("minion %s stopped", self.id)

    async def _failover(self, running: dict[int, list[asyncio.Future[Any]]]) -> None:
        interval = float(self.links[0].opts["master_alive_interval"])
        i = 0
        while True:
            link = self.links[i]
            log.info("using master %s:%s", link.opts["master"], link.opts["master_port"])
            running[i] = link.start()
            await self._until_silent(link, interval)
            nxt = self.links[(i + 1) % len(self.links)]
            log.warning("master %s:%s has not answered for %g s; moving to %s:%s",
                        link.opts["master"], link.opts["master_port"], interval,
                        nxt.opts["master"], nxt.opts["master_port"])
            await link.stop(running.pop(i), goodbye=False)
            i = (i + 1) % len(self.links)

    async def _reconnect_when_silent(self, link: Minion) -> None:
        """Dial `link`'s master again each time it stays silent for master_alive_interval.

        A master cut off by the network leaves a TCP connection that nothing
        closes for many minutes; if it comes back at another address (a VM
        or container started again under the same name), only a new
        connection, its name resolved again, reaches it. The socket and the
        session are kept (a request waiting to be sent goes on the new
        connection); the heartbeat on it tells the master where to push.
        """
        interval = float(link.opts["master_alive_interval"])
        warned_at = float("-inf")
        while True:
            await self._until_silent(link, interval)
            if link.client is None:
                continue
            if link.last_answer >= warned_at:  # once per silence, not at every dial
                log.warning("master %s has not answered for %g s; dialling it again every "
                            "%g s until it does", link.client.address, interval, interval)
                warned_at = time.monotonic()
            try:
                link.client.redial()
            except TransportError as exc:
                log.warning("%s", exc)

    @staticmethod
    async def _until_silent(link: Minion, interval: float) -> None:
        """Return once `link`'s master has not answered anything for `interval` seconds."""
        started = time.monotonic()
        while True:
            await asyncio.sleep(min(1.0, interval))
            heard = max(link.last_answer, started)
            quiet = time.monotonic() - heard
            if quiet >= interval:
                return
            if quiet >= interval / 2:
                # Ask: a heartbeat (accepted) or an auth (not yet) gets an answer
                # from a live master before the interval is up.
                link.wake_hb.set()
                if link.status != "accepted":
                    link.wake_auth.set()


def run(opts: dict[str, Any], ctx: Context) -> int:
    """Start the minion in the foreground; the return value is the exit code."""
    try:
        fleet = Fleet(opts, ctx)
    except (OSError, MasterKeyMismatch) as exc:
        log.error("cannot start: %s", exc)
        return 1
    try:
        asyncio.run(fleet.serve())
    except TransportError as exc:
        log.error("%s", exc)
        return 1
    return 0
