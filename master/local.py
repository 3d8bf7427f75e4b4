"""The local command socket: how the `master` command talks to the daemon.

An IPC socket in ``sock_dir`` (mode 0700, so only the master's user can
reach it). Messages are plain protocol maps: the socket's file permissions
are the authentication. The pid file ``master.pid`` beside it, locked for
the master's life, keeps two masters off one sock_dir; a clean stop removes
both files (each only if it is still this master's).
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import logging
import os
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from common import codec, daemon, logs, targeting
from common.codec import ProtocolError
from common.crypto import ensure_private_dir
from common.pidfile import AlreadyRunning, PidFile
from common.transport.aio import Server

if TYPE_CHECKING:
    from master.server import Master

log = logging.getLogger(__name__)
MAX_WAIT = 5.0
__all__ = ["AlreadyRunning", "bind", "release", "serve", "socket_address"]
# What this process holds, to be removed on a clean stop: its pid file, and
# the socket path with the inode it had when bound.
_held: list[PidFile] = []
_bound: list[tuple[Path, tuple[int, int]]] = []


def socket_address(sock_dir: str) -> str:
    return f"ipc://{Path(sock_dir, 'master.ipc')}"


def bind(master: Master, max_msg_size: int) -> Server:
    """Lock the sock_dir and bind the local socket in it."""
    sock_dir = Path(master.opts["sock_dir"])
    ensure_private_dir(sock_dir)
    _held.append(PidFile.hold(sock_dir / "master.pid", "master"))
    # At exit, however the master stops short of SIGKILL: a left-over pid
    # file or socket would make `master` commands wait for no one.
    atexit.register(release)
    server = Server(socket_address(str(sock_dir)), max_msg_size)
    path = sock_dir / "master.ipc"
    st = os.stat(path)
    _bound.append((path, (st.st_dev, st.st_ino)))
    return server


def release() -> None:
    """Remove this master's socket and pid file (a clean stop), each only if still ours."""
    while _bound:
        path, inode = _bound.pop()
        with contextlib.suppress(OSError):
            st = os.stat(path)
            if (st.st_dev, st.st_ino) == inode:
                os.unlink(path)
    while _held:
        with contextlib.suppress(OSError):
            _held.pop().release()


async def serve(master: Master, server: Server) -> None:
    """Answer local commands; each runs as its own task (some long-poll)."""
    handlers = _handlers(master)
    # The local socket is bound last: from here on the master is up. SIGHUP
    # now reopens the log file (for logrotate) instead of ending the master.
    logs.reopen_on_hup(asyncio.get_running_loop())
    daemon.ready()
    tasks: set[asyncio.Task[None]] = set()
    while True:
        peer, rid, payload = await server.recv()
        task = asyncio.ensure_future(_answer(handlers, server, peer, rid, payload))
        tasks.add(task)
        task.add_done_callback(tasks.discard)


async def _answer(
    handlers: dict[str, Callable[[dict[str, Any]], Awaitable[Any]]],
    server: Server,
    peer: bytes,
    rid: bytes,
    payload: bytes,
) -> None:
    try:
        msg = codec.unpack(payload, ("cmd",))
        handler = handlers.get(str(msg.get("cmd")))
        if handler is None:
            raise ProtocolError(f"unknown command {msg.get('cmd')!r}")
        reply = {"kind": "result", "ok": True, "data": await handler(msg)}
    except (ProtocolError, targeting.TargetError, KeyError, TypeError, ValueError) as exc:
        reply = {"kind": "result", "ok": False, "error": str(exc)}
    except Exception as exc:
        log.exception("local command failed")
        reply = {"kind": "result", "ok": False, "error": f"internal error: {exc}"}
    await server.send(peer, rid, codec.pack(reply))


def _handlers(master: Master) -> dict[str, Callable[[dict[str, Any]], Awaitable[Any]]]:
    async def publish(msg: dict[str, Any]) -> Any:
        return await master.publish(msg)

    async def preview(msg: dict[str, Any]) -> Any:
        match = master.compile_target(
            msg["tgt"], msg.get("tgt_type", "glob"), msg.get("delimiter") or ":"
        )
        expected = master.expected_minions(match)
        return {"expected": expected, "connected": master.peers.connected_ids()}

    async def job_wait(msg: dict[str, Any]) -> Any:
        jid, cursor = str(msg["jid"]), int(msg.get("cursor", 0))
        tracker = master.trackers.get(jid)
        if tracker is None:
            return {"known": False}
        await tracker.wait(cursor, min(float(msg.get("wait", 1.0)), MAX_WAIT))
        connected = {m: master.peers.connected(m) for m in tracker.expected}
        return {
            "known": True,
            "events": tracker.events[cursor:],
            "cursor": len(tracker.events),
            "acked": sorted(tracker.acked),
            "connected": connected,
        }

    async def keys_changed(msg: dict[str, Any]) -> Any:
        await master.keys_changed(list(msg.get("accepted") or []), list(msg.get("removed") or []))
        return True

    async def status(msg: dict[str, Any]) -> Any:
        return {"connected": master.peers.connected_ids(), "key_gen": master.key_gen,
                "event_subscribers": master.events.waiting}

    async def events(msg: dict[str, Any]) -> Any:
        # `master events` long-polls the event ring (see master.events).
        return await master.events.poll(msg, min(float(msg.get("wait", 1.0)), MAX_WAIT))

    return {"publish": publish, "preview": preview, "job_wait": job_wait,
            "keys_changed": keys_changed, "status": status, "events": events}
