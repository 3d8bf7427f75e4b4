"""Tests for common.args: typing CLI words into args and kwargs."""

from __future__ import annotations

from typing import Any

import pytest

from common.args import split_args, typed

TYPED: list[tuple[str, Any]] = [
    ("3", 3),
    ("-7", -7),
    ("2.5", 2.5),
    ("true", True),
    ("false", False),
    ("True", True),
    ("null", None),
    ("~", None),
    ("None", None),
    (" None ", None),
    ("none", "none"),
    ("", ""),
    ("hello", "hello"),
    ("uname -a", "uname -a"),
    ("echo: hi", "echo: hi"),
    ("key: value, other: 2", "key: value, other: 2"),
    ("- item", "- item"),
    ("[1,2]", [1, 2]),
    ("[a, b]", ["a", "b"]),
    ("{a: 1}", {"a": 1}),
    ('{"a": [1, {"b": null}]}', {"a": [1, {"b": None}]}),
    ("[unclosed", "[unclosed"),
    ("{a: 1", "{a: 1"),
    ("'quoted'", "quoted"),
    ('"3"', "3"),
    ("'true'", "true"),
    ("echo hi # not a comment", "echo hi # not a comment"),
    ("a\nb", "a\nb"),
    ("trailing  ", "trailing  "),
    ("  leading", "  leading"),
    ("#", "#"),
    ("2024-01-02", "2024-01-02"),
    ("#comment", "#comment"),
    ("   ", "   "),
    ("a: b: c", "a: b: c"),
    ("*", "*"),
    ("@web", "@web"),
]


@pytest.mark.parametrize(("text", "expected"), TYPED)
def test_typed(text: str, expected: Any) -> None:
    value = typed(text)
    assert value == expected
    assert type(value) is type(expected)


SPLIT: list[tuple[list[str], list[Any], dict[str, Any]]] = [
    ([], [], {}),
    (["3"], [3], {}),
    (["x=3"], [], {"x": 3}),
    (["name=nginx", "refresh=true"], [], {"name": "nginx", "refresh": True}),
    (["uname -a", "cwd=/tmp"], ["uname -a"], {"cwd": "/tmp"}),
    (["echo: hi"], ["echo: hi"], {}),
    (["cmd=echo a=b"], [], {"cmd": "echo a=b"}),
    (["pkgs=[vim, git]"], [], {"pkgs": ["vim", "git"]}),
    (["env={A: 1}"], [], {"env": {"A": 1}}),
    (["x="], [], {"x": ""}),
    (["=3"], ["=3"], {}),
    (["1x=3"], ["1x=3"], {}),
    (["a-b=3"], [], {"a-b": 3}),  # Salt takes dashes and dots in keys
    (["x.y=1", "c==d"], ["c==d"], {"x.y": 1}),
    (["x=null"], [], {"x": None}),
    (["text=line1\nline2"], [], {"text": "line1\nline2"}),
    (["a", "1", "x=1", "b", "x=2"], ["a", 1, "b"], {"x": 2}),
]


@pytest.mark.parametrize(("words", "args", "kwargs"), SPLIT)
def test_split_args(words: list[str], args: list[Any], kwargs: dict[str, Any]) -> None:
    got_args, got_kwargs = split_args(words)
    assert got_args == args
    assert got_kwargs == kwargs
    assert [type(a) for a in got_args] == [type(a) for a in args]
