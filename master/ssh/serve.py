"""The master's half of a run on a host: send the request, answer what the host asks.

The host asks for its pillar (compiled here from the master's pillar_roots
and ext_pillar, with the grains the host just computed) and for salt://
files with the minion file client's requests (file_envs, file_list,
file_stat, file_read), answered by the same `Resources` the master daemon
serves minions with, so paths are checked exactly as its file server
checks them and nothing outside file_roots is ever read. Works on any
pair of asyncio-style streams (an SSH process's stdin/stdout, or a local
subprocess in tests).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from master.ssh import wire

if TYPE_CHECKING:
    from master.resources import Resources

log = logging.getLogger(__name__)
FILE_ASKS = ("file_envs", "file_list", "file_stat", "file_read")


class Reader(Protocol):
    async def readexactly(self, n: int) -> bytes: ...


class Writer(Protocol):
    def write(self, data: bytes) -> None: ...
    async def drain(self) -> None: ...


class HostFailed(Exception):
    """The host broke the conversation; the message is the one line shown for it."""


class Answers:
    """What the master answers hosts during one `master ssh` run (shared by all hosts)."""

    def __init__(self, opts: Mapping[str, Any]) -> None:
        self.opts = opts
        self._resources: Resources | None = None
        self.has_pillar = _has_pillar(opts)

    @property
    def resources(self) -> Resources:
        # Built on the first ask: a test.ping never loads the file server or Jinja.
        if self._resources is None:
            from master.resources import Resources

            # Its "refused" warnings (a state probing web.sls before web/init.sls)
            # are for a daemon's log; here the host's run reports what matters.
            logging.getLogger("master.resources").setLevel(logging.ERROR)
            self._resources = Resources(self.opts)
        return self._resources

    async def answer(self, minion: str, message: dict[str, Any]) -> dict[str, Any]:
        """The reply to one ask of host `minion`: ``{"ok": True, ...}`` or an error."""
        kind = message.get("kind")
        try:
            if kind == "pillar":
                return {"ok": True, "pillar": await asyncio.to_thread(
                    self._pillar, minion, message.get("grains"))}
            if kind in FILE_ASKS:
                handler = self.resources.handlers()[str(kind)]
                return {"ok": True, **await asyncio.to_thread(handler, minion, message)}
        except Exception as exc:  # Refused, a bad field: the host's run hears why
            return {"ok": False, "error": str(exc) or type(exc).__name__}
        return {"ok": False, "error": f"unknown request {kind!r}"}

    def _pillar(self, minion: str, grains: Any) -> dict[str, Any]:
        from master.resources import data_problem

        if not isinstance(grains, dict) or data_problem(grains):
            grains = {}  # too big or not a map: compile as if none were known
        try:
            return dict(self.resources.compile_pillar(minion, {}, grains)["pillar"])
        except Exception as exc:  # the run refuses to go on with pillar errors, as Salt's does
            log.error("pillar of %s: %s", minion, exc)
            return {"_errors": [f"pillar could not be compiled on the master: {exc}"]}


def _has_pillar(opts: Mapping[str, Any]) -> bool:
    """Whether any pillar can apply: a top file in pillar_roots, or ext_pillar."""
    if opts.get("ext_pillar"):
        return True
    roots = opts.get("pillar_roots") or {}
    for dirs in roots.values() if isinstance(roots, Mapping) else ():
        for d in [dirs] if isinstance(dirs, str) else dirs or ():
            if Path(str(d), "top.sls").is_file():
                return True
    return False


async def converse(reader: Reader, writer: Writer, minion: str, first: bytes,
                   answers: Answers) -> dict[str, Any] | None:
    """Write `first` (the request frame), answer the host's asks until it is done.

    Returns the host's last frame, or None when its output ended without it
    (no zipapp there, no python3, a crash: the command's exit status says which).
    """
    if not await _write(writer, first):
        return None
    while True:
        message = await _read(reader)
        if message is None:
            return None
        if message.get("kind") == "done":
            return message
        if not await _write(writer, wire.pack(await answers.answer(minion, message))):
            return None


async def _write(writer: Writer, data: bytes) -> bool:
    """Send `data`; False when the host's end is already closed (its exit status says why:
    no zipapp there, no python3, a crash)."""
    try:
        writer.write(data)
        await writer.drain()
    except Exception:  # BrokenPipeError, or the SSH library's "channel not open"
        return False
    return True


async def _read(reader: Reader) -> dict[str, Any] | None:
    """The host's next frame; None when its output ended (its exit status says why)."""
    try:
        header = await reader.readexactly(wire.HEADER.size)
        size = wire.frame_size(header)
        return wire.unpack(await reader.readexactly(size))
    except asyncio.IncompleteReadError:
        return None
    except wire.FrameError as exc:
        raise HostFailed(f"the host sent a bad frame: {exc}") from None
