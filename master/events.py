"""The master's event stream: what happened, as tagged events, for `master events`.

`EventBus.emit` appends to a bounded ring and wakes the long-polls of
`master events` (the ``events`` local command); it never waits and never
grows: a subscriber that falls behind the ring is told how many events it
missed. Listeners (the metrics) are called in line, on the event loop.

The tags and their data are made here, and listed in docs/events.md.
"""

from __future__ import annotations

import asyncio
import collections
import fnmatch
import itertools
import logging
import os
import time
from collections.abc import Callable, Mapping
from typing import Any

from common.protocol import Job
from master.keys import STATES, KeyStore

log = logging.getLogger(__name__)

RING_SIZE = 4096  # events held for subscribers (and for --since)
BATCH = 500  # events per answer to one poll
MAX_PATTERNS = 32
MAX_PATTERN_LEN = 256
CLOSE_GRACE = 0.3  # seconds the parked polls get to carry the last events out
GLOB_CHARS = frozenset("*?[")

Event = tuple[int, float, str, dict[str, Any]]  # seq, time, tag, data
Listener = Callable[[str, dict[str, Any]], None]


class EventBus:
    """A bounded ring of recent events, read by cursor (the sequence number of the next)."""

    def __init__(self, size: int = RING_SIZE, clock: Callable[[], float] = time.time) -> None:
        self._ring: collections.deque[Event] = collections.deque(maxlen=size)
        self._next = 0
        self._clock = clock
        self._changed = asyncio.Event()
        self._listeners: list[Listener] = []
        self._listener_failed = False
        self.closing = False
        self.missed = 0  # events that fell off the ring before a subscriber read them
        self.waiting = 0  # polls parked right now (`status` shows it)

    def listen(self, listener: Listener) -> None:
        """Call `listener(tag, data)` for every event from now on (on the loop thread)."""
        self._listeners.append(listener)

    def emit(self, tag: str, data: dict[str, Any]) -> None:
        """Record an event and wake the subscribers; O(1), never blocks.

        Call it from the event loop's thread only (asyncio.Event is not thread-safe).
        """
        self._ring.append((self._next, self._clock(), tag, data))
        self._next += 1
        self._changed.set()
        self._changed = asyncio.Event()
        for listener in self._listeners:
            try:
                listener(tag, data)
            except Exception:
                # Once: a broken listener must not flood the log at every event.
                if not self._listener_failed:
                    log.exception("event listener failed (logged once)")
                self._listener_failed = True

    def start_cursor(self, since: float | None = None) -> int:
        """The cursor of the next event, or of the oldest held event of the last `since` s."""
        if since is None:
            return self._next
        cutoff = self._clock() - since
        for seq, stamp, _, _ in self._ring:
            if stamp >= cutoff:
                return seq
        return self._next

    def read(self, cursor: int, patterns: list[str],
             limit: int = BATCH) -> tuple[list[dict[str, Any]], int, int]:
        """Events at or past `cursor` whose tag matches: (events, next cursor, missed)."""
        oldest = self._ring[0][0] if self._ring else self._next
        cursor = min(cursor, self._next)  # a cursor from another master's life: from now
        missed = max(0, oldest - cursor)
        cursor = max(cursor, oldest)
        out: list[dict[str, Any]] = []
        for seq, stamp, tag, data in itertools.islice(self._ring, cursor - oldest, None):
            cursor = seq + 1
            if tag_matches(tag, patterns):
                out.append({"tag": tag, "ts": stamp, "data": data})
                if len(out) >= limit:
                    break
        return out, cursor, missed

    async def poll(self, msg: Mapping[str, Any], wait: float) -> dict[str, Any]:
        """Answer one long-poll of `master events` (the ``events`` local command).

        `msg` holds ``cursor`` (None on the first poll), ``tags`` (globs)
        and ``since`` (seconds to replay, first poll only). Waits up to
        `wait` seconds for a matching event.
        """
        patterns = check_patterns(msg.get("tags"))
        cursor = msg.get("cursor")
        if cursor is None:
            since = msg.get("since")
            cursor = self.start_cursor(None if since is None else max(0.0, float(since)))
        elif not isinstance(cursor, int) or isinstance(cursor, bool) or cursor < 0:
            raise ValueError("cursor must be a non-negative integer")
        deadline = time.monotonic() + max(0.0, wait)
        missed = 0
        while True:
            events, cursor, lost = self.read(cursor, patterns)
            missed += lost
            left = deadline - time.monotonic()
            if events or left <= 0 or self.closing:
                break
            await self._wait(left)
        self.missed += missed
        return {"events": events, "cursor": cursor, "missed": missed, "closing": self.closing}

    async def _wait(self, timeout: float) -> None:
        changed = self._changed
        self.waiting += 1
        try:
            async with asyncio.timeout(timeout):
                await changed.wait()
        except TimeoutError:
            pass
        finally:
            self.waiting -= 1

    async def close(self) -> None:
        """Say the master is stopping, and give parked polls a moment to carry it out."""
        self.emit(*master_stopping())
        self.closing = True
        deadline = time.monotonic() + CLOSE_GRACE
        while self.waiting and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.05)  # their answers are sent by their own tasks


def check_patterns(value: Any) -> list[str]:
    """The tag globs of a poll, checked: a list of at most 32 short strings."""
    if value is None:
        return []
    if (not isinstance(value, list) or len(value) > MAX_PATTERNS
            or not all(isinstance(p, str) and 0 < len(p) <= MAX_PATTERN_LEN for p in value)):
        raise ValueError(f"tags must be a list of at most {MAX_PATTERNS} globs")
    return value


def tag_matches(tag: str, patterns: list[str]) -> bool:
    """True if `tag` matches one of `patterns` (none: every tag).

    A pattern with a glob character matches the whole tag (``*`` crosses
    ``/``); one without matches as a prefix, as Salt's event matching does.
    """
    if not patterns:
        return True
    for pattern in patterns:
        if GLOB_CHARS.isdisjoint(pattern):
            if tag.startswith(pattern):
                return True
        elif fnmatch.fnmatchcase(tag, pattern):
            return True
    return False


# -- the events ----------------------------------------------------------------
def master_started(fingerprint: str) -> tuple[str, dict[str, Any]]:
    return "saline/master/started", {"pid": os.getpid(), "fingerprint": fingerprint}


def master_stopping() -> tuple[str, dict[str, Any]]:
    return "saline/master/stopping", {"pid": os.getpid()}


def job_new(job: Job, minions: list[str], user: str) -> tuple[str, dict[str, Any]]:
    """A job was published: whom it targets and who is expected to answer."""
    return f"saline/job/{job.jid}/new", {
        "jid": job.jid, "fun": job.fun, "tgt": job.tgt, "tgt_type": job.tgt_type,
        "minions": minions, "user": user}


def job_ack(jid: str, minion: str) -> tuple[str, dict[str, Any]]:
    return f"saline/job/{jid}/ack/{minion}", {"jid": jid, "id": minion}


def job_ret(jid: str, minion: str, ret: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    """A minion returned (the return itself stays in the job cache: `master jobs show`)."""
    duration = ret.get("duration")
    return f"saline/job/{jid}/ret/{minion}", {
        "jid": jid, "id": minion, "fun": ret.get("fun"), "success": bool(ret.get("success")),
        "retcode": ret.get("retcode"),
        "duration": duration if isinstance(duration, int | float) else None}


def minion_connected(minion: str) -> tuple[str, dict[str, Any]]:
    return f"saline/minion/{minion}/connected", {"id": minion}


def minion_disconnected(minion: str, why: str) -> tuple[str, dict[str, Any]]:
    return f"saline/minion/{minion}/disconnected", {"id": minion, "why": why}


def key_event(state: str, minion: str) -> tuple[str, dict[str, Any]]:
    return f"saline/key/{state}/{minion}", {"id": minion, "state": state}


class KeyWatch:
    """Key events from the key store: an id entering a state, or leaving them all.

    `update` compares the store's listings (cached by directory mtime) with
    the last ones, so a change made by `master key`, by hand or by an auth
    is told once, by whoever sees it first; `saw` tells an auth's outcome
    at once. Pending ids are few (max_pending_keys), so an auth flood makes
    at most one event per new pending id.
    """

    def __init__(self, store: KeyStore, bus: EventBus) -> None:
        self.store = store
        self.bus = bus
        self.last: dict[str, set[str]] = {s: set(store.ids(s)) for s in STATES}

    def saw(self, minion: str, state: str) -> None:
        """An auth left `minion`'s key in `state`: tell it if that is new."""
        held = self.last.get(state)
        if held is not None and minion not in held:
            held.add(minion)
            self.bus.emit(*key_event(state, minion))

    def update(self) -> None:
        """Tell every key that changed state since the last look."""
        now = {s: self.store.ids(s) for s in STATES}
        if all(now[s] == self.last[s] for s in STATES):
            return
        for state in STATES:
            for minion in sorted(now[state] - self.last[state]):
                self.bus.emit(*key_event(state, minion))
        gone = set().union(*(self.last[s] - now[s] for s in STATES))
        for minion in sorted(gone):
            if not any(minion in now[s] for s in STATES):
                self.bus.emit(*key_event("deleted", minion))
        self.last = {s: set(now[s]) for s in STATES}
