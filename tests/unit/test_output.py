"""Tests for common.output: nested, json, yaml and txt shapes, and colour."""

from __future__ import annotations

import io
import json
import os
from collections.abc import Iterator
from typing import Any, TextIO

import pytest
import yaml

from common import output

DATA: dict[str, Any] = {
    "web1": {
        "os": "Debian",
        "cpus": 4,
        "roles": ["web", "cache"],
        "disk": {"sda": {"size": 10, "ssd": True}},
        "none": None,
        "empty": {},
        "nolist": [],
        "mixed": [{"a": 1}, "x", [1, 2]],
    },
    "db1": True,
}

NESTED = """\
web1:
    ----------
    cpus:
        4
    disk:
        ----------
        sda:
            ----------
            size:
                10
            ssd:
                True
    empty:
        ----------
    mixed:
        |_
            ----------
            a:
                1
        - x
        |_
            - 1
            - 2
    nolist:
    none:
        None
    os:
        Debian
    roles:
        - web
        - cache
db1:
    True"""


def test_nested_shape() -> None:
    assert output.render(DATA, "nested") == NESTED


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"m1": "line1\nline2"}, "m1:\n    line1\n    line2"),
        ({"m1": ""}, "m1:\n    "),
        ({"m1": b"bytes\xff"}, "m1:\n    bytes\ufffd"),
        ({"m1": ["a", None, 1.5]}, "m1:\n    - a\n    - None\n    - 1.5"),
        ({"m1": {1: "int key"}}, "m1:\n    ----------\n    1:\n        int key"),
        ({}, ""),
    ],
)
def test_nested_scalars(data: dict[str, Any], expected: str) -> None:
    assert output.render(data, "nested") == expected


def test_nested_color() -> None:
    ok = output.nested({"m1": {"k": "v"}}, color=True, ok=True)
    assert ok.startswith(f"{output.GREEN}m1{output.RESET}:")
    assert f"{output.CYAN}k{output.RESET}:" in ok
    bad = output.nested({"m1": "x"}, color=True, ok=False)
    assert bad.startswith(f"{output.RED}m1{output.RESET}:")
    assert "\033" not in output.nested({"m1": {"k": "v"}}, color=False)


def test_json_shape() -> None:
    text = output.render(DATA, "json")
    assert json.loads(text) == DATA
    assert text.splitlines()[1] == '    "web1": {'  # indented by four


def test_json_odd_values() -> None:
    data = {"m1": {"b": b"raw", "t": (1, 2), "s": {3}, "o": object, "u": "ü"}}
    loaded = json.loads(output.render(data, "json"))
    assert loaded["m1"]["b"] == "raw"
    assert loaded["m1"]["t"] == [1, 2]
    assert loaded["m1"]["s"] == [3]
    assert loaded["m1"]["o"] == str(object)
    assert "ü" in output.render(data, "json")  # not \\u-escaped


def test_yaml_shape() -> None:
    text = output.render(DATA, "yaml")
    assert yaml.safe_load(text) == DATA
    assert text.startswith("web1:\n  cpus: 4\n")  # block style, keys sorted as in Salt
    ordered = output.render(DATA, "yaml", ordered=True)
    assert ordered.startswith("web1:\n  os: Debian\n")  # pillar data keeps its order
    assert not text.endswith("\n")


def test_yaml_bytes_and_tuples() -> None:
    text = output.render({"m1": {"b": b"raw", "t": (1, (2, 3))}}, "yaml")
    assert yaml.safe_load(text) == {"m1": {"b": "raw", "t": [1, [2, 3]]}}


def test_txt_shape() -> None:
    text = output.render(
        {"m1": "plain text", "m2": {"a": [1, 2]}, "m3": 5, "m4": None, "m5": b"b"}, "txt"
    )
    assert text.splitlines() == [
        "m1: plain text",
        "m2: {'a': [1, 2]}",
        "m3: 5",
        "m4: None",
        "m5: 'b'",
    ]
    assert output.render({"m1": "one\ntwo"}, "txt") == "m1: one\nm1: two"


def test_unknown_format_falls_back_to_nested() -> None:
    assert output.render(DATA, "no-such-outputter") == NESTED
    # highstate lays out a plain (non-state) return like nested does
    assert output.render(DATA, "highstate") == NESTED


@pytest.fixture
def tty() -> Iterator[TextIO]:
    """A real terminal stream (a pty), so isatty() is true."""
    master_fd, slave_fd = os.openpty()
    stream = os.fdopen(slave_fd, "w")
    try:
        yield stream
    finally:
        stream.close()
        os.close(master_fd)


def test_use_color_on_a_terminal(tty: TextIO, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    assert output.use_color(tty) is True


@pytest.mark.parametrize("value", ["1", "0", "true"])
def test_no_color_disables_color(
    tty: TextIO, monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("NO_COLOR", value)
    assert output.use_color(tty) is False


def test_no_color_off_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    assert output.use_color(io.StringIO()) is False


def test_emit_writes_one_block(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    stream = io.StringIO()
    output.emit({"m1": True}, "nested", stream=stream)
    output.emit({"m2": 1}, "json", stream=stream)
    assert stream.getvalue() == 'm1:\n    True\n{\n    "m2": 1\n}\n'


MISSING = {"m2": output.NOT_CONNECTED,
           "m3": f"{output.NO_RESPONSE}\nStill running: it acknowledged the job."}


@pytest.mark.parametrize("fmt", ["nested", "highstate"])
def test_minions_without_a_return_look_as_in_salt(fmt: str) -> None:
    assert output.render_no_return(MISSING, fmt) == (
        "m2:\n"
        "    Minion did not return. [Not connected]\n"
        "m3:\n"
        "    Minion did not return. [No response]\n"
        "    Still running: it acknowledged the job.")


def test_minions_without_a_return_in_colour_show_the_reason_in_red() -> None:
    text = output.render_no_return({"m2": output.NOT_CONNECTED}, "nested", color=True)
    assert text == (f"{output.CYAN}m2{output.RESET}:\n"
                    f"{output.RED}    Minion did not return. [Not connected]{output.RESET}")


def test_minions_without_a_return_in_machine_outputs_are_plain_values() -> None:
    assert json.loads(output.render_no_return(MISSING, "json")) == MISSING
    assert yaml.safe_load(output.render_no_return(MISSING, "yaml")) == MISSING
    assert output.render_no_return({"m2": output.NOT_CONNECTED}, "txt") == (
        "m2: Minion did not return. [Not connected]")
    assert all(output.did_not_return(v) for v in MISSING.values())
    assert not output.did_not_return(True) and not output.did_not_return("Minion")
