"""Tests for common.ids: minion id checks and job ids."""

from __future__ import annotations

import datetime
import itertools

import pytest

from common.ids import MAX_ID_LENGTH, InvalidId, check_minion_id, new_jid

VALID = [
    "m1",
    "web-01.example.com",
    "a_b",
    "x@y",
    "a+b",
    "_leading_underscore",
    "0",
    "UPPER.lower",
    "a" * MAX_ID_LENGTH,
]

INVALID = [
    "../x",
    "",
    "a\x00b",
    "a" * 300,
    "a" * (MAX_ID_LENGTH + 1),
    ".hidden",
    "-x",
    "a/b",
    "a\\b",
    "..",
    ".",
    "a b",
    "a\nb",
    "a\tb",
    "m1\n",
    "a:b",
    "a*",
    "é",
    None,
    5,
    b"m1",
    ["m1"],
]


@pytest.mark.parametrize("value", VALID)
def test_valid_ids(value: str) -> None:
    assert check_minion_id(value) == value


@pytest.mark.parametrize("value", INVALID, ids=repr)
def test_invalid_ids(value: object) -> None:
    with pytest.raises(InvalidId):
        check_minion_id(value)


def test_invalid_id_message_is_one_printable_line() -> None:
    with pytest.raises(InvalidId) as info:
        check_minion_id("bad\x00id\nx")
    text = str(info.value)
    assert "\n" not in text
    assert "\x00" not in text
    assert "\\x00" in text


def test_invalid_id_is_a_value_error() -> None:
    assert issubclass(InvalidId, ValueError)


def test_new_jid_shape() -> None:
    jid = new_jid()
    assert len(jid) == 20
    assert jid.isdigit()
    when = datetime.datetime.strptime(jid, "%Y%m%d%H%M%S%f").replace(tzinfo=datetime.UTC)
    assert abs((datetime.datetime.now(datetime.UTC) - when).total_seconds()) < 60


def test_new_jid_strictly_increasing() -> None:
    jids = [new_jid() for _ in range(1000)]
    assert all(len(j) == 20 and j.isdigit() for j in jids)
    assert all(a < b for a, b in itertools.pairwise(jids))
    assert len(set(jids)) == 1000
