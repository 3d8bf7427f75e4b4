"""The zipapp's `common/crypto.py`: the one helper the host side needs, without nacl.

Modules that keep files (the grains store, mine, saltutil) import
`write_private` from common.crypto, which also holds the NaCl keys and boxes
and so imports nacl. A host reached over SSH never signs or boxes anything,
so the zipapp ships this file under that name instead: the same
`write_private`, and a clear error for anything else.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from common.atomic import write_atomic


def write_private(path: Path, data: bytes) -> None:
    """Write a file atomically with mode 0600 (whatever mode an old one had)."""
    write_atomic(path, data, 0o600, keep_owner=False)
    os.chmod(path, 0o600)


def __getattr__(name: str) -> Any:
    raise AttributeError(f"common.crypto.{name} is not in the SSH zipapp: keys and boxes "
                         "belong to a minion daemon")
