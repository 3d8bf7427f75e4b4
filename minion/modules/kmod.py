"""Linux kernel modules, like Salt's ``kmod`` module.

Modules are listed with ``lsmod``, loaded with ``modprobe`` and removed
with ``rmmod``. ``persist`` keeps a module in the boot list as Salt does:
``/etc/modules-load.d/salt_managed.conf`` when the ``systemd`` grain is
set, else ``/etc/modules`` (a removed one is commented out by default).
Loading needs root (and, in a container, a privileged one).
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from minion.context import Context

__all__ = ["available", "check_available", "is_loaded", "load", "lsmod", "mod_list", "remove"]

MODULES_DIR = Path("/lib/modules")
_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_-]*$")


class KmodError(Exception):
    """A missing tool (Salt's words)."""


def _unavailable(opts: Mapping[str, Any], grains: Mapping[str, Any]) -> str | None:
    return None if grains.get("kernel", "Linux") == "Linux" else "kmod needs a Linux kernel"


def conf_file(ctx: Context) -> str:
    """The boot-time module list ``persist`` writes to."""
    return "/etc/modules-load.d/salt_managed.conf" if "systemd" in ctx.grains else "/etc/modules"


def _module(mod: str) -> str:
    if not _NAME.match(mod):
        raise ValueError(f"invalid kernel module name {mod!r}")
    return mod


def available(ctx: Context) -> list[str]:
    """Return the modules the running kernel could load (built in or .ko files).

    CLI Example:

        master run '*' kmod.available
    """
    found = []
    folder = MODULES_DIR / os.uname().release
    builtin = folder / "modules.builtin"
    if builtin.exists():
        found += [os.path.basename(x)[:-3] for x in builtin.read_text().splitlines()]
    for _root, _dirs, files in os.walk(folder):
        found += [f[:f.index(".ko")].replace("-", "_") for f in files if ".ko" in f]
    return sorted(found)


def check_available(ctx: Context, mod: str) -> bool:
    """Return True when the kernel module `mod` can be loaded.

    CLI Example:

        master run '*' kmod.check_available kvm
    """
    return mod in available(ctx)


def lsmod(ctx: Context) -> list[dict[str, Any]]:
    """Return the loaded modules: name, size, use count and users.

    CLI Example:

        master run '*' kmod.lsmod
    """
    if not shutil.which("lsmod"):
        raise KmodError("Command 'lsmod' cannot be found")
    found = []
    for line in ctx.run(["lsmod"]).stdout.splitlines():
        words = line.split()
        if len(words) <= 2 or words[0] == "Module":
            continue
        found.append({"size": words[1], "module": words[0], "depcount": words[2],
                      "deps": words[3].split(",") if len(words) > 3 else []})
    return found


def _persisted(ctx: Context) -> set[str]:
    path = conf_file(ctx)
    if not os.path.exists(path):
        return set()
    names = set()
    for line in Path(path).read_text().splitlines():
        words = line.strip().split()
        if words and not words[0].startswith("#"):
            names.add(words[0])
    return names


def mod_list(ctx: Context, only_persist: bool = False) -> list[str]:
    """Return the names of the loaded modules (or, with only_persist, those loaded at boot).

    CLI Example:

        master run '*' kmod.mod_list only_persist=True
    """
    if only_persist:
        return sorted(_persisted(ctx))
    return sorted({m["module"] for m in lsmod(ctx)})


def is_loaded(ctx: Context, mod: str) -> bool:
    """Return True when the module `mod` is loaded.

    CLI Example:

        master run '*' kmod.is_loaded kvm
    """
    return mod in mod_list(ctx)


def _persist(ctx: Context, mod: str) -> set[str]:
    path = Path(conf_file(ctx))
    if mod in _persisted(ctx) or mod not in available(ctx):
        return set()
    lines = path.read_text().splitlines() if path.exists() else []
    commented = re.compile(rf"^#[\t ]*{re.escape(mod)}[\t ]*$")
    if any(commented.match(x) for x in lines):
        lines = [mod if commented.match(x) else x for x in lines]
    else:
        lines.append(mod)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")
    return {mod}


def _unpersist(ctx: Context, mod: str, comment: bool) -> set[str]:
    path = Path(conf_file(ctx))
    if mod not in _persisted(ctx):
        return set()
    line_re = re.compile(rf"^[\t ]*{re.escape(mod)}([\t ]|$)")
    lines = [(f"#{x}" if comment else "") if line_re.match(x) else x
             for x in path.read_text().splitlines()]
    path.write_text("\n".join(lines) + "\n")
    return {mod}


def load(ctx: Context, mod: str, persist: bool = False) -> list[str] | str:
    """Load the module `mod` (and, with persist, at every boot); the modules it loaded.

    CLI Example:

        master run '*' kmod.load kvm persist=True
    """
    before = {m["module"] for m in lsmod(ctx)}
    out = ctx.run(["modprobe", "--", _module(mod)])
    if out.retcode:
        return f"Error loading module {mod}: {out.stderr.strip()}"
    new = {m["module"] for m in lsmod(ctx)} - before
    return sorted(new | (_persist(ctx, mod) if persist else set()))


def remove(ctx: Context, mod: str, persist: bool = False, comment: bool = True) -> list[str] | str:
    """Unload the module `mod` (and, with persist, drop it from the boot list).

    CLI Example:

        master run '*' kmod.remove kvm persist=True
    """
    before = {m["module"] for m in lsmod(ctx)}
    out = ctx.run(["rmmod", "--", _module(mod)])
    if out.retcode:
        return f"Error removing module {mod}: {out.stderr.strip()}"
    gone = before - {m["module"] for m in lsmod(ctx)}
    return sorted(gone | (_unpersist(ctx, mod, comment) if persist else set()))
