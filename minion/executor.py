"""Run one function for a job and shape its result for the wire."""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from typing import Any

from minion.context import Context
from minion.loader import CallError

log = logging.getLogger(__name__)


def execute(ctx: Context, fun: str, arg: list[Any], kwarg: Mapping[str, Any]) -> dict[str, Any]:
    """Call `fun` and return ``{return, success, retcode, fun, duration}``.

    Errors never escape: an unknown function, bad arguments or an exception
    inside a module become a one-line string in ``return`` with
    ``success: False``.
    """
    start = time.monotonic()
    try:
        value = ctx.call(fun, *arg, **dict(kwarg))
        retcode = ctx.retcode
        if retcode == 0 and _reports_failure(value):
            retcode = 1
    except CallError as exc:
        value, retcode = f"ERROR: {exc}", 254
    except Exception as exc:  # a module bug must not kill the minion
        log.warning("%s raised %s: %s", fun, type(exc).__name__, exc, exc_info=True)
        value, retcode = f"ERROR: {fun}: {type(exc).__name__}: {exc}", 1
    return {
        "fun": fun,
        "return": to_wire(value),
        "retcode": retcode,
        "success": retcode == 0,
        "duration": round((time.monotonic() - start) * 1000, 3),
    }


def _reports_failure(value: Any) -> bool:
    """A mapping whose ``result`` or ``success`` is false fails the job, as in Salt."""
    return isinstance(value, Mapping) and not all(
        value.get(key, True) for key in ("result", "success"))


def to_wire(value: Any) -> Any:
    """Turn a function's return into msgpack-safe plain data."""
    if value is None or isinstance(value, str | int | float | bool | bytes):
        return value
    if isinstance(value, Mapping):
        return {str(k) if not isinstance(k, str | int) else k: to_wire(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = sorted(value, key=str) if isinstance(value, set | frozenset) else value
        return [to_wire(v) for v in items]
    return str(value)
