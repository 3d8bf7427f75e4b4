"""Who hears the master: accepted minions on the publish port, pending ones by push.

The publish port speaks CURVE and admits only the box keys of accepted
minions (checked once per connection, during the handshake). A minion whose
key is still pending is not on the publish port at all; when an operator
accepts it, the master pushes the signed "accepted" notice down the
request connection the minion last authenticated on.
"""

from __future__ import annotations

import logging

from common.ratelog import RateLog
from master.keys import KeyStore

log = logging.getLogger(__name__)
# Pending minions whose request connection is remembered for the push; the
# key store caps pending keys, this caps our memory of them independently.
MAX_PENDING_ROUTES = 10_000


class PublishGate:
    """The accepted minions' box keys, looked up by key for the publish port."""

    def __init__(self, store: KeyStore, ratelog: RateLog) -> None:
        self._ratelog = ratelog
        self._by_key: dict[bytes, str] = {}
        self._by_id: dict[str, bytes] = {}
        for minion in store.ids("accepted"):
            keys = store.read("accepted", minion)
            if keys is not None:
                self.allow(minion, keys.box)

    def allow(self, minion: str, box_key: bytes) -> None:
        """Let `minion`'s key subscribe (replacing a key it had before)."""
        self.drop(minion)
        self._by_key[box_key] = minion
        self._by_id[minion] = box_key

    def drop(self, minion: str) -> None:
        """Refuse `minion`'s key from the next connection on."""
        key = self._by_id.pop(minion, None)
        if key is not None:
            self._by_key.pop(key, None)

    def admit(self, box_key: bytes, address: str) -> str | None:
        """The minion id a connecting key belongs to, or None (logged once a minute per address)."""
        minion = self._by_key.get(box_key)
        if minion is None:
            self._ratelog.warning(f"publish:{address}", "refused a publish subscriber from %s: "
                                  "its key is not an accepted minion's", address or "?")
        return minion


class PendingRoutes:
    """The request connection each pending minion last authenticated on."""

    def __init__(self) -> None:
        self._routes: dict[str, bytes] = {}

    def remember(self, minion: str, route: bytes) -> None:
        self._routes.pop(minion, None)
        if len(self._routes) >= MAX_PENDING_ROUTES:
            # The oldest first (dicts keep insertion order).
            self._routes.pop(next(iter(self._routes)))
        self._routes[minion] = route

    def take(self, minions: list[str]) -> dict[str, bytes]:
        """Forget and return the routes of those of `minions` we know."""
        return {m: r for m in minions if (r := self._routes.pop(m, None)) is not None}
