"""Decide whether a minion matches a Salt-style target expression.

Pure, standard library only. A minion is ``{"id": str, "grains": dict,
"pillar": dict}`` (missing grains or pillar count as empty). Parse once with
:func:`compile` and call the result per minion, or use :func:`matches`.

- ``glob``: ``fnmatch.fnmatchcase`` on the whole id (case-sensitive).
- ``pcre``: ``re.match`` on the id (anchored at the start only, like Salt).
- ``list``: comma separated ids (spaces tolerated) or a Python list; exact.
- ``grain`` / ``pillar``: ``key:subkey:value``; the key path walks nested
  dicts and the value is a case-insensitive glob. A list matches if any
  element does, a dict if one of its keys does, numbers and booleans by
  their text (``True``, or ``true``). When the delimiter also occurs in the
  value (IPv6, MAC), the longest key path that exists decides, and only it.
- ``grain_pcre`` / ``pillar_pcre``: the same with a regex, ``re.match`` and
  ``re.IGNORECASE`` (Salt lowercases pattern and value, so it ignores case).
- ``ipcidr``: a network or one address, IPv4 or IPv6, against the grains
  ``ipv4`` and ``ipv6`` lists.
- ``compound``: words joined by ``and``, ``or``, ``not`` and parentheses
  (``not`` binds tightest, then ``and``). Prefixes: ``G@`` grain, ``P@``
  grain_pcre, ``I@`` pillar, ``J@`` pillar_pcre, ``E@`` pcre, ``L@`` list,
  ``S@`` ipcidr, ``N@`` nodegroup; a bare word is a glob. Salt's ``R@`` and
  per-word delimiters (``G@role|web``) are not supported.
- ``nodegroup``: a name in ``nodegroups``, whose value is a compound string
  or a list: of compound words (Salt's list form, used when an item is an
  operator, a prefixed word or a glob) or else of ids; groups may nest
  through ``N@``.

Anything malformed raises :class:`TargetError` rather than matching nothing.
"""

from __future__ import annotations

import fnmatch
import ipaddress
import re
import socket
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, NoReturn

__all__ = [
    "TARGET_TYPES", "Target", "TargetError", "compile", "id_only", "matches", "top_entries",
    "validate",
]

TARGET_TYPES = (
    "glob", "pcre", "list", "grain", "grain_pcre",
    "pillar", "pillar_pcre", "ipcidr", "compound", "nodegroup",
)  # fmt: skip

Minion = Mapping[str, Any]
Predicate = Callable[[Minion], bool]
TargetExpr = str | Sequence[str]

_PREFIXES = {
    "G": "grain", "P": "grain_pcre", "I": "pillar", "J": "pillar_pcre",
    "E": "pcre", "L": "list", "S": "ipcidr", "N": "nodegroup",
}  # fmt: skip
_OPERATORS = ("and", "or", "not", "(", ")")
_PREFIXED = re.compile(r"([A-Za-z])@(.*)", re.DOTALL)


class TargetError(ValueError):
    """A target expression is malformed; the message names the bad token."""


class _LeafError(Exception):
    """One target word is malformed; the caller says where it was."""


@dataclass(frozen=True)
class _Node:
    test: Predicate
    id_only: bool


@dataclass(frozen=True)
class _Context:
    nodegroups: Mapping[str, TargetExpr]
    delimiter: str
    stack: tuple[str, ...] = ()


@dataclass(frozen=True)
class Target:
    """A parsed target expression; call it with a minion to get a bool."""

    tgt: TargetExpr
    tgt_type: str
    node: _Node = field(repr=False)

    def __call__(self, minion: Minion) -> bool:
        return self.node.test(minion)

    @property
    def id_only(self) -> bool:
        """True when the minion id alone decides the match."""
        return self.node.id_only


def compile(  # named like re.compile
    tgt: TargetExpr,
    tgt_type: str = "glob",
    nodegroups: Mapping[str, TargetExpr] | None = None,
    delimiter: str = ":",
) -> Target:
    """Parse a target expression once into a callable ``minion -> bool``.

    tgt: the expression; tgt_type: one of TARGET_TYPES; nodegroups: name ->
    compound string or list of ids; delimiter: separates grain/pillar keys.
    Raises TargetError when the expression is malformed.

    CLI example: ``master run -C 'G@os:Debian and web*' test.ping``
    """
    if tgt_type not in TARGET_TYPES:
        raise TargetError(f"unknown target type {tgt_type!r}; expected one of {TARGET_TYPES}")
    if not delimiter:
        raise TargetError("target delimiter must not be empty")
    ctx = _Context(nodegroups or {}, delimiter)
    return Target(tgt, tgt_type, _compile_top(tgt, tgt_type, ctx))


def matches(
    minion: Minion,
    tgt: TargetExpr,
    tgt_type: str = "glob",
    *,
    nodegroups: Mapping[str, TargetExpr] | None = None,
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
    nodegroups: Mapping[str, TargetExpr] | None = None,
    delimiter: str = ":",
) -> None:
    """Raise TargetError when the expression is malformed; no minion needed.

    CLI example: ``master run -C 'G@os and (web*' test.ping`` (refused)
    """
    compile(tgt, tgt_type, nodegroups, delimiter)


def id_only(
    tgt: TargetExpr, tgt_type: str, nodegroups: Mapping[str, TargetExpr] | None = None
) -> bool:
    """Return True when the minion id alone decides the match.

    That holds for glob, pcre and list, and for compound expressions and
    nodegroups built only from those.

    CLI example: ``master run -C 'web* or L@db1,db2' test.ping``
    """
    return compile(tgt, tgt_type, nodegroups).id_only


def _compile_top(tgt: TargetExpr, tgt_type: str, ctx: _Context) -> _Node:
    if not isinstance(tgt, str):
        if tgt_type == "compound":
            tgt = " ".join(tgt)
        elif tgt_type != "list":
            raise TargetError(f"{tgt_type} target {tgt!r}: expected a string")
    if tgt_type == "compound":
        return _Parser(str(tgt), "compound target", ctx).parse()
    try:
        return _leaf(tgt_type, tgt, ctx)
    except _LeafError as exc:
        raise TargetError(f"{tgt_type} target {tgt!r}: {exc}") from None


def _leaf(kind: str, body: TargetExpr, ctx: _Context) -> _Node:
    if kind == "list":
        return _list(body)
    if not isinstance(body, str) or not body.strip():
        raise _LeafError("empty expression")
    if kind == "glob":
        rx = re.compile(fnmatch.translate(body))
        return _Node(lambda m: rx.match(_minion_id(m)) is not None, True)
    if kind == "pcre":
        rx = _regex(body, 0)
        return _Node(lambda m: rx.match(_minion_id(m)) is not None, True)
    if kind == "ipcidr":
        return _ipcidr(body)
    if kind == "nodegroup":
        return _nodegroup(body, ctx)
    section = "grains" if kind.startswith("grain") else "pillar"
    return _data(section, body, ctx.delimiter, regex=kind.endswith("_pcre"))


def _minion_id(minion: Minion) -> str:
    return str(minion.get("id", ""))


def _regex(pattern: str, flags: int) -> re.Pattern[str]:
    try:
        return re.compile(pattern, flags)
    except re.error as exc:
        raise _LeafError(f"invalid regex {pattern!r} ({exc})") from None


def _list(body: TargetExpr) -> _Node:
    items = body.split(",") if isinstance(body, str) else list(body)
    if not all(isinstance(item, str) for item in items):
        raise _LeafError("list items must be minion id strings")
    ids = frozenset(item.strip() for item in items if item.strip())
    if not ids:
        raise _LeafError("no minion ids in list")
    return _Node(lambda m: _minion_id(m) in ids, True)


def _ipcidr(body: str) -> _Node:
    try:
        net = ipaddress.ip_network(body.strip(), strict=False)
    except ValueError:
        raise _LeafError(f"invalid network or address {body.strip()!r}") from None
    key = f"ipv{net.version}"
    family = socket.AF_INET if net.version == 4 else socket.AF_INET6
    first, mask = int(net.network_address), int(net.netmask)

    def test(minion: Minion) -> bool:
        addresses = (minion.get("grains") or {}).get(key) or []
        if isinstance(addresses, str):
            addresses = [addresses]
        return any(_in_net(_address_int(text, family), first, mask) for text in addresses)

    return _Node(test, False)


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


def _nodegroup(name: str, ctx: _Context) -> _Node:
    name = name.strip()
    if name in ctx.stack:
        raise TargetError("nodegroup cycle: " + " -> ".join((*ctx.stack, name)))
    if name not in ctx.nodegroups:
        raise _LeafError(f"unknown nodegroup {name!r}")
    spec = ctx.nodegroups[name]
    inner = replace(ctx, stack=(*ctx.stack, name))
    if isinstance(spec, str):
        return _Parser(spec, f"nodegroup {name!r}", inner).parse()
    if not isinstance(spec, list | tuple):
        raise TargetError(f"nodegroup {name!r}: expected a compound string or a list")
    if _compound_words(spec):  # Salt's list form: ["G@os:Debian", "or", "web*"]
        return _Parser(" ".join(spec), f"nodegroup {name!r}", inner).parse()
    try:
        return _list(spec)
    except _LeafError as exc:
        raise TargetError(f"nodegroup {name!r}: {exc}") from None


def _compound_words(spec: Sequence[Any]) -> bool:
    """Tell a list of compound words from a plain list of minion ids, as Salt does."""
    return all(isinstance(word, str) for word in spec) and any(
        word in _OPERATORS or _PREFIXED.fullmatch(word) or any(c in word for c in "*?[")
        for word in spec
    )


ValueTest = Callable[[str], bool]


def _data(section: str, body: str, delimiter: str, *, regex: bool) -> _Node:
    """Build a grain or pillar test; the longest existing key path decides."""
    parts = body.split(delimiter)
    if len(parts) < 2 or not parts[0].strip():
        raise _LeafError(f"expected 'key{delimiter}value'")
    candidates: list[tuple[tuple[str, ...], ValueTest | None]] = []
    errors: list[_LeafError] = []
    for cut in range(len(parts) - 1, 0, -1):
        try:
            value_test = _value_test(delimiter.join(parts[cut:]), regex)
        except _LeafError as exc:
            value_test = None
            errors.append(exc)
        candidates.append((tuple(parts[:cut]), value_test))
    if len(errors) == len(candidates):
        raise errors[-1]

    def test(minion: Minion) -> bool:
        data = minion.get(section) or {}
        for keys, value_test in candidates:
            found, value = _lookup(data, keys)
            if found:
                return value_test is not None and _value_matches(value, value_test)
        return False

    return _Node(test, False)


def _value_test(pattern: str, regex: bool) -> ValueTest:
    if regex:
        rx = _regex(pattern, re.IGNORECASE)
        return lambda text: rx.match(text) is not None
    lowered = pattern.lower()
    if not any(ch in pattern for ch in "*?["):
        return lambda text: text.lower() == lowered
    # Compiled once here: the master runs this against every cached minion.
    rx = re.compile(fnmatch.translate(lowered))
    return lambda text: rx.match(text.lower()) is not None


# The master runs these against every cached minion, so the common shapes
# (plain dicts, lists and strings from msgpack) are tested first: an ABC
# isinstance check costs several times more than a concrete one.


def _lookup(data: Any, keys: tuple[str, ...]) -> tuple[bool, Any]:
    node = data
    for key in keys:
        if not (isinstance(node, (dict, Mapping))) or key not in node:
            return False, None
        node = node[key]
    return True, node


def _value_matches(value: Any, value_test: ValueTest) -> bool:
    if isinstance(value, str):
        return value_test(value)
    if isinstance(value, list):
        return any(
            value_test(item) if isinstance(item, str) else _value_matches(item, value_test)
            for item in value
        )
    if isinstance(value, (dict, Mapping)):
        return any(value_test(str(key)) for key in value)
    if isinstance(value, tuple | set | frozenset):
        return any(_value_matches(item, value_test) for item in value)
    return value_test(str(value))


def _tokenize(text: str) -> list[str]:
    """Split on whitespace, then peel parentheses glued to words."""
    tokens: list[str] = []
    for word in text.split():
        core = word.lstrip("(")
        tokens.extend("(" * (len(word) - len(core)))
        closing = 0
        while core.endswith(")") and core.count(")") > core.count("("):
            core, closing = core[:-1], closing + 1
        tokens.extend([core] if core else [])
        tokens.extend(")" * closing)
    return tokens


def _combine(nodes: list[_Node], reduce: Callable[[Iterable[bool]], bool]) -> _Node:
    if len(nodes) == 1:
        return nodes[0]
    if reduce is all:
        # Evaluation order does not change the result of a pure `and`; the
        # id tests are the cheap ones, so let them short-circuit the rest.
        nodes = sorted(nodes, key=lambda n: not n.id_only)
    # Nested two-way closures rather than all()/any() over a generator:
    # this runs once per cached minion on the master.
    test = nodes[0].test
    for node in nodes[1:]:
        test = _both(test, node.test) if reduce is all else _either(test, node.test)
    return _Node(test, all(n.id_only for n in nodes))


def _both(a: Predicate, b: Predicate) -> Predicate:
    return lambda m: a(m) and b(m)


def _either(a: Predicate, b: Predicate) -> Predicate:
    return lambda m: a(m) or b(m)


def _negate(node: _Node) -> _Node:
    return _Node(lambda m: not node.test(m), node.id_only)


_UNBUILT = _Node(lambda m: False, True)  # stands in for words during the grammar pass


class _Parser:
    """Recursive descent: or_expr := and_expr ('or' and_expr)*, and so on."""

    def __init__(self, text: str, label: str, ctx: _Context) -> None:
        self.text, self.label, self.ctx = text, label, ctx
        self.tokens = _tokenize(text)
        self.pos, self.build = 0, False

    def fail(self, detail: str, index: int | None = None) -> NoReturn:
        where = "" if index is None else f" at token {index + 1}"
        raise TargetError(f"{self.label} {self.text!r}: {detail}{where}")

    def parse(self) -> _Node:
        """Check the grammar first, so it is reported before errors in words."""
        if not self.tokens:
            self.fail("empty expression")
        self._expression()
        self.pos, self.build = 0, True
        return self._expression()

    def _expression(self) -> _Node:
        node = self._or()
        token = self._peek()
        if token == ")":
            self.fail("unbalanced ')'", self.pos)
        if token is not None:
            self.fail(f"expected 'and' or 'or' before {token!r}", self.pos)
        return node

    def _peek(self) -> str | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def _or(self) -> _Node:
        nodes = [self._and()]
        while self._peek() == "or":
            self.pos += 1
            nodes.append(self._and())
        return _combine(nodes, any)

    def _and(self) -> _Node:
        nodes = [self._not()]
        while self._peek() == "and":
            self.pos += 1
            nodes.append(self._not())
        return _combine(nodes, all)

    def _not(self) -> _Node:
        if self._peek() == "not":
            self.pos += 1
            return _negate(self._not())
        return self._atom()

    def _atom(self) -> _Node:
        index, token = self.pos, self._peek()
        if token is None:
            self.fail(f"expected a target after {self.tokens[index - 1]!r}", index - 1)
        self.pos += 1
        if token == "(":
            node = self._or()
            closing = self._peek()
            if closing is None:
                self.fail("unbalanced '('", index)
            if closing != ")":
                self.fail(f"expected 'and', 'or' or ')' before {closing!r}", self.pos)
            self.pos += 1
            return node
        if token in _OPERATORS:
            self.fail(f"unexpected {token!r}", index)
        return self._word(token, index)

    def _word(self, token: str, index: int) -> _Node:
        prefixed = _PREFIXED.fullmatch(token)
        kind, body = "glob", token
        if prefixed is not None:
            letter, body = prefixed.groups()
            if letter not in _PREFIXES:
                self.fail(f"unknown prefix '{letter}@' in {token!r}", index)
            kind = _PREFIXES[letter]
        if not self.build:
            return _UNBUILT
        try:
            return _leaf(kind, body, self.ctx)
        except _LeafError as exc:
            self.fail(f"{exc} in {token!r}", index)


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
