"""Printing results: nested (Salt's default look), json, yaml, txt and highstate.

``highstate`` lays out state runs (see `common.highstate`); its options
``state_output`` and ``state_verbose`` are passed to `render`/`emit`.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any, TextIO

from common.highstate import render_highstate

FORMATS = ("nested", "json", "yaml", "txt", "highstate")
INDENT = "    "
GREEN, RED, CYAN, RESET = "\033[0;32m", "\033[0;31m", "\033[0;36m", "\033[0m"
# What a minion without a return shows instead of one: Salt's words, which
# scripts look for (the bracket says why).
NO_RETURN = "Minion did not return."
NOT_CONNECTED = f"{NO_RETURN} [Not connected]"
NO_RESPONSE = f"{NO_RETURN} [No response]"


def use_color(stream: TextIO) -> bool:
    """Colour only on a terminal, and never when NO_COLOR is set (non-empty)."""
    return not os.environ.get("NO_COLOR") and stream.isatty()


# Functions whose mappings come from YAML files (pillar, rendered SLS) and so
# keep their written order; every other mapping prints with sorted keys, as
# Salt's nested and yaml outputters do.
ORDERED_FUNS = ("pillar.", "state.show_", "config.get", "config.option", "slsutil.",
                "defaults.")


def keeps_order(fun: str) -> bool:
    """True when `fun` returns data whose mappings print in written order."""
    return fun.startswith(ORDERED_FUNS)


def render(data: dict[str, Any], fmt: str, color: bool = False, ok: bool = True,
           state_output: str | None = None, state_verbose: bool | None = None,
           ordered: bool = False) -> str:
    """Text for one result mapping (usually ``{minion_id: return}``).

    `state_output` and `state_verbose` apply to ``highstate`` (default
    ``full`` and True). Mappings below the top level print with sorted keys
    unless `ordered` (see `keeps_order`).
    """
    if not ordered and fmt not in ("json", "txt"):
        data = {key: _sorted(value) for key, value in data.items()}
    if fmt == "highstate":
        state_output = state_output or "full"
        state_verbose = True if state_verbose is None else state_verbose
        # Returns that are not state runs look as they do with the nested outputter.
        return render_highstate(data, str(state_output), bool(state_verbose), color,
                                lambda host, value: nested({host: value}, color, ok))
    if fmt == "json":
        return json.dumps(data, indent=4, default=_jsonable, ensure_ascii=False)
    if fmt == "yaml":
        import yaml

        return yaml.safe_dump(_plain(data), default_flow_style=False, sort_keys=False).rstrip()
    if fmt == "txt":
        return "\n".join(_txt(key, value) for key, value in data.items())
    return nested(data, color, ok)


def _sorted(value: Any) -> Any:
    if isinstance(value, dict):
        try:
            keys = sorted(value)
        except TypeError:  # mixed key types keep their order
            keys = list(value)
        return {k: _sorted(value[k]) for k in keys}
    if isinstance(value, list):
        return [_sorted(v) for v in value]
    return value


def _txt(key: str, value: Any) -> str:
    """Salt's txt layout: a text value line by line, anything else as Python shows it."""
    if isinstance(value, str):
        return "\n".join(f"{key}: {line}" for line in value.splitlines())
    return f"{key}: {_plain(value)!r}"


def nested(data: dict[str, Any], color: bool = False, ok: bool = True) -> str:
    """Salt's nested layout: ids at the left margin, values indented beneath."""
    lines: list[str] = []
    head = (GREEN if ok else RED) if color else ""
    for key, value in data.items():
        lines.append(f"{head}{key}{RESET if color else ''}:")
        _nest(value, 1, lines, color)
    return "\n".join(lines)


def _nest(value: Any, depth: int, lines: list[str], color: bool) -> None:
    pad = INDENT * depth
    if isinstance(value, dict):
        lines.append(f"{pad}----------")
        for key, sub in value.items():
            if isinstance(sub, dict | list) and sub:
                lines.append(f"{pad}{_c(str(key), CYAN, color)}:")
                _nest(sub, depth + 1, lines, color)
            else:
                lines.append(f"{pad}{_c(str(key), CYAN, color)}:")
                _nest(sub, depth + 1, lines, color)
    elif isinstance(value, list):
        for item in value:
            if isinstance(item, dict | list) and item:
                lines.append(f"{pad}|_")
                _nest(item, depth + 1, lines, color)
            else:
                lines.append(f"{pad}- {_scalar(item)}")
    else:
        for line in _scalar(value).splitlines() or [""]:
            lines.append(f"{pad}{line}")


def _c(text: str, code: str, color: bool) -> str:
    return f"{code}{text}{RESET}" if color else text


def _scalar(value: Any) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    if value is None:
        return "None"
    return str(value)


def _jsonable(value: Any) -> Any:
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    return str(value)


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return value


def default_format(fun: str) -> str:
    """The outputter a function's returns get when `--out` is not given (Salt's choice)."""
    if fun.startswith("state.") and not fun.startswith("state.show_"):
        return "highstate"
    return "nested"


def emit(data: dict[str, Any], fmt: str, ok: bool = True, stream: TextIO | None = None,
         state_output: str | None = None, state_verbose: bool | None = None,
         ordered: bool = False) -> None:
    """Print one result mapping to stdout (flushed, so output streams)."""
    out = stream or sys.stdout
    text = render(data, fmt, use_color(out), ok, state_output, state_verbose, ordered)
    out.write(text + "\n")
    out.flush()


def did_not_return(value: Any) -> bool:
    """True if `value` is the text shown for a minion that did not return."""
    return isinstance(value, str) and value.startswith(NO_RETURN)


def render_no_return(data: dict[str, str], fmt: str, color: bool = False) -> str:
    """Text for minions that did not return (``{minion_id: why}``).

    The nested and highstate outputters show each id with its reason indented
    beneath, the reason in red on a terminal, as Salt does; json, yaml and
    txt show the mapping as they show any return.
    """
    if fmt not in ("nested", "highstate"):
        return render(data, fmt, color)
    lines: list[str] = []
    for minion, why in data.items():
        lines.append(f"{_c(str(minion), CYAN, color)}:")
        lines.extend(_c(f"{INDENT}{line}", RED, color) for line in why.splitlines())
    return "\n".join(lines)


def emit_no_return(data: dict[str, str], fmt: str, stream: TextIO | None = None) -> None:
    """Print minions that did not return to stdout (see `render_no_return`)."""
    out = stream or sys.stdout
    out.write(render_no_return(data, fmt, use_color(out)) + "\n")
    out.flush()
