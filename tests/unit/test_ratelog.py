"""Tests for common.ratelog: one log line per source per interval."""

from __future__ import annotations

import logging

import pytest

from common.ratelog import MAX_SOURCES, RateLog


def test_one_line_per_source_per_interval(caplog: pytest.LogCaptureFixture) -> None:
    now = [100.0]
    rl = RateLog(logging.getLogger("t.ratelog"), interval=60, clock=lambda: now[0])
    with caplog.at_level(logging.WARNING, logger="t.ratelog"):
        assert rl.warning("a", "bad from %s", "a")
        assert not rl.warning("a", "bad from %s", "a")
        assert not rl.warning("a", "bad from %s", "a")
        assert rl.warning("b", "bad from %s", "b")
        now[0] += 61
        assert rl.warning("a", "bad from %s", "a")
    lines = [r.getMessage() for r in caplog.records]
    assert lines == ["bad from a", "bad from b", "bad from a (2 more like it not logged)"]


def test_sources_are_bounded() -> None:
    rl = RateLog(logging.getLogger("t.ratelog2"), clock=lambda: 0.0)
    for i in range(MAX_SOURCES * 2):
        rl.warning(str(i), "x")
    assert len(rl._last) <= MAX_SOURCES
