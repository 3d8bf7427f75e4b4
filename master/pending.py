"""Where to tell a pending minion that its key was accepted.

A pending minion has no session yet, so the master does not push jobs to
it; but when an operator accepts its key, the master pushes the signed
"accepted" notice down the request connection the minion last
authenticated on, so it asks again at once instead of at its next retry.
"""

from __future__ import annotations

# The key store caps pending keys; this caps our memory of their
# connections independently.
MAX_PENDING_ROUTES = 10_000


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
