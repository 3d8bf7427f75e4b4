"""A minion's keys, master pin, session key and queues: the state the agent shares.

The agent is split by concern, each part a class over this state:
:mod:`minion.channel` (requests to the master, heartbeat, pillar),
:mod:`minion.services` (what functions in worker threads may ask of it),
:mod:`minion.jobs` (publishes: notices, jobs, returns), :mod:`minion.auth`
(authentication) and :mod:`minion.agent` (sockets and lifecycle).
"""

from __future__ import annotations

import asyncio
import collections
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from common import protocol
from common.crypto import KeyPair, PeerBox, PublicKeys, SessionKey, ensure_private_dir
from common.ids import check_minion_id
from common.transport.aio import Client
from minion.context import Context
from minion.masterkey import MasterKeyMismatch, MasterPin
from minion.replay import ReplayStore

UNSENT_MAX = 1000


class MinionState:
    """One minion's connection to one master: keys, session and queues.

    A minion with several masters has one of these per master; all but the
    first take the minion-wide parts (keys, pin, replay store, return
    queue, worker pool, running jobs) from the first, as `shared`.
    """

    def __init__(self, opts: dict[str, Any], ctx: Context,
                 shared: MinionState | None = None) -> None:
        self.opts = opts
        self.id = check_minion_id(opts["id"])
        self.ctx = ctx
        if shared is None:
            self._own_state(opts)
        else:
            self._share_state(shared)
        self.token_tried = False
        # Keys a pending reply came with: good enough to check notices
        # (which only ever make us ask again), never pinned.
        self.candidate: PublicKeys | None = self.pin.pinned
        self.session: SessionKey | None = None
        self.box: PeerBox | None = None
        self.key_gen = 0
        self.status = "new"
        # When this master last answered anything (monotonic; for failover).
        self.last_answer = float("-inf")
        self.topic = protocol.minion_topic(self.id)
        # What a job or notice pushed to us may be signed for.
        self.topics = (protocol.TOPIC_ALL, self.topic, protocol.TOPIC_NOTICE)
        self.held: list[dict[str, Any]] = []
        self.wake_auth = asyncio.Event()
        self.wake_hb = asyncio.Event()
        self.client: Client | None = None
        # Only the daemon asks the master to push jobs to it (not `minion call`).
        self.listens = False
        self.loop: asyncio.AbstractEventLoop | None = None
        self.loop_thread = 0

    def _own_state(self, opts: dict[str, Any]) -> None:
        pki = Path(opts["pki_dir"])
        self.pair = KeyPair.load_or_create(pki, "minion")
        ensure_private_dir(Path(opts["cachedir"]))
        self.join_token = opts.get("join_token") or os.environ.get("SALINE_JOIN_TOKEN") or None
        finger = opts["master_finger"]
        if self.join_token and not finger:
            # The token names the master it is for: pin only that one.
            finger = join_token_fingerprint(self.join_token)
        # One pin for all masters: several masters of one cluster share a key.
        self.pin = MasterPin(pki, finger)
        self.seen = ReplayStore(opts["cachedir"])
        # Returns no master took yet: whichever master answers next gets them.
        self.unsent: collections.deque[dict[str, Any]] = collections.deque(maxlen=UNSENT_MAX)
        self.stopping = asyncio.Event()
        self.pool = ThreadPoolExecutor(int(opts["worker_threads"]), thread_name_prefix="job")
        self.jobs: set[asyncio.Future[Any]] = set()
        self.running_jobs: dict[str, dict[str, Any]] = {}

    def _share_state(self, shared: MinionState) -> None:
        self.pair, self.join_token, self.pin = shared.pair, shared.join_token, shared.pin
        self.seen, self.unsent, self.stopping = shared.seen, shared.unsent, shared.stopping
        self.pool, self.jobs, self.running_jobs = shared.pool, shared.jobs, shared.running_jobs


def join_token_fingerprint(token: str) -> str:
    """The master fingerprint a join token names (its last part)."""
    parts = token.strip().split(".")
    if len(parts) != 3 or len(parts[2]) != 64:
        raise MasterKeyMismatch("join_token: not a saline join token")
    return parts[2]
