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
import re
from typing import Any

from minion.context import Context
from minion.states import result
from minion.states.mountopts import remount_triggers

__all__ = ["mounted", "unmounted"]


def real_device(ctx: Context, device: str) -> str | None:
    """The name the mount table would show for `device` (None: no such label)."""
    if device.startswith("/"):
        found = os.path.realpath(device)
    elif device.upper().startswith("UUID="):
        found = device.split("=")[1].strip('"').lower()
    elif device.upper().startswith("LABEL="):
        out = ctx.run(["blkid", "-t", f"LABEL={device.split('=')[1]}"])
        if out.retcode:
            return None
        found = out.stdout.split(":")[0]
    else:
        found = device
    lvm = re.match(r"^/dev/(?P<vg>[^/]+)/(?P<lv>[^/]+$)", device)
    if lvm:  # mount shows LVM volumes by their mapper name
        mapper = "/dev/mapper/{}-{}".format(*(x.replace("-", "--") for x in lvm.groups()))
        if os.path.exists(mapper):
            found = mapper
    fuse = re.match(r"^\w+\#(?P<device_name>.+)", device)
    return fuse.group("device_name") if fuse else found


def _known_devices(have: dict[str, Any]) -> list[str]:
    """The names a mounted filesystem's device goes by (device, its real path, alt, UUID...)."""
    names = [have["device"], os.path.realpath(have["device"])]
    for key in ("alt_device", "device_uuid", "device_label"):
        if have.get(key) and have[key] not in names:
            names.append(have[key])
    return names


def _lookup(ctx: Context) -> Any:
    def find(kind: str, value: str) -> Any:
        return ctx.call("user.info" if kind == "uid" else "group.info", value)
    return find


def _remount(ctx: Context, ret: dict[str, Any], real_name: str, device: str, fstype: str,
             opts: list[str], mkmnt: bool, triggers: list[str]) -> bool:
    """Remount for changed options (test mode: say so); False when the state stops."""
    changed = ",".join(sorted(triggers))
    if ctx.test:
        result.done(ret, f"Remount would be forced because options ({changed}) changed", None)
        return False
    if fstype in ("nfs", "cvfs") or fstype.startswith("fuse"):
        ret["changes"]["umount"] = f"Forced unmount and mount because options ({changed}) changed"
        out = ctx.call("mount.umount", real_name)
        if out is not True:
            ret["changes"]["umount"] = ("Forced a lazy unmount and mount because the previous "
                                        f"unmount failed and because the options ({changed}) "
                                        "changed")
            out = ctx.call("mount.umount", real_name, lazy=True)
            if out is not True:
                result.fail(ret, f"Unable to unmount {real_name}: {out}.")
                return False
        out = ctx.call("mount.mount", real_name, device, mkmnt=mkmnt, fstype=fstype, opts=opts)
    else:
        ret["changes"]["umount"] = f"Forced remount because options ({changed}) changed"
        out = ctx.call("mount.remount", real_name, device, mkmnt=mkmnt, fstype=fstype,
                       opts=list(opts))
    if out is not True:
        ret["result"] = False
        ret["comment"] = str(out)
    return True


def _check_mounted(ctx: Context, ret: dict[str, Any], name: str, device: str, fstype: str,
                   opts: list[str], mkmnt: bool, user: str | None,
                   extra: dict[str, Any]) -> bool:
    """Compare a mounted target with the wanted one; False when the state stops."""
    real_name = os.path.realpath(name)
    have = ctx.call("mount.active", extended=True)[real_name.replace(" ", "\\040")]
    if opts:
        triggers = remount_triggers(opts, fstype, have, _lookup(ctx), extra.get("hidden_opts"),
                                    extra)
        if triggers and not _remount(ctx, ret, real_name, device, fstype, opts, mkmnt,
                                     triggers):
            return False
        if ret["result"] is False:  # the remount failed: its error is the comment
            return True
    devices = _known_devices(have)
    real = real_device(ctx, device) or device
    if real in devices:
        ret["comment"] = "Target was already mounted"
        return True
    ignored = next((d for regex in extra.get("device_name_regex") or [] for d in devices
                    if re.match(regex, d)), None)
    if ignored:
        ret["comment"] = f"An umount will not be forced because device matched " \
                         f"device_name_regex: {ignored}"
        return True
    if ctx.test:
        ret["result"] = None
        ret["comment"] = ("An umount would have been forced because devices do not match.  "
                          f"Watched: {device}")
        return True
    shown = f" ({real})" if real != device else ""
    ret["changes"]["umount"] = (f"Forced unmount because devices don't match. Wanted: "
                                f"{device}{shown}, current: {', '.join(devices)}")
    ctx.call("mount.umount", real_name, user=user)
    if real_name.replace(" ", "\\040") in ctx.call("mount.active", extended=True):
        result.fail(ret, "Unable to unmount")
        return False
    return True


def _mount_part(ctx: Context, ret: dict[str, Any], name: str, device: str, fstype: str,
                opts: list[str], mkmnt: bool, mount: bool, user: str | None,
                extra: dict[str, Any]) -> bool:
    """Mount (or not) as Salt does; False when the state must stop here."""
    key = os.path.realpath(name).replace(" ", "\\040")
    if key in ctx.call("mount.active", extended=True):
        if mount and not _check_mounted(ctx, ret, name, device, fstype, opts, mkmnt, user,
                                        extra):
            return False
        if key in ctx.call("mount.active", extended=True):
            return True
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
            user: str | None = None, match_on: Any = "auto", device_name_regex: Any = None,
            extra_mount_invisible_options: Any = None, extra_mount_invisible_keys: Any = None,
            extra_mount_ignore_fs_keys: Any = None, extra_mount_translate_options: Any = None,
            hidden_opts: Any = None, **kwargs: Any) -> dict[str, Any]:
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
    if device.upper().startswith("LABEL=") and real_device(ctx, device) is None:
        return result.fail(ret, f"Unable to find device with label {device.split('=')[1]}.")
    if name != "/":
        name = name.rstrip("/")
    extra = {"device_name_regex": device_name_regex,
             "invisible_options": extra_mount_invisible_options,
             "invisible_keys": extra_mount_invisible_keys,
             "ignore_fs_keys": extra_mount_ignore_fs_keys,
             "translate_options": extra_mount_translate_options,
             "hidden_opts": hidden_opts.split(",") if isinstance(hidden_opts, str)
             else hidden_opts}
    if not _mount_part(ctx, ret, name, device, fstype, opts, mkmnt, mount, user, extra):
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
