"""The master's store of minion keys: pending, accepted, rejected, denied.

By default each minion's public keys live in ``pki_dir/<state>/<id>``.
Moving a key between states is a rename inside ``pki_dir``, so a key is
never in two states at once and a crash never leaves half a key. With
`cluster_store` the same states live in PostgreSQL (master/store/pgkeys.py),
under the same rules, which are written once here.
"""

from __future__ import annotations

import fnmatch
import logging
import os
import time
from collections.abc import Hashable
from collections.abc import Set as AbstractSet
from pathlib import Path
from typing import Protocol

from common.crypto import CryptoError, PublicKeys, ensure_private_dir, write_private
from common.ids import check_minion_id

log = logging.getLogger(__name__)

STATES = ("accepted", "pending", "rejected", "denied")
# A state directory is listed again when its mtime changes, and at least this
# often anyway: a change made in the same clock tick as the last listing
# leaves the mtime as it was.
RESCAN_SECONDS = 30.0
RACY_NS = 50_000_000


class TooManyPending(Exception):
    """A new key was refused: `max_pending_keys` keys are waiting already."""


class _DirWatch:
    """What one state directory holds, listed again only when it changed."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.stamp: tuple[int, int] | None = None
        self.scanned = 0.0
        self.scanned_ns = 0
        self.names: set[str] = set()

    def stamp_now(self) -> tuple[int, int]:
        st = os.stat(self.path)
        return (st.st_mtime_ns, st.st_ino)

    def current(self) -> AbstractSet[str]:
        stamp = self.stamp_now()
        now = time.monotonic()
        # The mtime clock is coarse: a change in the same tick as the last
        # listing would not move it, so a listing made while the mtime was
        # fresh is made once more when it no longer is.
        racy = stamp == self.stamp and self.scanned_ns - stamp[0] < RACY_NS < (
            time.time_ns() - stamp[0])
        if stamp != self.stamp or racy or now - self.scanned > RESCAN_SECONDS:
            with os.scandir(self.path) as entries:
                self.names = {e.name for e in entries
                              if not e.name.startswith(".") and e.is_file(follow_symlinks=False)}
            self.stamp, self.scanned, self.scanned_ns = stamp, now, time.time_ns()
        return self.names

    def added(self, name: str, before: tuple[int, int]) -> None:
        """Count our own new file `name` without listing the directory again.

        `before` is the directory's stamp just before the write: if something
        else changed it since the last listing, the next look lists it again.
        """
        self.names.add(name)
        if before == self.stamp:
            self.stamp = self.stamp_now()


class KeysUnavailable(TooManyPending):
    """A new key could not be recorded: the cluster store is unreachable.

    A kind of TooManyPending on purpose: the master answers both the same way
    (the key is not recorded, try later, one log line a minute), and keys
    already known keep working from the store's copy in memory.
    """


class KeyBackend(Protocol):
    """Where key states are kept: the pki files, or a shared store."""

    def ids(self, state: str) -> AbstractSet[str]: ...
    def list(self) -> dict[str, list[str]]: ...
    def state_of(self, minion_id: str) -> str | None: ...
    def read(self, state: str, minion_id: str) -> PublicKeys | None: ...
    def add(self, state: str, minion_id: str, keys: PublicKeys, replace: bool) -> bool: ...
    def move(self, minion_id: str, to_state: str, from_states: tuple[str, ...]) -> bool: ...
    def delete(self, minion_id: str) -> bool: ...
    def stamp(self, minion_id: str) -> Hashable | None: ...
    async def wait_changed(self, timeout: float) -> None: ...
    def close(self) -> None: ...


class FileKeys:
    """Key states as files: ``pki_dir/<state>/<id>``; a move is a rename."""

    def __init__(self, pki_dir: Path) -> None:
        self.pki_dir = pki_dir
        ensure_private_dir(self.pki_dir)
        for state in STATES:
            ensure_private_dir(self.pki_dir / state)
        self._watch = {state: _DirWatch(self.pki_dir / state) for state in STATES}

    def _path(self, state: str, minion_id: str) -> Path:
        return self.pki_dir / state / minion_id

    def ids(self, state: str) -> AbstractSet[str]:
        return self._watch[state].current()

    def list(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for state in STATES:
            names = (p.name for p in (self.pki_dir / state).iterdir() if p.is_file())
            out[state] = sorted(n for n in names if not n.startswith("."))
        return out

    def state_of(self, minion_id: str) -> str | None:
        for state in STATES:
            if self._path(state, minion_id).is_file():
                return state
        return None

    def read(self, state: str, minion_id: str) -> PublicKeys | None:
        path = self._path(state, minion_id)
        try:
            return PublicKeys.loads(path.read_text())
        except FileNotFoundError:
            return None
        except (OSError, CryptoError) as exc:
            log.error("%s: unreadable key file: %s", path, exc)
            return None

    def add(self, state: str, minion_id: str, keys: PublicKeys, replace: bool) -> bool:
        # One writer per pki dir (the master): `replace` needs no lock here.
        before = self._watch[state].stamp_now()
        write_private(self._path(state, minion_id), keys.dumps().encode())
        self._watch[state].added(minion_id, before)
        return True

    def move(self, minion_id: str, to_state: str, from_states: tuple[str, ...]) -> bool:
        for state in from_states:
            src = self._path(state, minion_id)
            if src.is_file():
                os.replace(src, self._path(to_state, minion_id))
                return True
        return False

    def delete(self, minion_id: str) -> bool:
        removed = False
        for state in STATES:
            path = self._path(state, minion_id)
            if path.is_file():
                path.unlink()
                removed = True
        return removed

    def stamp(self, minion_id: str) -> Hashable | None:
        try:
            st = os.stat(self._path("accepted", minion_id))
        except OSError:
            return None
        return (st.st_ino, st.st_mtime_ns)

    async def wait_changed(self, timeout: float) -> None:
        import asyncio  # here: the key commands do not need it

        # Directories are compared by mtime on each look: nothing wakes us early.
        await asyncio.sleep(timeout)

    def close(self) -> None:
        return None


class KeyStore:
    """Read and change minion key states, with the same rules whatever keeps them.

    The keys live in the pki files unless a `backend` (the cluster store) is given.
    """

    def __init__(self, pki_dir: Path, max_pending: int | None = None,
                 backend: KeyBackend | None = None) -> None:
        self.pki_dir = Path(pki_dir)
        self.max_pending = max_pending
        self.backend: KeyBackend = backend if backend is not None else FileKeys(self.pki_dir)

    def list(self) -> dict[str, list[str]]:
        """Every known id by state, sorted."""
        return self.backend.list()

    def ids(self, state: str) -> AbstractSet[str]:
        """The ids in `state`, from a listing made again only when it changed."""
        return self.backend.ids(state)

    def state_of(self, minion_id: str) -> str | None:
        """The first state holding a key for `minion_id` (accepted first), or None."""
        return self.backend.state_of(check_minion_id(minion_id))

    def read(self, state: str, minion_id: str) -> PublicKeys | None:
        """The stored keys of `minion_id` in `state`, or None."""
        return self.backend.read(state, check_minion_id(minion_id))

    def accepted(self, minion_id: str) -> PublicKeys | None:
        return self.read("accepted", minion_id)

    def stamp(self, minion_id: str) -> Hashable | None:
        """Something that changes when `minion_id`'s accepted key does; None if none."""
        return self.backend.stamp(check_minion_id(minion_id))

    async def changed(self, timeout: float) -> None:
        """Wait until the keys may have changed elsewhere, or `timeout` seconds."""
        await self.backend.wait_changed(timeout)

    def close(self) -> None:
        self.backend.close()

    def register(self, minion_id: str, keys: PublicKeys, auto_accept: bool) -> str:
        """Record an auth attempt and return the minion's state.

        A known id presenting a different key is *denied* (and that key kept
        in ``denied`` for the operator to inspect); the stored key is left
        alone.
        """
        check_minion_id(minion_id)
        for _ in range(3):  # another master may record the same new id meanwhile
            state = self.backend.state_of(minion_id)
            if state is not None:
                return self._known(minion_id, keys, state)
            new_state = "accepted" if auto_accept else "pending"
            if (new_state == "pending" and self.max_pending is not None
                    and len(self.backend.ids("pending")) >= self.max_pending):
                raise TooManyPending(
                    f"{self.max_pending} keys are pending already (max_pending_keys)")
            if self.backend.add(new_state, minion_id, keys, replace=False):
                log.info("minion %s key is %s (fingerprint %s)", minion_id, new_state,
                         keys.fingerprint())
                return new_state
        return self._known(minion_id, keys, self.backend.state_of(minion_id) or "denied")

    def _known(self, minion_id: str, keys: PublicKeys, state: str) -> str:
        if state == "denied":
            return "denied"
        if self.backend.read(state, minion_id) == keys:
            return state
        self.backend.add("denied", minion_id, keys, replace=True)
        log.warning("minion %s presented a different key than its %s one: denied",
                    minion_id, state)
        return "denied"

    def admit(self, minion_id: str, keys: PublicKeys) -> str:
        """Accept `keys` for `minion_id` unless the id is known with other keys.

        Used for a valid join token: a new or pending key becomes accepted;
        rejected, denied or different keys keep their state.
        """
        state = self.register(minion_id, keys, auto_accept=True)
        if state == "pending":
            self.move(minion_id, "accepted", ("pending",))
            return "accepted"
        return state

    def move(self, minion_id: str, to_state: str, from_states: tuple[str, ...]) -> bool:
        """Move a key from one of `from_states` to `to_state`; False if none held it."""
        return self.backend.move(check_minion_id(minion_id), to_state, from_states)

    def delete(self, minion_id: str) -> bool:
        """Forget every key stored under `minion_id`."""
        return self.backend.delete(check_minion_id(minion_id))

    def fingerprints(self) -> dict[str, dict[str, str]]:
        """Fingerprint of each stored key, by state and id."""
        out: dict[str, dict[str, str]] = {}
        for state, ids in self.list().items():
            out[state] = {}
            for minion_id in ids:
                keys = self.read(state, minion_id)
                out[state][minion_id] = keys.fingerprint() if keys else "(unreadable)"
        return out


def autosign_allows(autosign_file: str | None, minion_id: str) -> bool:
    """True if `minion_id` matches an id or glob line of the autosign file."""
    if not autosign_file:
        return False
    try:
        lines = Path(autosign_file).read_text().splitlines()
    except OSError as exc:
        log.error("autosign_file %s unreadable: %s", autosign_file, exc)
        return False
    for line in lines:
        pattern = line.strip()
        if pattern and not pattern.startswith("#") and fnmatch.fnmatchcase(minion_id, pattern):
            return True
    return False
