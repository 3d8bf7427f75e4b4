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
from typing import Any, Literal

from common import yamlload

Mode = Literal["glob", "regex", "exact"]
TextTest = Callable[[Any, str], bool]

_MISSING: Any = object()


def match(data: Any, expr: str, delimiter: str, mode: Mode) -> bool:
    """True when ``expr`` (key path, delimiter, pattern) matches ``data``."""
    return _match(data, expr, delimiter, _TESTS[mode])


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


def _match(data: Any, expr: str, delimiter: str, test: TextTest) -> bool:
    parts = expr.split(delimiter)
    if len(parts) == 1:
        return False
    for cut in range(len(parts) - 1, 0, -1):
        if cut == 1 and parts[0] == "*":
            pattern, node = expr, data
        else:
            pattern, node = delimiter.join(parts[cut:]), _walk(data, parts[:cut])
        if node is _MISSING or (isinstance(node, dict) and not node):
            continue
        if isinstance(node, dict):
            if _dict_match(node, pattern, test):
                return True
        elif isinstance(node, list | tuple):
            for member in node:
                if isinstance(member, dict) and _dict_match(member, pattern, test):
                    return True
                if test(member, pattern):
                    return True
        elif test(node, pattern):
            return True
    return False


def _dict_match(node: dict[Any, Any], pattern: str, test: TextTest) -> bool:
    wildcard = pattern.startswith("*:")
    if wildcard:
        pattern = pattern[2:]
    if pattern == "*" or pattern in node or any(test(key, pattern) for key in node):
        return True
    if _match(node, pattern, ":", test):  # Salt splits deeper levels on ':' only
        return True
    if not wildcard:
        return False
    for value in node.values():
        if isinstance(value, dict):
            if _dict_match(value, pattern, test):
                return True
        elif isinstance(value, list):
            if any(test(item, pattern) for item in value):
                return True
        elif test(value, pattern):
            return True
    return False


def _walk(data: Any, keys: list[str]) -> Any:
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


@functools.lru_cache(maxsize=4096)
def _regex(pattern: str) -> re.Pattern[str] | None:
    try:
        return re.compile(pattern)
    except re.error:
        return None


def _glob_test(value: Any, pattern: str) -> bool:
    return fnmatch.fnmatchcase(str(value).lower(), pattern.lower())


def _regex_test(value: Any, pattern: str) -> bool:
    rx = _regex(pattern.lower())
    return rx is not None and rx.match(str(value).lower()) is not None


def _exact_test(value: Any, pattern: str) -> bool:
    return str(value).lower() == pattern.lower()


_TESTS: dict[str, TextTest] = {"glob": _glob_test, "regex": _regex_test, "exact": _exact_test}
