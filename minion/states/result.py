"""Building state results the same way in every state module."""

from __future__ import annotations

import difflib
from typing import Any

from minion.context import Context


def new(name: str) -> dict[str, Any]:
    """A fresh result: nothing changed yet, not failed."""
    return {"name": name, "result": True, "changes": {}, "comment": ""}


def done(ret: dict[str, Any], comment: str, result: bool | None = True) -> dict[str, Any]:
    ret["result"] = result
    ret["comment"] = comment
    return ret


def fail(ret: dict[str, Any], comment: str) -> dict[str, Any]:
    return done(ret, comment, False)


def pending(ctx: Context, ret: dict[str, Any], changes: dict[str, Any],
            comment: str) -> dict[str, Any] | None:
    """In test mode, report `changes` as pending and return the result; else None.

    Usage in a state: ``if (r := result.pending(ctx, ret, changes, "would ...")): return r``
    """
    if not ctx.test:
        return None
    ret["changes"] = changes
    return done(ret, comment, None if changes else True)


def diff(old: str, new: str, name: str = "") -> str:
    """A unified diff of two texts, as ``changes['diff']`` shows it."""
    lines = difflib.unified_diff(old.splitlines(keepends=True), new.splitlines(keepends=True),
                                 fromfile=name, tofile=name)
    return "".join(lines) or "No changes"
