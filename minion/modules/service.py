"""Start, stop, enable and query services, like Salt's ``service`` module.

The backend is chosen on each call: systemd (``systemctl``) when
/run/systemd/system exists, else SysV init for hosts without systemd, such as
containers: /etc/init.d scripts run through ``service``, enabled with
``update-rc.d``, and a service counts as enabled when an S link for it exists
in /etc/rc2.d to /etc/rc5.d.

Functions that name a service answer a missing one with a one-line
``ERROR: ...`` and fail the job; a command that fails returns False and
fails the job with the command's exit code.
"""

from __future__ import annotations

import fnmatch
import logging
import os
import re
import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import psutil

from minion.context import Context
from minion.runner import CommandResult

__all__ = [
    "available",
    "disable",
    "disabled",
    "enable",
    "enabled",
    "get_all",
    "get_enabled",
    "get_running",
    "mask",
    "masked",
    "missing",
    "offline",
    "reload",
    "restart",
    "start",
    "status",
    "stop",
    "unmask",
]

log = logging.getLogger(__name__)

# Paths are module constants so tests can point them at a temporary tree.
SYSTEMD_RUNTIME = Path("/run/systemd/system")
# Where systemctl keeps masks: a unit linked to /dev/null here is masked.
MASK_DIRS = {False: Path("/etc/systemd/system"), True: Path("/run/systemd/system")}
INIT_D = Path("/etc/init.d")
RC_ROOT = Path("/etc")
ENABLED_LEVELS = "2345"

UNIT_TYPES = (
    "service", "socket", "device", "mount", "automount", "swap", "target", "path", "timer",
    "slice", "scope",
)
_NOT_SERVICES = {"README", "skeleton", "rc", "rcS"}
_NAME = re.compile(r"^[A-Za-z0-9_@:+][A-Za-z0-9_.@:+-]*$")
_GLOB = re.compile(r"[*?]|\[.+\]")


def _unavailable(opts: Mapping[str, Any], grains: Mapping[str, Any]) -> str | None:
    if SYSTEMD_RUNTIME.is_dir() or INIT_D.is_dir():
        return None
    return "neither systemd (/run/systemd/system) nor SysV init (/etc/init.d) is present"


def _systemd() -> bool:
    return SYSTEMD_RUNTIME.is_dir()


def _unit(name: str) -> str:
    """Salt's canonical unit name: ``nginx`` -> ``nginx.service``."""
    if "." in name and name.rsplit(".", 1)[1] in UNIT_TYPES:
        return name
    return f"{name}.service"


def _short(unit: str) -> str:
    return unit[: -len(".service")] if unit.endswith(".service") else unit


def _systemctl(*args: str) -> list[str]:
    return ["systemctl", *args]


def _sysv(name: str, action: str) -> list[str]:
    if shutil.which("service"):
        return ["service", name, action]
    return [str(INIT_D / name), action]


def _first_line(result: CommandResult) -> str:
    text = (result.stderr.strip() or result.stdout.strip()).splitlines()
    return text[0] if text else f"exit code {result.retcode}"


def _act(ctx: Context, argv: Sequence[str]) -> bool:
    """Run an action; on failure log why and fail the job with its exit code."""
    result = ctx.run(list(argv))
    if result.retcode == 0:
        return True
    log.warning("%s failed: %s", " ".join(argv), _first_line(result))
    ctx.retcode = result.retcode
    return False


def _exists(ctx: Context, name: str) -> bool:
    if _systemd():
        result = ctx.run(_systemctl("show", "--property=LoadState", "--value", _unit(name)))
        return result.retcode == 0 and result.stdout.strip() not in ("", "not-found")
    return name not in _NOT_SERVICES and (INIT_D / name).is_file()


def _missing_error(ctx: Context, name: str) -> str | None:
    """The error for a bad or unknown service name (failing the job), else None."""
    if not _NAME.match(name):
        ctx.retcode = 1
        return f"ERROR: invalid service name {name!r}"
    if not _exists(ctx, name):
        ctx.retcode = 1
        where = "systemd" if _systemd() else str(INIT_D)
        return f"ERROR: service {name!r} not found ({where})"
    return None


def _action(ctx: Context, name: str, action: str) -> bool | str:
    error = _missing_error(ctx, name)
    if error:
        return error
    argv = _systemctl(action, _unit(name)) if _systemd() else _sysv(name, action)
    return _act(ctx, argv)


def _rc_links(name: str, kinds: str) -> list[Path]:
    levels = ENABLED_LEVELS if kinds == "S" else "0123456S"
    found: list[Path] = []
    for level in levels:
        found.extend(sorted((RC_ROOT / f"rc{level}.d").glob(f"[{kinds}][0-9][0-9]{name}")))
    return found


def start(ctx: Context, name: str) -> bool | str:
    """Start a service.

    name
        The service, e.g. ``nginx`` (a systemd unit may be given in full).

    CLI Example:

        master run '*' service.start nginx
    """
    return _action(ctx, name, "start")


def stop(ctx: Context, name: str) -> bool | str:
    """Stop a service.

    name
        The service.

    CLI Example:

        master run '*' service.stop nginx
    """
    return _action(ctx, name, "stop")


def restart(ctx: Context, name: str) -> bool | str:
    """Restart a service.

    name
        The service.

    CLI Example:

        master run '*' service.restart nginx
    """
    return _action(ctx, name, "restart")


def reload(ctx: Context, name: str) -> bool | str:
    """Reload a service's configuration.

    name
        The service.

    CLI Example:

        master run '*' service.reload nginx
    """
    return _action(ctx, name, "reload")


def _process_matches(sig: str) -> bool:
    """Whether a process other than this one and its parents matches the regex `sig`."""
    pattern = re.compile(sig)
    me = psutil.Process()
    skip = {me.pid, *(parent.pid for parent in me.parents())}
    for proc in psutil.process_iter(["pid", "cmdline"]):
        cmdline = " ".join(proc.info["cmdline"] or [])
        if proc.info["pid"] not in skip and cmdline and pattern.search(cmdline):
            return True
    return False


def _running(ctx: Context, name: str, sig: str | None) -> bool:
    if sig and not _systemd():
        return _process_matches(sig)
    if _systemd():
        return ctx.run(_systemctl("is-active", "--quiet", _unit(name))).retcode == 0
    return ctx.run(_sysv(name, "status")).retcode == 0


def status(ctx: Context, name: str, sig: str | None = None) -> bool | dict[str, bool] | str:
    """Tell whether a service is running; a glob gives ``{service: running}``.

    name
        The service, or a glob such as ``'ssh*'``.
    sig
        On SysV hosts, a regular expression: the service counts as running
        when a process's command line matches it (systemd ignores it, as
        Salt does).

    CLI Example:

        master run '*' service.status nginx
    """
    if sig:
        try:
            re.compile(sig)
        except re.error as exc:
            ctx.retcode = 1
            return f"ERROR: sig: invalid regular expression {sig!r}: {exc}"
    if _GLOB.search(name):
        matches = fnmatch.filter(get_all(ctx), name)
        return {svc: _running(ctx, svc, sig) for svc in matches}
    error = _missing_error(ctx, name)
    if error:
        return error
    return _running(ctx, name, sig)


def _is_enabled(ctx: Context, name: str) -> bool:
    if _systemd():
        return ctx.run(_systemctl("is-enabled", "--quiet", _unit(name))).retcode == 0
    return bool(_rc_links(name, "S"))


def enabled(ctx: Context, name: str) -> bool | str:
    """Tell whether a service starts at boot.

    name
        The service.

    CLI Example:

        master run '*' service.enabled nginx
    """
    return _missing_error(ctx, name) or _is_enabled(ctx, name)


def disabled(ctx: Context, name: str) -> bool | str:
    """Tell whether a service does not start at boot.

    name
        The service.

    CLI Example:

        master run '*' service.disabled nginx
    """
    return _missing_error(ctx, name) or not _is_enabled(ctx, name)


def enable(ctx: Context, name: str) -> bool | str:
    """Make a service start at boot.

    On SysV hosts a script without rc links first gets the links its LSB
    header asks for (``update-rc.d NAME defaults``).

    name
        The service.

    CLI Example:

        master run '*' service.enable nginx
    """
    error = _missing_error(ctx, name)
    if error:
        return error
    if _systemd():
        return _act(ctx, _systemctl("enable", _unit(name)))
    if not _rc_links(name, "SK") and not _act(ctx, ["update-rc.d", name, "defaults"]):
        return False
    return _act(ctx, ["update-rc.d", name, "enable"])


def disable(ctx: Context, name: str) -> bool | str:
    """Stop a service from starting at boot (it keeps running if it is).

    name
        The service.

    CLI Example:

        master run '*' service.disable nginx
    """
    error = _missing_error(ctx, name)
    if error:
        return error
    if _systemd():
        return _act(ctx, _systemctl("disable", _unit(name)))
    if not _rc_links(name, "S"):
        return True
    return _act(ctx, ["update-rc.d", name, "disable"])


def available(ctx: Context, name: str) -> bool:
    """Tell whether a service exists on this host.

    name
        The service.

    CLI Example:

        master run '*' service.available nginx
    """
    return bool(_NAME.match(name)) and _exists(ctx, name)


def missing(ctx: Context, name: str) -> bool:
    """Tell whether a service does not exist on this host.

    name
        The service.

    CLI Example:

        master run '*' service.missing nginx
    """
    return not available(ctx, name)


def _unit_files(ctx: Context) -> list[tuple[str, str]]:
    """``(unit, state)`` pairs from ``systemctl list-unit-files``, templates left out."""
    result = ctx.run(_systemctl("list-unit-files", "--full", "--no-legend", "--no-pager"))
    pairs = []
    for line in result.stdout.splitlines():
        fields = line.split()
        if len(fields) < 2 or "." not in fields[0]:
            continue
        stem, kind = fields[0].rsplit(".", 1)
        if kind in UNIT_TYPES and not stem.endswith("@"):
            pairs.append((fields[0], fields[1]))
    return pairs


def _sysv_scripts() -> set[str]:
    if not INIT_D.is_dir():
        return set()
    return {
        path.name for path in INIT_D.iterdir()
        if path.is_file() and path.name not in _NOT_SERVICES
        and not path.name.startswith(".") and ".dpkg-" not in path.name
    }


def _sysv_enabled() -> set[str]:
    names = set()
    for level in ENABLED_LEVELS:
        for link in (RC_ROOT / f"rc{level}.d").glob("S[0-9][0-9]*"):
            names.add(link.name[3:])
    return names


def get_all(ctx: Context) -> list[str]:
    """Return every service on this host, sorted.

    On systemd, units other than services keep their suffix (``fstrim.timer``).

    CLI Example:

        master run '*' service.get_all
    """
    if _systemd():
        return sorted({_short(unit) for unit, _ in _unit_files(ctx)})
    return sorted(_sysv_scripts() | _sysv_enabled())


def get_enabled(ctx: Context) -> list[str]:
    """Return the services that start at boot, sorted.

    CLI Example:

        master run '*' service.get_enabled
    """
    if _systemd():
        return sorted({_short(u) for u, state in _unit_files(ctx) if state == "enabled"})
    return sorted(_sysv_enabled())


def get_running(ctx: Context) -> list[str]:
    """Return the services that are running now, sorted.

    CLI Example:

        master run '*' service.get_running
    """
    if not _systemd():
        return [name for name in get_all(ctx) if ctx.run(_sysv(name, "status")).retcode == 0]
    result = ctx.run(_systemctl("list-units", "--full", "--all", "--no-legend", "--no-pager",
                                "--plain"))
    running = set()
    for line in result.stdout.splitlines():
        fields = line.split()
        if len(fields) >= 4 and fields[3] == "running":
            running.add(_short(fields[0]))
    return sorted(running)


def systemctl_path() -> str | None:
    """Where systemctl is, or None (masking needs it; no systemd at all without it)."""
    return shutil.which("systemctl")


def offline(ctx: Context) -> str | bool | None:
    """Tell whether systemd is installed but not running (PID 1 is something else).

    As in Salt, this is systemctl's path when systemd is not booted (a
    container, a chroot), False when systemd is running, and None when there
    is no systemctl. The service states then report "Running in OFFLINE
    mode" instead of starting or stopping anything.

    CLI Example:

        master run '*' service.offline
    """
    if _systemd():
        return False
    return systemctl_path()


def masked(ctx: Context, name: str, runtime: bool = False) -> bool | str:
    """Tell whether a unit is masked (linked to /dev/null).

    runtime
        Check the runtime mask (until reboot, under /run) instead of the
        lasting one (under /etc).

    CLI Example:

        master run '*' service.masked nginx
    """
    if not _NAME.match(name):
        ctx.retcode = 1
        return f"ERROR: invalid service name {name!r}"
    link = MASK_DIRS[bool(runtime)] / _unit(name)
    try:
        return os.readlink(link) == "/dev/null"
    except OSError:
        return False


def _mask_action(ctx: Context, name: str, action: str, runtime: bool) -> bool | str:
    if not _NAME.match(name):
        ctx.retcode = 1
        return f"ERROR: invalid service name {name!r}"
    if systemctl_path() is None:
        ctx.retcode = 1
        return "ERROR: masking needs systemd (systemctl is not installed)"
    flags = ["--runtime"] if runtime else []
    return _act(ctx, _systemctl(action, *flags, _unit(name)))


def mask(ctx: Context, name: str, runtime: bool = False) -> bool | str:
    """Mask a unit so that nothing can start it (works without systemd running).

    runtime
        Mask only until the next reboot.

    CLI Example:

        master run '*' service.mask telnetd
    """
    return _mask_action(ctx, name, "mask", runtime)


def unmask(ctx: Context, name: str, runtime: bool = False) -> bool | str:
    """Remove a unit's mask (a unit that is not masked is left alone).

    runtime
        Remove the runtime mask instead of the lasting one.

    CLI Example:

        master run '*' service.unmask telnetd
    """
    if masked(ctx, name, runtime) is not True:
        return True if _NAME.match(name) else masked(ctx, name, runtime)
    return _mask_action(ctx, name, "unmask", runtime)
