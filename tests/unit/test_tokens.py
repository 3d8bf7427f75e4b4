from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from master.tokens import TokenError, TokenStore, parse_ttl, split_token

FP = "ab" * 32


@pytest.mark.parametrize(("text", "seconds"), [
    ("90", 90), ("30s", 30), ("30m", 1800), ("1h", 3600), ("2d", 172800), ("1w", 604800),
])
def test_ttl(text: str, seconds: int) -> None:
    assert parse_ttl(text) == seconds


@pytest.mark.parametrize("text", ["", "0", "-1h", "1y", "h", "1.5h"])
def test_bad_ttl(text: str) -> None:
    with pytest.raises(TokenError, match="bad --ttl"):
        parse_ttl(text)


def test_create_stores_only_a_hash(tmp_path: Path) -> None:
    store = TokenStore(tmp_path)
    token = store.create("ab:" * 31 + "ab", 3600, 2, "web*")
    token_id, secret, fp = split_token(token)
    assert fp == FP
    raw = (tmp_path / "tokens.json").read_text()
    assert secret not in raw and json.loads(raw)[token_id]["match"] == "web*"
    assert (tmp_path / "tokens.json").stat().st_mode & 0o777 == 0o600


def test_redeem_rules(tmp_path: Path) -> None:
    store = TokenStore(tmp_path)
    token_id, secret, _ = split_token(store.create(FP, 3600, 2, "web*"))
    presented = f"{token_id}.{secret}"
    assert store.redeem(presented, "db1") == "token does not admit id 'db1'"
    assert store.redeem(f"{token_id}.wrong", "web1") == "unknown token"
    assert store.redeem(presented, "web1") is None
    assert store.redeem(presented, "web2") is None
    assert store.redeem(presented, "web3") == "token used up"
    assert store.list()[token_id] == {"match": "web*", "expires": pytest.approx(
        time.time() + 3600, abs=5), "uses": 2, "uses_left": 0, "valid": False}
    assert store.revoke(token_id) and not store.revoke(token_id)
    assert store.redeem(presented, "web1") == "unknown token"


def test_expired(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = TokenStore(tmp_path)
    token_id, secret, _ = split_token(store.create(FP, 60, None, "*"))
    later = time.time() + 61
    monkeypatch.setattr(time, "time", lambda: later)
    assert store.redeem(f"{token_id}.{secret}", "any") == "token expired"


@pytest.mark.parametrize("text", ["", "a.b", "a.b.c", f"a..{FP}", f"a.b.{FP}.d"])
def test_not_a_token(text: str) -> None:
    with pytest.raises(TokenError):
        split_token(text)
