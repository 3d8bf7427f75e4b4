"""Decide whether a minion matches a Salt-style target expression.

Pure, standard library only. A minion is ``{"id": str, "grains": dict,
"pillar": dict}`` (missing grains or pillar count as empty). Parse once with
:func:`compile` and call the result per minion, or use :func:`matches`.
Every rule below was recorded from Salt 3007.15's own matchers over a
synthetic fleet (tests/oracle/targeting); the differences saline keeps on
purpose are listed in tests/oracle/targeting/expressions.yaml.

- ``glob``: ``fnmatch`` on the whole id (case-sensitive).
- ``pcre``: ``re.match`` on the id (anchored at the start only).
- ``list``: comma separated ids, or a Python list of ids; exact, spaces
  are part of the id.
- ``grain`` / ``pillar`` / ``grain_pcre`` / ``pillar_pcre`` /
  ``pillar_exact``: ``key:subkey:value`` walked and compared as described
  in :mod:`common.targeting_data` (glob, regex or exact text).
- ``ipcidr``: one address (exact, against the ``ipv4``/``ipv6`` grains) or a
  network without host bits set (``10.1.0.0/16``, not ``10.1.2.3/16``).
- ``compound``: words and ``and``/``or``/``not``/parentheses as described in
  :mod:`common.targeting_compound`; a word's own delimiter
  (``G|@cloud|zone|us-east``) replaces ``:``, the job's delimiter does not.
- ``nodegroup``: a name in ``nodegroups``, expanded as Salt's master does.

The job's delimiter applies to the grain and pillar types only. Anything
malformed raises :class:`TargetError` rather than matching nothing.
"""

from __future__ import annotations

import fnmatch
import ipaddress
import re
import socket
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from common import targeting_data
from common.targeting_compound import (
    Node,
    TargetError,
    compile_words,
    expand_group,
    resolve_groups,
)

__all__ = [
    "TARGET_TYPES", "Target", "TargetError", "compile", "id_only", "matches", "top_entries",
    "validate",
]

TARGET_TYPES = (
    "glob", "pcre", "list", "grain", "grain_pcre", "pillar", "pillar_pcre", "pillar_exact",
    "ipcidr", "compound", "nodegroup",
)  # fmt: skip

Minion = Mapping[str, Any]
TargetExpr = str | Sequence[str]

# grain and pillar types: (section, comparison)
_DATA_TYPES: dict[str, tuple[str, targeting_data.Mode]] = {
    "grain": ("grains", "glob"), "grain_pcre": ("grains", "regex"),
    "pillar": ("pillar", "glob"), "pillar_pcre": ("pillar", "regex"),
    "pillar_exact": ("pillar", "exact"),
}  # fmt: skip
# compound word prefixes -> target type
_ENGINES = {
    "": "glob", "E": "pcre", "L": "list", "S": "ipcidr",
    "G": "grain", "P": "grain_pcre", "I": "pillar", "J": "pillar_pcre",
}  # fmt: skip


class _LeafError(Exception):
    """One target word is malformed; the caller says where it was."""


@dataclass(frozen=True)
class Target:
    """A parsed target expression; call it with a minion to get a bool."""

    tgt: TargetExpr
    tgt_type: str
    node: Node = field(repr=False)

    def __call__(self, minion: Minion) -> bool:
        return self.node.test(minion)

    @property
    def id_only(self) -> bool:
        """True when the minion id alone decides the match."""
        return self.node.id_only


def compile(  # named like re.compile
    tgt: TargetExpr,
    tgt_type: str = "glob",
    nodegroups: Mapping[str, Any] | None = None,
    delimiter: str = ":",
) -> Target:
    """Parse a target expression once into a callable ``minion -> bool``.

    tgt: the expression; tgt_type: one of TARGET_TYPES; nodegroups: name ->
    compound string or list of words; delimiter: separates grain/pillar keys
    for the grain and pillar types (compound words carry their own).
    Raises TargetError when the expression is malformed.

    CLI example: ``master run -C 'G@os:Debian and web*' test.ping``
    """
    if tgt_type not in TARGET_TYPES:
        raise TargetError(f"unknown target type {tgt_type!r}; expected one of {TARGET_TYPES}")
    if not delimiter:
        raise TargetError("target delimiter must not be empty")
    return Target(tgt, tgt_type, _compile_top(tgt, tgt_type, nodegroups or {}, delimiter))


def matches(
    minion: Minion,
    tgt: TargetExpr,
    tgt_type: str = "glob",
    *,
    nodegroups: Mapping[str, Any] | None = None,
    delimiter: str = ":",
) -> bool:
    """Return True when the minion matches the target expression.

    CLI example: ``master run -G 'os:Debian' test.ping``
    """
    return compile(tgt, tgt_type, nodegroups, delimiter)(minion)


def validate(
    tgt: TargetExpr,
    tgt_type: str,
    *,
    nodegroups: Mapping[str, Any] | None = None,
    delimiter: str = ":",
) -> None:
    """Raise TargetError when the expression is malformed; no minion needed.

    CLI example: ``master run -C 'G@os and ( web*' test.ping`` (refused)
    """
    compile(tgt, tgt_type, nodegroups, delimiter)


def id_only(
    tgt: TargetExpr, tgt_type: str, nodegroups: Mapping[str, Any] | None = None
) -> bool:
    """Return True when the minion id alone decides the match.

    That holds for glob, pcre and list, and for compound expressions and
    nodegroups built only from those.

    CLI example: ``master run -C 'web* or L@db1,db2' test.ping``
    """
    return compile(tgt, tgt_type, nodegroups).id_only


def _compile_top(
    tgt: TargetExpr, tgt_type: str, nodegroups: Mapping[str, Any], delimiter: str
) -> Node:
    if tgt_type in ("compound", "nodegroup"):
        return _compile_compound(tgt, tgt_type, nodegroups)
    if tgt_type == "list" and not isinstance(tgt, str):
        return _id_set(tgt)
    if not isinstance(tgt, str):
        raise TargetError(f"{tgt_type} target {tgt!r}: expected a string")
    try:
        return _leaf(tgt_type, tgt, delimiter)
    except _LeafError as exc:
        raise TargetError(f"{tgt_type} target {tgt!r}: {exc}") from None


def _compile_compound(tgt: TargetExpr, tgt_type: str, nodegroups: Mapping[str, Any]) -> Node:
    if tgt_type == "nodegroup":
        if not isinstance(tgt, str):
            raise TargetError(f"nodegroup target {tgt!r}: expected a nodegroup name")
        label = f"nodegroup {tgt!r}"
        try:
            words = expand_group(tgt, nodegroups)
        except TargetError as exc:
            raise TargetError(f"nodegroup target {tgt!r}: {exc}") from None
    else:
        label = f"compound target {tgt!r}"
        if isinstance(tgt, str):
            words = tgt.split()
        elif all(isinstance(word, str) for word in tgt):
            words = list(tgt)
        else:
            raise TargetError(f"{label}: every word must be a string")
    try:
        words = resolve_groups(words, nodegroups)
    except TargetError as exc:
        raise TargetError(f"{label}: {exc}") from None
    return compile_words(words, _word, label)


def _word(engine: str, pattern: str, delimiter: str | None) -> Node:
    if engine not in _ENGINES:
        what = "range (R@)" if engine == "R" else f"{engine}@"
        raise TargetError(f"{what} targets are not supported")
    try:
        return _leaf(_ENGINES[engine], pattern, delimiter or ":")
    except _LeafError as exc:
        raise TargetError(str(exc)) from None


def _leaf(kind: str, body: str, delimiter: str) -> Node:
    if kind == "glob":
        rx = re.compile(fnmatch.translate(body))
        return Node(lambda m: rx.match(_minion_id(m)) is not None, True)
    if kind == "pcre":
        rx = _regex(body)
        return Node(lambda m: rx.match(_minion_id(m)) is not None, True)
    if kind == "list":
        return _id_set(body.split(","))
    if kind == "ipcidr":
        return _ipcidr(body)
    return _data(kind, body, delimiter)


def _minion_id(minion: Minion) -> str:
    return str(minion.get("id", ""))


def _regex(pattern: str) -> re.Pattern[str]:
    try:
        return re.compile(pattern)
    except re.error as exc:
        raise _LeafError(f"invalid regex {pattern!r} ({exc})") from None


def _id_set(items: Sequence[Any]) -> Node:
    # Exact ids: Salt strips nothing, and an empty list simply matches none.
    ids = frozenset(item for item in items if isinstance(item, str))
    return Node(lambda m: _minion_id(m) in ids, True)


def _data(kind: str, body: str, delimiter: str) -> Node:
    section, mode = _DATA_TYPES[kind]
    if delimiter not in body:
        raise _LeafError(f"expected 'key{delimiter}value'")
    if mode == "regex" and not targeting_data.valid_regex(body, delimiter):
        raise _LeafError(targeting_data.regex_problem(body, delimiter))

    check = targeting_data.matcher(body, delimiter, mode)

    def test(minion: Minion) -> bool:
        return check(minion.get(section) or {})

    return Node(test, False)


def _ipcidr(body: str) -> Node:
    try:
        address = ipaddress.ip_address(body)
    except ValueError:
        return _network(body)
    key, text = f"ipv{address.version}", str(address)

    def test(minion: Minion) -> bool:
        found = (minion.get("grains") or {}).get(key)
        return isinstance(found, str | list | tuple) and text in found

    return Node(test, False)


def _network(body: str) -> Node:
    try:
        net = ipaddress.ip_network(body)
    except ValueError:
        try:
            loose = ipaddress.ip_network(body, strict=False)
        except ValueError:
            raise _LeafError(f"invalid network or address {body!r}") from None
        raise _LeafError(f"{body!r} has host bits set (the network is {loose})") from None
    key = f"ipv{net.version}"
    family = socket.AF_INET if net.version == 4 else socket.AF_INET6
    first, mask = int(net.network_address), int(net.netmask)

    def test(minion: Minion) -> bool:
        addresses = (minion.get("grains") or {}).get(key)
        if addresses is None:
            return False
        if not isinstance(addresses, list | tuple):
            addresses = [addresses]
        return any(_in_net(_address_int(text, family), first, mask) for text in addresses)

    return Node(test, False)


def _in_net(address: int | None, first: int, mask: int) -> bool:
    return address is not None and address & mask == first


def _address_int(text: Any, family: int) -> int | None:
    """An address as an integer, or None if it does not parse.

    inet_pton is strict and an order of magnitude faster than ipaddress,
    which matters when the master tests every cached minion.
    """
    try:
        packed = socket.inet_pton(family, str(text).split("%", 1)[0])
    except (OSError, ValueError):
        return None
    return int.from_bytes(packed, "big")


def top_entries(targets: Mapping[Any, Any]) -> list[tuple[str, str, list[str]]]:
    """(target, matcher, SLS names) for one environment of a top file.

    Each target maps to a list of SLS names and, optionally, a
    ``{match: type}`` entry; the default matcher is compound, as in Salt's
    top files.
    """
    out = []
    for tgt, entries in targets.items():
        kind = "compound"
        names = []
        for entry in entries if isinstance(entries, list) else [entries]:
            if isinstance(entry, Mapping) and "match" in entry:
                kind = str(entry["match"])
            elif isinstance(entry, str):
                names.append(entry)
        out.append((str(tgt), kind, names))
    return out
