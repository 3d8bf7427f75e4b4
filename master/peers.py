"""What the master knows of each accepted minion: keys, box, liveness.

Accepted keys are read from the key store and cached; the cache entry is
checked against the key file on every use (a stat), so a key deleted or
rejected on disk stops working at once, even if nobody told the daemon.
"""

from __future__ import annotations

import dataclasses
import os
import time

from common.crypto import KeyPair, PeerBox, PublicKeys
from master.keys import KeyStore


@dataclasses.dataclass
class Peer:
    keys: PublicKeys
    box: PeerBox
    stamp: tuple[int, int]
    last_seen: float = 0.0


class Peers:
    """Accepted minions and when each was last heard from."""

    def __init__(self, store: KeyStore, pair: KeyPair, heartbeat: float) -> None:
        self.store = store
        self.pair = pair
        # A minion missing about two heartbeats is no longer connected.
        self.window = 2.5 * heartbeat
        self._peers: dict[str, Peer] = {}

    def get(self, minion_id: str) -> Peer | None:
        """The accepted peer `minion_id`, or None if its key is not accepted."""
        path = self.store.pki_dir / "accepted" / minion_id
        try:
            st = os.stat(path)
        except OSError:
            self._peers.pop(minion_id, None)
            return None
        stamp = (st.st_ino, st.st_mtime_ns)
        peer = self._peers.get(minion_id)
        if peer is not None and peer.stamp == stamp:
            return peer
        keys = self.store.accepted(minion_id)
        if keys is None:
            return None
        last_seen = peer.last_seen if peer is not None and peer.keys == keys else 0.0
        peer = Peer(keys, self.pair.box_to(keys), stamp, last_seen)
        self._peers[minion_id] = peer
        return peer

    def seen(self, minion_id: str) -> None:
        peer = self.get(minion_id)
        if peer is not None:
            peer.last_seen = time.monotonic()

    def forget(self, minion_id: str) -> None:
        self._peers.pop(minion_id, None)

    def connected(self, minion_id: str) -> bool:
        peer = self._peers.get(minion_id)
        return peer is not None and time.monotonic() - peer.last_seen < self.window

    def connected_ids(self) -> list[str]:
        return sorted(m for m in self._peers if self.connected(m))
