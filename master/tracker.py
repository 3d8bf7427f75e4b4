"""In-memory progress of recent jobs: who acknowledged, who returned.

The `master run` command long-polls this through the local socket; finished
jobs are read back from the job cache instead.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import Callable
from typing import Any

KEEP_SECONDS = 3600
MAX_TRACKED = 2000


@dataclasses.dataclass
class Tracker:
    jid: str
    expected: list[str]
    # The job's target, to judge a return from a minion that was not
    # expected (its grains changed since the master last saw them); None
    # when the target is decided by id alone, so the expected list is exact.
    match: Callable[[str], bool] | None = None
    events: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    acked: set[str] = dataclasses.field(default_factory=set)
    returned: set[str] = dataclasses.field(default_factory=set)
    changed: asyncio.Event = dataclasses.field(default_factory=asyncio.Event)
    touched: float = dataclasses.field(default_factory=time.monotonic)

    def __post_init__(self) -> None:
        self._expected = frozenset(self.expected)

    def targets(self, minion: str) -> bool:
        """True if the job was aimed at `minion` (expected, or matched by its target now)."""
        return minion in self._expected or (self.match is not None and self.match(minion))

    def _notify(self) -> None:
        self.touched = time.monotonic()
        self.wake()

    def ack(self, minion: str) -> None:
        if minion not in self.acked:
            self.acked.add(minion)
            self._notify()

    def ret(self, minion: str, ret: dict[str, Any]) -> None:
        if minion in self.returned:
            return
        self.returned.add(minion)
        self.acked.add(minion)
        self.events.append({"minion": minion, **ret})
        self._notify()

    def wake(self) -> None:
        """Wake the `master run` waiting on this job (a minion it waits for went away)."""
        self.changed.set()
        self.changed = asyncio.Event()

    async def wait(self, cursor: int, timeout: float) -> None:
        """Return when there are events past `cursor` or `timeout` passes."""
        if len(self.events) > cursor or timeout <= 0:
            return
        event = self.changed
        try:
            async with asyncio.timeout(timeout):
                await event.wait()
        except TimeoutError:
            pass


class Trackers:
    """The bounded set of jobs the master follows in memory."""

    def __init__(self) -> None:
        self.jobs: dict[str, Tracker] = {}

    def start(self, jid: str, expected: list[str],
              match: Callable[[str], bool] | None = None) -> Tracker:
        self._expire()
        tracker = Tracker(jid, expected, match)
        self.jobs[jid] = tracker
        return tracker

    def get(self, jid: str) -> Tracker | None:
        return self.jobs.get(jid)

    def gone(self, minion: str) -> None:
        """`minion` is no longer connected: wake the runs still waiting for its return."""
        for tracker in self.jobs.values():
            if minion in tracker._expected and minion not in tracker.returned:
                tracker.wake()

    def _expire(self) -> None:
        now = time.monotonic()
        for jid in [j for j, t in self.jobs.items() if now - t.touched > KEEP_SECONDS]:
            del self.jobs[jid]
        while len(self.jobs) >= MAX_TRACKED:
            del self.jobs[next(iter(self.jobs))]
