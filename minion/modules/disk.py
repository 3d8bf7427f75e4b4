"""Report file-system usage as ``df`` sees it, like Salt's ``disk`` module.

The numbers come from ``df -P`` run through ``ctx.run`` (so tests can answer
with a fake) and keep Salt's shapes: values are the strings df printed,
keyed by mount point.
"""

from __future__ import annotations

import re

from minion.context import Context

__all__ = ["inodeusage", "percent", "usage"]

# df options that do not change the columns of its POSIX output.
_ALLOWED_FLAGS = frozenset("ahHiklPv")
_PERCENT = re.compile(r"^(\d+%|-)$")


def _flags(args: str | None, caller: str) -> list[str]:
    if not args:
        return []
    flags = str(args).lstrip("-")
    bad = sorted(set(flags) - _ALLOWED_FLAGS)
    if bad:
        raise ValueError(f"{caller}: unsupported df flag(s) {''.join(bad)!r}; "
                         f"use some of {''.join(sorted(_ALLOWED_FLAGS))!r}")
    return [f"-{flags}"]


def parse_df(text: str) -> dict[str, tuple[str, str, str, str, str]]:
    """``{mount: (filesystem, size, used, available, percent)}`` from ``df -P`` output.

    The header is skipped; file-system names and mount points may contain
    spaces (the percent column, the first ``NN%`` token, splits them).
    """
    rows: dict[str, tuple[str, str, str, str, str]] = {}
    for line in text.splitlines()[1:]:
        comps = line.split()
        pct = next((i for i in range(4, len(comps)) if _PERCENT.match(comps[i])), None)
        if pct is None or pct + 1 >= len(comps):
            continue
        filesystem = " ".join(comps[: pct - 3])
        size, used, avail = comps[pct - 3 : pct]
        rows[" ".join(comps[pct + 1 :])] = (filesystem, size, used, avail, comps[pct])
    return rows


def _df(ctx: Context, argv: list[str]) -> dict[str, tuple[str, str, str, str, str]]:
    result = ctx.run(argv, env={"LC_ALL": "C"}, timeout=60)
    rows = parse_df(result.stdout)
    # df exits 1 when one mount cannot be read but still reports the others.
    if result.retcode != 0 and not rows:
        reason = result.stderr.strip().splitlines()[-1:] or [f"exit code {result.retcode}"]
        raise RuntimeError(f"{' '.join(argv)} failed: {reason[0]}")
    return rows


def usage(ctx: Context, args: str | None = None) -> dict[str, dict[str, str]]:
    """Return the usage of each mounted file system, keyed by mount point.

    Each entry is ``{filesystem, 1K-blocks, used, available, capacity}``, the
    strings ``df -P`` printed (capacity like ``42%``).

    args
        Extra df flags, e.g. ``a`` to include pseudo file systems or ``h``
        for human-readable sizes (allowed: a h H i k l P v).

    CLI Example:

        master run '*' disk.usage
    """
    rows = _df(ctx, ["df", "-P", *_flags(args, "disk.usage")])
    return {
        mount: {"filesystem": fs, "1K-blocks": size, "used": used, "available": avail,
                "capacity": pct}
        for mount, (fs, size, used, avail, pct) in rows.items()
    }


def inodeusage(ctx: Context, args: str | None = None) -> dict[str, dict[str, str]]:
    """Return the inode usage of each mounted file system, keyed by mount point.

    Each entry is ``{inodes, used, free, use, filesystem}``, the strings
    ``df -iP`` printed (use like ``3%``).

    args
        Extra df flags, e.g. ``a`` to include pseudo file systems.

    CLI Example:

        master run '*' disk.inodeusage
    """
    rows = _df(ctx, ["df", "-iP", *_flags(args, "disk.inodeusage")])
    return {
        mount: {"inodes": size, "used": used, "free": avail, "use": pct, "filesystem": fs}
        for mount, (fs, size, used, avail, pct) in rows.items()
    }


def percent(ctx: Context, args: str | None = None) -> dict[str, str] | str:
    """Return the used percentage of each file system, or of one mount point.

    args
        A mount point such as ``/var``: return only its percentage (``42%``).
        Without it, ``{mount: percent}`` for all.

    CLI Example:

        master run '*' disk.percent /var
    """
    used = {mount: row[4] for mount, row in _df(ctx, ["df", "-P"]).items()}
    if not args:
        return used
    if args not in used:
        raise ValueError(f"{args!r} is not a mount point; mount points: {', '.join(used)}")
    return used[args]
