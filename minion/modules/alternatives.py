"""Manage the alternatives system (``update-alternatives``), like Salt's ``alternatives``.

Reads come from ``update-alternatives --display/--query`` and the links in
``/etc/alternatives``; changes run ``update-alternatives`` through ``ctx.run``
(on Red Hat systems the command is called ``alternatives``).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from minion.context import Context

__all__ = ["auto", "check_exists", "check_installed", "display", "install", "remove", "set_",
           "show_current", "show_link"]

ALT_DIR = "/etc/alternatives"


def _unavailable(opts: Mapping[str, Any], grains: Mapping[str, Any]) -> str | None:
    if not os.path.isdir(ALT_DIR):
        return f"{ALT_DIR} does not exist"
    return None


def _cmd(ctx: Context) -> str:
    return "alternatives" if ctx.grains.get("os_family") == "RedHat" else "update-alternatives"


def _valid(name: str) -> None:
    if not name or "/" in name or name.startswith("-") or "\0" in name:
        raise ValueError(f"invalid alternative name {name!r}")


def _out(ctx: Context, argv: list[str], stderr_if_any: bool = False) -> str:
    """stdout of the command, or its stderr when it failed."""
    res = ctx.run(argv)
    if res.retcode and (res.stderr or not stderr_if_any):
        return res.stderr
    return res.stdout


def display(ctx: Context, name: str) -> str:
    """Show the alternatives of a link group, as ``update-alternatives --display`` does.

    name
        The link group (e.g. ``editor``).

    CLI Example:

        master run '*' alternatives.display editor
    """
    _valid(name)
    return _out(ctx, [_cmd(ctx), "--display", name], stderr_if_any=True).rstrip("\n")


def show_link(ctx: Context, name: str) -> str | bool:
    """Return the master link of a link group (e.g. ``/usr/bin/editor``), or False.

    name
        The link group.

    CLI Example:

        master run '*' alternatives.show_link editor
    """
    _valid(name)
    res = ctx.run([_cmd(ctx), "--query", name])
    if res.retcode and res.stderr:
        return False
    for line in res.stdout.split("\n\n", 1)[0].splitlines():
        if line.startswith("Link:"):
            return line.split(":", 1)[1].strip()
    return False


def show_current(ctx: Context, name: str) -> str | bool:
    """Return the path the link group points to now, or False when there is none.

    name
        The link group.

    CLI Example:

        master run '*' alternatives.show_current editor
    """
    _valid(name)
    try:
        return os.readlink(os.path.join(ALT_DIR, name))
    except OSError:
        return False


def _paths(text: str) -> list[str]:
    """The alternative paths listed by ``--display`` (lines ``PATH - priority N``)."""
    return [line.split(" - ", 1)[0] for line in text.splitlines()
            if line.startswith("/") and " - priority" in line]


def check_exists(ctx: Context, name: str, path: str) -> bool:
    """Tell whether `path` is registered as an alternative of `name`.

    name
        The link group.
    path
        The alternative's path.

    CLI Example:

        master run '*' alternatives.check_exists editor /usr/bin/vim.basic
    """
    _valid(name)
    res = ctx.run([_cmd(ctx), "--display", name])
    if res.retcode and res.stderr:
        return False
    return path in _paths(res.stdout)


def check_installed(ctx: Context, name: str, path: str) -> bool:
    """Tell whether the link group `name` points to `path` now.

    name
        The link group.
    path
        The expected path.

    CLI Example:

        master run '*' alternatives.check_installed editor /usr/bin/vim.basic
    """
    return show_current(ctx, name) == path


def install(ctx: Context, name: str, link: str, path: str, priority: int | str) -> str:
    """Register `path` as an alternative of `name`, linked from `link`.

    name
        The link group (e.g. ``editor``).
    link
        The generic link (e.g. ``/usr/bin/editor``).
    path
        The alternative (e.g. ``/usr/bin/vim.basic``).
    priority
        An integer; in auto mode the highest wins.

    CLI Example:

        master run '*' alternatives.install editor /usr/bin/editor /usr/bin/emacs23 50
    """
    _valid(name)
    int(priority)
    return _out(ctx, [_cmd(ctx), "--install", link, name, path, str(priority)],
                stderr_if_any=True)


def remove(ctx: Context, name: str, path: str) -> str:
    """Unregister the alternative `path` of `name`.

    name
        The link group.
    path
        The alternative to remove.

    CLI Example:

        master run '*' alternatives.remove editor /usr/bin/emacs23
    """
    _valid(name)
    return _out(ctx, [_cmd(ctx), "--remove", name, path])


def auto(ctx: Context, name: str) -> str:
    """Put the link group `name` in auto mode (the highest priority wins).

    name
        The link group.

    CLI Example:

        master run '*' alternatives.auto editor
    """
    _valid(name)
    return _out(ctx, [_cmd(ctx), "--auto", name])


def set_(ctx: Context, name: str, path: str) -> str:
    """Point the link group `name` at `path` (manual mode).

    name
        The link group.
    path
        One of its registered alternatives.

    CLI Example:

        master run '*' alternatives.set editor /usr/bin/vim.basic
    """
    _valid(name)
    return _out(ctx, [_cmd(ctx), "--set", name, path])
