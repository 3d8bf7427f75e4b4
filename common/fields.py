"""Field checks for the bodies an accepted minion sends on the request channel.

The box proves who sent a body, not that its fields make sense: each kind's
fields are checked for type and range here, before any handler reads them,
so a bad value is one clear refusal (inside the box) instead of a crash.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from common.codec import ProtocolError

# What SQLite, JSON and the shells reading exit codes all hold.
RETCODE_MIN, RETCODE_MAX = -(2**31), 2**31 - 1
# Offsets and sizes are file positions: a signed 64-bit integer.
POSITION_MAX = 2**63 - 1
JID_MAX = 64
TEXT_MAX = 4096

Check = Callable[[Any], str | None]


def _text(limit: int = TEXT_MAX) -> Check:
    def check(value: Any) -> str | None:
        if not isinstance(value, str):
            return "must be a string"
        return None if len(value) <= limit else f"must be at most {limit} characters"
    return check


def _int(low: int, high: int) -> Check:
    def check(value: Any) -> str | None:
        if not isinstance(value, int) or isinstance(value, bool):
            return "must be an integer"
        return None if low <= value <= high else f"must be between {low} and {high}"
    return check


def _number(value: Any) -> str | None:
    if not isinstance(value, int | float) or isinstance(value, bool):
        return "must be a number"
    return None if math.isfinite(value) and value >= 0 else "must be a finite number >= 0"


def _type(kind: type, name: str) -> Check:
    def check(value: Any) -> str | None:
        return None if isinstance(value, kind) else f"must be a {name}"
    return check


def _str_list(value: Any) -> str | None:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        return "must be a list of strings"
    return None


def _any(value: Any) -> str | None:
    return None


_MAP, _BOOL = _type(dict, "map"), _type(bool, "boolean")


def _position(value: Any) -> str | None:
    problem = _int(0, POSITION_MAX)(value)
    return None if problem is None else f"is a bad offset or size: {problem}"


_POSITION = _position

# kind -> field -> (required, check). Fields not named are ignored.
SCHEMA: dict[str, dict[str, tuple[bool, Check]]] = {
    "hello": {"grains": (False, _MAP), "listen": (False, _BOOL)},
    "hb": {"listen": (False, _BOOL)},
    "bye": {},
    "ack": {"jid": (True, _text(JID_MAX))},
    "ret": {"jid": (True, _text(JID_MAX)), "ret": (True, _MAP)},
    "pillar": {"grains": (False, _MAP), "pillar_override": (False, _MAP)},
    "file_list": {"saltenv": (False, _text()), "prefix": (False, _text()),
                  "dirs": (False, _BOOL), "stat": (False, _BOOL), "inline": (False, _str_list)},
    "file_stat": {"saltenv": (False, _text()), "path": (True, _text())},
    "file_read": {"saltenv": (False, _text()), "path": (True, _text()),
                  "offset": (True, _POSITION), "size": (True, _POSITION)},
    "file_envs": {},
}
# The return inside a `ret` body: what the master stores and shows.
RETURN_SCHEMA: dict[str, tuple[bool, Check]] = {
    "fun": (False, _text()), "return": (False, _any), "retcode": (False, _int(RETCODE_MIN,
                                                                          RETCODE_MAX)),
    "success": (False, _BOOL), "duration": (False, _number),
}


def _check(where: str, body: dict[str, Any], schema: dict[str, tuple[bool, Check]]) -> None:
    for name, (required, check) in schema.items():
        if name not in body or body[name] is None:
            if required:
                raise ProtocolError(f"{where}: field {name!r} missing")
            continue
        problem = check(body[name])
        if problem:
            raise ProtocolError(f"{where}: field {name!r} {problem}")


def check_request(body: dict[str, Any]) -> None:
    """Refuse (ProtocolError) a request body whose fields have a wrong type or range."""
    kind = body.get("kind")
    schema = SCHEMA.get(kind) if isinstance(kind, str) else None
    if schema is None or not isinstance(kind, str):
        raise ProtocolError(f"unknown request kind {str(kind)[:40]!r}")
    _check(kind, body, schema)
    if kind == "ret":
        _check("ret", body["ret"], RETURN_SCHEMA)
