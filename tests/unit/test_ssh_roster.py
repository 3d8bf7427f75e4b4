"""Roster parsing: Salt's format, defaults, checks and warnings."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from master.ssh import roster
from master.ssh.roster import RosterError


def test_full_entry_and_defaults(tmp_path: Path) -> None:
    path = tmp_path / "roster"
    path.write_text(
        "web1:\n  host: 10.0.0.1\n  port: 2222\n  user: deploy\n  priv: keys/id\n"
        "  sudo: true\n  timeout: 3\n  minion_opts: {log_level: debug}\n"
        "web2: {}\n"
        "alias-of-web1: {host: 10.0.0.1, port: 2222}\n")
    found = roster.load(path)
    assert list(found) == ["web1", "web2", "alias-of-web1"]
    web1 = found["web1"]
    assert (web1.host, web1.port, web1.user, web1.sudo, web1.timeout) == (
        "10.0.0.1", 2222, "deploy", True, 3.0)
    assert web1.priv == str(tmp_path / "keys/id")
    assert web1.minion_opts == {"log_level": "debug"}
    web2 = found["web2"]
    # Salt's defaults: the id is the host name, root logs in on port 22.
    assert (web2.host, web2.port, web2.user, web2.sudo, web2.passwd) == (
        "web2", 22, "root", False, None)
    assert found["alias-of-web1"].host == web1.host


def test_priv_home_and_agent_forwarding() -> None:
    found = roster.parse({"a": {"priv": "~/.ssh/id"}, "b": {"priv": "agent-forwarding"}})
    assert found["a"].priv == str(Path("~/.ssh/id").expanduser())
    assert found["b"].priv is None


def test_unknown_and_salt_only_keys_warn(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        found = roster.parse({"a": {"host": "h", "hsot": "x", "thin_dir": "/tmp/t"}})
    assert found["a"].host == "h"
    text = caplog.text
    assert "unknown roster key 'hsot'" in text
    assert "'thin_dir' is a salt-ssh option saline does not use" in text


@pytest.mark.parametrize(("data", "error"), [
    ([1, 2], "expected a mapping of id: options"),
    ({"a": "host"}, "a: expected a mapping of options"),
    ({"-bad": {}}, "must not start with"),
    ({"a": {"port": 0}}, "port must be a number from 1 to 65535"),
    ({"a": {"port": "22"}}, "port must be a number"),
    ({"a": {"sudo": "yes"}}, "sudo must be true or false"),
    ({"a": {"timeout": -1}}, "timeout must be a positive number"),
    ({"a": {"minion_opts": [1]}}, "minion_opts must be a mapping"),
    ({"a": {"host": ["x"]}}, "host must be a string"),
])
def test_bad_entries_say_why(data: object, error: str) -> None:
    with pytest.raises(RosterError, match=error):
        roster.parse(data, "roster")


def test_file_errors_name_the_file(tmp_path: Path) -> None:
    with pytest.raises(RosterError, match="roster file not found"):
        roster.load(tmp_path / "roster")
    bad = tmp_path / "bad"
    bad.write_text("a: [\n")
    with pytest.raises(RosterError, match=r"bad: not valid YAML \(line"):
        roster.load(bad)
    empty = tmp_path / "empty"
    empty.write_text("")
    assert roster.load(empty) == {}


def test_default_path() -> None:
    assert roster.default_path("/etc/saline") == Path("/etc/saline/roster")
