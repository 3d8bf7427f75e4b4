"""Which wanted mount options a mounted filesystem lacks, as Salt's ``mount.mounted`` decides.

Some options never show in /proc (``defaults``, ``nofail``, ``_netdev`` ...),
some show under another name (``tcp`` as ``proto=tcp``, ``size=1m`` as
``size=1024k``, ``uid=www-data`` as a number). Whatever is left and not
among the active options triggers a remount.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

INVISIBLE = ["_netdev", "actimeo", "bg", "comment", "defaults", "delay_connect",
             "direct-io-mode", "intr", "loop", "nointr", "nobootwait", "nofail", "password",
             "reconnect", "retry", "soft", "auto", "users", "bind", "nonempty",
             "transform_symlinks", "port", "backup-volfile-servers"]
INVISIBLE_KEYS = ["actimeo", "comment", "credentials", "direct-io-mode", "password", "port",
                  "retry", "secretfile"]
IGNORE_FS_KEYS: dict[str, list[str]] = {"ramfs": ["size"]}
TRANSLATE = {"tcp": "proto=tcp", "udp": "proto=udp"}
_SIZE = re.compile(r"size=(?P<value>[0-9]+)(?P<unit>k|m|g)")


def size_in_k(match: re.Match[str]) -> int:
    """A ``size=`` option's value in KiB."""
    value = int(match.group("value"))
    return value * {"k": 1, "m": 1024, "g": 1024 * 1024}[match.group("unit")]


def _normal(opt: str, fstype: str, ignore: dict[str, list[str]],
            translate: dict[str, str], invisible_keys: list[str],
            lookup: Callable[[str, str], Any]) -> str:
    opt = translate.get(opt, opt)
    key = opt.split("=")[0]
    if key in invisible_keys:
        opt = key
    size = _SIZE.match(opt)
    if size:
        opt = f"size={size_in_k(size)}k"
    if fstype == "cifs" and key == "user":
        opt = f"username={opt.split('=')[1]}"
    if opt.split("=")[0] in ignore.get(fstype, []):
        opt = opt.split("=")[0]
    parts = opt.split("=")
    if parts[0] in ("uid", "gid") and len(parts) > 1 and not re.match("[0-9]+$", parts[1]):
        info = lookup(parts[0], parts[1])
        if info and parts[0] in info:
            opt = f"{parts[0]}={info[parts[0]]}"
    return opt


def remount_triggers(opts: list[str], fstype: str, mounted: dict[str, Any],
                     lookup: Callable[[str, str], Any], hidden_opts: list[str] | None = None,
                     extra: dict[str, Any] | None = None) -> list[str]:
    """The wanted options not in force on the mounted filesystem (Salt's rules)."""
    extra = extra or {}
    invisible = INVISIBLE + list(extra.get("invisible_options") or [])
    if hidden_opts:
        invisible = list(set(invisible) | set(hidden_opts))
    invisible_keys = INVISIBLE_KEYS + list(extra.get("invisible_keys") or [])
    ignore = {**IGNORE_FS_KEYS, **(extra.get("ignore_fs_keys") or {})}
    translate = {**TRANSLATE, **(extra.get("translate_options") or {})}
    superopts = list(mounted.get("superopts") or [])
    triggers = []
    for wanted in opts:
        opt = _normal(wanted, fstype, ignore, translate, invisible_keys, lookup)
        # Salt compares every option against the active size when one is set
        # (so a size= in force never triggers a remount by itself).
        for active_opt in list(superopts):
            size = _SIZE.match(active_opt)
            if size:
                opt = f"size={size_in_k(size)}k"
                superopts.remove(active_opt)
                superopts.append(opt)
        if (opt not in mounted.get("opts", []) and opt not in superopts
                and opt not in invisible and opt not in ignore.get(fstype, [])
                and opt not in invisible_keys):
            triggers.append(opt)
    return triggers
