"""Custom grains: functions in synced ``_grains`` modules.

Each public function of a module in ``cachedir/extmods/grains`` returns a
mapping that is merged over the core grains (and under static grains). A
function may take no argument or one named ``grains`` (the grains so far).
A failing function is logged and skipped.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Mapping
from typing import Any

from minion.loader import custom_modules, exposed_functions

log = logging.getLogger(__name__)


def custom_grains(opts: Mapping[str, Any], grains: Mapping[str, Any]) -> dict[str, Any]:
    """Merge what every custom grain function returns, in module then name order."""
    found: dict[str, Any] = {}
    for name, module in custom_modules(opts, "grains").items():
        for fun_name, func in sorted(exposed_functions(name, module).items()):
            try:
                params = inspect.signature(func).parameters
                value = func(grains={**grains, **found}) if "grains" in params else func()
            except Exception as exc:
                log.error("custom grain %s failed: %s: %s", fun_name, type(exc).__name__, exc)
                continue
            if isinstance(value, Mapping):
                found.update(value)
            elif value is not None:
                log.error("custom grain %s returned %s, not a mapping", fun_name,
                          type(value).__name__)
    return found
