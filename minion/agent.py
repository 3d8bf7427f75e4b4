"""The minion daemon: authenticate, listen for jobs, run them, return results.

Sockets live here and nowhere else in the minion; jobs run in a thread pool
so the event loop keeps answering (a `test.ping` is served while a long
`cmd.run` is going on). The parts, one concern each: :mod:`minion.session`
(state), :mod:`minion.channel`, :mod:`minion.services`, :mod:`minion.jobs`,
:mod:`minion.auth`; this module opens the sockets and runs the loops.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import threading
from typing import Any

from common.transport import TransportError, tcp_address
from common.transport.aio import Client
from minion import statusfile
from minion.auth import Auth
from minion.context import Context
from minion.fileclient import LocalFileClient, RemoteFileClient
from minion.masterkey import MasterKeyMismatch
from minion.session import join_token_fingerprint

__all__ = ["Minion", "join_token_fingerprint", "run"]

log = logging.getLogger(__name__)


class Minion(Auth):
    """One minion's keys, connection state and job loop."""

    # -- lifecycle ----------------------------------------------------------
    def _connect(self) -> None:
        """Open the request channel and point the context's file client at it."""
        opts = self.opts
        self.client = Client(
            tcp_address(opts["master"], opts["master_port"]), int(opts["max_msg_size"]),
            self._on_reconnect, self._on_push,
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
        self.listens = True  # jobs come pushed down the request connection
        self._connect()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, self.stopping.set)
        self.ctx.agent = self
        self.ctx.on_grains_changed = self._grains_changed
        log.info("minion %s starting, fingerprint %s", self.id, self.pair.public.fingerprint())
        tasks = [
            asyncio.ensure_future(self._auth_loop()),
            asyncio.ensure_future(self._heartbeat_loop()),
            asyncio.ensure_future(statusfile.follow(self)),  # ready; status file; SIGHUP
        ]
        await self.stopping.wait()
        for task in tasks:
            task.cancel()
        await self._say_goodbye()
        # Running commands die with the minion, so worker threads end and
        # the process can exit instead of waiting for a `sleep 600`.
        terminate = getattr(self.ctx.runner, "terminate_all", None)
        if terminate is not None:
            terminate()
        self.pool.shutdown(wait=False, cancel_futures=True)
        assert self.client is not None
        self.client.close()
        log.info("minion %s stopped", self.id)


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
