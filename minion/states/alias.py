"""Mail aliases, like Salt's ``alias`` states.

.. code-block:: yaml

    root:
      alias.present:
        - target: admin@example.com

The file is ``/etc/aliases`` unless the minion option ``aliases.file``
names another; ``newaliases`` runs after a change when it is installed.
"""

from __future__ import annotations

from typing import Any

from minion.context import Context
from minion.modules.aliases import AliasError
from minion.states import result

__all__ = ["absent", "present"]


def present(ctx: Context, name: str, target: Any) -> dict[str, Any]:
    """Make sure a mail alias points at a target.

    name
        The alias.
    target
        Where mail goes (an address, a user, ``|command``; a list is joined
        with commas).

    CLI Example:

        minion call --local state.single alias.present root target=admin@example.com
    """
    ret = result.new(name)
    try:
        if ctx.call("aliases.has_target", name, target):
            return result.done(ret, f"Alias {name} already present")
        if ctx.test:
            return result.done(ret, f"Alias {name} -> {target} is set to be added", None)
        ctx.call("aliases.set_target", name, target)
    except (AliasError, OSError) as exc:
        return result.fail(ret, f"Failed to set alias {name} -> {target}: {exc}")
    ret["changes"] = {"alias": name}
    return result.done(ret, f"Set email alias {name} -> {target}")


def absent(ctx: Context, name: str) -> dict[str, Any]:
    """Make sure a mail alias does not exist.

    CLI Example:

        minion call --local state.single alias.absent oldlist
    """
    ret = result.new(name)
    if not ctx.call("aliases.get_target", name):
        return result.done(ret, f"Alias {name} already absent")
    if ctx.test:
        return result.done(ret, f"Alias {name} is set to be removed", None)
    try:
        ctx.call("aliases.rm_alias", name)
    except OSError as exc:
        return result.fail(ret, f"Failed to remove alias {name}: {exc}")
    ret["changes"] = {"alias": name}
    return result.done(ret, f"Removed alias {name}")
