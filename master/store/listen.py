"""A thread that listens on the store's key channel and says which ids changed.

It holds its own connection (LISTEN needs one that is idle between
notifications). Each notification carries a minion id; the ids gather in a
set that the key store takes on its next look. When the connection is lost,
notifications may have been missed: the listener then asks for a full
reload once it is back.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable

import psycopg

from master.store.pglink import PgLink, StoreError

log = logging.getLogger(__name__)
# How long the thread waits for a notification before looking at `stop`.
POLL_SECONDS = 0.5
# Ids gathered before the listener asks for a full reload instead.
MAX_IDS = 10_000


class Listener:
    """LISTEN on `channel` in a daemon thread; `take` hands over what changed."""

    def __init__(self, link: PgLink, channel: str) -> None:
        self.link = link
        self.channel = channel
        self.on_change: Callable[[], object] | None = None
        self._lock = threading.Lock()
        self._ids: set[str] = set()
        self._everything = False
        self._stop = threading.Event()
        self.listening = threading.Event()
        self._thread = threading.Thread(target=self._run, name="store-listen", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def take(self) -> tuple[bool, set[str]]:
        """(reload everything?, ids changed) since the last call."""
        with self._lock:
            everything, ids = self._everything, self._ids
            self._everything, self._ids = False, set()
        return everything, ids

    def pending(self) -> bool:
        """Whether changes are waiting to be taken."""
        with self._lock:
            return self._everything or bool(self._ids)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)

    def _note(self, minion: str | None) -> None:
        with self._lock:
            if minion is None or len(self._ids) >= MAX_IDS:
                self._everything = True
                self._ids.clear()
            else:
                self._ids.add(minion)
        wake = self.on_change
        if wake is not None:
            with contextlib.suppress(RuntimeError):  # its event loop has closed
                wake()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                conn = self.link.connect()
            except StoreError:
                self._stop.wait(2.0)
                continue
            try:
                self._listen(conn)
            except psycopg.Error as exc:
                log.debug("store listener lost its connection: %s", exc)
            finally:
                self.listening.clear()
                with contextlib.suppress(psycopg.Error):
                    conn.close()
            self._stop.wait(0.5)

    def _listen(self, conn: psycopg.Connection) -> None:
        conn.execute(f"LISTEN {self.channel}")
        # Anything may have changed while nobody listened.
        self._note(None)
        self.listening.set()
        while not self._stop.is_set():
            for note in conn.notifies(timeout=POLL_SECONDS):
                self._note(note.payload or None)
