"""`minion call` with the master: one authenticated session for one function.

Like salt-call: pillar and salt:// files come from the master, the function
runs here. The session's event loop runs in a background thread so the
function (in the main thread) can make blocking requests through it.
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any

from common import masterlist
from minion.agent import Minion
from minion.context import Context

SESSION_TIMEOUT = 30.0


class SessionError(Exception):
    """The master could not be reached or did not accept this minion."""


def with_master(opts: dict[str, Any], ctx: Context) -> tuple[Minion, asyncio.AbstractEventLoop]:
    """Authenticate with a master (the first of several that accepts) and fetch pillar.

    ctx.files then reads from that master.
    """
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="session", daemon=True)
    thread.start()
    why = []
    for host, port in masterlist.parse(opts["master"], opts["master_port"]):
        one = {**opts, "master": host, "master_port": port}
        minion = asyncio.run_coroutine_threadsafe(_make(one, ctx), loop).result(SESSION_TIMEOUT)
        status = asyncio.run_coroutine_threadsafe(minion.open_session(), loop).result(
            SESSION_TIMEOUT)
        if status == "accepted":
            return minion, loop
        asyncio.run_coroutine_threadsafe(_shut(minion), loop).result(5)
        said = "did not answer" if status == "new" else f"says this minion's key is {status}"
        why.append(f"the master at {host}:{port} {said}")
    loop.call_soon_threadsafe(loop.stop)
    raise SessionError(f"{'; '.join(why)}; use --local to run without it")


async def _make(opts: dict[str, Any], ctx: Context) -> Minion:
    return Minion(opts, ctx)  # asyncio objects inside bind to the session loop


async def _shut(minion: Minion) -> None:
    minion.close_session()  # on the session's loop, which owns the sockets


def close(minion: Minion, loop: asyncio.AbstractEventLoop) -> None:
    asyncio.run_coroutine_threadsafe(_shut(minion), loop).result(5)
    loop.call_soon_threadsafe(loop.stop)
