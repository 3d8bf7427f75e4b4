"""What the master knows of each accepted minion: keys, box, liveness.

Accepted keys are read from the key store and cached; the cache entry is
checked against the key store's stamp on every use (a stat of the key file,
or the cluster store's copy), so a key deleted or rejected stops working at
once, even if nobody told the daemon.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Hashable

from common.crypto import KeyPair, PeerBox, PublicKeys
from master import events
from master.keys import KeyStore

# Connections remembered per minion (its daemon, a `minion call`, ...).
MAX_ROUTES = 8


@dataclasses.dataclass
class Peer:
    keys: PublicKeys
    box: PeerBox
    stamp: Hashable
    last_seen: float = float("-inf")
    # Routing ids of the connections its requests came on, oldest first.
    routes: dict[bytes, None] = dataclasses.field(default_factory=dict)
    announced: bool = False  # a `connected` event was emitted, and no `disconnected` since
    # The connection its daemon listens on: where its jobs are pushed.
    listen: bytes | None = None


class Peers:
    """Accepted minions and when each was last heard from."""

    def __init__(self, store: KeyStore, pair: KeyPair, heartbeat: float,
                 bus: events.EventBus | None = None) -> None:
        self.store = store
        self.bus = bus
        self.pair = pair
        # A minion missing about two heartbeats is no longer connected.
        self.window = 2.5 * heartbeat
        self._peers: dict[str, Peer] = {}
        self._route_ids: dict[bytes, set[str]] = {}  # connection -> minions heard on it

    def get(self, minion_id: str) -> Peer | None:
        """The accepted peer `minion_id`, or None if its key is not accepted."""
        stamp = self.store.stamp(minion_id)
        if stamp is None:
            self._tell(minion_id, self._peers.pop(minion_id, None), False, "key removed")
            return None
        peer = self._peers.get(minion_id)
        if peer is not None and peer.stamp == stamp:
            return peer
        keys = self.store.accepted(minion_id)
        if keys is None:
            return None
        same = peer is not None and peer.keys == keys
        last_seen = peer.last_seen if peer is not None and same else float("-inf")
        routes = peer.routes if peer is not None and same else {}
        if not same:
            self._tell(minion_id, peer, False, "key changed")
        announced = peer is not None and peer.announced
        listen = peer.listen if peer is not None and same else None
        peer = Peer(keys, self.pair.box_to(keys), stamp, last_seen, routes, announced, listen)
        self._peers[minion_id] = peer
        return peer

    def seen(self, minion_id: str, route: bytes | None = None, listen: bool = False) -> None:
        """Note traffic from `minion_id`, on the connection `route` if known.

        With `listen`, that connection is the one to push its jobs down.
        """
        peer = self.get(minion_id)
        if peer is None:
            return
        peer.last_seen = time.monotonic()
        if listen and route is not None:
            peer.listen = route
        self._tell(minion_id, peer, True)
        if route is None or route in peer.routes:
            return
        peer.routes[route] = None
        self._route_ids.setdefault(route, set()).add(minion_id)
        if len(peer.routes) > MAX_ROUTES:
            self._unlink(next(iter(peer.routes)), minion_id)

    def disconnected(self, route: bytes) -> list[str]:
        """Note that connection `route` closed; the minions now without any connection."""
        gone = []
        for minion_id in sorted(self._route_ids.pop(route, ())):
            peer = self._peers.get(minion_id)
            if peer is None:
                continue
            peer.routes.pop(route, None)
            # Its daemon's connection closing means its daemon is gone, even
            # while a `minion call` of it is still connected.
            if not peer.routes or peer.listen == route:
                peer.listen = None
                peer.last_seen = float("-inf")
                gone.append(minion_id)
                self._tell(minion_id, peer, False, "closed")
        return gone

    def left(self, minion_id: str) -> bool:
        """Note that `minion_id` said goodbye: not connected until it is heard from again.

        Every connection of the minion is forgotten (its daemon is stopping;
        the sockets close right after). True if it counted as connected.
        """
        peer = self._peers.get(minion_id)
        if peer is None:
            return False
        was = self.connected(minion_id)
        for route in list(peer.routes):
            self._unlink(route, minion_id)
        peer.last_seen = float("-inf")
        self._tell(minion_id, peer, False, "bye")
        return was

    def _unlink(self, route: bytes, minion_id: str) -> None:
        peer = self._peers.get(minion_id)
        if peer is not None:
            peer.routes.pop(route, None)
            if peer.listen == route:
                peer.listen = None
        ids = self._route_ids.get(route)
        if ids is not None:
            ids.discard(minion_id)
            if not ids:
                del self._route_ids[route]

    def forget(self, minion_id: str) -> None:
        peer = self._peers.get(minion_id)
        for route in list(peer.routes if peer is not None else ()):
            self._unlink(route, minion_id)
        self._tell(minion_id, self._peers.pop(minion_id, None), False, "key removed")

    def connected(self, minion_id: str) -> bool:
        peer = self._peers.get(minion_id)
        return peer is not None and time.monotonic() - peer.last_seen < self.window

    def connected_ids(self) -> list[str]:
        return sorted(m for m in self._peers if self.connected(m))

    def push_routes(self, only: list[str] | None = None) -> dict[str, bytes]:
        """The listening connection of each connected minion (of `only` those, if given)."""
        ids = self._peers if only is None else only
        out = {}
        for minion_id in ids:
            peer = self._peers.get(minion_id)
            if peer is not None and peer.listen is not None and self.connected(minion_id):
                out[minion_id] = peer.listen
        return out

    def sweep(self) -> None:
        """Tell minions that went silent (no traffic for two heartbeats) as disconnected."""
        for minion_id, peer in self._peers.items():
            if peer.announced and not self.connected(minion_id):
                self._tell(minion_id, peer, False, "silent")

    def _tell(self, minion_id: str, peer: Peer | None, up: bool, why: str = "") -> None:
        # Each change of a minion's connection is one event, whichever way it is noticed.
        if peer is None or peer.announced == up:
            return
        peer.announced = up
        if self.bus is not None:
            self.bus.emit(*(events.minion_connected(minion_id) if up
                            else events.minion_disconnected(minion_id, why)))
