"""Command-line arguments for functions: positional args and KEY=VALUE kwargs.

Values are read as YAML scalars the way Salt does (``3`` is an int,
``true`` a bool), but a plain string is never turned into a mapping or
list by accident: only text that starts with ``[`` or ``{`` becomes one.
"""

from __future__ import annotations

import argparse
import re
from typing import Any

from common import yamlload

_KWARG_RE = re.compile(r"([^\d\W][\w.-]*)=(?!=)(.*)\Z", re.S)


def typed(text: str) -> Any:
    """Read one argument as YAML if that is what a user would mean."""
    if text == "":
        return text
    if text.strip() == "None":
        return None  # YAML reads it as a string; Salt users mean None
    try:
        value = yamlload.load(text)
    except yamlload.YamlError:
        return text
    if isinstance(value, dict | list):
        return value if text.lstrip()[:1] in "[{" else text
    if value is None:
        return None if text.strip() in ("null", "~", "None") else text
    if isinstance(value, str):
        # Only a quoted scalar is unwrapped; otherwise YAML would eat
        # `# comments`, fold newlines and strip spaces from the user's text.
        return value if text[:1] in "'\"" else text
    if isinstance(value, int | float | bool):
        return value
    return text  # dates and other YAML types stay as typed


def split_args(words: list[str]) -> tuple[list[Any], dict[str, Any]]:
    """Split CLI words into typed positional args and KEY=VALUE keyword args."""
    args: list[Any] = []
    kwargs: dict[str, Any] = {}
    for word in words:
        match = _KWARG_RE.match(word)
        if match:
            kwargs[match.group(1)] = typed(match.group(2))
        else:
            args.append(typed(word))
    return args, kwargs


def late_options(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Take options such as `--out json` from after the function's arguments.

    Salt accepts them anywhere on the line; ``--`` ends the options, so an
    argument that looks like one can still be passed.
    """
    words = list(args.args)
    tail: list[str] = []
    if "--" in words:
        cut = words.index("--")
        words, tail = words[:cut], words[cut + 1 :]
    _, rest = parser.parse_known_args(words, namespace=args)
    args.args = rest + tail
