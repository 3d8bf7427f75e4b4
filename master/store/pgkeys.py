"""Minion key states in the cluster store, with a copy in memory.

The master reads keys on every request, so reads come from a copy of the
``saline_keys`` table kept in memory; writes go to the store first and then
to the copy. The copy follows other masters' changes through the listener
(only the ids that changed are read again), and is read whole when the
listener may have missed something and every `RESCAN_SECONDS` anyway. While
the store is unreachable the copy keeps answering, so connected minions are
served; only new keys cannot be recorded.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Hashable, Iterable
from collections.abc import Set as AbstractSet

from common.crypto import CryptoError, PublicKeys
from master.keys import STATES, KeysUnavailable, log
from master.store.listen import Listener
from master.store.pglink import PgLink, StoreDown

# Read whole now and then even while the listener is healthy (a safety net).
RESCAN_SECONDS = 300.0
# Without a listener (a `master key` command), a copy older than this is read again.
UNWATCHED_SECONDS = 0.2
# Shortest time between two wake-ups of the key watch.
WAKE_GAP = 0.1
SELECT = "SELECT state, minion, pub FROM saline_keys"


class PgKeys:
    """The key backend on PostgreSQL (see master/keys.py KeyBackend)."""

    def __init__(self, link: PgLink, listener: Listener | None = None) -> None:
        self.link = link
        self.listener = listener
        self._copy: dict[str, dict[str, PublicKeys | None]] = {s: {} for s in STATES}
        self._texts: dict[tuple[str, str], str] = {}  # (state, id) -> the key's text
        self._loaded = float("-inf")
        self._event: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._woke = 0.0
        self._sync()

    # -- the copy -----------------------------------------------------------
    def _sync(self) -> None:
        everything, ids = self.listener.take() if self.listener else (False, set())
        age = time.monotonic() - self._loaded
        limit = RESCAN_SECONDS if self.listener else UNWATCHED_SECONDS
        try:
            if everything or age > limit:
                self._reload_all()
            elif ids:
                self._reload(ids)
        except StoreDown:
            if self.listener is None:
                raise
            # Served from the copy meanwhile; read whole once the store is back.
            self._loaded = float("-inf")

    def _reload_all(self) -> None:
        copy: dict[str, dict[str, PublicKeys | None]] = {s: {} for s in STATES}
        texts: dict[tuple[str, str], str] = {}
        for state, minion, pub in self.link.rows(SELECT):
            # Parsing 50,000 keys again each time would stall the daemon: only
            # the keys whose text changed are parsed.
            same = self._texts.get((state, minion)) == pub
            copy[state][minion] = self._copy[state].get(minion) if same else _parse(minion, pub)
            texts[(state, minion)] = pub
        self._copy, self._texts, self._loaded = copy, texts, time.monotonic()

    def _reload(self, ids: Iterable[str]) -> None:
        wanted = sorted(ids)
        rows = self.link.rows(SELECT + " WHERE minion = ANY(%s)", (wanted,))
        for state in STATES:
            for minion in wanted:
                self._copy[state].pop(minion, None)
                self._texts.pop((state, minion), None)
        for state, minion, pub in rows:
            self._copy[state][minion] = _parse(minion, pub)
            self._texts[(state, minion)] = pub

    # -- reads --------------------------------------------------------------
    def ids(self, state: str) -> AbstractSet[str]:
        self._sync()
        return self._copy[state].keys()

    def list(self) -> dict[str, list[str]]:
        self._sync()
        return {state: sorted(self._copy[state]) for state in STATES}

    def state_of(self, minion_id: str) -> str | None:
        self._sync()
        return next((s for s in STATES if minion_id in self._copy[s]), None)

    def read(self, state: str, minion_id: str) -> PublicKeys | None:
        self._sync()
        return self._copy[state].get(minion_id)

    def stamp(self, minion_id: str) -> Hashable | None:
        self._sync()
        if minion_id not in self._copy["accepted"]:
            return None
        keys = self._copy["accepted"][minion_id]
        return None if keys is None else (keys.box, keys.sign)

    # -- writes -------------------------------------------------------------
    def add(self, state: str, minion_id: str, keys: PublicKeys, replace: bool) -> bool:
        action = ("DO UPDATE SET pub = EXCLUDED.pub, changed = EXCLUDED.changed" if replace
                  else "DO NOTHING")
        try:
            done = self.link.count(
                "INSERT INTO saline_keys (minion, state, pub, changed) VALUES (%s, %s, %s, %s)"
                f" ON CONFLICT (state, minion) {action}",
                (minion_id, state, keys.dumps(), time.time()))
        except StoreDown as exc:
            raise KeysUnavailable(str(exc)) from None
        self._reload([minion_id])
        return done > 0

    def move(self, minion_id: str, to_state: str, from_states: tuple[str, ...]) -> bool:
        with self.link.transaction() as conn:
            rows = conn.execute(
                "SELECT state, pub FROM saline_keys WHERE minion = %s AND state = ANY(%s)"
                " FOR UPDATE", (minion_id, list(from_states))).fetchall()
            held = dict(rows)
            source = next((s for s in from_states if s in held), None)
            if source is not None:
                conn.execute("DELETE FROM saline_keys WHERE state = %s AND minion = %s",
                             (source, minion_id))
                conn.execute(
                    "INSERT INTO saline_keys (minion, state, pub, changed)"
                    " VALUES (%s, %s, %s, %s) ON CONFLICT (state, minion) DO UPDATE"
                    " SET pub = EXCLUDED.pub, changed = EXCLUDED.changed",
                    (minion_id, to_state, held[source], time.time()))
        self._reload([minion_id])
        return source is not None

    def delete(self, minion_id: str) -> bool:
        done = self.link.count("DELETE FROM saline_keys WHERE minion = %s", (minion_id,))
        self._reload([minion_id])
        return done > 0

    # -- watching -----------------------------------------------------------
    async def wait_changed(self, timeout: float) -> None:
        if self.listener is None:
            await asyncio.sleep(timeout)
            return
        loop = asyncio.get_running_loop()
        if self._event is None or self._loop is not loop:
            event = asyncio.Event()
            self._event, self._loop = event, loop
            self.listener.on_change = lambda: loop.call_soon_threadsafe(event.set)
        if not self.listener.pending():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._event.wait(), timeout)
        # A burst of changes (an accept storm) wakes the watch a few times a
        # second, not once per key.
        await asyncio.sleep(max(0.0, self._woke + WAKE_GAP - time.monotonic()))
        self._woke = time.monotonic()
        self._event.clear()

    def close(self) -> None:
        if self.listener is not None:
            self.listener.on_change = None


def _parse(minion: str, pub: str) -> PublicKeys | None:
    try:
        return PublicKeys.loads(pub)
    except CryptoError as exc:
        log.error("cluster store: unreadable key of %s: %s", minion, exc)
        return None
