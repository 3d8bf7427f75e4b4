"""Property tests: compound targeting obeys set algebra over a realistic fleet."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from common import targeting
from common.targeting import TargetError

CASES_DIR = Path(__file__).resolve().parent / "targeting_cases"
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when present: faster


def _load(name: str) -> dict[str, Any]:
    return yaml.load((CASES_DIR / name).read_text(encoding="utf-8"), Loader=_LOADER)


FLEET: list[dict[str, Any]] = _load("minions.yaml")["minions"]
NODEGROUPS: dict[str, Any] = _load("expressions.yaml")["nodegroups"]
ALL_IDS = frozenset(minion["id"] for minion in FLEET)

SETTINGS = settings(max_examples=200, deadline=None, derandomize=True, database=None)

# Words that are valid on their own, drawn from the fleet data.
LEAVES = (
    "*", "web*", "db-*", "*.example.*", "WIN-*", "cache0[12]", "mail", "[!w]*", "build-agent-?",
    "G@os:Debian", "G@os_family:RedHat", "G@roles:web", "G@num_cpus:4", "G@ssd:true",
    "G@ec2:tags:env:prod", "G@ipv6:fe80::*", "G@hwaddr_interfaces:eth0:52:54:00:*",
    "G@osmajorrelease:2*", "P@os:(debian|ubuntu)$", "P@virtual:(kvm|xen)",
    "I@env:prod", "I@app:versions:2*", "I@backup:enabled:true", "J@app:tier:(front|back)",
    r"E@web\d+\.", "E@db-", "E@(web|db)0?1", "L@db-1,mail,bastion", "L@WIN-SQL01",
    "S@10.10.0.0/16", "S@172.17.0.0/16", "S@2001:db8:10::/48", "S@fe80::/10", "S@127.0.0.1",
    "N@webs", "N@dbs", "N@prod_debian_web",
)  # fmt: skip
# Not N@frontend_or_cache: like Salt, saline splices a group named directly
# in without parentheses, so `N@frontend_or_cache and x` reads `a or b and x`
# (test_targeting.py pins that); it is no set-algebra leaf.

# An expression tree: a leaf word, ("not", x), or ("and" | "or", left, right).
Expr = str | tuple[Any, ...]

leaves = st.sampled_from(LEAVES)
exprs: st.SearchStrategy[Expr] = st.recursive(
    leaves,
    lambda kids: st.one_of(
        st.tuples(st.just("not"), kids),
        st.tuples(st.sampled_from(("and", "or")), kids, kids),
    ),
    max_leaves=6,
)


def full(expr: Expr) -> str:
    """Render with parentheses around every binary operation.

    Parentheses are words of their own, as in Salt: ``(web*`` would be a glob.
    """
    if isinstance(expr, str):
        return expr
    if expr[0] == "not":  # `not not x` is an error in Salt: `not ( not x )`
        inner = full(expr[1])
        return f"not ( {inner} )" if inner.startswith("not ") else f"not {inner}"
    return f"( {full(expr[1])} {expr[0]} {full(expr[2])} )"


_PRECEDENCE = {"or": 1, "and": 2, "not": 3}


def minimal(expr: Expr) -> str:
    """Render with only the parentheses that precedence (not > and > or) needs."""

    def at_least(child: Expr, level: int) -> str:
        text = minimal(child)
        child_level = 4 if isinstance(child, str) else _PRECEDENCE[child[0]]
        return text if child_level >= level else f"( {text} )"

    if isinstance(expr, str):
        return expr
    if expr[0] == "not":
        inner = at_least(expr[1], 3)
        return f"not ( {inner} )" if inner.startswith("not ") else f"not {inner}"
    level = _PRECEDENCE[expr[0]]
    return f"{at_least(expr[1], level)} {expr[0]} {at_least(expr[2], level)}"


@cache
def selected(tgt: str) -> frozenset[str]:
    """The ids a compound expression selects from the fleet."""
    target = targeting.compile(tgt, "compound", NODEGROUPS)
    return frozenset(minion["id"] for minion in FLEET if target(minion))


def expected(expr: Expr) -> frozenset[str]:
    """Evaluate the tree with set operations, each leaf matched on its own."""
    if isinstance(expr, str):
        return selected(expr)
    if expr[0] == "not":
        return ALL_IDS - expected(expr[1])
    left, right = expected(expr[1]), expected(expr[2])
    return left & right if expr[0] == "and" else left | right


def test_every_leaf_is_valid_and_selective() -> None:
    for leaf in LEAVES:
        assert selected(leaf), leaf
        assert selected(leaf) != ALL_IDS or leaf == "*", leaf


@SETTINGS
@given(exprs, exprs)
def test_compound_is_set_algebra(left: Expr, right: Expr) -> None:
    """One draw checks every law, to keep the example budget small."""
    a, b = full(left), full(right)
    set_a, set_b = selected(a), selected(b)
    # Both renderings of a tree select what its set evaluation says,
    # which also pins the precedence not > and > or.
    assert set_a == expected(left)
    assert selected(minimal(left)) == set_a
    # not X is the complement of X.
    assert selected(f"not {a}" if a.startswith("(") else f"not ( {a} )") == ALL_IDS - set_a
    assert selected(f"not ( {minimal(left)} )") == ALL_IDS - set_a
    # A and B is the intersection, A or B the union.
    assert selected(f"{a} and {b}") == set_a & set_b
    assert selected(f"( {minimal(left)} ) and ( {minimal(right)} )") == set_a & set_b
    assert selected(f"{a} or {b}") == set_a | set_b
    assert selected(f"( {minimal(left)} ) or ( {minimal(right)} )") == set_a | set_b
    # Parenthesizing a fully parenthesized expression changes nothing.
    assert selected(f"( {a} )") == set_a
    assert selected(f"( ( {a} ) )") == set_a


@SETTINGS
@given(exprs, st.sampled_from(FLEET))
def test_compile_agrees_with_matches(expr: Expr, minion: dict[str, Any]) -> None:
    text = full(expr)
    target = targeting.compile(text, "compound", NODEGROUPS)
    assert target(minion) is targeting.matches(minion, text, "compound", nodegroups=NODEGROUPS)
    assert target(minion) is (minion["id"] in selected(text))


# Vocabulary for token soups: operators, good words and broken ones.
_SOUP_WORDS = (
    *LEAVES, "and", "or", "not", "(", ")", "((", "))", "AND", "E@(", "E@web(", "P@os:[",
    "S@10.0.0.0/33", "S@fe80::zz", "S@", "G@", "G@os", "I@:x", "X@foo", "R@%c", "x@y",
    "N@nope", "N@cycle_a", "N@self_loop", "N@broken", "N@word_soup", "N@empty_list",
    "L@", "L@,", "@", "@@", ":", "G@a:b:c:d", "(web*", "web*)", "not(", ")not",
)  # fmt: skip
_CHARS = "abdegow*?[]!()@:|.,-/\\^$ \t\n0123456789GIJEPLSNX"


_random_text = st.one_of(
    st.text(alphabet=_CHARS, max_size=40),
    st.text(max_size=20),
    st.builds(
        lambda words, sep: sep.join(words),
        st.lists(st.sampled_from(_SOUP_WORDS), max_size=10),
        st.sampled_from((" ", "", "  ")),
    ),
)


@SETTINGS
@given(_random_text)
def test_random_text_validates_or_raises_target_error(text: str) -> None:
    try:
        target = targeting.compile(text, "compound", NODEGROUPS)
    except TargetError as exc:
        assert "\n" not in str(exc)
        return
    for minion in FLEET:
        assert isinstance(target(minion), bool)
