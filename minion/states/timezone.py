"""The system time zone and hardware clock mode, like Salt's ``timezone.system``.

.. code-block:: yaml

    Europe/Paris:
      timezone.system:
        - utc: True
"""

from __future__ import annotations

from typing import Any

from minion.context import Context
from minion.modules.timezone import TimezoneError
from minion.states import result

__all__ = ["system"]


def system(ctx: Context, name: str, utc: bool = True) -> dict[str, Any]:
    """Make sure the system uses the time zone `name` (and the clock mode `utc`).

    name
        The zone, e.g. ``Europe/Paris`` or ``Etc/UTC``.
    utc
        True (default): the hardware clock keeps UTC. False leaves the mode
        alone, as in Salt.

    CLI Example:

        minion call --local state.single timezone.system Europe/Paris
    """
    ret = result.new(name)
    try:
        same_zone = ctx.call("timezone.zone_compare", name) is True
        clock_utc = ctx.call("timezone.get_hwclock") != "localtime"
    except (TimezoneError, OSError) as exc:
        return result.fail(ret, f"Unable to compare desired timezone '{name}' to system "
                                f"timezone: {exc}")
    fix_clock = bool(utc) and utc != clock_utc
    if same_zone and not fix_clock:
        notes = [f"Timezone {name} already set"] + ([f"UTC already set to {name}"] if utc else [])
        return result.done(ret, ", ".join(notes))
    if ctx.test:
        notes = ([] if same_zone else [f"Timezone {name} needs to be set"]) + (
            [f"UTC needs to be set to {utc}"] if fix_clock else [])
        return result.done(ret, ", ".join(notes), None)
    notes, ok = [], True
    try:
        if not same_zone:
            if ctx.call("timezone.set_zone", name):
                ret["changes"]["timezone"] = name
                notes.append(f"Set timezone {name}")
            else:
                notes.append("Failed to set timezone")
                ok = False
        if fix_clock:
            if ctx.call("timezone.set_hwclock", "UTC"):
                ret["changes"]["utc"] = utc
                notes.append(f"Set UTC to {utc}")
            else:
                notes.append(f"Failed to set UTC to {utc}")
                ok = False
    except (TimezoneError, OSError) as exc:
        notes.append(str(exc))
        ok = False
    return result.done(ret, ", ".join(notes), ok)
