"""Compound target grammar and nodegroup expansion, as Salt reads them.

Pure, standard library only. :mod:`common.targeting` is the public entry;
this module knows the words and operators, not what a grain is.

- A compound expression is split on whitespace only: parentheses are words
  of their own (``( web* or db* )``); ``(web*`` is a glob that starts with
  a parenthesis.
- A word is ``X@pattern`` for X in G P I J L N S E (R is refused), with an
  optional one-character delimiter for G P I J (``G|@cloud|zone|us-east``);
  anything else, including ``X@`` with an unknown X, is a glob on the id.
- ``not`` after a target or ``)`` means ``and not`` (``db* not G@tier:x``);
  ``not not`` is an error, so is an expression starting with ``and``/``or``
  or ``)``, or ``and``/``or`` right after ``(``. The rest is Python's boolean
  grammar: ``not`` binds tightest, then ``and``, then ``or``; ``( )`` is
  false.
- ``N@group`` words are replaced by the group's words before anything else.
  A group whose words have no operator, glob or ``X@`` prefix is a list of
  ids (``L@a,b``) or, when a word has a regex character, one regex
  (``E@a,b``). Groups reached through ``N@`` inside a group are wrapped in
  parentheses; the group named directly is not, so ``N@g and x`` with
  ``g: "a or b"`` reads ``a or b and x``, as in Salt.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NoReturn

Minion = Mapping[str, Any]
Predicate = Callable[[Minion], bool]
OPERATORS = ("and", "or", "not", "(", ")")

# engine, optional per-word delimiter (G P I J only), '@', pattern
_WORD = re.compile(r"(?:(?P<engine>[GPIJLNSER])(?P<delimiter>(?<=[GPIJ]).)?@)?(?P<pattern>.+)$")
_PREFIXED = re.compile(r"[A-Z]@")
_REGEX_CHARS = "([{\\?}])"


class TargetError(ValueError):
    """A target expression is malformed; the message names the bad token."""


@dataclass(frozen=True)
class Node:
    """A compiled target: a test on one minion, and whether the id alone decides it."""

    test: Predicate
    id_only: bool


FALSE = Node(lambda m: False, True)
Leaf = Callable[[str, str, str | None], Node]  # (engine letter or "", pattern, delimiter)


def split_word(word: str) -> tuple[str, str, str | None]:
    """(engine letter or "" for a glob, pattern, per-word delimiter or None)."""
    found = _WORD.match(word)
    if found is None:  # only the empty word; it never reaches here
        return "", word, None
    return found["engine"] or "", found["pattern"], found["delimiter"]


def resolve_groups(
    words: Sequence[str], nodegroups: Mapping[str, Any]
) -> list[str]:
    """Replace every ``N@name`` word by that nodegroup's words."""
    out: list[str] = []
    for word in words:
        if word.startswith("N@") and len(word) > 2:
            out.extend(expand_group(word[2:], nodegroups))
        else:
            out.append(word)
    # Salt sends the joined words and the minion splits them again, so a
    # list item holding spaces becomes several words.
    return " ".join(out).split()


def expand_group(name: str, nodegroups: Mapping[str, Any]) -> list[str]:
    """The words a nodegroup stands for, nested groups expanded."""
    if name not in nodegroups:
        raise TargetError(f"unknown nodegroup {name!r}")
    return _expand(name, nodegroups, [], first=True)


def _expand(name: str, nodegroups: Mapping[str, Any], stack: list[str], first: bool) -> list[str]:
    if name in stack:
        raise TargetError("nodegroup cycle: " + " -> ".join([*stack, name]))
    if name not in nodegroups:
        raise TargetError(f"nodegroup {stack[-1]!r} names unknown nodegroup {name!r}")
    spec = nodegroups[name]
    if isinstance(spec, str):
        words: list[Any] = spec.split()
    elif isinstance(spec, list | tuple):
        words = list(spec)
    else:
        raise TargetError(f"nodegroup {name!r}: expected a compound string or a list")
    if not all(isinstance(word, str) for word in words):
        raise TargetError(f"nodegroup {name!r}: every item must be a string")
    stack.append(name)
    out: list[str] = []
    nested = False
    for word in words:
        if len(word) >= 3 and word.startswith("N@") and word not in OPERATORS:
            nested = True
            out.extend(_expand(word[2:], nodegroups, stack, first=False))
        else:
            out.append(word)
    stack.pop()
    plain = _plain_words(words)
    if nested or not first:
        if not first and plain is not None:
            return plain
        return ["(", *out, ")"] if out else []
    return plain if plain is not None else words


def _plain_words(words: list[str]) -> list[str] | None:
    """A group of bare words is a list of ids, or one regex; else None."""
    if any(word in OPERATORS for word in words):
        return None
    if any("*" in word or _PREFIXED.match(word) for word in words):
        return None
    prefix = "E@" if any(ch in word for word in words for ch in _REGEX_CHARS) else "L@"
    return [prefix + ",".join(words)]


@dataclass(frozen=True)
class _Token:
    value: str | Node  # an operator or a compiled word
    text: str  # the word as written, for messages
    index: int  # 1-based position of the word


def compile_words(words: Sequence[str], leaf: Leaf, label: str) -> Node:
    """Compile compound words (nodegroups already resolved) into one Node."""
    tokens: list[_Token] = []
    for index, word in enumerate(words, 1):
        if word not in OPERATORS:
            engine, pattern, delimiter = split_word(word)
            try:
                tokens.append(_Token(leaf(engine, pattern, delimiter), word, index))
            except TargetError as exc:
                _fail(label, f"{exc} in {word!r} at token {index}")
            continue
        last = tokens[-1].value if tokens else None
        if (last is None and word not in ("(", "not")) or (last == "(" and word in ("and", "or")):
            _fail(label, f"unexpected {word!r} at token {index}")
        if word == "not" and last is not None and last not in ("and", "or", "("):
            if last == "not":
                _fail(label, f"unexpected 'not' after 'not' at token {index}")
            tokens.append(_Token("and", word, index))  # `db* not G@x` reads `db* and not G@x`
        tokens.append(_Token(word, word, index))
    return _Grammar(tokens, label).parse()


def _fail(label: str, detail: str) -> NoReturn:
    raise TargetError(f"{label}: {detail}")


class _Grammar:
    """Python's boolean grammar over targets: or_test, and_test, not_test, atom."""

    def __init__(self, tokens: list[_Token], label: str) -> None:
        self.tokens, self.label, self.pos = tokens, label, 0
        self.open: list[_Token] = []  # the '(' tokens not closed yet

    def parse(self) -> Node:
        if not self.tokens:
            _fail(self.label, "empty expression")
        node = self._or()
        if self._peek() is not None:
            self._expected_operator()
        return node

    def _peek(self) -> str | Node | None:
        return self.tokens[self.pos].value if self.pos < len(self.tokens) else None

    def _expected_operator(self) -> NoReturn:
        token = self.tokens[self.pos]
        if token.value == ")":
            _fail(self.label, f"unbalanced ')' at token {token.index}")
        wanted = "'and', 'or' or ')'" if self.open else "'and' or 'or'"
        _fail(self.label, f"expected {wanted} before {token.text!r} at token {token.index}")

    def _expected_target(self) -> NoReturn:
        if self.pos >= len(self.tokens):
            if self.open:
                _fail(self.label, f"unbalanced '(' at token {self.open[-1].index}")
            last = self.tokens[-1]
            _fail(self.label, f"expected a target after {last.text!r} at token {last.index}")
        token = self.tokens[self.pos]
        _fail(self.label, f"unexpected {token.text!r} at token {token.index}")

    def _or(self) -> Node:
        nodes = [self._and()]
        while self._peek() == "or":
            self.pos += 1
            nodes.append(self._and())
        return _combine(nodes, both=False)

    def _and(self) -> Node:
        nodes = [self._not()]
        while self._peek() == "and":
            self.pos += 1
            nodes.append(self._not())
        return _combine(nodes, both=True)

    def _not(self) -> Node:
        if self._peek() == "not":
            self.pos += 1
            inner = self._not()
            return Node(lambda m: not inner.test(m), inner.id_only)
        return self._atom()

    def _atom(self) -> Node:
        token = self._peek()
        if isinstance(token, Node):
            self.pos += 1
            return token
        if token != "(":
            self._expected_target()
        self.open.append(self.tokens[self.pos])
        self.pos += 1
        # `( )` is Python's empty tuple, which is false
        node = FALSE if self._peek() == ")" else self._or()
        if self._peek() is None:
            _fail(self.label, f"unbalanced '(' at token {self.open[-1].index}")
        if self._peek() != ")":
            self._expected_operator()
        self.open.pop()
        self.pos += 1
        return node


def _combine(nodes: list[Node], both: bool) -> Node:
    if len(nodes) == 1:
        return nodes[0]
    if both:
        # Order does not change a pure `and`; the id tests are the cheap
        # ones, so let them short-circuit the rest.
        nodes = sorted(nodes, key=lambda n: not n.id_only)
    # Nested two-way closures rather than all()/any() over a generator:
    # the master runs this once per cached minion.
    test = nodes[0].test
    for node in nodes[1:]:
        test = _both(test, node.test) if both else _either(test, node.test)
    return Node(test, all(n.id_only for n in nodes))


def _both(a: Predicate, b: Predicate) -> Predicate:
    return lambda m: a(m) and b(m)


def _either(a: Predicate, b: Predicate) -> Predicate:
    return lambda m: a(m) or b(m)
