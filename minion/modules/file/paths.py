"""file.*: pure path helpers that never look at the disk."""

from __future__ import annotations

import os

from minion.context import Context

# --- pure path helpers -----------------------------------------------------------------------


def basename(ctx: Context, path: str) -> str:
    """Return the last component of a path (``/etc/hosts`` gives ``hosts``).

    The path may be relative; nothing on disk is looked at.

    path
        Any path.

    CLI Example:

        master run '*' file.basename /etc/hosts
    """
    return os.path.basename(str(path))


def dirname(ctx: Context, path: str) -> str:
    """Return all but the last component of a path (``/etc/hosts`` gives ``/etc``).

    The path may be relative; nothing on disk is looked at.

    path
        Any path.

    CLI Example:

        master run '*' file.dirname /etc/hosts
    """
    return os.path.dirname(str(path))


def join(ctx: Context, *args: str) -> str:
    """Join path components with ``/`` (an absolute component restarts the path).

    args
        The components.

    CLI Example:

        master run '*' file.join /etc app conf.d
    """
    if not args:
        return ""
    return os.path.join(*(str(arg) for arg in args))
