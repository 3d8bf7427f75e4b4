"""Register and pick alternatives (``update-alternatives``), like Salt's ``alternatives`` states.

.. code-block:: yaml

    editor:
      alternatives.install:
        - link: /usr/bin/editor
        - path: /usr/bin/vim.basic
        - priority: 50
      alternatives.set:
        - path: /usr/bin/vim.basic

Results carry Salt's extra keys (``path``, and for ``install`` also
``link`` and ``priority``) beside the usual four.
"""

from __future__ import annotations

from typing import Any

from minion.context import Context
from minion.states import result

__all__ = ["auto", "install", "remove", "set_"]


def install(ctx: Context, name: str, link: str, path: str, priority: int) -> dict[str, Any]:
    """Make sure `path` is registered as an alternative of `name`.

    name
        The link group (e.g. ``pager``).
    link
        The generic link (e.g. ``/usr/bin/pager``).
    path
        The alternative; it must exist (e.g. ``/usr/bin/less``).
    priority
        An integer; in auto mode the highest wins.

    CLI Example:

        minion call --local state.single alternatives.install pager \\
            link=/usr/bin/pager path=/usr/bin/less priority=50
    """
    ret = {**result.new(name), "link": link, "path": path, "priority": priority}
    if ctx.call("alternatives.check_exists", name, path):
        return result.done(ret, f"Alternative {path} for {name} is already registered")
    if ctx.test:
        return result.done(ret, f"Alternative will be set for {name} to {path} with priority "
                                f"{priority}", None)
    out = ctx.call("alternatives.install", name, link, path, priority)
    if not ctx.call("alternatives.check_exists", name, path):
        return result.fail(ret, f"Alternative for {name} not installed: {out}")
    ret["changes"] = {"name": name, "link": link, "path": path, "priority": priority}
    if ctx.call("alternatives.check_installed", name, path):
        return result.done(ret, f"Alternative for {name} set to path {path} with priority "
                                f"{priority}")
    return result.done(ret, f"Alternative {path} for {name} registered with priority "
                            f"{priority} and not set to default")


def remove(ctx: Context, name: str, path: str) -> dict[str, Any]:
    """Make sure `path` is not an alternative of `name`.

    name
        The link group.
    path
        The alternative to unregister.

    CLI Example:

        minion call --local state.single alternatives.remove pager path=/usr/bin/less
    """
    ret = {**result.new(name), "path": path}
    if ctx.call("alternatives.check_exists", name, path):
        if ctx.test:
            return result.done(ret, f"Alternative for {name} will be removed", None)
        ctx.call("alternatives.remove", name, path)
        current = ctx.call("alternatives.show_current", name)
        if current:
            ret["changes"] = {"path": current}
            return result.done(ret, f"Alternative for {name} removed. Falling back to path "
                                    f"{current}")
        return result.done(ret, f"Alternative for {name} removed")
    current = ctx.call("alternatives.show_current", name)
    if current:
        # Salt's wording, apostrophe included: users' scripts match it.
        return result.done(ret, f"Alternative for {name} is set to it's default path {current}")
    return result.fail(ret, f"Alternative for {name} doesn't exist")


def auto(ctx: Context, name: str) -> dict[str, Any]:
    """Make sure the link group `name` is in auto mode (the highest priority wins).

    name
        The link group.

    CLI Example:

        minion call --local state.single alternatives.auto pager
    """
    ret = result.new(name)
    shown = ctx.call("alternatives.display", name)
    first = shown.splitlines()[0] if shown else ""
    if first.endswith(" auto mode"):
        return result.done(ret, f"{name} already in auto mode")
    if ctx.test:
        return result.done(ret, f"{name} will be put in auto mode", None)
    ret["changes"]["result"] = ctx.call("alternatives.auto", name)
    return ret


def set_(ctx: Context, name: str, path: str) -> dict[str, Any]:
    """Make sure the link group `name` points to `path` (one of its alternatives).

    name
        The link group.
    path
        A registered alternative of it.

    CLI Example:

        minion call --local state.single alternatives.set pager path=/usr/bin/more
    """
    ret = {**result.new(name), "path": path}
    if ctx.call("alternatives.show_current", name) == path:
        return result.done(ret, f"Alternative for {name} already set to {path}")
    if not ctx.call("alternatives.check_exists", name, path):
        return result.fail(ret, f"Alternative {path} for {name} doesn't exist")
    if ctx.test:
        return result.done(ret, f"Alternative for {name} will be set to path {path}", None)
    ctx.call("alternatives.set", name, path)
    current = ctx.call("alternatives.show_current", name)
    if current == path:
        ret["changes"] = {"path": current}
        return result.done(ret, f"Alternative for {name} set to path {current}")
    return result.done(ret, f"Alternative for {name} not updated")
