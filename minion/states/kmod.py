"""Loaded kernel modules, like Salt's ``kmod.present``/``kmod.absent``.

.. code-block:: yaml

    kvm:
      kmod.present:
        - persist: True

``persist`` also keeps the module in the boot list (see the kmod module).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from minion.context import Context
from minion.states import result

__all__ = ["absent", "present"]


def _note(ret: dict[str, Any], text: str) -> None:
    ret["comment"] = f"{ret['comment'].rstrip()}\n{text}" if ret["comment"] else text


def _names(word: str, plural: str, mods: list[str], tail: str) -> str:
    if len(mods) == 1:
        return f"Kernel module {mods[0]} {tail}"
    return f"Kernel modules {', '.join(mods)} {plural}"


def _report(ret: dict[str, Any], verb: str, done: list[str], refused: list[str],
            failed: list[tuple[str, str]]) -> None:
    if done:
        _note(ret, f"{verb} kernel module{'s' if len(done) > 1 else ''} {', '.join(done)}")
    infinitive = "load" if verb == "Loaded" else "remove"
    if refused:
        _note(ret, f"Failed to {infinitive} kernel module{'s' if len(refused) > 1 else ''} "
                   f"{', '.join(refused)}")
    for mod, msg in failed:
        _note(ret, f"Failed to {infinitive} kernel module {mod}: {msg}")


def _act(ret: dict[str, Any], mods: list[str], call: Callable[[str], Any], change: str,
         verb: str) -> None:
    """Load or remove each module; a list answer names what changed, text is an error."""
    done: list[str] = []
    refused: list[str] = []
    failed: list[tuple[str, str]] = []
    for mod in mods:
        out = call(mod)
        if isinstance(out, list) and out:
            ret["changes"].update({m: change for m in out})
            done.append(mod)
        elif isinstance(out, list):
            refused.append(mod)
        else:
            failed.append((mod, out))
    if refused or failed:
        ret["result"] = False
    _report(ret, verb, done, refused, failed)


def present(ctx: Context, name: str, persist: bool = False,
            mods: list[str] | None = None) -> dict[str, Any]:
    """Make sure the kernel module `name` (or each of `mods`) is loaded.

    CLI Example:

        minion call --local state.single kmod.present kvm persist=True
    """
    wanted = list(mods) if isinstance(mods, list | tuple) else [name]
    ret = result.new(name)
    loaded = set(ctx.call("kmod.mod_list"))
    if persist:
        loaded &= set(ctx.call("kmod.mod_list", True))
    there = sorted(loaded & set(wanted))
    if there:
        _note(ret, _names("", "are already present", there, "is already present"))
    if len(there) == len(wanted):
        return ret
    missing = sorted(set(wanted) - set(there))
    if ctx.test:
        ret["comment"] += "\n" if ret["comment"] else ""
        _note(ret, _names("", "are set to be loaded", missing, "is set to be loaded"))
        return result.done(ret, ret["comment"], None)
    unavailable = sorted(set(missing) - set(ctx.call("kmod.available")))
    if unavailable:
        _note(ret, _names("", "are unavailable", unavailable, "is unavailable"))
        ret["result"] = False
    _act(ret, sorted(set(missing) - set(unavailable)),
         lambda mod: ctx.call("kmod.load", mod, persist), "loaded", "Loaded")
    return ret


def absent(ctx: Context, name: str, persist: bool = False, comment: bool = True,
           mods: list[str] | None = None) -> dict[str, Any]:
    """Make sure the kernel module `name` (or each of `mods`) is not loaded.

    CLI Example:

        minion call --local state.single kmod.absent floppy persist=True
    """
    wanted = list(mods) if isinstance(mods, list | tuple) else [name]
    ret = result.new(name)
    loaded = set(ctx.call("kmod.mod_list"))
    if persist:
        loaded |= set(ctx.call("kmod.mod_list", True))
    doomed = sorted(set(wanted) & loaded)
    if not doomed:
        if len(wanted) == 1:
            return result.done(ret, f"Kernel module {wanted[0]} is already removed")
        return result.done(ret, f"Kernel modules {', '.join(wanted)} are already removed")
    if ctx.test:
        return result.done(ret, _names("", "are set to be removed", doomed,
                                       "is set to be removed"), None)
    _act(ret, doomed, lambda mod: ctx.call("kmod.remove", mod, persist, comment),
         "removed", "Removed")
    return ret
