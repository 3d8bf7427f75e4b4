"""Read and preseed debconf answers, like Salt's ``debconf`` module.

Reads run ``debconf-get-selections`` (package ``debconf-utils``); answers are
written with ``debconf-set-selections``, fed on stdin so nothing is left on
disk (answers may be passwords).
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Mapping
from typing import Any

from minion.context import Context

__all__ = ["get_selections", "set_", "show"]

_LINE = re.compile(r"^(?P<package>[^#\s]\S*)[\t ]+(?P<question>\S+)[\t ]+(?P<type>\S+)"
                   r"[\t ]+(?P<value>[^\n]*)$", re.MULTILINE)
_WORD = re.compile(r"^[A-Za-z0-9][\w.+:/-]*$")


def _unavailable(opts: Mapping[str, Any], grains: Mapping[str, Any]) -> str | None:
    if grains.get("os_family", "Debian") != "Debian":
        return "debconf needs a Debian-family host"
    if shutil.which("debconf-get-selections") is None:
        return "debconf-utils is not installed (no debconf-get-selections)"
    return None


def parse(text: str) -> dict[str, list[list[str]]]:
    """Group ``debconf-get-selections`` lines by package: ``{pkg: [[q, type, value]]}``."""
    found: dict[str, list[list[str]]] = {}
    for m in _LINE.finditer(text):
        found.setdefault(m["package"], []).append([m["question"], m["type"], m["value"]])
    return found


def get_selections(ctx: Context, fetchempty: bool = True) -> dict[str, list[list[str]]]:
    """Return every debconf answer, as ``{package: [[question, type, value], ...]}``.

    fetchempty
        Include questions without a value (default True).

    CLI Example:

        master run '*' debconf.get_selections
    """
    res = ctx.run(["debconf-get-selections"])
    if res.retcode:
        raise RuntimeError(f"debconf-get-selections failed: {res.stderr.strip()}")
    found = parse(res.stdout)
    if not fetchempty:
        found = {pkg: [q for q in qs if q[2]] for pkg, qs in found.items()}
        found = {pkg: qs for pkg, qs in found.items() if qs}
    return found


def show(ctx: Context, name: str) -> list[list[str]] | None:
    """Return the answers of one package as ``[[question, type, value], ...]``, or None.

    name
        The package.

    CLI Example:

        master run '*' debconf.show tzdata
    """
    answers: list[list[str]] | None = get_selections(ctx).get(name)
    return answers


def set_(ctx: Context, package: str, question: str, type: str, value: Any,
         *extra: Any) -> bool:
    """Preseed one debconf answer.

    package
        The package (owner) of the question.
    question
        The question, e.g. ``tzdata/Areas``.
    type
        Its type: ``string``, ``boolean``, ``select``, ``password``...
    value
        The answer (extra words are joined to it with spaces).

    CLI Example:

        master run '*' debconf.set tzdata tzdata/Areas select Europe
    """
    for word in (package, question, type):
        if not _WORD.match(str(word)):
            raise ValueError(f"invalid debconf word {word!r}")
    text = " ".join(str(v) for v in (value, *extra))
    if "\n" in text:
        raise ValueError("a debconf value is one line")
    res = ctx.run(["debconf-set-selections"], stdin=f"{package} {question} {type} {text}\n")
    if res.retcode:
        ctx.retcode = res.retcode
        return False
    return True
