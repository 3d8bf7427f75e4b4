"""`minion call` with the master: one authenticated session for one function.

Like salt-call: pillar and salt:// files come from the master, the function
runs here. The session's event loop runs in a background thread so the
function (in the main thread) can make blocking requests through it.
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any

from minion.agent import Minion
from minion.context import Context

SESSION_TIMEOUT = 30.0


class SessionError(Exception):
    """The master could not be reached or did not accept this minion."""


def with_master(opts: dict[str, Any], ctx: Context) -> tuple[Minion, asyncio.AbstractEventLoop]:
    """Authenticate with the master and fetch pillar; ctx.files then reads from it."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="session", daemon=True)
    thread.start()
    minion = asyncio.run_coroutine_threadsafe(_make(opts, ctx), loop).result(SESSION_TIMEOUT)
    status = asyncio.run_coroutine_threadsafe(minion.open_session(), loop).result(
        SESSION_TIMEOUT)
    if status != "accepted":
        close(minion, loop)
        where = f"{opts['master']}:{opts['master_port']}"
        why = "did not answer" if status == "new" else f"says this minion's key is {status}"
        raise SessionError(f"the master at {where} {why}; use --local to run without it")
    return minion, loop


async def _make(opts: dict[str, Any], ctx: Context) -> Minion:
    return Minion(opts, ctx)  # asyncio objects inside bind to the session loop


def close(minion: Minion, loop: asyncio.AbstractEventLoop) -> None:
    async def shut() -> None:
        minion.close_session()

    asyncio.run_coroutine_threadsafe(shut(), loop).result(5)
    loop.call_soon_threadsafe(loop.stop)
