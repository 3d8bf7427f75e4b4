"""The roster: which hosts `master ssh` reaches and how to log in.

Salt's format: a YAML mapping of roster id to options. Ids are names of
our own choosing; several may point at the same host and port.

    web1:
      host: 192.168.1.10     # default: the id itself
      port: 22
      user: deploy           # default: root, as in Salt
      priv: ~/.ssh/id_ed25519
      sudo: true
      minion_opts: {log_level: debug}
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from common.ids import InvalidId, check_minion_id

log = logging.getLogger(__name__)

DEFAULT_PORT = 22
DEFAULT_USER = "root"
DEFAULT_TIMEOUT = 10.0
KNOWN_KEYS = frozenset({"host", "port", "user", "passwd", "priv", "priv_passwd", "sudo",
                        "sudo_user", "tty", "timeout", "minion_opts"})
# Salt roster keys that mean something to salt-ssh but nothing here yet.
SALT_ONLY_KEYS = frozenset({"thin_dir", "cmd_umask", "ssh_options", "set_path",
                            "ssh_pre_flight", "ssh_pre_flight_args", "identities_only"})


class RosterError(Exception):
    """The roster cannot be used; the message names the file and the entry."""


@dataclasses.dataclass(frozen=True)
class Entry:
    """How to reach one roster id."""

    id: str
    host: str
    port: int = DEFAULT_PORT
    user: str = DEFAULT_USER
    passwd: str | None = None
    priv: str | None = None
    priv_passwd: str | None = None
    sudo: bool = False
    sudo_user: str | None = None
    tty: bool = False
    timeout: float = DEFAULT_TIMEOUT
    minion_opts: Mapping[str, Any] = dataclasses.field(default_factory=dict)


def default_path(config_dir: str | Path) -> Path:
    """Where the roster is when `--roster-file` does not say: `roster` in the config dir."""
    return Path(config_dir) / "roster"


def load(path: str | Path) -> dict[str, Entry]:
    """Read and check a roster file; RosterError says what is wrong in one line."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise RosterError(f"{path}: roster file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise RosterError(f"{path}: cannot read the roster: {exc}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark is not None else ""
        raise RosterError(f"{path}: not valid YAML{where}") from None
    return parse(data, str(path), base=path.parent)


def parse(data: Any, source: str = "roster", base: Path | None = None) -> dict[str, Entry]:
    """Check roster data (already read from YAML) and return id -> Entry.

    Unknown keys are logged as warnings, not refused, as Salt keeps them.
    `base` is where a relative `priv` path is taken from.
    """
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise RosterError(f"{source}: expected a mapping of id: options")
    return {str(rid): entry(rid, opts, source, base) for rid, opts in data.items()}


def entry(rid: Any, opts: Any, source: str, base: Path | None = None) -> Entry:
    """One roster entry, checked."""
    try:
        check_minion_id(rid)
    except InvalidId as exc:
        raise RosterError(f"{source}: {exc}") from None
    where = f"{source}: {rid}"
    if opts is None:
        opts = {}
    if not isinstance(opts, dict):
        raise RosterError(f"{where}: expected a mapping of options (host, port, user, ...)")
    for key in opts:
        if key in SALT_ONLY_KEYS:
            log.warning("%s: %r is a salt-ssh option saline does not use; ignored", where, key)
        elif key not in KNOWN_KEYS:
            log.warning("%s: unknown roster key %r; ignored", where, key)
    return Entry(
        id=rid,
        host=_text(opts, "host", where) or rid,
        port=_port(opts.get("port", DEFAULT_PORT), where),
        user=_text(opts, "user", where) or DEFAULT_USER,
        passwd=_text(opts, "passwd", where),
        priv=_priv(_text(opts, "priv", where), base),
        priv_passwd=_text(opts, "priv_passwd", where),
        sudo=_flag(opts, "sudo", where),
        sudo_user=_text(opts, "sudo_user", where),
        tty=_flag(opts, "tty", where),
        timeout=_timeout(opts.get("timeout", DEFAULT_TIMEOUT), where),
        minion_opts=_mapping(opts, "minion_opts", where),
    )


def _text(opts: Mapping[str, Any], key: str, where: str) -> str | None:
    value = opts.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise RosterError(f"{where}: {key} must be a string")
    return str(value)


def _port(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < 65536:
        raise RosterError(f"{where}: port must be a number from 1 to 65535, not {value!r}")
    return value


def _flag(opts: Mapping[str, Any], key: str, where: str) -> bool:
    value = opts.get(key, False)
    if not isinstance(value, bool):
        raise RosterError(f"{where}: {key} must be true or false, not {value!r}")
    return value


def _timeout(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise RosterError(f"{where}: timeout must be a positive number of seconds, "
                          f"not {value!r}")
    return float(value)


def _mapping(opts: Mapping[str, Any], key: str, where: str) -> dict[str, Any]:
    value = opts.get(key) or {}
    if not isinstance(value, dict):
        raise RosterError(f"{where}: {key} must be a mapping")
    return dict(value)


def _priv(value: str | None, base: Path | None) -> str | None:
    """A key file path: ~ expanded, relative to the roster's directory."""
    if value is None or value == "agent-forwarding":
        return None  # Salt's word for "use the agent", which is what no priv does here
    path = Path(value).expanduser()
    if not path.is_absolute() and base is not None:
        path = base / path
    return str(path)
