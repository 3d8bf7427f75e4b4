"""The cluster store's errors, importable without the database driver."""

from __future__ import annotations


class StoreError(OSError):
    """The cluster store refused a statement, or holds something we cannot use."""


class StoreDown(StoreError):
    """The cluster store cannot be reached just now."""
