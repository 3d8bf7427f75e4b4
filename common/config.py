"""Loading the `master` and `minion` YAML config files.

The config dir comes from ``-c DIR``, else ``$SALINE_CONFIG_DIR``, else
``/etc/saline``. ``root_dir`` defaults to the config dir, and every path
option that is relative is taken relative to ``root_dir``, so a whole master
or minion can live in one directory owned by a normal user.
"""

from __future__ import annotations

import difflib
import logging
import os
import re
import socket
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from common import masterlist

log = logging.getLogger(__name__)

DEFAULT_CONFIG_DIR = "/etc/saline"
PATH_KEYS = ("pki_dir", "cachedir", "sock_dir", "log_file", "autosign_file")
ROOT_KEYS = ("file_roots", "pillar_roots")

# Each default's type is the type the option must have; None means "str or
# unset". Lists of roots are checked per environment when they are used.
MASTER_DEFAULTS: dict[str, Any] = {
    "interface": "0.0.0.0",
    "publish_port": 4505,
    "ret_port": 4506,
    "root_dir": None,
    "pki_dir": "pki",
    "cachedir": "cache",
    "sock_dir": "run",
    "log_file": "log/master.log",
    "log_level": "info",
    "log_format": "text",
    "file_roots": {"base": ["formulas"]},
    "pillar_roots": {"base": ["pillar"]},
    "auto_accept": False,
    "autosign_file": None,
    "nodegroups": {},
    "timeout": 5,
    "keep_jobs": 24,
    "max_pending_keys": 10_000,
    "user": None,
    "max_msg_size": 64 * 1024 * 1024,
    "heartbeat_interval": 5,
    "ext_pillar": [],
    "metrics_port": 0,  # Prometheus /metrics on `interface`; 0: off
    # postgresql://user:password@host/db: keys, tokens and jobs shared by
    # several masters (docs/cluster.md); empty: pki files and SQLite.
    "cluster_store": "",
}

MINION_DEFAULTS: dict[str, Any] = {
    "id": None,
    "master": "salt",  # or a list: several masters (common/masterlist.py)
    "master_port": 4506,
    # With several masters: "str" uses all at once, "failover" one at a time
    # in list order, checked every master_alive_interval seconds.
    "master_type": "str",
    "master_alive_interval": 10,
    "publish_port": 4505,
    "root_dir": None,
    "pki_dir": "pki",
    "cachedir": "cache",
    "sock_dir": "run",
    "log_file": "log/minion.log",
    "log_level": "info",
    "log_format": "text",
    "file_client": "remote",
    "file_roots": {"base": ["formulas"]},
    "pillar_roots": {"base": ["pillar"]},
    "grains": {},
    "master_finger": None,
    "join_token": None,
    "acceptance_wait_time": 10,
    # Salt's option: after a master restart or a session rotation every
    # minion re-authenticates; each waits a random 0..N s so they do not all
    # arrive at once (an auth storm with thousands of minions).
    "random_reauth_delay": 3,
    "auth_timeout": 5,
    "heartbeat_interval": 5,
    "max_msg_size": 64 * 1024 * 1024,
    "worker_threads": 8,
    "user": None,
    "test": False,
    "failhard": False,
    "hosts_file": "/etc/hosts",
    "aliases.file": "/etc/aliases",
}

DEFAULTS = {"master": MASTER_DEFAULTS, "minion": MINION_DEFAULTS}
# `module.setting` keys: a module name, a dot, a setting name (may hold more dots).
_MODULE_SETTING = re.compile(r"^[a-z][a-z0-9_]*\.[A-Za-z0-9_.:-]+$")
LOG_LEVELS = ("debug", "info", "warning", "error", "critical", "quiet")


class ConfigError(Exception):
    """A config file is missing, unreadable, malformed or has a bad value."""


def config_dir(cli_value: str | None) -> Path:
    """Where the config files are: ``-c``, then $SALINE_CONFIG_DIR, then /etc/saline."""
    return Path(cli_value or os.environ.get("SALINE_CONFIG_DIR") or DEFAULT_CONFIG_DIR)


def load(kind: str, cdir: Path, overrides: Mapping[str, Any] | None = None,
         missing_ok: bool = False) -> dict[str, Any]:
    """Read ``cdir/kind``, check it against the defaults and resolve paths.

    With `missing_ok`, no file at all means the defaults (as Salt starts
    without one); a file that is there must still be good. Raises ConfigError
    with one line naming the file (and line for YAML errors) for anything a
    user must fix.
    """
    path = cdir / kind
    raw = {} if missing_ok and not path.exists() else read_yaml_file(path)
    raw.update(overrides or {})
    opts = dict(DEFAULTS[kind])
    for key, value in raw.items():
        if key not in opts:
            # Options saline does not use are kept, as Salt keeps them: formulas
            # read their own keys with config.get, modules their settings
            # (``postgres.host``). A near miss of a known option is a typo.
            if not isinstance(key, str):
                log.warning("%s: option %r is not a name; ignored", path, key)
                continue
            near = difflib.get_close_matches(key, DEFAULTS[kind], n=1, cutoff=0.85)
            if near and not _MODULE_SETTING.match(key):
                log.warning("%s: unknown option %r (did you mean %r?)", path, key, near[0])
            opts[key] = value
            continue
        opts[key] = _check_type(path, key, value, DEFAULTS[kind][key])
    if opts["log_level"] not in LOG_LEVELS:
        raise ConfigError(f"{path}: log_level must be one of {', '.join(LOG_LEVELS)}")
    if opts["log_format"] not in ("text", "json"):
        raise ConfigError(f"{path}: log_format must be text or json")
    opts["config_dir"] = str(cdir.resolve())
    opts["conf_file"] = str(path.resolve())
    root = Path(opts["root_dir"] or cdir)
    if not root.is_absolute():
        root = cdir.resolve() / (opts["root_dir"] or "")
    opts["root_dir"] = str(root.resolve())
    for key in PATH_KEYS:
        if opts.get(key):
            opts[key] = str(Path(opts["root_dir"], opts[key]))
    for key in ROOT_KEYS:
        opts[key] = _roots(path, key, opts[key], opts["root_dir"])
    if kind == "minion":
        opts["id"] = opts["id"] or socket.gethostname()
    for port in ("publish_port", "ret_port", "master_port"):
        if port in opts and not 0 < opts[port] < 65536:
            raise ConfigError(f"{path}: {port} must be between 1 and 65535, not {opts[port]}")
    if kind == "master":
        _check_metrics_port(path, opts)
        _check_cluster_store(path, opts)
    else:
        _check_masters(path, opts)
    return opts


def _check_masters(path: Path, opts: dict[str, Any]) -> None:
    try:
        masterlist.parse(opts["master"], opts["master_port"])
    except masterlist.MasterListError as exc:
        raise ConfigError(f"{path}: {exc}") from None
    if opts["master_type"] not in ("str", "failover"):
        raise ConfigError(f"{path}: master_type must be str or failover, "
                          f"not {opts['master_type']!r}")
    if opts["master_alive_interval"] < 1:
        raise ConfigError(f"{path}: master_alive_interval must be at least 1 (seconds)")


def _check_metrics_port(path: Path, opts: dict[str, Any]) -> None:
    port = opts["metrics_port"]
    if not 0 <= port < 65536:
        raise ConfigError(f"{path}: metrics_port must be between 1 and 65535 (0: off), not {port}")
    if port and port in (opts["publish_port"], opts["ret_port"]):
        raise ConfigError(f"{path}: metrics_port {port} is also publish_port or ret_port")


def _check_cluster_store(path: Path, opts: dict[str, Any]) -> None:
    dsn = opts["cluster_store"]
    if dsn and not re.match(r"postgres(ql)?://[^\s]+\Z", dsn):
        raise ConfigError(f"{path}: cluster_store must be a postgresql:// URL "
                          "(postgresql://user:password@host:5432/dbname), or empty")


def _roots(path: Path, key: str, value: dict[str, Any], root_dir: str) -> dict[str, list[str]]:
    """Check ``{env: [dir, ...]}`` and make each dir absolute (relative to root_dir)."""
    out: dict[str, list[str]] = {}
    for env, dirs in value.items():
        if isinstance(dirs, str):
            dirs = [dirs]
        if not isinstance(dirs, list) or not all(isinstance(d, str) for d in dirs):
            raise ConfigError(f"{path}: {key}: {env} must be a list of directories")
        if not isinstance(env, str) or not env or "/" in env or env.startswith("."):
            raise ConfigError(f"{path}: {key}: bad environment name {env!r}")
        out[env] = [str(Path(root_dir, d)) for d in dirs]
    return out


def read_yaml_file(path: Path) -> dict[str, Any]:
    """Parse a YAML mapping file; an empty file is an empty mapping."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: config file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read config file: {_reason(exc)}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: {_yaml_reason(exc)}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping of option: value, got {_tname(data)}")
    return data


def _check_type(path: Path, key: str, value: Any, default: Any) -> Any:
    if default is None:
        if value is None or isinstance(value, str):
            return value
        if key == "id" and isinstance(value, int | float):
            return str(value)
        raise ConfigError(f"{path}: {key} must be a string, not {_tname(value)}")
    if key == "master" and isinstance(value, list):
        return value  # several masters; checked by _check_masters
    want = type(default)
    # YAML gives ints for `timeout: 5` where a float is fine, and bools are
    # ints to Python: refuse `publish_port: true`.
    if want is int and isinstance(value, bool):
        raise ConfigError(f"{path}: {key} must be an integer, not a boolean")
    if want is int and isinstance(value, float) and key in ("timeout", "random_reauth_delay"):
        return value
    if not isinstance(value, want):
        raise ConfigError(f"{path}: {key} must be {_article(want)}, not {_tname(value)}")
    return value


def _article(t: type) -> str:
    return {
        int: "an integer",
        bool: "a boolean (true or false)",
        dict: "a mapping",
        list: "a list",
        str: "a string",
    }.get(t, t.__name__)


def _tname(value: Any) -> str:
    return {
        bool: "a boolean",
        int: "an integer",
        float: "a number",
        str: "a string",
        list: "a list",
        dict: "a mapping",
        type(None): "empty",
    }.get(type(value), type(value).__name__)


def _yaml_reason(exc: yaml.YAMLError) -> str:
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    if mark is not None:
        return f"line {mark.line + 1}, column {mark.column + 1}: YAML error: {problem}"
    return f"YAML error: {problem}"


def _reason(exc: BaseException) -> str:
    return getattr(exc, "strerror", None) or str(exc)
