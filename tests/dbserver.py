"""What the tests that start a real database server share."""

from __future__ import annotations

import os
import pwd

import pytest


def unprivileged_user(*candidates: str) -> str | None:
    """The system user a test server runs as: None when the tests are not root,
    else the first of `candidates` that exists (the test is skipped if none does)."""
    if os.geteuid() != 0:
        return None
    for name in candidates:
        try:
            pwd.getpwnam(name)
            return name
        except KeyError:
            continue
    pytest.skip(f"running as root and no unprivileged user ({', '.join(candidates)}) "
                "to run the server")
