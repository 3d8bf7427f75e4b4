"""The jids a minion has executed, kept across restarts so a replay never runs twice.

A captured publish stays valid for the freshness window (its `ts` must be
within `protocol.CLOCK_WINDOW` of now). A jid is therefore kept for two
windows plus a margin (the master's clock may be ahead or behind), and at
most `MAX_JIDS` of them: an append-only file under `cachedir` (mode 0600),
rewritten with only the live entries on the first jid a process adds and
when it has grown to twice that.
"""

from __future__ import annotations

import collections
import logging
import os
import time
from collections.abc import Callable
from pathlib import Path

from common.protocol import CLOCK_WINDOW

log = logging.getLogger(__name__)

MAX_JIDS = 10_000
KEEP_SECONDS = 2 * CLOCK_WINDOW + 60
MAX_JID_LEN = 64
FILE_NAME = "seen_jids"


class ReplayStore:
    """Remember jids (in memory and on disk) for as long as a replay could pass."""

    def __init__(self, cachedir: str | Path, clock: Callable[[], float] = time.time,
                 max_jids: int = MAX_JIDS, keep: float = KEEP_SECONDS) -> None:
        self.path = Path(cachedir) / FILE_NAME
        self.clock = clock
        self.max_jids = max_jids
        self.keep = keep
        self._seen: collections.OrderedDict[str, float] = collections.OrderedDict()
        self._lines = 0
        self._fd = -1
        self._broken = False  # the file cannot be written: memory only, said once
        self._load()

    def __contains__(self, jid: object) -> bool:
        return jid in self._seen

    def __len__(self) -> int:
        return len(self._seen)

    def add(self, jid: str) -> None:
        """Remember `jid` now; it is on disk before this returns (if it can be written)."""
        now = self.clock()
        self._seen.pop(jid, None)
        self._seen[jid] = now
        self._expire(now)
        if self._broken or not _storable(jid):
            return  # kept in memory only: the file format is one jid per line
        if self._fd < 0 or self._lines >= 2 * self.max_jids:
            # First write of this process, or grown enough: start a clean file.
            self._rewrite()
            return
        self._write(f"{jid} {now:.3f}\n")

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1

    def _expire(self, now: float) -> None:
        while self._seen and (len(self._seen) > self.max_jids
                              or now - next(iter(self._seen.values())) > self.keep):
            self._seen.popitem(last=False)

    def _load(self) -> None:
        try:
            with open(self.path, "rb") as fh:
                # Bounded: a well-formed file never holds more than 2 * max_jids lines.
                data = fh.read(2 * self.max_jids * (MAX_JID_LEN + 32))
        except FileNotFoundError:
            return
        except OSError as exc:
            log.warning("cannot read %s: %s; jobs replayed now could run again", self.path, exc)
            return
        now = self.clock()
        for line in data.decode("utf-8", "replace").splitlines():
            parts = line.split(" ")
            if len(parts) != 2 or not _storable(parts[0]):
                continue
            try:
                when = float(parts[1])
            except ValueError:
                continue
            # A time in the future (clock stepped back) is kept from now on.
            if now - when <= self.keep:
                self._seen.pop(parts[0], None)
                self._seen[parts[0]] = min(when, now)
        self._expire(now)

    def _rewrite(self) -> None:
        """Replace the file with the live entries, and reopen it for appending."""
        self.close()
        tmp = self.path.with_name(FILE_NAME + ".tmp")
        body = "".join(f"{j} {t:.3f}\n" for j, t in self._seen.items() if _storable(j))
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            try:
                os.fchmod(fd, 0o600)
                os.write(fd, body.encode())
            finally:
                os.close(fd)
            os.replace(tmp, self.path)
            self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND)
        except OSError as exc:
            log.warning("cannot write %s: %s; executed jobs are remembered in memory only",
                        self.path, exc)
            self._broken = True
            return
        self._lines = len(self._seen)

    def _write(self, line: str) -> None:
        if self._fd < 0:
            return
        try:
            os.write(self._fd, line.encode())
        except OSError as exc:
            log.warning("cannot write %s: %s", self.path, exc)
            return
        self._lines += 1


def _storable(jid: str) -> bool:
    return 0 < len(jid) <= MAX_JID_LEN and jid.isprintable() and " " not in jid
