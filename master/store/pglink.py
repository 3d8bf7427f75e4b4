"""One connection to the cluster store: PostgreSQL through psycopg 3.

Every statement goes through `PgLink.rows` or `PgLink.transaction`, which
turn the driver's errors into two of ours: `StoreDown` when the server
cannot be reached (the caller may queue the write and try again later) and
`StoreError` for anything else. A dropped connection is opened again on the
next use, at most once every `RETRY_SECONDS`, so a store that is gone costs
one failed connect per interval, not one per request.
"""

from __future__ import annotations

import contextlib
import re
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import psycopg

from master.store.errors import StoreDown, StoreError

__all__ = ["PgLink", "StoreDown", "StoreError", "redact"]

RETRY_SECONDS = 2.0
# libpq options that bound how long a lost server can hold a call: the
# connect, then TCP keepalives and the kernel's retransmissions.
CONNECT_OPTIONS: dict[str, Any] = {
    "connect_timeout": 3, "keepalives": 1, "keepalives_idle": 5, "keepalives_interval": 2,
    "keepalives_count": 2, "tcp_user_timeout": 5000, "application_name": "saline-master",
}


def redact(dsn: str) -> str:
    """`dsn` with its password hidden, for messages and logs."""
    dsn = re.sub(r"(://[^:/@]*:)[^@]*@", r"\1***@", dsn)
    return re.sub(r"(password\s*=\s*)\S+", r"\1***", dsn)


class PgLink:
    """A connection to `dsn`, opened on first use and again after it is lost."""

    def __init__(self, dsn: str, reachable: Callable[[], bool] | None = None) -> None:
        self.dsn = dsn
        # Once the store was lost, reconnect only when this says it is back (the
        # listener's own connection): a connect to a cut network would hold the
        # daemon's event loop for the whole connect_timeout.
        self.reachable = reachable
        self._conn: psycopg.Connection[Any] | None = None
        self._next_try = 0.0
        self.down_since: float | None = None

    def connect(self) -> psycopg.Connection[Any]:
        """A new autocommit connection (the listener opens its own)."""
        try:
            return psycopg.connect(self.dsn, autocommit=True, **CONNECT_OPTIONS)
        except psycopg.Error as exc:
            raise StoreDown(f"cluster store {redact(self.dsn)} unreachable: "
                            f"{_first_line(exc)}") from None

    def conn(self) -> psycopg.Connection[Any]:
        """The open connection, reconnecting if it was lost (rate-limited)."""
        if self._conn is not None and not self._conn.closed and not self._conn.broken:
            return self._conn
        now = time.monotonic()
        waiting = self.down_since is not None and self.reachable is not None and (
            not self.reachable())
        if now < self._next_try or waiting:
            raise StoreDown(f"cluster store {redact(self.dsn)} unreachable (retrying)")
        self._next_try = now + RETRY_SECONDS
        self._conn = self.connect()
        self.down_since = None
        return self._conn

    @property
    def up(self) -> bool:
        """Whether the last use of the store worked."""
        return self.down_since is None

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Run one statement; its rows (an empty list for a statement without rows)."""
        with self.transaction() as conn:
            cur = conn.execute(sql, params)
            return cur.fetchall() if cur.description is not None else []

    def count(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Run one statement; how many rows it changed."""
        with self.transaction() as conn:
            return conn.execute(sql, params).rowcount

    @contextlib.contextmanager
    def transaction(self) -> Iterator[psycopg.Connection[Any]]:
        """The connection inside one transaction; driver errors become ours."""
        try:
            conn = self.conn()
            with conn.transaction():
                yield conn
        except StoreDown:
            self._mark_down()
            raise
        except (psycopg.OperationalError, psycopg.InterfaceError) as exc:
            self._mark_down()
            if self._conn is not None and not self._conn.broken and not self._conn.closed:
                raise StoreError(f"cluster store: {_first_line(exc)}") from None
            raise StoreDown(f"cluster store {redact(self.dsn)} lost: "
                            f"{_first_line(exc)}") from None
        except psycopg.Error as exc:
            raise StoreError(f"cluster store: {_first_line(exc)}") from None
        else:
            self.down_since = None

    def _mark_down(self) -> None:
        if self.down_since is None:
            self.down_since = time.time()

    def close(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(psycopg.Error):
                self._conn.close()
            self._conn = None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
