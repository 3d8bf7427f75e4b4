"""The highstate outputter: state run results laid out the way Salt prints them.

Each minion's return is one of:

- a mapping of state tags (``mod_|-id_|-name_|-fun``) to results: each state
  is printed in run order (``__run_num__``), then a summary;
- a list of strings: the errors that stopped the states from compiling;
- anything else (usually a string): printed as it is.

``state_output`` picks the layout of each state: ``full`` (a block),
``terse`` (one line), ``changes`` (a block for states that changed or did
not succeed, a line for the rest), ``mixed`` (a block only for failed
states, as in Salt). A ``_id`` suffix (``terse_id``) shows the state's id
in place of its name. ``verbose=False`` leaves out states that succeeded
without changes; they still count in the summary.
"""

from __future__ import annotations

import argparse
import textwrap
from collections.abc import Callable, Mapping
from typing import Any

GREEN, CYAN, RED = "\033[0;32m", "\033[0;36m", "\033[0;31m"
LIGHT_RED, LIGHT_YELLOW, ENDC = "\033[1;31m", "\033[1;33m", "\033[0m"
# ``filter`` shows every state in full unless state_output_exclude/terse
# options say otherwise; saline has no such options, so it is ``full``.
STATE_OUTPUTS = ("full", "terse", "changes", "mixed", "filter",
                 "full_id", "terse_id", "changes_id", "mixed_id", "filter_id")
LABELS = {True: "Succeeded", False: "Failed", None: "Not Run", "warnings": "Warnings"}
COLUMN = 14  # where the values of a state block start


class _Paint:
    """Wraps text in a colour code, or leaves it alone when colour is off."""

    def __init__(self, on: bool) -> None:
        self.on = on

    def __call__(self, code: str, text: str) -> str:
        return f"{code}{text}{ENDC}" if self.on else text

    def code(self, code: str) -> str:
        return code if self.on else ""


def add_options(parser: argparse.ArgumentParser) -> None:
    """Add ``--state-output`` and ``--state-verbose`` (Salt's names) to a command."""
    parser.add_argument("--state-output", "--state_output", dest="state_output",
                        choices=STATE_OUTPUTS, default="full",
                        metavar="full|terse|changes|mixed|filter",
                        help="with --out highstate: how to show each state (default full; "
                             "a _id suffix shows ids in place of names)")
    parser.add_argument("--state-verbose", "--state_verbose", dest="state_verbose",
                        type=parse_bool, default=True, metavar="true|false",
                        help="with --out highstate: false hides states that succeeded "
                             "without changes (default true)")


def parse_bool(text: str) -> bool:
    """Read ``true``/``false`` (also yes/no, on/off, 1/0) from the command line."""
    value = text.strip().lower()
    if value in ("true", "yes", "on", "1"):
        return True
    if value in ("false", "no", "off", "0"):
        return False
    raise argparse.ArgumentTypeError(f"expected true or false, not {text!r}")


Fallback = Callable[[str, Any], str]


def render_highstate(data: Mapping[str, Any], state_output: str = "full", verbose: bool = True,
                     color: bool = False, fallback: Fallback | None = None) -> str:
    """Text for ``{minion_id: state results | compile errors | message}``.

    `fallback(minion_id, value)` prints a return that is not a state run
    (a message, or a mapping without state results); by default it is the
    value in the nested layout under the minion's name.
    """
    paint = _Paint(color)
    mode = (state_output or "full").lower()
    other = fallback or (lambda host, value: _plain(host, value, paint))
    return "\n".join(_host(str(host), ret, mode, verbose, paint, other)
                     for host, ret in data.items())


def is_state_result(value: Any) -> bool:
    return isinstance(value, Mapping) and "result" in value


def _plain(host: str, value: Any, paint: _Paint) -> str:
    body = nested_lines(value, 4, paint) if isinstance(value, Mapping | list) \
        else [f"    {line}" for line in (_text(value).splitlines() or [""])]
    return "\n".join([paint(CYAN, f"{host}:"), *body])


def _host(host: str, data: Any, mode: str, verbose: bool, paint: _Paint,
          other: Fallback) -> str:
    if isinstance(data, list):
        lines = [paint(LIGHT_RED, f"{host}:"), "    " + paint(LIGHT_RED, "Data failed to compile:")]
        for err in data:
            lines.append(paint(LIGHT_RED, f"----------\n    {err}"))
        return "\n".join(lines)
    states = {tag: ret for tag, ret in data.items() if is_state_result(ret)} \
        if isinstance(data, Mapping) else None
    if states is None or (not states and data):
        return other(host, data)
    order = sorted(states, key=lambda tag: _run_num(states[tag]))
    rets = [states[tag] for tag in order]
    blocks: list[str] = []
    for tag, ret in zip(order, rets, strict=True):
        if verbose or not ret["result"] or ret.get("changes"):
            blocks.extend(_state(tag, ret, mode, paint))
    head = paint(_host_color(rets), f"{host}:")
    return "\n".join([head, *blocks, *_summary(host, rets, paint)])


def _run_num(ret: Mapping[str, Any]) -> float:
    num = ret.get("__run_num__", 0)
    return float(num) if isinstance(num, int | float) else 0.0


def _host_color(rets: list[Mapping[str, Any]]) -> str:
    results = [ret["result"] for ret in rets]
    if any(r is False for r in results):
        return RED
    if any(r is None for r in results):
        return LIGHT_YELLOW
    return GREEN


def _state_color(ret: Mapping[str, Any]) -> str:
    if ret["result"] is False:
        return RED
    if ret["result"] is None:
        return LIGHT_YELLOW
    return CYAN if ret.get("changes") else GREEN


def _parts(tag: str, ret: Mapping[str, Any]) -> tuple[str, str, str, str]:
    """Module, id, name and function of a state, from its tag."""
    comps = tag.split("_|-")
    if len(comps) == 4:
        return comps[0], comps[1], comps[2], comps[3]
    sid = str(ret.get("__id__", tag))
    return tag, sid, str(ret.get("name", sid)), "?"


def _use_terse(mode: str, ret: Mapping[str, Any]) -> bool:
    base = mode.removesuffix("_id")
    if base == "terse":
        return True
    if base == "mixed":
        return ret["result"] is not False
    if base == "changes":
        return bool(ret["result"]) and not ret.get("changes")
    return False


def _state(tag: str, ret: Mapping[str, Any], mode: str, paint: _Paint) -> list[str]:
    mod, sid, name, fun = _parts(tag, ret)
    if mode.endswith("_id"):
        name = sid
    tcolor = _state_color(ret)
    warnings = [str(w) for w in ret.get("warnings") or []]
    if _use_terse(mode, ret):
        return _terse(mod, name, fun, ret, tcolor, warnings, paint)
    rows = [("ID", sid), ("Function", f"{mod}.{fun}")]
    if sid != name:
        rows.append(("Name", name))
    rows += [("Result", str(ret["result"])), ("Comment", _comment(ret.get("comment", "")))]
    if "start_time" in ret:
        duration = ret.get("duration", "")
        rows += [("Started", str(ret["start_time"])),
                 ("Duration", f"{duration} ms" if duration != "" else "")]
    lines = [paint(tcolor, "----------")]
    lines += ["    " + paint(tcolor, f"{label:>8}: {value}") for label, value in rows]
    changes = ret.get("changes") or {}
    lines.append(paint(tcolor, "     Changes:   "))
    if changes:
        lines.extend(nested_lines(changes, COLUMN, paint))
    if warnings:
        text = textwrap.fill("\n".join(warnings), width=80, initial_indent=" " * COLUMN,
                             subsequent_indent=" " * COLUMN).lstrip()
        lines.append("   " + paint(LIGHT_RED, f" Warnings: {text}"))
    return lines


def _terse(mod: str, name: str, fun: str, ret: Mapping[str, Any], tcolor: str,
           warnings: list[str], paint: _Paint) -> list[str]:
    word = "Changed" if ret.get("changes") else "Clean"
    if ret["result"] is False:
        word = "Failed"
    elif ret["result"] is None:
        word = "Differs"
    line = f" {paint.code(tcolor)} Name: {name} - Function: {mod}.{fun} - Result: {word}"
    if "start_time" in ret:
        line += f" - Started: {ret['start_time']} - Duration: {ret.get('duration', '')} ms"
    line += paint.code(ENDC)
    if warnings:
        return [paint(LIGHT_RED, "Warnings:\n" + "\n".join(warnings)), line]
    return [line]


def _comment(comment: Any) -> str:
    if isinstance(comment, list | tuple):
        comment = "\n".join(str(c) for c in comment)
    return _text(comment).strip().replace("\n", "\n" + " " * COLUMN)


def _text(value: Any) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return str(value)


def _duration(ret: Mapping[str, Any]) -> float:
    value = ret.get("duration", 0)
    if isinstance(value, str):
        value = value.removesuffix("ms").strip()
    try:
        return float(value)
    except (TypeError, ValueError):
        return 0.0


def _summary(host: str, rets: list[Mapping[str, Any]], paint: _Paint) -> list[str]:
    counts: dict[Any, int] = {}
    for ret in rets:
        key = ret["result"] if ret["result"] in (True, False, None) else str(ret["result"])
        counts[key] = counts.get(key, 0) + 1
        if ret.get("warnings"):
            counts["warnings"] = counts.get("warnings", 0) + 1
    changed = sum(1 for ret in rets if ret.get("changes"))
    width = max(len(label) for label in LABELS.values()) + 2 + \
        max((len(str(n)) for n in counts.values()), default=0)

    def row(label: str, count: int) -> str:
        return f"{label}: {count:>{width - len(label) - 2}}"

    stats = []
    if counts.get(None):
        stats.append(paint(LIGHT_YELLOW, f"unchanged={counts[None]}"))
    if changed:
        stats.append(paint(GREEN, f"changed={changed}"))
    failed = counts.get(False, 0)
    lines = [paint(CYAN, f"\nSummary for {host}\n{'-' * width}"),
             paint(GREEN, row(LABELS[True], counts.get(True, 0) + counts.get(None, 0)))
             + (f" ({', '.join(stats)})" if stats else ""),
             paint(RED if failed else CYAN, row(LABELS[False], failed))]
    if counts.get("warnings"):
        lines.append(paint(LIGHT_RED, row(LABELS["warnings"], counts["warnings"])))
    total = sum(n for key, n in counts.items() if key != "warnings")
    lines.append(paint(CYAN, f"{'-' * width}\nTotal states run: {total:>{width - 7}}"))
    run_time, unit = sum(_duration(ret) for ret in rets), "ms"
    if run_time > 999:
        run_time, unit = run_time / 1000, "s"
    lines.append(paint(CYAN, f"Total run time: {f'{run_time:.3f}':>{width - 5}} {unit}"))
    return lines


def nested_lines(value: Any, indent: int, paint: _Paint) -> list[str]:
    """Salt's nested layout of `value`, starting `indent` spaces in; keys sorted."""
    lines: list[str] = []
    pad = " " * indent
    if isinstance(value, Mapping):
        lines.append(pad + "----------")
        for key in _sorted_keys(value):
            lines.append(pad + paint(CYAN, f"{key}:"))
            lines.extend(nested_lines(value[key], indent + 4, paint))
    elif isinstance(value, list | tuple):
        for item in value:
            if isinstance(item, Mapping | list | tuple) and item:
                lines.append(pad + "|_")
                lines.extend(nested_lines(item, indent + 4, paint))
            else:
                lines.append(f"{pad}- {_scalar(item)}")
    else:
        lines.extend(pad + line for line in (_scalar(value).splitlines() or [""]))
    return lines


def _sorted_keys(value: Mapping[str, Any]) -> list[Any]:
    try:
        return sorted(value)
    except TypeError:
        return list(value)


def _scalar(value: Any) -> str:
    return "None" if value is None else _text(value)
