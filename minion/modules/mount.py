"""Mounted filesystems and /etc/fstab entries, like Salt's ``mount`` module (Linux).

fstab lines are matched as Salt matches them: by mount point for special
filesystems (tmpfs, proc, nfs, btrfs ...), else by device, unless
``match_on`` names the fields; a new or changed line is written in Salt's
layout (``DEVICE\\t\\tNAME\\tFSTYPE\\tOPTS\\tDUMP PASS``). Mounting needs root
(and, in a container, a privileged one).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from minion.context import Context

__all__ = ["active", "fstab", "mount", "remount", "rm_fstab", "set_fstab", "umount"]

MOUNTINFO = Path("/proc/self/mountinfo")
MOUNTS = Path("/proc/self/mounts")
FSTAB_KEYS = ("device", "name", "fstype", "opts", "dump", "pass_num")
SPECIAL_FS = frozenset({"none", "tmpfs", "sysfs", "proc", "fusectl", "debugfs", "securityfs",
                        "devtmpfs", "cgroup", "nfs", "nfs4", "glusterfs", "btrfs"})


class MountError(Exception):
    """An fstab that cannot be read or written, or a bad match_on (Salt's words)."""


def _unavailable(opts: Mapping[str, Any], grains: Mapping[str, Any]) -> str | None:
    return None if grains.get("kernel", "Linux") == "Linux" else "mount needs a Linux host"


def parse_line(line: str, keys: tuple[str, ...] = FSTAB_KEYS) -> dict[str, str] | None:
    """One fstab line as a dict (missing dump/pass are "0"); None for comments and junk."""
    if line.startswith("#"):
        return None
    words = line.split()
    if not 4 <= len(words) <= 6:
        return None
    words += ["0"] * (6 - len(words))
    return dict(zip(keys, words, strict=True))


def _matches(line: str, wanted: dict[str, str]) -> bool:
    entry = parse_line(line)
    if entry is None:
        return False
    for key, value in wanted.items():
        if key == "opts":
            if sorted(entry["opts"].split(",")) != sorted(value.split(",")):
                return False
        elif entry[key] != value:
            return False
    return True


def _alt_devices(ctx: Context) -> dict[str, str]:
    """Mount point -> device as ``mount -l`` names it."""
    found = {}
    for line in ctx.run(["mount", "-l"]).stdout.splitlines():
        words = line.split()
        if len(words) >= 3:
            found[words[2]] = words[0]
    return found


def _blkid(ctx: Context) -> dict[str, dict[str, str]]:
    """Device -> its blkid tags (UUID, LABEL, TYPE ...)."""
    found: dict[str, dict[str, str]] = {}
    out = ctx.run(["blkid"])
    if out.retcode:
        return found
    for line in out.stdout.splitlines():
        device, _, rest = line.partition(": ")
        if device and rest:
            found[device] = dict(re.findall(r'(\S+?)="([^"]*)"', rest))
    return found


def _named_ids(ctx: Context, opts: list[str]) -> list[str]:
    """Options as Salt shows them: uid=/gid= names as numbers, escaped spaces as "\\ "."""
    shown = []
    for opt in opts:
        key, _, value = opt.partition("=")
        if key in ("uid", "gid") and value and not re.match("[0-9]+$", value):
            info = ctx.call("user.info" if key == "uid" else "group.info", value)
            if info and key in info:
                opt = f"{key}={info[key]}"
        shown.append(opt.replace("\\040", "\\ "))
    return shown


def active(ctx: Context, extended: bool = False) -> dict[str, dict[str, Any]]:
    """Return what is mounted, by mount point (with ``extended``, mountinfo's details).

    CLI Example:

        master run '*' mount.active
    """
    found: dict[str, dict[str, Any]] = {}
    alt = _alt_devices(ctx)
    if extended and os.access(MOUNTINFO, os.R_OK):
        tags = _blkid(ctx)
        for line in MOUNTINFO.read_text().splitlines():
            words = line.split()
            sep = words.index("-")
            major, _, minor = words[2].partition(":")
            device = words[sep + 2]
            uuid = tags.get(device, {}).get("UUID")
            found[words[4]] = {"mountid": words[0], "parentid": words[1], "major": major,
                               "minor": minor, "root": words[3],
                               "opts": _named_ids(ctx, words[5].split(",")),
                               "fstype": words[sep + 1],
                               "device": device.replace("\\040", "\\ "),
                               "alt_device": alt.get(words[4]),
                               "superopts": _named_ids(ctx, words[sep + 3].split(",")),
                               "device_uuid": uuid and uuid.lower(),
                               "device_label": tags.get(device, {}).get("LABEL")}
        return found
    for line in MOUNTS.read_text().splitlines():
        words = line.split()
        found[words[1]] = {"device": words[0], "alt_device": alt.get(words[1]),
                           "fstype": words[2], "opts": _named_ids(ctx, words[3].split(","))}
    return found


def fstab(ctx: Context, config: str = "/etc/fstab") -> dict[str, dict[str, Any]]:
    """Return the entries of an fstab file, by mount point.

    CLI Example:

        master run '*' mount.fstab
    """
    found: dict[str, dict[str, Any]] = {}
    if not os.path.isfile(config):
        return found
    for line in Path(config).read_text().splitlines():
        entry: dict[str, Any] | None = parse_line(
            line, ("device", "name", "fstype", "opts", "dump", "pass"))
        if entry is None:
            continue
        entry["opts"] = entry["opts"].split(",")
        name = entry.pop("name")
        while name in found:  # as Salt: a second entry for a mount point gets a "_"
            name += "_"
        found[name] = entry
    return found


def _criteria(fields: dict[str, str], fstype: str, match_on: Any) -> dict[str, str]:
    if isinstance(match_on, list):
        keys = match_on
    elif not isinstance(match_on, str):
        raise MountError("match_on must be a string or list of strings")
    elif match_on == "auto":
        keys = ["name"] if fstype in SPECIAL_FS else ["device"]
    else:
        keys = [match_on]
    unknown = [k for k in keys if k not in FSTAB_KEYS]
    if unknown:
        raise MountError(f'Unrecognized keys in match_on: "{unknown}"')
    return {k: fields[k] for k in keys}


def set_fstab(ctx: Context, name: str, device: str, fstype: str, opts: Any = "defaults",
              dump: Any = 0, pass_num: Any = 0, config: str = "/etc/fstab", test: bool = False,
              match_on: Any = "auto", not_change: bool = False, **kwargs: Any) -> str:
    """Add or update the fstab entry for a mount; return ``new``, ``change`` or ``present``.

    CLI Example:

        master run '*' mount.set_fstab /mnt/data /dev/sdb1 ext4
    """
    if isinstance(opts, list):
        opts = ",".join(opts)
    fields = {"name": name, "device": device.replace("\\ ", "\\040"), "fstype": fstype,
              "opts": str(opts).replace("\\ ", "\\040"), "dump": str(dump),
              "pass_num": str(pass_num)}
    criteria = _criteria(fields, fstype, match_on)
    if not os.path.isfile(config):
        raise MountError(f'Bad config file "{config}"')
    wanted = "{device}\t\t{name}\t{fstype}\t{opts}\t{dump} {pass_num}\n".format(**fields)
    status, lines = "", []
    for line in Path(config).read_text().splitlines(keepends=True):
        if not _matches(line, criteria):
            lines.append(line)
            continue
        status = status or "present"
        if _matches(line, fields) or not_change:
            lines.append(line)
        else:
            status = "change"
            lines.append(wanted)
    if not status:
        lines.append(wanted)
        status = "new"
    if status != "present" and not (test or ctx.test):
        Path(config).write_text("".join(lines))
    return status


def rm_fstab(ctx: Context, name: str, device: str, config: str = "/etc/fstab") -> bool:
    """Remove the fstab entries for mount point `name` on `device`.

    CLI Example:

        master run '*' mount.rm_fstab /mnt/data /dev/sdb1
    """
    try:
        lines = Path(config).read_text().splitlines(keepends=True)
    except OSError as exc:
        raise MountError(f"Couldn't read from {config}: {exc}") from None
    wanted = {k: v for k, v in (("name", name), ("device", device)) if v is not None}
    kept = [x for x in lines if not _matches(x, wanted)]
    if len(kept) != len(lines):
        Path(config).write_text("".join(kept))
    return True


def mount(ctx: Context, name: str, device: Any = False, mkmnt: bool = False, fstype: str = "",
          opts: Any = "defaults", user: str | None = None) -> bool | str:
    """Mount `device` on `name`; True, or mount's error text.

    CLI Example:

        master run '*' mount.mount /mnt/data /dev/sdb1 fstype=ext4
    """
    if isinstance(opts, str):
        opts = opts.split(",")
    if not os.path.exists(name) and mkmnt:
        os.makedirs(name)
    argv = ["mount"]
    if opts:
        argv += ["-o", ",".join(opts)]
    if fstype:
        argv += ["-t", fstype]
    argv += ["--", str(device), name] if device else ["--", name]
    out = ctx.run(argv, runas=user)
    return out.stderr if out.retcode else True


def remount(ctx: Context, name: str, device: str, mkmnt: bool = False, fstype: str = "",
            opts: Any = "defaults", user: str | None = None) -> bool | str:
    """Mount `device` on `name` again with new options (a plain mount if nothing is there).

    CLI Example:

        master run '*' mount.remount /mnt/data /dev/sdb1 opts=noatime
    """
    opts = opts.split(",") if isinstance(opts, str) else list(opts)
    if name not in active(ctx):
        return mount(ctx, name, device, mkmnt, fstype, opts, user=user)
    if "remount" not in opts:
        opts.append("remount")
    argv = ["mount", "-o", ",".join(opts), *(["-t", fstype] if fstype else []), "--",
            str(device), name]
    out = ctx.run(argv, runas=user)
    return out.stderr if out.retcode else True


def umount(ctx: Context, name: str, device: str | None = None, user: str | None = None,
           lazy: bool = False) -> bool | str:
    """Unmount `name` (or `device`); True, or the reason it could not.

    CLI Example:

        master run '*' mount.umount /mnt/data
    """
    if name not in active(ctx):
        return f"{name} does not have anything mounted"
    argv = ["umount", *(["-l"] if lazy else []), "--", device or name]
    out = ctx.run(argv, runas=user)
    return out.stderr if out.retcode else True
