"""Join tokens: let a minion in without a manual `key accept`, within limits.

A token is ``<id>.<secret>.<master fingerprint>``. The master keeps only the
sha256 of the secret, with an expiry, a number of uses and an id glob, in
``pki_dir/tokens.json`` (0600). The minion sends ``<id>.<secret>`` sealed to
the master's key (never in clear), and only after checking that the master
it talks to has the fingerprint the token names; it pins that master.
"""

from __future__ import annotations

import base64
import datetime
import fnmatch
import hashlib
import hmac
import json
import re
import secrets
import time
from pathlib import Path
from typing import Any

from common.crypto import write_private

_TTL_RE = re.compile(r"(\d+)\s*([smhdw]?)\Z")
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


class TokenError(ValueError):
    """A token option or token text that cannot be used."""


def parse_ttl(text: str) -> int:
    """Seconds from ``90``, ``30m``, ``1h``, ``2d``, ``1w``."""
    match = _TTL_RE.match(text.strip().lower())
    if not match or int(match.group(1)) <= 0:
        raise TokenError(f"bad --ttl {text!r}: use a number with s, m, h, d or w (e.g. 1h)")
    return int(match.group(1)) * _UNITS[match.group(2)]


def split_token(token: str) -> tuple[str, str, str]:
    """(id, secret, master fingerprint hex) of a token's text."""
    parts = token.strip().split(".")
    if len(parts) != 3 or not all(parts) or len(parts[2]) != 64:
        raise TokenError("not a saline join token")
    return parts[0], parts[1], parts[2]


def digest(secret: str) -> str:
    """The form a token's secret is kept in: its sha256, hex."""
    return hashlib.sha256(secret.encode()).hexdigest()


class TokenStore:
    """Join tokens in ``pki_dir/tokens.json`` (master/store/pgtokens.py: in the store)."""

    def __init__(self, pki_dir: Path) -> None:
        self.path = Path(pki_dir) / "tokens.json"

    def _load(self) -> dict[str, dict[str, Any]]:
        try:
            data = json.loads(self.path.read_text())
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as exc:
            raise TokenError(f"{self.path}: unreadable token store: {exc}") from None
        return data if isinstance(data, dict) else {}

    def _save(self, data: dict[str, dict[str, Any]]) -> None:
        write_private(self.path, json.dumps(data, indent=1, sort_keys=True).encode())

    def create(self, master_fingerprint: str, ttl: int, uses: int | None,
               match: str) -> str:
        """Make a token and return its text (shown once; only its hash is kept)."""
        if uses is not None and uses <= 0:
            raise TokenError("--uses must be at least 1")
        token_id, secret = new_secret()
        data = self._load()
        now = time.time()
        data[token_id] = {"hash": digest(secret), "created": now, "expires": now + ttl,
                          "uses": uses, "used": 0, "match": match}
        self._save(data)
        return token_text(token_id, secret, master_fingerprint)

    def list(self) -> dict[str, dict[str, Any]]:
        """Every token (without its hash), with whether it can still be used."""
        now = time.time()
        return {token_id: listed(info, now) for token_id, info in sorted(self._load().items())}

    def revoke(self, token_id: str) -> bool:
        data = self._load()
        if data.pop(token_id, None) is None:
            return False
        self._save(data)
        return True

    def redeem(self, presented: str, minion_id: str) -> str | None:
        """Use up one use of the token if it admits `minion_id`; None if it does,
        else the reason it does not."""
        token_id, _, secret = presented.partition(".")
        data = self._load()
        info = data.get(token_id)
        why = refusal(info, secret, minion_id)
        if why is not None or info is None:
            return why or "unknown token"
        info["used"] = info.get("used", 0) + 1
        self._save(data)
        return None


def new_secret() -> tuple[str, str]:
    """A fresh (token id, secret)."""
    return (secrets.token_hex(4),
            base64.urlsafe_b64encode(secrets.token_bytes(24)).decode().rstrip("="))


def token_text(token_id: str, secret: str, master_fingerprint: str) -> str:
    """The text handed to minions: ``<id>.<secret>.<master fingerprint hex>``."""
    return f"{token_id}.{secret}.{master_fingerprint.replace(':', '')}"


def listed(info: dict[str, Any], now: float) -> dict[str, Any]:
    """What `list` shows of one stored token: no hash, its uses left, whether valid."""
    left = None if info.get("uses") is None else info["uses"] - info.get("used", 0)
    return {
        "match": info.get("match", "*"), "expires": info.get("expires"),
        "uses": info.get("uses"), "uses_left": left,
        "valid": info.get("expires", 0) > now and (left is None or left > 0),
    }


def refusal(info: dict[str, Any] | None, secret: str, minion_id: str) -> str | None:
    """Why the stored token `info` does not admit `minion_id` with `secret`; None if it does."""
    if info is None or not hmac.compare_digest(info.get("hash") or "", digest(secret)):
        return "unknown token"
    if info.get("expires", 0) <= time.time():
        return "token expired"
    if info.get("uses") is not None and info.get("used", 0) >= info["uses"]:
        return "token used up"
    if not fnmatch.fnmatchcase(minion_id, info.get("match") or "*"):
        return f"token does not admit id {minion_id!r}"
    return None


def iso_utc(epoch: float | None) -> str | None:
    """``2026-12-06T09:12:03Z`` for scripts (--out json or yaml)."""
    if not isinstance(epoch, int | float):
        return None
    when = datetime.datetime.fromtimestamp(epoch, datetime.UTC)
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def describe(info: dict[str, Any], now: float | None = None) -> str:
    """One line for people: the ids it admits, the uses left and when it expires,
    e.g. ``ids 'web*', 2 of 3 uses left, expires 2026-12-06 09:12 UTC (in 59 min)``."""
    now = time.time() if now is None else now
    if info.get("uses") is None:
        uses = "any number of uses"
    else:
        uses = f"{info.get('uses_left')} of {info['uses']} uses left"
    expires = info.get("expires")
    if not isinstance(expires, int | float):
        when = "no expiry recorded"
    else:
        stamp = datetime.datetime.fromtimestamp(expires, datetime.UTC).strftime(
            "%Y-%m-%d %H:%M UTC")
        left = expires - now
        when = (f"expires {stamp} (in {_span(left)})" if left > 0
                else f"expired {stamp} ({_span(-left)} ago)")
    return f"ids {info.get('match', '*')!r}, {uses}, {when}"


def _span(seconds: float) -> str:
    """``42 s``, ``59 min``, ``2 h 5 min``, ``3 d 4 h`` (to the nearest minute past 1 min)."""
    if seconds < 59.5:
        return f"{round(seconds)} s"
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"{minutes} min"
    if minutes < 24 * 60:
        hours, mins = divmod(minutes, 60)
        return f"{hours} h {mins} min" if mins else f"{hours} h"
    days, hours = divmod(round(minutes / 60), 24)
    return f"{days} d {hours} h" if hours else f"{days} d"
