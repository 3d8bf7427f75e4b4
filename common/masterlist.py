"""The minion's `master` option: one master, or a list of them (Salt's multi-master).

Each entry is `host` or `host:port` (`[v6addr]:port` for IPv6 with a
port); without a port the minion's `master_port` applies.
"""

from __future__ import annotations

import re

MAX_MASTERS = 32
_HOST = re.compile(r"^[A-Za-z0-9._-]{1,253}$")


class MasterListError(ValueError):
    """The `master` option is not a host, `host:port`, or a list of those."""


def parse(value: object, default_port: int) -> list[tuple[str, int]]:
    """The (host, port) of each master `value` names, in order, without repeats."""
    entries = value if isinstance(value, list) else [value]
    if not entries:
        raise MasterListError("master: the list of masters is empty")
    if len(entries) > MAX_MASTERS:
        raise MasterListError(f"master: at most {MAX_MASTERS} masters, not {len(entries)}")
    out: list[tuple[str, int]] = []
    for entry in entries:
        address = _one(entry, default_port)
        if address not in out:
            out.append(address)
    return out


def _one(entry: object, default_port: int) -> tuple[str, int]:
    if not isinstance(entry, str) or not entry.strip():
        raise MasterListError(f"master: each master must be a host name or host:port, "
                              f"not {entry!r}")
    text = entry.strip()
    host, port = text, default_port
    bracketed = re.match(r"^\[([0-9A-Fa-f:.]+)\](?::(\d+))?$", text)
    if bracketed:
        host = bracketed.group(1)
        port = int(bracketed.group(2) or default_port)
    elif text.count(":") == 1:
        host, _, digits = text.partition(":")
        if not digits.isdigit():
            raise MasterListError(f"master: bad port in {text!r}")
        port = int(digits)
    elif ":" in text:
        host = text  # a bare IPv6 address
    elif not _HOST.match(text):
        raise MasterListError(f"master: {text!r} is not a host name or address")
    if not 0 < port < 65536:
        raise MasterListError(f"master: port {port} in {text!r} is not between 1 and 65535")
    return host, port
