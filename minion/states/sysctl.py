"""Kernel parameters, set now and kept across reboots, like Salt's ``sysctl.present``.

.. code-block:: yaml

    vm.swappiness:
      sysctl.present:
        - value: 10

The value goes into ``config`` (default: ``/etc/sysctl.d/99-salt.conf``
when systemd runs, else ``/etc/sysctl.conf``, as Salt decides) and is set
with ``sysctl -w``.
"""

from __future__ import annotations

import re
from typing import Any

from minion.context import Context
from minion.modules.sysctl import SysctlError
from minion.states import result

__all__ = ["present"]


def _predict(ctx: Context, ret: dict[str, Any], name: str, value: Any,
             config: str) -> dict[str, Any]:
    """Salt's test=True answers, from the config file and the running value."""
    configured = ctx.call("sysctl.show", config_file=config)
    if configured is None:
        return result.done(ret, f"Sysctl option {name} might be changed, we failed to check "
                                f"config file at {config}. The file is either unreadable, or "
                                "missing.", None)
    current = ctx.call("sysctl.get", name)
    if current and name in configured:
        if str(value).split() == current.split():
            return result.done(ret, f"Sysctl value {name} = {value} is already set")
    elif current:
        if re.sub(" +|\t+", " ", current) != re.sub(" +|\t+", " ", str(value)):
            return result.done(ret, f"Sysctl option {name} set to be changed to {value}", None)
        return result.done(ret, "Sysctl value is currently set on the running system but not "
                                f"in a config file. Sysctl option {name} set to be changed to "
                                f"{value} in config file.", None)
    elif name in configured:
        return result.done(ret, f"Sysctl value {name} is present in configuration file but is "
                                f"not present in the running config. The value {name} is set "
                                f"to be changed to {value}", None)
    return result.done(ret, f"Sysctl option {name} would be changed to {value}", None)


def present(ctx: Context, name: str, value: Any, config: str | None = None) -> dict[str, Any]:
    """Make sure a kernel parameter has a value now and in a sysctl config file.

    name
        The parameter, e.g. ``net.ipv4.ip_forward``.
    value
        Its value.
    config
        The config file (default: /etc/sysctl.d/99-salt.conf with systemd,
        else /etc/sysctl.conf).

    CLI Example:

        minion call --local state.single sysctl.present vm.swappiness value=10
    """
    ret = result.new(name)
    config = config or ctx.call("sysctl.default_config")
    if ctx.test:
        return _predict(ctx, ret, name, value, str(config))
    try:
        update = ctx.call("sysctl.persist", name, value, config)
    except (SysctlError, OSError) as exc:
        return result.fail(ret, f"Failed to set {name} to {value}: {exc}")
    if update == "Updated":
        ret["changes"] = {name: value}
        return result.done(ret, f"Updated sysctl value {name} = {value}")
    return result.done(ret, f"Sysctl value {name} = {value} is already set")
