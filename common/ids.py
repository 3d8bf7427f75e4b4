"""Minion ids and job ids.

A minion id becomes a file name in the master's key store, so it is checked
before it touches a path: no separators, no NUL or control characters, no
leading dot or dash, bounded length.
"""

from __future__ import annotations

import datetime
import re
import threading

# NAME_MAX on Linux: the id is the whole key file name (temp names are cut to
# fit, see common.atomic), so an id that passes here can always be stored.
MAX_ID_LENGTH = 255
_ID_RE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._@+\-]*\Z")


class InvalidId(ValueError):
    """A minion id that cannot be used."""


def check_minion_id(value: object) -> str:
    """Return `value` if it is a valid minion id, else raise InvalidId saying why."""
    if not isinstance(value, str):
        raise InvalidId("minion id must be a string")
    if not value:
        raise InvalidId("minion id is empty")
    if len(value) > MAX_ID_LENGTH:
        raise InvalidId(f"minion id is longer than {MAX_ID_LENGTH} characters")
    if not _ID_RE.match(value):
        shown = value.encode("unicode_escape").decode()[:60]
        raise InvalidId(
            f"minion id {shown!r} may only hold letters, digits and . _ @ + -, "
            "and must not start with . or -"
        )
    return value


_jid_lock = threading.Lock()
_last_jid = ""


def new_jid() -> str:
    """A sortable job id ``YYYYmmddHHMMSSffffff`` (UTC), unique in this process."""
    global _last_jid
    with _jid_lock:
        now = datetime.datetime.now(datetime.UTC)
        jid = now.strftime("%Y%m%d%H%M%S%f")
        if jid <= _last_jid:
            jid = str(int(_last_jid) + 1)
        _last_jid = jid
        return jid
