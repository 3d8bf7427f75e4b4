"""Log lines about bad input, at most one per source per interval.

A peer that repeats the same bad message must not fill the log: the first
line is written, the repeats within the interval are only counted and the
count is reported with the next line that gets through.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

MAX_SOURCES = 10_000


class RateLog:
    """Write a warning per `(source)` at most once every `interval` seconds."""

    def __init__(self, logger: logging.Logger, interval: float = 60.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.logger = logger
        self.interval = interval
        self.clock = clock
        self._last: dict[str, float] = {}
        self._dropped: dict[str, int] = {}

    def warning(self, source: str, msg: str, *args: object) -> bool:
        """Log `msg % args` unless `source` was logged within the interval; True if logged."""
        now = self.clock()
        last = self._last.get(source)
        if last is not None and now - last < self.interval:
            self._dropped[source] = self._dropped.get(source, 0) + 1
            return False
        if len(self._last) >= MAX_SOURCES:
            # Bounded memory: forget the oldest sources (dicts keep insertion order).
            for old in list(self._last)[: MAX_SOURCES // 10]:
                self._last.pop(old, None)
                self._dropped.pop(old, None)
        self._last.pop(source, None)
        self._last[source] = now
        dropped = self._dropped.pop(source, 0)
        if dropped:
            msg += " (%d more like it not logged)"
            args = (*args, dropped)
        self.logger.warning(msg, *args)
        return True
