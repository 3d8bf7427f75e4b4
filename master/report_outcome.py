"""What one state result says: its outcome, duration, start and names.

Shared by the Gantt report and `master jobs stats`; plain functions over the
result dicts minions return (Salt's keys: ``result``, ``changes``, ``comment``,
``start_time``, ``duration``, ``__id__``, ``__run_num__``, ``__state_ran__``).
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any

# The four outcomes, in the order the legend and the summary show them.
OUTCOMES = ("unchanged", "changed", "failed", "notrun")
LABELS = {"unchanged": "unchanged", "changed": "changed", "failed": "failed",
          "notrun": "not run"}
# A job that is not a state run has only two: its function succeeded or failed.
RETURN_LABELS = {**LABELS, "unchanged": "succeeded"}
# Fixed colours (Salt's highstate hues: green, cyan, red, grey), so one outcome
# looks the same in every report.
COLOURS = {"unchanged": "#2f9e57", "changed": "#1597b8", "failed": "#d6453d",
           "notrun": "#a3a8ad"}
# Functions whose return is a mapping of state results.
STATE_FUNS = ("state.apply", "state.highstate", "state.sls", "state.single", "state.sls_id",
              "state.test", "state.top")
REQUISITE_FAILED = "One or more requisite failed"


def labels(state_job: bool) -> dict[str, str]:
    """The words for each outcome in a report of a state run, or of another job."""
    return LABELS if state_job else RETURN_LABELS


def outcome(ret: Mapping[str, Any]) -> str:
    """unchanged, changed, failed or notrun for one state result.

    A state skipped by onchanges/onfail, or never called because a requisite
    failed, did not run; a test run's ``result: None`` with changes would change.
    """
    comment = str(ret.get("comment") or "")
    if ret.get("__state_ran__") is False or comment.startswith(REQUISITE_FAILED):
        return "notrun"
    if ret.get("result") is False:
        return "failed"
    return "changed" if ret.get("changes") else "unchanged"


def is_state_return(value: Any) -> bool:
    """True when a minion's return is a mapping of state results (a state run)."""
    return isinstance(value, Mapping) and bool(value) and all(
        isinstance(ret, Mapping) and "result" in ret for ret in value.values())


def duration_ms(ret: Mapping[str, Any]) -> float:
    """The state's duration in milliseconds (Salt once wrote ``"12.3 ms"``)."""
    value = ret.get("duration", 0)
    if isinstance(value, str):
        value = value.removesuffix("ms").strip()
    try:
        number = float(value)
    except (TypeError, ValueError):
        return 0.0
    return number if number >= 0 and number == number and number != float("inf") else 0.0


def start_seconds(ret: Mapping[str, Any]) -> float | None:
    """Seconds after midnight of the state's ``start_time`` (the minion's local
    ``HH:MM:SS.ffffff``); None when it is missing or unreadable."""
    value = ret.get("start_time")
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.time.fromisoformat(value.strip())
    except ValueError:
        return None
    return moment.hour * 3600 + moment.minute * 60 + moment.second + moment.microsecond / 1e6


def state_names(tag: str, ret: Mapping[str, Any]) -> tuple[str, str, str]:
    """(id, function, name) of a state from its result and its key
    ``module_|-id_|-name_|-function``."""
    parts = tag.split("_|-")
    if len(parts) == 4:
        module, tag_id, tag_name, fun = parts
        function = f"{module}.{fun}"
    else:
        tag_id, tag_name, function = tag, tag, ""
    return str(ret.get("__id__") or tag_id), function, str(ret.get("name") or tag_name)


def is_test_run(kwarg: Any) -> bool:
    """True for a job run with ``test=True`` (its results are predictions)."""
    return isinstance(kwarg, Mapping) and kwarg.get("test") in (True, "True", "true", 1)
