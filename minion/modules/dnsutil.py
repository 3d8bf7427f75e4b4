"""DNS helpers for formulas: zone serial numbers."""

from __future__ import annotations

import time

from minion.context import Context

__all__ = ["serial"]


def serial(ctx: Context, zone: str = "", update: bool = False) -> str:
    """Return (and with `update`, advance and store) a zone's serial, ``YYYYMMDDnn``.

    The serial is kept in the grain ``dnsserial_<zone>`` (``dnsserial``
    without a zone), as Salt keeps it; set that grain to choose a value.

    zone
        The zone name, e.g. ``example.com``.
    update
        False (the default): return the stored serial, or today's first
        serial (``YYYYMMDD01``) when none is stored; nothing is saved.
        True: store and return today's first serial, or the stored one plus
        one when it is already today's or later.

    CLI Example:

        master run '*' dnsutil.serial example.com update=True
    """
    key = f"dnsserial_{zone}" if zone else "dnsserial"
    stored = ctx.call("grains.get", key)
    present = time.strftime("%Y%m%d01")
    if not update:
        return stored or present
    current = str(int(stored) + 1) if stored and str(stored) >= present else present
    ctx.call("grains.setval", key, current)
    return current

