"""The cluster's master key pair: made by the first master, loaded by the others.

The pair is kept in the store (``saline_master_key``) and copied to each
master's ``pki_dir/master.pem`` and ``master.pub`` (0600), so every master
signs with the same key and minions pin one fingerprint for the whole
cluster. The first master to start offers its own pair (so a single master
moved into a store keeps its fingerprint); when two start at once, the row
written first wins and the other takes it.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

from common.crypto import KeyPair, write_private
from master.store.pglink import PgLink, StoreError

log = logging.getLogger(__name__)


def sync(link: PgLink, pki_dir: Path) -> KeyPair:
    """The cluster's key pair, written to `pki_dir` if this master held another one."""
    pem, pub = pki_dir / "master.pem", pki_dir / "master.pub"
    had_own = pem.exists()
    local = KeyPair.load_or_create(pki_dir, "master")
    link.count("INSERT INTO saline_master_key (name, private, public, created)"
               " VALUES ('master', %s, %s, %s) ON CONFLICT (name) DO NOTHING",
               (pem.read_text(), pub.read_text(), time.time()))
    rows = link.rows("SELECT private, public FROM saline_master_key WHERE name = 'master'")
    if not rows:
        raise StoreError("the cluster store holds no master key pair (deleted meanwhile?)")
    private, public = rows[0]
    if private == pem.read_text():
        return local
    if had_own:
        write_private(pki_dir / "master.pem.local", pem.read_bytes())
    write_private(pem, private.encode())
    write_private(pub, public.encode())
    pair = KeyPair.load_or_create(pki_dir, "master")
    if had_own:
        log.warning("this master's own key pair (fingerprint %s) was replaced by the cluster's "
                    "(fingerprint %s); the old one is kept in %s.local",
                    local.public.fingerprint(), pair.public.fingerprint(), pem)
    return pair
