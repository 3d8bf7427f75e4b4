"""Compiling high data into ordered low chunks with resolved requisites."""

from __future__ import annotations

import textwrap
from typing import Any

import pytest
import yaml

from minion.sls import SLSError
from minion.sls.compile import ENGINE_KEYS, compile_high, requisite_tags, tag
from minion.sls.gather import normalize_body
from minion.sls.run import state_args


def high_from(*files: tuple[str, str]) -> dict[str, dict[str, Any]]:
    """High data from (sls name, YAML text) pairs, in order, as the gatherer builds it."""
    high: dict[str, dict[str, Any]] = {}
    for sls, text in files:
        errors: list[str] = []
        for state_id, body in (yaml.safe_load(textwrap.dedent(text)) or {}).items():
            decls = normalize_body(state_id, body, f"base:{sls}", errors)
            assert decls is not None, errors
            high[state_id] = {"__sls__": sls, "__env__": "base", **decls}
    return high


def compiled(text: str, *more: tuple[str, str]) -> list[dict[str, Any]]:
    return compile_high(high_from(("s", text), *more))


def by_id(chunks: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {c["__id__"]: c for c in chunks}


def compile_error(text: str, *more: tuple[str, str]) -> str:
    with pytest.raises(SLSError) as info:
        compiled(text, *more)
    return str(info.value)


# -- chunks and order -----------------------------------------------------------


def test_chunk_shape() -> None:
    (chunk,) = compiled("motd: {file.managed: [{name: /etc/motd}, {mode: '0644'}]}")
    assert chunk == {"state": "file", "fun": "managed", "name": "/etc/motd", "__id__": "motd",
                     "__sls__": "s", "__env__": "base", "mode": "0644", "order": 10000,
                     "__pos__": 0, "__reqs__": {}}
    assert tag(chunk) == "file_|-motd_|-/etc/motd_|-managed"


def test_auto_order_counts_from_10000_in_definition_order() -> None:
    chunks = compiled("""
        zeta: test.nop
        alpha:
          test.nop: []
          cmd.run: []
        mid: test.nop
        """, ("t", "omega: test.nop\n"))
    assert [(c["__id__"], c["state"], c["order"]) for c in chunks] == [
        ("zeta", "test", 10000), ("alpha", "test", 10001), ("alpha", "cmd", 10002),
        ("mid", "test", 10003), ("omega", "test", 10004)]
    assert [c["__pos__"] for c in chunks] == [0, 1, 2, 3, 4]


def test_auto_order_skips_explicitly_ordered_declarations() -> None:
    chunks = by_id(compiled("pinned: {test.nop: [{order: 5}]}\nafter: test.nop\n"))
    assert chunks["after"]["order"] == 10000


@pytest.mark.parametrize(("text", "expected"), [
    ("a: test.nop\nb: {test.nop: [{order: 1}]}\n", ["b", "a"]),
    ("a: test.nop\nb: {test.nop: [{order: 20000}]}\n", ["a", "b"]),
    ("a: test.nop\nb: {test.nop: [{order: first}]}\nc: {test.nop: [{order: 1}]}\n",
     ["b", "c", "a"]),
    ("a: {test.nop: [{order: last}]}\nb: {test.nop: [{order: 99999}]}\nc: test.nop\n",
     ["c", "b", "a"]),
    ("a: {test.nop: [{order: -1}]}\nb: {test.nop: [{order: last}]}\nc: test.nop\n"
     "d: {test.nop: [{order: -2}]}\n", ["c", "d", "a", "b"]),
    ("a: {test.nop: [{order: 2.5}]}\nb: {test.nop: [{order: 2}]}\n", ["b", "a"]),
])
def test_explicit_order(text: str, expected: list[str]) -> None:
    assert [c["__id__"] for c in compiled(text)] == expected


def test_first_last_and_negative_values() -> None:
    chunks = by_id(compiled("""
        f: {test.nop: [{order: first}]}
        l: {test.nop: [{order: last}]}
        n: {test.nop: [{order: -10}]}
        big: {test.nop: [{order: 50000}]}
        """))
    cap = 50000 + 100  # the highest order given plus 100, as in Salt
    assert chunks["f"]["order"] == 0
    assert chunks["l"]["order"] == cap + 1_000_000
    assert chunks["n"]["order"] == cap + 1_000_000 - 10


def test_same_order_sorts_by_state_name_and_function() -> None:
    chunks = compiled("""
        z: {test.nop: [{order: 5}]}
        y: {cmd.run: [{order: 5}]}
        a: {test.nop: [{order: 5}]}
        b: {test.fail_without_changes: [{order: 5}, {name: a}]}
        """)
    assert [(c["state"], c["name"], c["fun"]) for c in chunks] == [
        ("cmd", "y", "run"), ("test", "a", "fail_without_changes"), ("test", "a", "nop"),
        ("test", "z", "nop")]


@pytest.mark.parametrize("order", ["'soon'", "true", "[1]"])
def test_bad_order_is_an_error(order: str) -> None:
    error = compile_error(f"a: {{test.nop: [{{order: {order}}}]}}\n")
    assert "State 'a' in SLS 's': order must be a number, 'first' or 'last'" in error


def test_names_keep_their_order_and_overrides() -> None:
    chunks = compiled("""
        before: test.nop
        pkgs:
          test.nop:
            - mode: shared
            - names:
              - zz
              - aa
              - mm:
                - mode: own
                - extra: 1
        after: test.nop
        """)
    assert [c["name"] for c in chunks] == ["before", "zz", "aa", "mm", "after"]
    names = [c for c in chunks if c["__id__"] == "pkgs"]
    assert [c["order"] for c in names] == [10001.0001, 10001.0002, 10001.0003]
    assert [c["mode"] for c in names] == ["shared", "shared", "own"]
    assert names[2]["extra"] == 1 and "extra" not in names[0]
    assert all("names" not in c and "name_order" not in c for c in chunks)


def test_names_must_be_a_list() -> None:
    assert "names must be a list" in compile_error("p: {test.nop: [{names: x}]}\n")


def test_missing_function_in_high_data() -> None:
    high = {"x": {"__sls__": "s", "__env__": "base", "pkg": [{"name": "v"}]}}
    with pytest.raises(SLSError, match="No function declared in state 'pkg'"):
        compile_high(high)


# -- requisites -------------------------------------------------------------------

TARGETS = """
a: test.nop
b: {test.nop: [{name: /etc/b.conf}]}
c:
  test.nop: []
  cmd.run: []
"""
A = "test_|-a_|-a_|-nop"
B = "test_|-b_|-/etc/b.conf_|-nop"
C_TEST = "test_|-c_|-c_|-nop"
C_CMD = "cmd_|-c_|-c_|-run"


@pytest.mark.parametrize(("reqs", "expected"), [
    ("{require: [{test: a}]}", {"require": [A]}),
    ("{require: [{test: /etc/b.conf}]}", {"require": [B]}),
    ("{require: [{test: b}]}", {"require": [B]}),
    ("{require: [a]}", {"require": [A]}),
    ("{require: [c]}", {"require": [C_TEST, C_CMD]}),
    ("{require: [{cmd: c}]}", {"require": [C_CMD]}),
    ("{require: [/etc/b.conf]}", {"require": [B]}),
    ("{require: [{sls: other}]}", {"require": [A, B, C_TEST, C_CMD]}),
    ("{require: {test: a}}", {"require": [A]}),
    ("{require: a}", {"require": [A]}),
    ("{watch: [{test: a}], require: [{cmd: c}]}", {"require": [C_CMD], "watch": [A]}),
    ("{require_any: [a, b]}", {"require_any": [A, B]}),
    ("{watch_any: [a, b]}", {"watch_any": [A, B]}),
    ("{onchanges: [a]}", {"onchanges": [A]}),
    ("{onchanges_any: [a, b]}", {"onchanges_any": [A, B]}),
    ("{onfail: [a]}", {"onfail": [A]}),
    ("{onfail_any: [a, b]}", {"onfail_any": [A, B]}),
    ("{onfail_all: [a, b]}", {"onfail_all": [A, B]}),
    ("{prereq: [a]}", {"prereq": [A]}),
    ("{listen: [a]}", {"listen": [A]}),
])
def test_requisite_references(reqs: str, expected: dict[str, list[str]]) -> None:
    high = high_from(("other", TARGETS))
    high["me"] = {"__sls__": "s", "__env__": "base",
                  "test": ["nop", *({k: v} for k, v in yaml.safe_load(reqs).items())]}
    chunks = compile_high(high)
    me = by_id(chunks)["me"]
    assert me["__reqs__"] == expected
    assert not set(me) & {"require", "watch", "require_any", "onfail", "prereq", "listen"}
    assert all(c["__reqs__"] == {} for c in chunks if c["__id__"] != "me")


@pytest.mark.parametrize("kind", ["require", "watch", "onchanges", "onfail", "prereq", "listen"])
def test_in_forms_add_the_requisite_to_the_target(kind: str) -> None:
    chunks = by_id(compiled(f"src: {{test.nop: [{{{kind}_in: [{{test: dst}}]}}]}}\n"
                            "dst: test.nop\nother: test.nop\n"))
    assert chunks["dst"]["__reqs__"] == {kind: ["test_|-src_|-src_|-nop"]}
    assert chunks["src"]["__reqs__"] == {}
    assert chunks["other"]["__reqs__"] == {}
    assert f"{kind}_in" not in chunks["src"]


def test_in_form_and_direct_form_combine() -> None:
    chunks = by_id(compiled("""
        x: {test.nop: [{require_in: [z]}]}
        y: test.nop
        z: {test.nop: [{require: [y]}]}
        """))
    assert sorted(chunks["z"]["__reqs__"]["require"]) == ["test_|-x_|-x_|-nop",
                                                          "test_|-y_|-y_|-nop"]


def test_in_form_by_sls_reaches_every_state_of_it() -> None:
    chunks = by_id(compile_high(high_from(
        ("web", "w1: test.nop\nw2: test.nop\n"),
        ("s", "pre: {test.nop: [{require_in: [{sls: web}]}]}\n"))))
    assert chunks["w1"]["__reqs__"] == chunks["w2"]["__reqs__"] == {
        "require": ["test_|-pre_|-pre_|-nop"]}


def test_use_copies_plain_arguments_only() -> None:
    chunks = by_id(compiled("""
        base:
          test.nop:
            - name: /base
            - user: www
            - mode: '0600'
            - order: 1
            - require: [other]
            - onlyif: 'true'
            - nested: {deep: [1]}
        other: test.nop
        me:
          test.nop:
            - mode: '0644'
            - use: [{test: base}]
        """))
    me = chunks["me"]
    assert me["name"] == "me"
    assert me["user"] == "www"
    assert me["mode"] == "0644"
    assert me["nested"] == {"deep": [1]}
    assert me["order"] == 10001  # `base` sets its own order: no auto number
    assert "onlyif" not in me and "use" not in me
    assert me["__reqs__"] == {}
    me["nested"]["deep"].append(2)
    assert chunks["base"]["nested"] == {"deep": [1]}  # a copy, not shared


def test_use_in_copies_into_the_target() -> None:
    chunks = by_id(compiled("""
        src: {test.nop: [{user: www}, {group: www}, {use_in: [dst]}]}
        dst: {test.nop: [{group: own}]}
        """))
    assert chunks["dst"]["user"] == "www"
    assert chunks["dst"]["group"] == "own"
    assert "use_in" not in chunks["src"]


def test_missing_references_are_all_listed_in_one_error() -> None:
    error = compile_error("""
        a: {test.nop: [{require: [ghost]}, {watch: [{cmd: a}]}]}
        b: {test.nop: [{require_in: [{pkg: nope}]}, {onfail: [{sls: nosuch}]}]}
        c: {test.nop: [{use: [missing]}]}
        """)
    assert error.startswith("The following requisites were not found: ")
    for part in ("require ghost (state 'a' in SLS 's')", "watch cmd: a (state 'a' in SLS 's')",
                 "require_in pkg: nope (state 'b' in SLS 's')",
                 "onfail sls: nosuch (state 'b' in SLS 's')",
                 "use missing (state 'c' in SLS 's')"):
        assert part in error


def test_a_state_requiring_only_itself_is_missing() -> None:
    assert "require a" in compile_error("a: {test.nop: [{require: [a]}]}\n")


def test_requiring_another_declaration_of_the_same_id() -> None:
    chunks = compiled("c: {cmd.run: [{require: [c]}], test.nop: []}\n")
    assert by_id([x for x in chunks if x["state"] == "cmd"])["c"]["__reqs__"] == {
        "require": ["test_|-c_|-c_|-nop"]}


@pytest.mark.parametrize(("text", "names"), [
    ("a: {test.nop: [{require: [b]}]}\nb: {test.nop: [{require: [a]}]}\n", ["s:a", "s:b"]),
    ("a: {test.nop: [{require: [b]}]}\nb: {test.nop: [{watch: [c]}]}\n"
     "c: {test.nop: [{onchanges: [a]}]}\n", ["s:a", "s:b", "s:c"]),
    ("a: {test.nop: [{require_in: [b]}]}\nb: {test.nop: [{require_in: [a]}]}\n",
     ["s:a", "s:b"]),
    ("a: {test.nop: [{watch_in: [b]}, {require: [b]}]}\nb: test.nop\n", ["s:a", "s:b"]),
    ("a: {test.nop: [{prereq: [b]}]}\nb: {test.nop: [{require: [a]}]}\n", ["s:a", "s:b"]),
    ("a: {test.nop: [{onfail_any: [b]}]}\nb: {test.nop: [{require_any: [a]}]}\n",
     ["s:a", "s:b"]),
    ("a: {test.nop: [{require_in: [a]}]}\n", ["s:a -> s:a"]),
])
def test_requisite_cycles_are_refused(text: str, names: list[str]) -> None:
    error = compile_error(text)
    assert error.startswith("Recursive requisite found: ")
    for name in names:
        assert name in error


@pytest.mark.parametrize("text", [
    "a: {test.nop: [{listen: [b]}]}\nb: {test.nop: [{listen: [a]}]}\n",
    "a: {test.nop: [{require: [b]}]}\nb: {test.nop: [{listen: [a]}]}\n",
    "a: {test.nop: [{listen_in: [b]}]}\nb: {test.nop: [{require: [a]}]}\n",
])
def test_listen_does_not_count_for_cycles(text: str) -> None:
    assert len(compiled(text)) == 2


def test_requisite_tags_collects_the_kinds_asked_for() -> None:
    chunks = by_id(compiled("""
        a: test.nop
        b: test.nop
        c: {test.nop: [{require: [a]}, {watch: [b]}, {listen: [a]}]}
        """))
    assert requisite_tags(chunks["c"], ("require", "watch")) == [
        "test_|-a_|-a_|-nop", "test_|-b_|-b_|-nop"]
    assert requisite_tags(chunks["c"], ("onfail",)) == []
    assert requisite_tags({}, ("require",)) == []


# -- engine keys ---------------------------------------------------------------------


EVERYTHING = """
other: test.nop
me:
  test.nop:
    - foo: 1
    - bar: two
    - require: [other]
    - require_any: [other]
    - watch: [other]
    - watch_any: [other]
    - onchanges: [other]
    - onchanges_any: [other]
    - onfail: [other]
    - onfail_any: [other]
    - onfail_all: [other]
    - listen: [other]
    - use: [other]
    - order: 3
    - parallel: true
    - failhard: true
    - onlyif: 'true'
    - unless: 'false'
    - creates: /nonexistent
    - check_cmd: 'true'
    - reload_modules: true
    - fire_event: true
    - retry: {attempts: 2}
"""


def test_engine_keys_never_reach_state_functions() -> None:
    me = by_id(compiled(EVERYTHING))["me"]

    def with_kwargs(ctx: Any, name: str, **kwargs: Any) -> dict[str, Any]:
        return {}

    def plain(ctx: Any, name: str, foo: int = 0) -> dict[str, Any]:
        return {}

    assert state_args(with_kwargs, me) == {"name": "me", "foo": 1, "bar": "two"}
    assert state_args(plain, me) == {"name": "me", "foo": 1}
    leaked = {k for k in me if k not in ENGINE_KEYS} - {"name", "foo", "bar"}
    assert leaked == set()


def test_in_forms_are_engine_keys() -> None:
    for kind in ("require_in", "watch_in", "onchanges_in", "onfail_in", "prereq_in",
                 "listen_in", "use_in"):
        assert kind in ENGINE_KEYS
