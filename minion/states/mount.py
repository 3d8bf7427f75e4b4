"""Mounted filesystems and their fstab entries, like Salt's ``mount.mounted``/``unmounted``.

.. code-block:: yaml

    /mnt/data:
      mount.mounted:
        - device: /dev/sdb1
        - fstype: ext4
        - mkmnt: True
        - opts: [defaults, noatime]

``persist`` (default True) keeps the entry in ``config`` (/etc/fstab).
A mounted target is compared by device only: differing mount options do
not trigger Salt's remount.
"""

from __future__ import annotations

import os
from typing import Any

from minion.context import Context
from minion.states import result

__all__ = ["mounted", "unmounted"]


def _real_device(device: str) -> str:
    if device.startswith("/"):
        return os.path.realpath(device)
    if device.upper().startswith("UUID="):
        return device.split("=")[1].strip('"').lower()
    return device


def _mount_part(ctx: Context, ret: dict[str, Any], name: str, device: str, fstype: str,
                opts: list[str], mkmnt: bool, mount: bool, user: str | None) -> bool:
    """Mount (or not) as Salt does; False when the state must stop here."""
    real_name = os.path.realpath(name)
    key = real_name.replace(" ", "\\040")
    active = ctx.call("mount.active", extended=True)
    if key in active:
        have = active[key]
        if device in (have.get("device"), have.get("alt_device")) or _real_device(device) in (
                have.get("device"), have.get("device_uuid")):
            ret["comment"] = "Target was already mounted"
            return True
        if ctx.test:
            ret["result"] = None
            ret["comment"] = f"An umount would have been forced because devices do not match.  " \
                             f"Watched: {device}"
            return True
        ret["changes"]["umount"] = (f"Forced unmount because devices don't match. Wanted: "
                                    f"{device}, current: {have.get('device')}")
        ctx.call("mount.umount", real_name, user=user)
        if key in ctx.call("mount.active", extended=True):
            result.fail(ret, "Unable to unmount")
            return False
    if mount:
        if ctx.test:
            ret["result"] = None
            if os.path.exists(name):
                ret["comment"] = f"{name} would be mounted"
            elif mkmnt:
                ret["comment"] = f"{name} would be created and mounted"
            else:
                ret["comment"] = f"{name} does not exist and would not be created"
            return False
        if not os.path.exists(name) and not mkmnt:
            result.fail(ret, "Mount directory is not present")
            return False
        out = ctx.call("mount.mount", name, device, mkmnt, fstype, opts, user=user)
        if isinstance(out, str):
            result.fail(ret, out)
            return False
        if key in ctx.call("mount.active", extended=True):
            ret["comment"] = "Target was successfully mounted"
            ret["changes"]["mount"] = True
    elif not os.path.exists(name):
        if ctx.test:
            ret["result"] = None
            ret["comment"] = (f"{name} would be created, but not mounted" if mkmnt else
                              f"{name} does not exist and would neither be created nor mounted")
        elif mkmnt:
            os.makedirs(name)
            ret["comment"] = f"{name} was created, not mounted"
        else:
            ret["comment"] = f"{name} not present and not mounted"
    else:
        ret["comment"] = f"{name} would not be mounted" if ctx.test else f"{name} not mounted"
    return True


def _persist_test(ret: dict[str, Any], name: str, out: str, mount: bool) -> dict[str, Any]:
    if out == "present":
        ret["comment"] += ". Entry already exists in the fstab."
        return ret
    ret["result"] = None
    if out == "new":
        comment = (f"{name} is mounted, but needs to be written to the fstab in order to be "
                   f"made persistent." if mount else
                   f"{name} needs to be written to the fstab in order to be made persistent.")
    elif out == "change":
        comment = (f"{name} is mounted, but its fstab entry must be updated." if mount
                   else f"The {name} fstab entry must be updated.")
    else:
        ret["result"] = False
        comment = (f"Unable to detect fstab status for mount point {name} due to unexpected "
                   f"output '{out}' from call to mount.set_fstab. This is most likely a bug.")
    ret["comment"] = f"{ret['comment']}. {comment}"
    return ret


def mounted(ctx: Context, name: str, device: str, fstype: str, mkmnt: bool = False,
            opts: Any = "defaults", dump: Any = 0, pass_num: Any = 0,
            config: str = "/etc/fstab", persist: bool = True, mount: bool = True,
            user: str | None = None, match_on: Any = "auto", **kwargs: Any) -> dict[str, Any]:
    """Make sure `device` is mounted on `name` (and, with `persist`, in the fstab).

    name
        The mount point.
    device / fstype / opts / dump / pass_num
        The fstab fields.
    mkmnt
        Create the mount point when missing.
    mount
        False only manages the fstab entry.

    CLI Example:

        minion call --local state.single mount.mounted /mnt/data device=/dev/sdb1 fstype=ext4
    """
    ret = result.new(name)
    for what, value in (("name", name), ("device", device), ("fstype", fstype)):
        if not value:
            return result.fail(ret, f"Must provide {what} to mount.mounted")
    opts = opts.split(",") if isinstance(opts, str) else list(opts)
    if name != "/":
        name = name.rstrip("/")
    if not _mount_part(ctx, ret, name, device, fstype, opts, mkmnt, mount, user):
        return ret
    if not persist:
        return ret
    try:
        out = ctx.call("mount.set_fstab", name, device, fstype, opts, dump, pass_num, config,
                       test=ctx.test, match_on=match_on)
    except Exception as exc:  # Salt's set_fstab errors (bad config, match_on) end the state
        return result.fail(ret, str(exc))
    if ctx.test:
        return _persist_test(ret, name, out, mount)
    if out == "present":
        ret["comment"] += ". Entry already exists in the fstab."
    elif out == "new":
        ret["changes"]["persist"] = "new"
        ret["comment"] += ". Added new entry to the fstab."
    elif out == "change":
        ret["changes"]["persist"] = "update"
        ret["comment"] += ". Updated the entry in the fstab."
    return ret


def unmounted(ctx: Context, name: str, device: str | None = None, config: str = "/etc/fstab",
              persist: bool = False, user: str | None = None, **kwargs: Any) -> dict[str, Any]:
    """Make sure nothing is mounted on `name` (and, with `persist`, drop its fstab entry).

    CLI Example:

        minion call --local state.single mount.unmounted /mnt/data persist=True
    """
    ret = result.new(name)
    if not name:
        return result.fail(ret, "Must provide name to mount.unmounted")
    if name.replace(" ", "\\040") not in ctx.call("mount.active", extended=True):
        ret["comment"] = "Target was already unmounted"
    elif ctx.test:
        return result.done(ret, f"Mount point {name} is mounted but should not be", None)
    else:
        out = ctx.call("mount.umount", name, device, user=user)
        if isinstance(out, str):
            return result.fail(ret, out)
        ret["comment"] = "Target was successfully unmounted"
        ret["changes"]["umount"] = True
    if not persist:
        return ret
    entries = ctx.call("mount.fstab", config)
    if name not in entries:
        ret["comment"] += ". fstab entry not found"
        return ret
    if device and entries[name]["device"] != device:
        ret["comment"] += f". fstab entry for device {device} not found"
        return ret
    if ctx.test:
        return result.done(ret, f"Mount point {name} is unmounted but needs to be purged from "
                                f"{config} to be made persistent", None)
    if ctx.call("mount.rm_fstab", name, device, config) is not True:
        return result.fail(ret, f"{ret['comment']}. Failed to persist purge")
    ret["comment"] += ". Removed target from fstab"
    ret["changes"]["persist"] = "purged"
    return ret
