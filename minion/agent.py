"""The minion daemon: authenticate, listen for jobs, run them, return results.

Sockets live here and nowhere else in the minion; jobs run in a thread pool
so the event loop keeps answering (a `test.ping` is served while a long
`cmd.run` is going on). The parts, one concern each: :mod:`minion.session`
(state), :mod:`minion.channel`, :mod:`minion.services`, :mod:`minion.jobs`,
:mod:`minion.auth`; this module opens one master's connection and runs its
loops, and :mod:`minion.fleet` runs the daemon over one or several masters.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from typing import Any

from common.transport import tcp_address
from common.transport.aio import Client
from minion.auth import Auth
from minion.fileclient import LocalFileClient, RemoteFileClient
from minion.session import join_token_fingerprint

__all__ = ["Minion", "join_token_fingerprint"]

log = logging.getLogger(__name__)


class Minion(Auth):
    """One minion's connection to one master: its keys, session and loops."""

    def _open_client(self) -> None:
        opts = self.opts
        self.client = Client(
            tcp_address(opts["master"], opts["master_port"]), int(opts["max_msg_size"]),
            self._on_reconnect, self._on_push,
        )
        self.loop = asyncio.get_running_loop()
        self.loop_thread = threading.get_ident()

    def _connect(self) -> None:
        """Open the request channel and point the context's file client at it."""
        self._open_client()
        if self.opts["file_client"] == "local":
            self.ctx.files = LocalFileClient(self.opts["file_roots"])
        else:
            self.ctx.files = RemoteFileClient(self, self.opts["cachedir"])

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

    def start(self) -> list[asyncio.Future[Any]]:
        """Connect to this master as the daemon (jobs pushed to us); the loops' tasks."""
        self.listens = True
        self.status = "new"
        self._open_client()
        return [asyncio.ensure_future(self._auth_loop()),
                asyncio.ensure_future(self._heartbeat_loop())]

    async def stop(self, tasks: list[asyncio.Future[Any]], goodbye: bool = True) -> None:
        """End the loops, say goodbye if asked (and accepted), close the connection."""
        for task in tasks:
            task.cancel()
        if goodbye:
            await self._say_goodbye()
        if self.client is not None:
            self.client.close()
            self.client = None
        self.session, self.box, self.status = None, None, "new"
