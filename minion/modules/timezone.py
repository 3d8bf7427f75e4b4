"""The system time zone and the hardware clock's mode, like Salt's ``timezone`` module.

With systemd running, ``timedatectl`` is used. Without it (containers,
SysV hosts), as on Debian: the zone is ``/etc/timezone`` plus the
``/etc/localtime`` link into ``/usr/share/zoneinfo``, and the hardware clock
mode is the third line of ``/etc/adjtime`` (``UTC`` or ``LOCAL``).
"""

from __future__ import annotations

import filecmp
import os
import re
from pathlib import Path

from common.atomic import write_atomic
from minion.context import Context

__all__ = ["get_hwclock", "get_zone", "set_hwclock", "set_zone", "zone_compare"]

# Module constants so that tests can point them at a temporary tree.
SYSTEMD_RUNTIME = Path("/run/systemd/system")
ZONEINFO = Path("/usr/share/zoneinfo")
LOCALTIME = Path("/etc/localtime")
TIMEZONE = Path("/etc/timezone")
ADJTIME = Path("/etc/adjtime")
_ZONE = re.compile(r"^[A-Za-z0-9_+-]+(/[A-Za-z0-9_+-]+)*$")


class TimezoneError(Exception):
    """A zone that does not exist, or a clock setting that failed."""


def _systemd() -> bool:
    return SYSTEMD_RUNTIME.is_dir()


def _zone_file(zone: str) -> Path:
    if not _ZONE.match(zone):
        raise TimezoneError(f'Can\'t find a local timezone "{zone}"')
    return ZONEINFO / zone


def _timedatectl(ctx: Context) -> str:
    done = ctx.run(["timedatectl"])
    if done.retcode != 0:
        raise TimezoneError(f"timedatectl failed: {done.stderr.strip()}")
    return done.stdout


def get_zone(ctx: Context) -> str:
    """Return the system time zone, e.g. ``Europe/Paris``.

    CLI Example:

        master run '*' timezone.get_zone
    """
    if _systemd():
        match = re.search(r"Time ?zone:\s+(\S+)", _timedatectl(ctx))
        if not match:
            raise TimezoneError("Failed to parse timedatectl output")
        return match.group(1)
    if TIMEZONE.is_file():
        return TIMEZONE.read_text().strip()
    if LOCALTIME.is_symlink():
        target = os.path.realpath(LOCALTIME)
        zoneinfo = os.path.realpath(ZONEINFO)
        if target.startswith(zoneinfo + os.sep):
            return target[len(zoneinfo) + 1:]
    return "Etc/UTC"


def zone_compare(ctx: Context, timezone: str) -> bool:
    """Tell whether the system time zone is `timezone` (comparing the zone files).

    CLI Example:

        master run '*' timezone.zone_compare Europe/Paris
    """
    wanted = _zone_file(timezone)
    if not LOCALTIME.is_file():
        return timezone == get_zone(ctx)
    if not wanted.is_file():
        raise TimezoneError(f'Can\'t find a local timezone "{timezone}"')
    return filecmp.cmp(LOCALTIME, wanted, shallow=False)


def set_zone(ctx: Context, timezone: str) -> bool:
    """Set the system time zone.

    CLI Example:

        master run '*' timezone.set_zone Europe/Paris
    """
    wanted = _zone_file(timezone)
    if not wanted.is_file():
        raise TimezoneError(f"Zone does not exist: {wanted}")
    if _systemd():
        return ctx.run(["timedatectl", "set-timezone", timezone]).retcode == 0
    if LOCALTIME.exists() or LOCALTIME.is_symlink():
        LOCALTIME.unlink()
    LOCALTIME.symlink_to(wanted)
    write_atomic(TIMEZONE, f"{timezone}\n".encode(), 0o644)
    return True


def get_hwclock(ctx: Context) -> str:
    """Return ``UTC`` or ``localtime``: what the hardware clock keeps.

    CLI Example:

        master run '*' timezone.get_hwclock
    """
    if _systemd():
        for line in _timedatectl(ctx).splitlines():
            if "rtc in local tz" in line.lower():
                return "localtime" if line.split(":")[-1].strip().lower() == "yes" else "UTC"
        raise TimezoneError("Failed to parse timedatectl output")
    lines = ADJTIME.read_text().splitlines() if ADJTIME.is_file() else []
    return "localtime" if len(lines) > 2 and lines[2].strip() == "LOCAL" else "UTC"


def set_hwclock(ctx: Context, clock: str) -> bool:
    """Make the hardware clock keep ``UTC`` or ``localtime``.

    CLI Example:

        master run '*' timezone.set_hwclock UTC
    """
    if clock.lower() not in ("utc", "localtime"):
        raise TimezoneError("localtime and UTC are the only permitted values")
    local = clock.lower() == "localtime"
    if _systemd():
        flag = "true" if local else "false"
        return ctx.run(["timedatectl", "set-local-rtc", flag]).retcode == 0
    lines = ADJTIME.read_text().splitlines() if ADJTIME.is_file() else ["0.0 0 0.0", "0"]
    lines = [*lines, "", "", ""][:max(3, len(lines))]
    lines[2] = "LOCAL" if local else "UTC"
    write_atomic(ADJTIME, ("\n".join(lines) + "\n").encode(), 0o644)
    return True
