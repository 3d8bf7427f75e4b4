"""The minion's `master` option: one master or a list, each `host` or `host:port`."""

from __future__ import annotations

from pathlib import Path

import pytest

from common import config, masterlist


@pytest.mark.parametrize(("value", "expected"), [
    ("salt", [("salt", 4506)]),
    ("10.0.0.1:4606", [("10.0.0.1", 4606)]),
    (["127.0.0.2", "127.0.0.3:5506"], [("127.0.0.2", 4506), ("127.0.0.3", 5506)]),
    (["a", "a:4506", "b"], [("a", 4506), ("b", 4506)]),  # repeats once
    ("[::1]:4507", [("::1", 4507)]),
    ("fe80::1", [("fe80::1", 4506)]),
])
def test_masters_are_parsed_in_order(value: object, expected: list[tuple[str, int]]) -> None:
    assert masterlist.parse(value, 4506) == expected


@pytest.mark.parametrize(("value", "message"), [
    ([], "the list of masters is empty"),
    (["ok", 5], "must be a host name or host:port, not 5"),
    ("host:http", "bad port in 'host:http'"),
    ("host:70000", "port 70000 in 'host:70000' is not between 1 and 65535"),
    ("bad host", "'bad host' is not a host name or address"),
    ([f"m{i}" for i in range(40)], "at most 32 masters"),
])
def test_bad_master_lists_are_one_clear_error(value: object, message: str) -> None:
    with pytest.raises(masterlist.MasterListError, match=message):
        masterlist.parse(value, 4506)


def test_config_takes_a_list_and_checks_master_type(tmp_path: Path) -> None:
    (tmp_path / "minion").write_text(
        "id: m1\nmaster: [127.0.0.2, '127.0.0.3:4600']\nmaster_type: failover\n")
    opts = config.load("minion", tmp_path)
    assert opts["master"] == ["127.0.0.2", "127.0.0.3:4600"]
    assert opts["master_type"] == "failover" and opts["master_alive_interval"] == 10
    (tmp_path / "minion").write_text("id: m1\nmaster: [a, b]\nmaster_type: random\n")
    with pytest.raises(config.ConfigError, match="master_type must be str or failover"):
        config.load("minion", tmp_path)
    (tmp_path / "minion").write_text("id: m1\nmaster: [a, 'b:x']\n")
    with pytest.raises(config.ConfigError, match="bad port in 'b:x'"):
        config.load("minion", tmp_path)


def test_status_lines_name_every_master() -> None:
    from minion.statusfile import master_address

    several = {"master": ["127.0.0.2", "127.0.0.3:5506"], "master_port": 4506}
    assert master_address(several) == "127.0.0.2:4506, 127.0.0.3:5506"
    assert master_address({"master": "salt", "master_port": 4506}) == "salt:4506"
