"""Pinning the master's public keys on the minion (trust on first use).

The first master that accepts this minion is remembered in
``pki_dir/master.pub``. A different master key is refused afterwards,
unless ``master_finger`` in the config names the new key's fingerprint.
"""

from __future__ import annotations

import logging
from pathlib import Path

from common.crypto import CryptoError, PublicKeys, write_private

log = logging.getLogger(__name__)


class MasterKeyMismatch(Exception):
    """The master presented a key this minion does not trust."""


class MasterPin:
    def __init__(self, pki_dir: Path, master_finger: str | None) -> None:
        self.path = Path(pki_dir) / "master.pub"
        self.finger = _norm(master_finger) if master_finger else None
        self.pinned: PublicKeys | None = None
        try:
            self.pinned = PublicKeys.loads(self.path.read_text())
        except FileNotFoundError:
            pass
        except (OSError, CryptoError) as exc:
            raise MasterKeyMismatch(f"{self.path}: unreadable pinned master key: {exc}") from None

    def check(self, keys: PublicKeys) -> None:
        """Raise MasterKeyMismatch unless `keys` may be trusted as our master."""
        if self.pinned == keys:
            return
        if self.finger is not None:
            if _norm(keys.fingerprint()) == self.finger:
                return
            raise MasterKeyMismatch(
                f"master fingerprint {keys.fingerprint()} does not match master_finger"
            )
        if self.pinned is not None:
            raise MasterKeyMismatch(
                f"master key changed (now {keys.fingerprint()}, pinned "
                f"{self.pinned.fingerprint()} in {self.path}); refusing it. If the master "
                "was really replaced, set master_finger or delete that file"
            )

    def pin(self, keys: PublicKeys) -> None:
        """Remember `keys` (already checked) as this minion's master."""
        if self.pinned == keys:
            return
        write_private(self.path, keys.dumps().encode())
        self.pinned = keys
        log.info("pinned master key %s", keys.fingerprint())


def _norm(finger: str) -> str:
    return finger.replace(":", "").strip().lower()
