"""The compile steps (pure functions over high data), checked against Salt's answers.

The full Salt-recorded behaviour lives in tests/oracle/cases/engine; these
cover the pieces one by one.
"""

from __future__ import annotations

from typing import Any

from minion.sls.compile import (
    apply_exclude,
    compile_high,
    compile_high_data,
    order_chunks,
    reconcile_extend,
    requisite_in,
    tag,
    verify_high,
)


def _high(**ids: Any) -> dict[str, Any]:
    return {k: {**v, "__sls__": "main", "__env__": "base"} for k, v in ids.items()}


def test_tag() -> None:
    assert tag({"state": "file", "__id__": "i", "name": "/x", "fun": "managed"}) == \
        "file_|-i_|-/x_|-managed"


def test_verify_high_messages() -> None:
    high = _high(a={"test": "nop"}, b={"test": ["nop", "succeed_with_changes"]},
                 c={"test": [{"name": "x"}]}, d={"test": ["nop", {"require": None}]},
                 e={"test.nop": None})
    assert verify_high(high) == [
        "State 'a' in SLS 'main' is not formed as a list",
        "Too many functions declared in state 'b' in SLS 'main'. Please choose one of the "
        "following: nop, succeed_with_changes",
        "No function declared in state 'c' in SLS 'main'",
        "The require statement in state 'd' in SLS 'main' needs to be formed as a list",
        "ID 'e' in SLS 'main' contains a short declaration (test.nop) with a trailing colon. "
        "When not passing any arguments to a state, the colon must be omitted.",
    ]


def test_two_state_loop_is_a_compile_error() -> None:
    high = _high(a={"test": [{"require": [{"test": "b"}]}, "nop"]},
                 b={"test": [{"require": [{"test": "a"}]}, "nop"]})
    assert verify_high(high) == ['A recursive requisite was found, SLS "main" ID "b" ID "a"']


def test_requisite_in_becomes_a_requisite_on_the_target() -> None:
    high = _high(a={"test": ["nop", {"require_in": [{"test": "b"}]}]}, b={"test": ["nop"]})
    assert requisite_in(high) == []
    assert high["b"]["test"] == ["nop", {"require": [{"test": "a"}]}]


def test_require_in_a_missing_id_cannot_extend() -> None:
    high = _high(a={"test": ["nop", {"require_in": [{"test": "ghost"}]}]})
    errors = requisite_in(high)
    assert errors and errors[0].startswith("Cannot extend ID 'ghost' in 'base:main'.")


def test_extend_grows_requisites_and_replaces_arguments() -> None:
    high = _high(a={"test": ["nop", {"require": [{"test": "x"}]}, {"comment": "old"}]})
    high["__extend__"] = [{"a": {"test": [{"require": [{"test": "y"}]}, {"comment": "new"}],
                                 "__sls__": "other", "__env__": "base"}}]
    assert reconcile_extend(high) == []
    assert high["a"]["test"] == ["nop", {"require": [{"test": "x"}, {"test": "y"}]},
                                 {"comment": "new"}]


def test_exclude_by_id_and_sls_glob() -> None:
    high = {"a": {"test": ["nop"], "__sls__": "web.a"}, "b": {"test": ["nop"], "__sls__": "db"},
            "c": {"test": ["nop"], "__sls__": "db"}, "__exclude__": [{"sls": "web.*"}, {"id": "c"}]}
    apply_exclude(high)
    assert list(high) == ["b"]


def test_chunks_names_and_multi_key_argument() -> None:
    high = _high(many={"test": [{"names": ["one", {"two": [{"comment": "2"}]}]},
                                {"a": 1, "b": 2}, "nop", {"order": 10000}]})
    chunks = compile_high_data(high)
    assert [(c["name"], c["order"], c.get("comment")) for c in chunks] == [
        ("one", 10000.0001, None), ("two", 10000.0002, "2")]
    assert chunks[0]["a"] == 1 and chunks[0]["b"] == 2


def test_order_first_last_negative() -> None:
    chunks = [{"state": "t", "name": n, "fun": "f", "order": o}
              for n, o in (("z", "last"), ("y", "first"), ("x", 5), ("w", -1), ("v", "junk"))]
    assert [c["name"] for c in order_chunks(chunks)] == ["y", "x", "v", "w", "z"]


def test_compile_high_returns_errors_instead_of_chunks() -> None:
    chunks, errors = compile_high(_high(a={"test": "nop"}))
    assert chunks == [] and errors
