"""Generated locales and the system locale, like Salt's ``locale.present``/``locale.system``.

.. code-block:: yaml

    en_US.UTF-8:
      locale.present: []

    C.UTF-8:
      locale.system: []
"""

from __future__ import annotations

from typing import Any

from minion.context import Context
from minion.modules.locale import LocaleError
from minion.states import result

__all__ = ["present", "system"]


def system(ctx: Context, name: str) -> dict[str, Any]:
    """Make sure the system locale (LANG) is `name`.

    CLI Example:

        minion call --local state.single locale.system en_US.UTF-8
    """
    ret = result.new(name)
    try:
        if ctx.call("locale.get_locale") == name:
            return result.done(ret, f"System locale {name} already set")
        if ctx.test:
            return result.done(ret, f"System locale {name} needs to be set", None)
        if not ctx.call("locale.set_locale", name):
            return result.fail(ret, f"Failed to set system locale to {name}")
    except (LocaleError, OSError) as exc:
        return result.fail(ret, f"Failed to set system locale: {exc}")
    ret["changes"] = {"locale": name}
    return result.done(ret, f"Set system locale {name}")


def present(ctx: Context, name: str) -> dict[str, Any]:
    """Make sure the locale `name` is generated.

    CLI Example:

        minion call --local state.single locale.present en_US.UTF-8
    """
    ret = result.new(name)
    if ctx.call("locale.avail", name):
        return result.done(ret, f"Locale {name} is already present")
    if ctx.test:
        return result.done(ret, f"Locale {name} needs to be generated", None)
    try:
        made = ctx.call("locale.gen_locale", name)
    except (LocaleError, OSError):
        made = False
    if not made:
        return result.fail(ret, f"Failed to generate locale {name}")
    ret["changes"] = {"locale": name}
    return result.done(ret, f"Generated locale {name}")
