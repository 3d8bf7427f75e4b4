"""Tests for common.config: defaults, paths, and refusing bad files."""

from __future__ import annotations

import logging
import re
import socket
from pathlib import Path
from typing import Any

import pytest

from common import config
from common.config import ConfigError


def _write(cdir: Path, kind: str, text: str) -> Path:
    cdir.mkdir(parents=True, exist_ok=True)
    path = cdir / kind
    path.write_text(text)
    return path


@pytest.mark.parametrize("kind", ["master", "minion"])
def test_empty_file_gives_defaults(tmp_path: Path, kind: str) -> None:
    _write(tmp_path, kind, "")
    opts = config.load(kind, tmp_path)
    for key, value in config.DEFAULTS[kind].items():
        if key not in (*config.PATH_KEYS, *config.ROOT_KEYS, "root_dir", "id"):
            assert opts[key] == value, key
    assert opts["publish_port"] == 4505
    root = tmp_path.resolve()
    assert opts["file_roots"] == {"base": [str(root / "formulas")]}
    assert opts["pillar_roots"] == {"base": [str(root / "pillar")]}
    assert opts["config_dir"] == str(tmp_path.resolve())
    assert opts["conf_file"] == str((tmp_path / kind).resolve())


def test_root_dir_defaults_to_config_dir(tmp_path: Path) -> None:
    _write(tmp_path, "master", "# only a comment\n")
    opts = config.load("master", tmp_path)
    root = tmp_path.resolve()
    assert opts["root_dir"] == str(root)
    assert opts["pki_dir"] == str(root / "pki")
    assert opts["cachedir"] == str(root / "cache")
    assert opts["sock_dir"] == str(root / "run")
    assert opts["log_file"] == str(root / "log" / "master.log")
    assert opts["autosign_file"] is None


def test_relative_config_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _write(tmp_path / "etc", "minion", "id: m1\n")
    monkeypatch.chdir(tmp_path)
    opts = config.load("minion", Path("etc"))
    assert opts["root_dir"] == str((tmp_path / "etc").resolve())
    assert opts["pki_dir"] == str((tmp_path / "etc" / "pki").resolve())


def test_relative_root_dir_and_paths(tmp_path: Path) -> None:
    _write(tmp_path, "master", "root_dir: srv\npki_dir: keys/master\nautosign_file: autosign\n")
    opts = config.load("master", tmp_path)
    root = tmp_path.resolve() / "srv"
    assert opts["root_dir"] == str(root)
    assert opts["pki_dir"] == str(root / "keys" / "master")
    assert opts["autosign_file"] == str(root / "autosign")


def test_absolute_root_dir_and_paths(tmp_path: Path) -> None:
    root = tmp_path / "root"
    _write(tmp_path / "etc", "master", f"root_dir: {root}\ncachedir: /var/cache/x\n")
    opts = config.load("master", tmp_path / "etc")
    assert opts["root_dir"] == str(root.resolve())
    assert opts["cachedir"] == "/var/cache/x"
    assert opts["pki_dir"] == str(root.resolve() / "pki")


def test_overrides_win_over_file(tmp_path: Path) -> None:
    _write(tmp_path, "master", "timeout: 9\n")
    assert config.load("master", tmp_path, {"timeout": 3})["timeout"] == 3


@pytest.mark.parametrize(
    ("cli", "env", "expected"),
    [
        ("/from/cli", "/from/env", "/from/cli"),
        (None, "/from/env", "/from/env"),
        (None, None, config.DEFAULT_CONFIG_DIR),
        (None, "", config.DEFAULT_CONFIG_DIR),
    ],
)
def test_config_dir(
    monkeypatch: pytest.MonkeyPatch, cli: str | None, env: str | None, expected: str
) -> None:
    if env is None:
        monkeypatch.delenv("SALINE_CONFIG_DIR", raising=False)
    else:
        monkeypatch.setenv("SALINE_CONFIG_DIR", env)
    assert config.config_dir(cli) == Path(expected)


def test_missing_file_names_it(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        config.load("master", tmp_path)
    assert str(tmp_path / "master") in str(info.value)
    assert "not found" in str(info.value)


def test_unreadable_file(tmp_path: Path) -> None:
    (tmp_path / "master").mkdir()  # a directory where the file should be
    with pytest.raises(ConfigError, match="cannot read"):
        config.load("master", tmp_path)


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("interface: 0.0.0.0\npublish_port: [4505\n", 3),
        ("a: 1\n  b: 2\n", 2),
        ("file_roots:\n  base:\n    - formulas\n   - bad\n", 4),
        ("key: 'unclosed\n", 2),
    ],
)
def test_yaml_syntax_error_names_line(tmp_path: Path, text: str, line: int) -> None:
    path = _write(tmp_path, "master", text)
    with pytest.raises(ConfigError) as info:
        config.load("master", tmp_path)
    message = str(info.value)
    assert message.startswith(f"{path}: line {line}, column ")
    assert "\n" not in message


@pytest.mark.parametrize(("text", "got"), [("- a\n- b\n", "a list"), ("just text\n", "a string"),
                                           ("42\n", "an integer")])
def test_non_mapping_file(tmp_path: Path, text: str, got: str) -> None:
    path = _write(tmp_path, "minion", text)
    with pytest.raises(ConfigError, match=f"expected a mapping.*got {got}") as info:
        config.load("minion", tmp_path)
    assert str(path) in str(info.value)


WRONG_TYPES: list[tuple[str, str, str]] = [
    ("master", "publish_port: 'x'\n", "publish_port must be an integer, not a string"),
    ("master", "publish_port: true\n", "publish_port must be an integer, not a boolean"),
    ("master", "ret_port: 4506.5\n", "ret_port must be an integer, not a number"),
    ("master", "auto_accept: 'yes'\n", "auto_accept must be a boolean (true or false), not a str"),
    ("master", "auto_accept: 1\n", "auto_accept must be a boolean"),
    ("master", "file_roots: []\n", "file_roots must be a mapping, not a list"),
    ("master", "nodegroups: web\n", "nodegroups must be a mapping, not a string"),
    ("master", "interface: 5\n", "interface must be a string, not an integer"),
    ("master", "log_level: 3\n", "log_level must be a string"),
    ("minion", "grains: [a]\n", "grains must be a mapping, not a list"),
    ("minion", "master: {a: b}\n", "master must be a string, not a mapping"),
    ("minion", "master_finger: {a: 1}\n", "master_finger must be a string, not a mapping"),
    ("minion", "id: [m1]\n", "id must be a string, not a list"),
    ("minion", "master_port: null\n", "master_port must be an integer, not empty"),
]


@pytest.mark.parametrize(("kind", "text", "message"), WRONG_TYPES)
def test_wrong_types_are_refused(tmp_path: Path, kind: str, text: str, message: str) -> None:
    path = _write(tmp_path, kind, text)
    with pytest.raises(ConfigError) as info:
        config.load(kind, tmp_path)
    assert str(info.value).startswith(f"{path}: {message}")


@pytest.mark.parametrize(
    ("text", "key", "value"),
    [
        ("timeout: 2.5\n", "timeout", 2.5),
        ("auto_accept: true\n", "auto_accept", True),
        ("user: null\n", "user", None),
        ("file_roots: {base: [/a, /b], dev: [/c]}\n", "file_roots",
         {"base": ["/a", "/b"], "dev": ["/c"]}),
        ("log_level: debug\n", "log_level", "debug"),
        ("publish_port: 1\n", "publish_port", 1),
        ("ret_port: 65535\n", "ret_port", 65535),
    ],
)
def test_good_values_load(tmp_path: Path, text: str, key: str, value: Any) -> None:
    _write(tmp_path, "master", text)
    assert config.load("master", tmp_path)[key] == value


def test_unknown_keys_are_kept_and_typos_warned(tmp_path: Path,
                                                caplog: pytest.LogCaptureFixture) -> None:
    _write(tmp_path, "master", "publsh_port: 1234\ntimeout: 7\nmy_formula: {a: 1}\n")
    with caplog.at_level(logging.WARNING, logger="common.config"):
        opts = config.load("master", tmp_path)
    assert opts["timeout"] == 7
    assert opts["publish_port"] == 4505
    # Kept as Salt keeps them, so that config.get finds a formula's own keys.
    assert opts["my_formula"] == {"a": 1}
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("publsh_port" in w and "publish_port" in w and str(tmp_path / "master") in w
               for w in warnings), warnings
    assert not any("my_formula" in w for w in warnings), warnings


@pytest.mark.parametrize("level", ["verbose", "INFO", "trace"])
def test_bad_log_level(tmp_path: Path, level: str) -> None:
    _write(tmp_path, "minion", f"log_level: {level}\n")
    with pytest.raises(ConfigError, match="log_level must be one of"):
        config.load("minion", tmp_path)


@pytest.mark.parametrize(
    ("kind", "text", "port"),
    [
        ("master", "publish_port: 0\n", "publish_port"),
        ("master", "ret_port: 65536\n", "ret_port"),
        ("master", "publish_port: -1\n", "publish_port"),
        ("minion", "master_port: 70000\n", "master_port"),
        ("minion", "publish_port: 0\n", "publish_port"),
    ],
)
def test_port_out_of_range(tmp_path: Path, kind: str, text: str, port: str) -> None:
    path = _write(tmp_path, kind, text)
    with pytest.raises(ConfigError, match=f"{port} must be between 1 and 65535") as info:
        config.load(kind, tmp_path)
    assert str(path) in str(info.value)


def test_minion_id_defaults_to_hostname(tmp_path: Path) -> None:
    _write(tmp_path, "minion", "master: 10.0.0.1\n")
    opts = config.load("minion", tmp_path)
    assert opts["id"] == socket.gethostname()
    assert opts["master"] == "10.0.0.1"


@pytest.mark.parametrize(("text", "expected"), [("id: web1\n", "web1"), ("id: 42\n", "42")])
def test_minion_id_from_file(tmp_path: Path, text: str, expected: str) -> None:
    _write(tmp_path, "minion", text)
    assert config.load("minion", tmp_path)["id"] == expected


@pytest.mark.parametrize(("text", "message"), [
    ("file_roots: {base: 3}\n", "file_roots: base must be a list of directories"),
    ("pillar_roots: {'../x': [a]}\n", "bad environment name '../x'"),
])
def test_bad_roots(tmp_path: Path, text: str, message: str) -> None:
    _write(tmp_path, "master", text)
    with pytest.raises(config.ConfigError, match=re.escape(message)):
        config.load("master", tmp_path)


def test_roots_are_relative_to_root_dir(tmp_path: Path) -> None:
    _write(tmp_path, "master", "root_dir: srv\nfile_roots: {base: [a, /abs], dev: b}\n")
    opts = config.load("master", tmp_path)
    srv = tmp_path.resolve() / "srv"
    assert opts["file_roots"] == {"base": [str(srv / "a"), "/abs"], "dev": [str(srv / "b")]}


def test_random_reauth_delay_spreads_reauthentication(tmp_path: Path) -> None:
    import random

    from minion.auth import reauth_delay

    _write(tmp_path, "minion", "random_reauth_delay: 2.5\n")
    opts = config.load("minion", tmp_path)
    rng = random.Random(7)
    waits = [reauth_delay(opts, rng) for _ in range(200)]
    assert all(0 <= w <= 2.5 for w in waits)
    assert max(waits) - min(waits) > 1.5  # spread, not one fixed wait
    assert reauth_delay({**opts, "random_reauth_delay": 0}) == 0.0
