"""Match ``key:subkey:value`` expressions against grains or pillar, as Salt does.

Pure, standard library and :mod:`common.yamlload` only. The rules, recorded
from Salt 3007.15 (tests/oracle/targeting):

- The expression is split on the delimiter and every split into key path and
  value is tried, longest key path first; any split that matches is enough.
  A key path of just ``*`` means "any top-level value" (``*:vmware``).
- Walking the key path: a dict is indexed by the key (a key that misses is
  retried as the YAML value it spells, so ``ports:5432`` finds an int key);
  a list is indexed by a number (``apps:1``, negative too) or else walked
  into the first dict member holding the key (``admins:login``).
- The value found is compared with the rest of the expression: a dict
  matches when the pattern is ``*``, names one of its keys, matches a key,
  or matches deeper as ``key:value`` (always split on ``:`` there); a
  pattern starting ``*:`` also matches any value one level down
  (``ip_interfaces:*:10.1.2.3``). A list matches when one member does; a
  scalar by its text (``True`` is ``true``, ``None`` is ``none``). An empty
  dict counts as not found.
- Text is compared lowercased on both sides: a glob (``fnmatch``), a regex
  (``re.match``; the pattern is lowercased too, so ``\\D`` means ``\\d``), or
  exact text.
"""

from __future__ import annotations

import fnmatch
import functools
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from common import yamlload

Mode = Literal["glob", "regex", "exact"]
TextTest = Callable[[Any], bool]

_MISSING: Any = object()


@dataclass(frozen=True)
class _Split:
    keys: tuple[str, ...] | None  # None: the whole data (a key path of just '*')
    pattern: str
    test: TextTest


def match(data: Any, expr: str, delimiter: str, mode: Mode) -> bool:
    """True when ``expr`` (key path, delimiter, pattern) matches ``data``."""
    return _match(data, _plan(expr, delimiter, mode), mode)


def matcher(expr: str, delimiter: str, mode: Mode) -> Callable[[Any], bool]:
    """``match`` with the expression parsed once: call it with each minion's data."""
    plan = _plan(expr, delimiter, mode)
    return lambda data: _match(data, plan, mode)


def valid_regex(expr: str, delimiter: str) -> bool:
    """True when at least one split of ``expr`` leaves a usable regex.

    Salt reports a bad regex only when it compares a value with it; saline
    refuses up front when no split could ever compare, and otherwise lets
    the bad splits simply not match.
    """
    parts = expr.split(delimiter)
    for cut in range(len(parts) - 1, 0, -1):
        pattern = delimiter.join(parts[cut:])
        for candidate in (pattern, pattern.removeprefix("*:")):
            if candidate == "*" or _regex(candidate.lower()) is not None:
                return True
    return False


# Plans and text tests are cached: the master runs one expression against
# every cached minion, so the splitting and compiling happen once.


@functools.lru_cache(maxsize=1024)
def _plan(expr: str, delimiter: str, mode: Mode) -> tuple[_Split, ...]:
    parts = expr.split(delimiter)
    splits = []
    for cut in range(len(parts) - 1, 0, -1):
        if cut == 1 and parts[0] == "*":
            splits.append(_Split(None, expr, _text_test(expr, mode)))
        else:
            pattern = delimiter.join(parts[cut:])
            splits.append(_Split(tuple(parts[:cut]), pattern, _text_test(pattern, mode)))
    return tuple(splits)


def _match(data: Any, plan: tuple[_Split, ...], mode: Mode) -> bool:
    for split in plan:
        node = data if split.keys is None else _walk(data, split.keys)
        if node is _MISSING or (isinstance(node, dict) and not node):
            continue
        if isinstance(node, dict):
            if _dict_match(node, split.pattern, mode):
                return True
        elif isinstance(node, list | tuple):
            for member in node:
                if isinstance(member, dict) and _dict_match(member, split.pattern, mode):
                    return True
                if split.test(member):
                    return True
        elif split.test(node):
            return True
    return False


def _dict_match(node: dict[Any, Any], pattern: str, mode: Mode) -> bool:
    wildcard = pattern.startswith("*:")
    if wildcard:
        pattern = pattern[2:]
    test = _text_test(pattern, mode)
    if pattern == "*" or pattern in node or any(test(key) for key in node):
        return True
    if _match(node, _plan(pattern, ":", mode), mode):  # deeper levels split on ':' only
        return True
    if not wildcard:
        return False
    for value in node.values():
        if isinstance(value, dict):
            if _dict_match(value, pattern, mode):
                return True
        elif isinstance(value, list):
            if any(test(item) for item in value):
                return True
        elif test(value):
            return True
    return False


def _walk(data: Any, keys: tuple[str, ...]) -> Any:
    node = data
    for key in keys:
        if isinstance(node, list):
            node = _list_step(node, key)
        elif isinstance(node, dict):
            node = _dict_step(node, key)
        else:
            return _MISSING
        if node is _MISSING:
            return _MISSING
    return node


def _list_step(node: list[Any], key: str) -> Any:
    try:
        index: Any = int(key)
    except ValueError:
        index = key
    for member in node:
        if isinstance(member, dict) and index in member:
            return member[index]
    if isinstance(index, str):
        return _MISSING
    try:
        return node[index]
    except IndexError:
        return _MISSING


def _dict_step(node: dict[Any, Any], key: str) -> Any:
    if key in node:
        return node[key]
    loaded = _as_yaml(key)
    if loaded == key:
        return _MISSING
    try:
        return node.get(loaded, _MISSING)
    except TypeError:  # a list or dict spelled in the key
        return _MISSING


@functools.lru_cache(maxsize=4096)
def _as_yaml(key: str) -> Any:
    """The value a key path word spells in YAML (``5432`` -> 5432), else the word.

    Follows the rules Salt uses for command-line words: blanks, digit and
    underscore runs, control characters, comments and bare collections stay
    text.
    """
    stripped = key.strip()
    if stripped in ("", "---", "...") or any(ch in key for ch in "\t\r\n"):
        return key
    if "_" in key and all(ch in "0123456789_" for ch in stripped):
        return key
    if key == "None":
        return None
    try:
        value = yamlload.load(key)
    except Exception:  # anything YAML cannot read stays text
        return key
    if "#" in key and (value is None or isinstance(value, str)):
        return key  # a comment would have eaten part of the word
    if isinstance(value, dict):
        return value if key.startswith("{") else key
    if isinstance(value, list):
        return value if key.startswith("[") else key
    if key in ("!", "|") and value in (None, ""):
        return key
    if value is None or isinstance(value, int | float | str):
        return value
    return key


def regex_problem(expr: str, delimiter: str) -> str:
    """Say why the value part of ``expr`` is no regex (for the error message)."""
    pattern = expr.split(delimiter, 1)[1].lower()
    try:
        re.compile(pattern)
    except re.error as exc:
        return f"invalid regex {pattern!r} ({exc})"
    return f"no split of {expr!r} leaves a valid regex"


@functools.lru_cache(maxsize=4096)
def _regex(pattern: str) -> re.Pattern[str] | None:
    try:
        return re.compile(pattern)
    except re.error:
        return None


def _text(value: Any) -> str:
    return value.lower() if isinstance(value, str) else str(value).lower()


@functools.lru_cache(maxsize=4096)
def _text_test(pattern: str, mode: Mode) -> TextTest:
    """A test of one value's text against the pattern, both lowercased."""
    lowered = pattern.lower()
    if mode == "regex":
        rx = _regex(lowered)
        if rx is None:
            return lambda value: False
        return lambda value: rx.match(_text(value)) is not None
    if mode == "exact" or not any(ch in lowered for ch in "*?["):
        return lambda value: _text(value) == lowered
    glob = re.compile(fnmatch.translate(lowered))
    return lambda value: glob.match(_text(value)) is not None
