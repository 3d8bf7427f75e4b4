"""Kernel parameters at run time and in sysctl config files, like Salt's ``sysctl`` module.

Values are read with ``sysctl -n`` and set with ``sysctl -w`` (straight
from and to /proc/sys where procps is not installed). ``persist``
also writes ``NAME = VALUE`` into the config file: by default, as Salt
decides it, ``/etc/sysctl.d/99-salt.conf`` when systemd is running, else
``/etc/sysctl.conf``. Setting a value needs root (and, in a container,
a privileged one).
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from common.atomic import write_atomic
from minion.context import Context

__all__ = ["assign", "default_config", "get", "persist", "show"]

# Module constants so that tests can point them at a temporary tree.
PROC_SYS = Path("/proc/sys")
SYSTEMD_RUNTIME = Path("/run/systemd/system")
SYSTEMD_CONFIG = "/etc/sysctl.d/99-salt.conf"
PLAIN_CONFIG = "/etc/sysctl.conf"
NEW_FILE_HEADER = "#\n# Kernel sysctl configuration\n#\n"
_NAME = re.compile(r"^[A-Za-z0-9_.*/-]+$")


class SysctlError(Exception):
    """A parameter that could not be set (the message is Salt's)."""


def _unavailable(opts: Mapping[str, Any], grains: Mapping[str, Any]) -> str | None:
    return None if PROC_SYS.is_dir() else "there is no /proc/sys (not a Linux kernel)"


def _check(name: str) -> str:
    if not _NAME.match(name) or ".." in name:
        raise SysctlError(f"invalid sysctl name {name!r}")
    return name


def sanitize(value: Any) -> str:
    """A value as the kernel shows it: runs of whitespace become one tab."""
    return re.sub(r"\s+", "\t", str(value))


def default_config(ctx: Context) -> str:
    """Return the file ``sysctl.persist`` writes to when no config is given.

    CLI Example:

        master run '*' sysctl.default_config
    """
    return SYSTEMD_CONFIG if SYSTEMD_RUNTIME.is_dir() else PLAIN_CONFIG


def show(ctx: Context, config_file: str | None = None) -> dict[str, str] | list[str] | None:
    """Return every parameter and its value; or those set in `config_file`.

    A config file that does not exist gives ``[]``; one that cannot be
    read gives None (as in Salt).

    CLI Example:

        master run '*' sysctl.show config_file=/etc/sysctl.d/99-salt.conf
    """
    found: dict[str, str] = {}
    if config_file:
        if not os.path.exists(config_file):
            return []
        try:
            text = Path(config_file).read_text()
        except OSError:
            return None
        for raw in text.splitlines():
            line = raw.strip()
            if not line.startswith("#") and "=" in line:
                key, value = line.split("=", 1)
                found[key.rstrip()] = value.lstrip()
        return found
    for line in ctx.run(["sysctl", "-a"]).stdout.splitlines():
        if " = " in line:
            key, value = line.split(" = ", 1)
            found[key] = value
    return found


def get(ctx: Context, name: str) -> str:
    """Return a parameter's current value ('' when there is no such parameter).

    CLI Example:

        master run '*' sysctl.get net.ipv4.ip_forward
    """
    if shutil.which("sysctl") is None:
        path = _proc_path(name)
        return path.read_text().strip() if path.is_file() else ""
    return ctx.run(["sysctl", "-n", _check(name)]).stdout.strip()


def _proc_path(name: str) -> Path:
    return PROC_SYS / _check(name).translate(str.maketrans("./", "/."))


def assign(ctx: Context, name: str, value: Any) -> dict[str, str]:
    """Set a parameter now (not across reboots); return ``{name: new value}``.

    CLI Example:

        master run '*' sysctl.assign net.ipv4.ip_forward 1
    """
    value = str(value)
    path = _proc_path(name)
    if not path.exists():
        raise SysctlError(f"sysctl {name} does not exist")
    if shutil.which("sysctl") is None:
        try:
            path.write_text(value + "\n")
        except OSError as exc:
            raise SysctlError(f"sysctl -w failed: {exc.strerror}") from None
        return {name: path.read_text().strip()}
    done = ctx.run(["sysctl", "-w", f"{name}={value}"])
    out = done.stdout.strip()
    pattern = re.compile(rf"^{re.escape(name)}\s+=\s+{re.escape(value)}$")
    if not pattern.match(out) or "Invalid argument" in done.stderr:
        error = done.stderr.strip() if done.retcode != 0 and done.stderr.strip() else out
        raise SysctlError(f"sysctl -w failed: {error}")
    key, new = out.split(" = ", 1)
    return {key: new}


def persist(ctx: Context, name: str, value: Any, config: str | None = None) -> str:
    """Set a parameter now and in a config file; return ``Updated`` or ``Already set``.

    config
        The file (default: see ``sysctl.default_config``); created when
        missing.

    CLI Example:

        master run '*' sysctl.persist vm.swappiness 10
    """
    _check(name)
    path = Path(config or default_config(ctx))
    lines = path.read_text().splitlines(keepends=True) if path.is_file() \
        else [NEW_FILE_HEADER]
    wanted = sanitize(value)
    out: list[str] = []
    edited = False
    for line in lines:
        key, sep, have = (part.strip() for part in line.partition("="))
        if not sep or key.startswith("#") or key != name:
            out.append(line)
            continue
        if sanitize(have) == wanted:
            if sanitize(get(ctx, name)) != wanted:
                assign(ctx, name, value)
                return "Updated"
            return "Already set"
        out.append(f"{name} = {value}\n")
        edited = True
    if not edited:
        out.append(f"{name} = {value}\n")
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, "".join(out).encode(), 0o644)
    assign(ctx, name, value)
    return "Updated"
