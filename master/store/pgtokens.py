"""Join tokens in the cluster store: any master can redeem a token made on another.

The rules are master/tokens.py's; redeeming takes the row with FOR UPDATE,
so two masters cannot both spend a token's last use.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from master.store.pglink import PgLink, StoreError
from master.tokens import TokenError, TokenStore, digest, listed, new_secret, refusal, token_text

COLUMNS = "id, hash, created, expires, uses, used, match"
MAX_TOKENS = 10_000


def _info(row: tuple[Any, ...]) -> dict[str, Any]:
    return dict(zip(("hash", "created", "expires", "uses", "used", "match"), row[1:],
                    strict=True))


class PgTokens(TokenStore):
    """The token store on PostgreSQL, with TokenStore's methods and answers."""

    def __init__(self, link: PgLink, pki_dir: Path) -> None:
        super().__init__(pki_dir)
        self.link = link

    def create(self, master_fingerprint: str, ttl: int, uses: int | None, match: str) -> str:
        if uses is not None and uses <= 0:
            raise TokenError("--uses must be at least 1")
        token_id, secret = new_secret()
        now = time.time()
        self._do("INSERT INTO saline_tokens (id, hash, created, expires, uses, used, match)"
                 " VALUES (%s, %s, %s, %s, %s, 0, %s)",
                 (token_id, digest(secret), now, now + ttl, uses, match))
        return token_text(token_id, secret, master_fingerprint)

    def list(self) -> dict[str, dict[str, Any]]:
        now = time.time()
        rows = self._do(f"SELECT {COLUMNS} FROM saline_tokens ORDER BY id LIMIT %s",
                        (MAX_TOKENS,))
        return {row[0]: listed(_info(row), now) for row in rows}

    def revoke(self, token_id: str) -> bool:
        try:
            return self.link.count("DELETE FROM saline_tokens WHERE id = %s", (token_id,)) > 0
        except StoreError as exc:
            raise TokenError(str(exc)) from None

    def redeem(self, presented: str, minion_id: str) -> str | None:
        token_id, _, secret = presented.partition(".")
        try:
            with self.link.transaction() as conn:
                row = conn.execute(f"SELECT {COLUMNS} FROM saline_tokens WHERE id = %s"
                                   " FOR UPDATE", (token_id,)).fetchone()
                why = refusal(_info(row) if row else None, secret, minion_id)
                if why is None:
                    conn.execute("UPDATE saline_tokens SET used = used + 1 WHERE id = %s",
                                 (token_id,))
                return why
        except StoreError as exc:
            raise TokenError(str(exc)) from None

    def _do(self, sql: str, params: tuple[Any, ...]) -> Sequence[tuple[Any, ...]]:
        try:
            return self.link.rows(sql, params)
        except StoreError as exc:
            raise TokenError(str(exc)) from None
