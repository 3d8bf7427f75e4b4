"""Where the master keeps keys, join tokens, the job cache and its key pair.

`open_store(opts)` picks the backend from the config: the embedded default
(pki files for keys and tokens, SQLite for the job cache, ``master.pem``)
or, with ``cluster_store: postgresql://...``, PostgreSQL shared by every
master of a cluster (docs/cluster.md). Both hand out objects with the same
methods, so the rest of the master does not know which one it has.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from common.crypto import KeyPair, ensure_private_dir
from master.jobcache import JobCache
from master.keys import KeyStore
from master.store.errors import StoreDown, StoreError
from master.tokens import TokenStore

if TYPE_CHECKING:
    from master.store.pgjobs import PgJobCache

__all__ = ["FileStore", "PgStore", "Store", "StoreDown", "StoreError", "open_store"]

log = logging.getLogger(__name__)


class FileStore:
    """The embedded default: everything under this master's pki_dir and cachedir."""

    dsn = ""

    def __init__(self, opts: dict[str, Any]) -> None:
        self.pki = Path(opts["pki_dir"])
        self.cachedir = Path(opts["cachedir"])

    def keys(self, max_pending: int | None = None) -> KeyStore:
        return KeyStore(self.pki, max_pending)

    def tokens(self) -> TokenStore:
        ensure_private_dir(self.pki)
        return TokenStore(self.pki)

    def jobs(self, readonly: bool = False) -> JobCache:
        return JobCache(self.cachedir, readonly=readonly)

    def has_jobs(self) -> bool:
        """Whether a job cache exists yet (a reader says "No jobs yet" otherwise)."""
        return (self.cachedir / "jobs.sqlite").exists()

    def master_pair(self) -> KeyPair:
        return KeyPair.load_or_create(self.pki, "master")

    def joined(self, opts: dict[str, Any], pair: KeyPair) -> None:
        """Nothing to register: a master alone."""

    def tick(self, connected: Callable[[], int]) -> None:
        """Nothing to do each second for files."""

    def close(self) -> None:
        return None


class PgStore:
    """The cluster store: PostgreSQL through psycopg 3 (master/store/pg*.py)."""

    def __init__(self, opts: dict[str, Any], daemon: bool) -> None:
        try:
            from master.store import schema
            from master.store.listen import Listener
            from master.store.pglink import PgLink
            from master.store.spool import Spool
        except ImportError as exc:
            raise StoreError(f"cluster_store needs psycopg 3 ({exc}): "
                             "pip install 'saline[cluster]'") from None

        self.dsn = str(opts["cluster_store"])
        self.pki = Path(opts["pki_dir"])
        self.link = PgLink(self.dsn)
        schema.ensure(self.link)  # StoreDown/StoreError: the caller says it and exits 2
        self.listener = Listener(PgLink(self.dsn), schema.KEYS_CHANNEL) if daemon else None
        if self.listener is not None:
            self.link.reachable = self.listener.listening.is_set
            self.listener.start()
        self.spool = Spool(Path(opts["cachedir"]) / "store-spool.bin") if daemon else None
        self.me: dict[str, Any] = {}
        self._next_beat = 0.0
        self._jobs: PgJobCache | None = None

    def keys(self, max_pending: int | None = None) -> KeyStore:
        from master.store.pgkeys import PgKeys

        return KeyStore(self.pki, max_pending, backend=PgKeys(self.link, self.listener))

    def tokens(self) -> TokenStore:
        from master.store.pgtokens import PgTokens

        return PgTokens(self.link, self.pki)

    def jobs(self, readonly: bool = False) -> JobCache:
        from master.store.pgjobs import PgJobCache

        if self.spool is not None:
            ensure_private_dir(self.spool.path.parent)
        self._jobs = PgJobCache(self.link, self.me.get("id", ""), self.spool)
        return self._jobs

    def has_jobs(self) -> bool:
        return True

    def master_pair(self) -> KeyPair:
        from master.store import masterkey

        return masterkey.sync(self.link, self.pki)

    def joined(self, opts: dict[str, Any], pair: KeyPair) -> None:
        """Register this master in the store's list of masters."""
        from master.store import members

        self.me = members.identity(opts, pair.public.fingerprint())
        members.register(self.link, self.me)
        if self._jobs is not None:
            self._jobs.master_id = self.me["id"]

    def tick(self, connected: Callable[[], int]) -> None:
        """Each second from the key watch: heartbeat now and then, write what was queued."""
        from master.store import members

        now = time.monotonic()
        if self._jobs is not None:
            self._jobs.flush()
        if now < self._next_beat or not self.me:
            return
        self._next_beat = now + members.HEARTBEAT_SECONDS
        try:
            members.beat(self.link, self.me["id"], connected())
        except StoreError as exc:
            if self._jobs is not None:
                self._jobs.ratelog.warning("spool", "cluster store: heartbeat not written: %s",
                                           exc)

    def close(self) -> None:
        if self.listener is not None:
            self.listener.stop()
        self.link.close()


Store = FileStore | PgStore


def open_store(opts: dict[str, Any], daemon: bool = False) -> Store:
    """The store the config names: PostgreSQL with `cluster_store`, else the files.

    `daemon` adds what only the running master needs: the listener for other
    masters' key changes and the spool for writes made while the store is away.
    Raises master.store.pglink.StoreError (an OSError) when the store cannot be used.
    """
    if opts.get("cluster_store"):
        return PgStore(opts, daemon)
    return FileStore(opts)
