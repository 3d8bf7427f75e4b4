"""Execution functions formulas call from jinja: config, slsutil, defaults, pillar, mine, ...

Expected values are what Salt 3007.15's ``salt-call --local`` returns for the
same arguments (checked by hand; the oracle cases under tests/oracle/cases/exec
record them).
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from minion.context import Context
from minion.fileclient import LocalFileClient
from minion.loader import Registry

GRAINS = {"id": "m1", "os": "Debian", "os_family": "Debian", "osarch": "amd64",
          "roles": ["web", "db"], "ports": {80: "http"}}
PILLAR = {"foo": {"bar": "baz", "list": [1, 2]}, "os_family": "FromPillar",
          "master": {"mastkey": "mv"}}


def make_ctx(tmp_path: Path, **opts: Any) -> Context:
    options = {"id": "m1", "file_client": "local", "cachedir": str(tmp_path / "cache"),
               "config_dir": str(tmp_path), **opts}
    grains = dict(GRAINS)
    ctx = Context(options, grains, dict(PILLAR), Registry.load(options, grains))
    srv = tmp_path / "srv"
    for rel in ("top.sls", "web/init.sls", "web/conf.sls", "web/files/a.conf",
                "web/defaults.yaml"):
        (srv / rel).parent.mkdir(parents=True, exist_ok=True)
        (srv / rel).write_text("port: 8080\n" if rel.endswith("defaults.yaml") else "")
    ctx.files = LocalFileClient({"base": [str(srv)]})
    return ctx


@pytest.fixture
def ctx(tmp_path: Path) -> Context:
    return make_ctx(tmp_path)


# --- config -------------------------------------------------------------------------------


def test_config_get_searches_opts_grains_pillar_master(ctx: Context) -> None:
    assert ctx.call("config.get", "id") == "m1"
    assert ctx.call("config.get", "os_family") == "Debian"  # grains before pillar
    assert ctx.call("config.get", "foo:bar") == "baz"
    assert ctx.call("config.get", "foo:list:1") == 2
    assert ctx.call("config.get", "mastkey") == "mv"
    assert ctx.call("config.get", "hosts.file") == "/etc/hosts"
    assert ctx.call("config.get", "nope", default="x") == "x"
    assert ctx.call("config.get", "nope") == ""
    assert ctx.call("config.get", "ports:80") == "http"  # YAML-read key
    assert ctx.call("config.get", "foo|bar", delimiter="|") == "baz"
    assert ctx.call("config.get", "os_family", omit_grains=True) == "FromPillar"


def test_config_get_merge(ctx: Context) -> None:
    ctx.grains["foo"] = {"fromgrains": 1}
    assert ctx.call("config.get", "foo", merge="recurse") == {
        "bar": "baz", "list": [1, 2], "fromgrains": 1}
    assert ctx.call("config.get", "foo", merge="overwrite") == {"fromgrains": 1}
    assert ctx.call("config.get", "foo") == {"fromgrains": 1}


def test_config_option_and_merge(ctx: Context) -> None:
    assert ctx.call("config.option", "foo") == PILLAR["foo"]
    assert ctx.call("config.option", "foo:bar") == ""
    assert ctx.call("config.option", "hosts.*", wildcard=True) == {"hosts.file": "/etc/hosts"}
    assert ctx.call("config.option", "id", omit_all=True) == ""
    assert ctx.call("config.merge", "id") == "m1"
    assert ctx.call("config.merge", "nope", default=[]) == []


# --- log ----------------------------------------------------------------------------------


def test_log_functions_log_and_return_true(ctx: Context,
                                           caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG, logger="minion.modules.log"):
        for level in ("debug", "info", "warning", "error", "critical", "exception"):
            assert ctx.call(f"log.{level}", f"msg {level} 100%") is True
    assert [r.getMessage() for r in caplog.records][-1] == "msg exception 100%"
    assert {r.levelname for r in caplog.records} == {
        "DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}


# --- slsutil and defaults -----------------------------------------------------------------


A = {"a": {"b": 1, "x": {"y": 1}}, "c": [1], "e": 5}
B = {"a": {"d": 2, "x": {"z": 2}}, "c": [2, 1], "f": 6}


@pytest.mark.parametrize(("kwargs", "expected"), [
    ({}, {"a": {"b": 1, "d": 2, "x": {"y": 1, "z": 2}}, "c": [2, 1], "e": 5, "f": 6}),
    ({"merge_lists": True},
     {"a": {"b": 1, "d": 2, "x": {"y": 1, "z": 2}}, "c": [1, 2], "e": 5, "f": 6}),
    ({"strategy": "overwrite"}, {"a": {"d": 2, "x": {"z": 2}}, "c": [2, 1], "e": 5, "f": 6}),
    ({"strategy": "aggregate"}, {"a": {"d": 2, "x": {"z": 2}}, "c": [2, 1], "e": 5, "f": 6}),
    ({"strategy": "list"}, {"a": [A["a"], B["a"]], "c": [[1], [2, 1]], "e": 5}),
    ({"strategy": "bogus"}, {"a": {"b": 1, "d": 2, "x": {"y": 1, "z": 2}}, "c": [2, 1],
                             "e": 5, "f": 6}),
])
def test_slsutil_merge_strategies(ctx: Context, kwargs: dict[str, Any],
                                  expected: dict[str, Any]) -> None:
    import copy
    assert ctx.call("slsutil.merge", copy.deepcopy(A), copy.deepcopy(B), **kwargs) == expected


def test_slsutil_merge_copies_first_argument_and_update_does_not(ctx: Context) -> None:
    first = {"a": {"b": 1}}
    merged = ctx.call("slsutil.merge", first, {"a": {"c": 2}})
    assert first == {"a": {"b": 1}} and merged == {"a": {"b": 1, "c": 2}}
    assert ctx.call("slsutil.update", first, {"a": {"c": 2}}) is first
    assert first == {"a": {"b": 1, "c": 2}}
    assert ctx.call("slsutil.merge_all", [{"foo": "Foo"}, {"foo": "Bar", "x": {"y": 1}},
                                          {"x": {"z": 2}}]) == {"foo": "Bar",
                                                                "x": {"y": 1, "z": 2}}
    with pytest.raises(TypeError, match="non-dict"):
        ctx.call("slsutil.merge", "text", {"a": 1})


def test_slsutil_serialize_as_salt(ctx: Context) -> None:
    data = {"b": {"c": "d"}, "a": [1, 2]}
    assert ctx.call("slsutil.serialize", "yaml", data) == "a: [1, 2]\nb: {c: d}"
    assert ctx.call("slsutil.serialize", "yaml", data, default_flow_style=False) == \
        "a:\n- 1\n- 2\nb:\n  c: d"
    assert ctx.call("slsutil.serialize", "yaml", "x") == "x"
    assert ctx.call("slsutil.serialize", "json", {"b": [1], "a": "é"}) == '{"b": [1], "a": "é"}'
    assert ctx.call("slsutil.deserialize", "json", '{"a": 1}') == {"a": 1}
    assert ctx.call("slsutil.deserialize", "yaml", "a: [1]") == {"a": [1]}
    with pytest.raises(ValueError, match=r"Serializer 'nope' not found\."):
        ctx.call("slsutil.serialize", "nope", {})


def test_slsutil_toml_round_trip(ctx: Context) -> None:
    data = {"title": "x", "n": 1, "on": True, "list": [1, 2], "skip": None,
            "agent": {"interval": "10s", "tags": {"dc": "eu"}},
            "inputs": {"cpu": [{"percpu": True}, {"totalcpu": False}]}}
    text = ctx.call("slsutil.serialize", "toml", data)
    back = ctx.call("slsutil.deserialize", "toml", text)
    assert back == {k: v for k, v in data.items() if v is not None}
    assert text.startswith('title = "x"\n')


def test_slsutil_boolstr_and_state_tree(ctx: Context) -> None:
    assert ctx.call("slsutil.boolstr", True, "yes", "no") == "yes"
    assert ctx.call("slsutil.boolstr", 0) == "false"
    assert ctx.call("slsutil.file_exists", "web/conf.sls") is True
    assert ctx.call("slsutil.file_exists", "web/nope.sls") is False
    assert ctx.call("slsutil.dir_exists", "web/files") is True
    assert ctx.call("slsutil.path_exists", "web") is True
    assert ctx.call("slsutil.findup", "web/files/a.conf", "defaults.yaml") == \
        "web/defaults.yaml"
    assert ctx.call("slsutil.findup", "web/files", ["top.sls"]) == "top.sls"


def test_slsutil_renderer_string(ctx: Context) -> None:
    got = ctx.call("slsutil.renderer", string="os: {{ grains['os'] }}\nn: {{ 1 + 1 }}\n")
    assert got == {"os": "Debian", "n": 2}
    assert ctx.call("slsutil.renderer", path="salt://web/defaults.yaml") == {"port": 8080}


def test_defaults_merge_in_place_and_not(ctx: Context) -> None:
    dest = {"a": {"b": 1}, "l": [1]}
    assert ctx.call("defaults.merge", dest, {"a": {"c": 2}, "l": [2]}) is dest
    assert dest == {"a": {"b": 1, "c": 2}, "l": [2]}
    dest = {"l": [1]}
    out = ctx.call("defaults.merge", dest, {"l": [2, 1]}, merge_lists=True, in_place=False)
    assert out == {"l": [1, 2]} and dest == {"l": [1]}
    assert ctx.call("defaults.merge", {"a": 1}, None) == {"a": 1}
    with pytest.raises(TypeError, match="in-place merge into NoneType"):
        ctx.call("defaults.merge", None, {})
    assert ctx.call("defaults.merge", None, {"a": 1}, in_place=False) == {"a": 1}


def test_defaults_update_and_deepcopy_and_get(ctx: Context) -> None:
    nodes = {"h1": {"i": 1, "l": [2]}, "h2": {}}
    assert ctx.call("defaults.update", nodes, {"e": True, "l": [1]}) is nodes
    assert nodes == {"h1": {"e": True, "i": 1, "l": [1, 2]}, "h2": {"e": True, "l": [1]}}
    source = {"a": [1]}
    copied = ctx.call("defaults.deepcopy", source)
    assert copied == source and copied["a"] is not source["a"]
    assert ctx.call("defaults.get", "web:port") == 8080
    assert ctx.call("defaults.get", "web") == {"port": 8080}
    assert ctx.call("defaults.get", "nothere:x", default="d") == "d"


# --- pillar and grains --------------------------------------------------------------------


def test_pillar_get_merge_rules(ctx: Context, caplog: pytest.LogCaptureFixture) -> None:
    assert ctx.call("pillar.get", "foo", default={"a": 1}, merge=True) == {
        "a": 1, "bar": "baz", "list": [1, 2]}
    assert ctx.call("pillar.get", "foo:list", default=[3], merge=True) == [3, 1, 2]
    assert ctx.call("pillar.get", "nope", default={"a": 1}, merge=True) == {"a": 1}
    with caplog.at_level(logging.ERROR):
        assert ctx.call("pillar.get", "foo:bar", default=[3], merge=True) == "baz"
    assert "Merge will be skipped" in caplog.text
    ctx.pillar["deep"] = {"l": [2]}
    assert ctx.call("pillar.get", "deep", default={"l": [1]}, merge=True,
                    merge_nested_lists=True) == {"l": [1, 2]}


def test_pillar_get_missing_and_raise_option(tmp_path: Path) -> None:
    ctx = make_ctx(tmp_path)
    assert ctx.call("pillar.get", "nope") == ""
    strict = make_ctx(tmp_path, pillar_raise_on_missing=True)
    with pytest.raises(KeyError, match="Pillar key not found: nope"):
        strict.call("pillar.get", "nope")
    assert strict.call("pillar.get", "nope", default=None) is None


def test_pillar_item_keys_raw_filter_by(ctx: Context) -> None:
    assert ctx.call("pillar.item", "foo:bar", "nope") == {"foo:bar": "baz", "nope": ""}
    assert ctx.call("pillar.items", "foo:bar") == {"foo:bar": "baz"}
    assert ctx.call("pillar.keys", "foo") == ["bar", "list"]
    with pytest.raises(ValueError, match="is not a dict"):
        ctx.call("pillar.keys", "foo:bar")
    assert ctx.call("pillar.raw", "nope") == {}
    assert ctx.call("pillar.ls") == ["foo", "os_family", "master"]
    assert ctx.call("pillar.fetch", "foo:bar") == "baz"
    assert ctx.call("pillar.filter_by", {"ba*": "yes", "default": "no"}, "foo:bar") == "yes"


def test_grains_filter_by_edges(ctx: Context) -> None:
    lookup = {"Debian": {"a": 1}, "default": {"b": 2}, "base": {"z": 0, "a": 9}}
    assert ctx.call("grains.filter_by", lookup, base="base") == {"z": 0, "a": 1}
    assert ctx.call("grains.filter_by", {"RedHat": {"a": 1}, "default": {"b": 2}},
                    merge={"c": 3}) == {"b": 2, "c": 3}
    assert ctx.call("grains.filter_by", {"web": 1, "db": 2}, grain="roles") == 1
    assert ctx.call("grains.filter_by", {"RedHat": 1}) is None
    # An exact key wins even when it holds glob characters.
    ctx.grains["gpu"] = "GP104GL [Quadro P4000]"
    assert ctx.call("grains.filter_by", {"GP104GL [Quadro P4000]": "quadro"},
                    grain="gpu") == "quadro"
    assert ctx.call("grains.has_value", "roles") is True
    assert ctx.call("grains.has_value", "roles:5") is False
    assert ctx.call("grains.get", "roles:1") == "db"
    assert ctx.call("grains.get", "ports:80") == "http"
    assert ctx.call("grains.get", "nope", default="zz") == "zz"


# --- mine, dnsutil, test.provider, cp, network ---------------------------------------------


def test_mine_masterless_round_trip(ctx: Context, tmp_path: Path) -> None:
    assert ctx.call("mine.get", "*", "network.ip_addrs") == {}
    assert ctx.call("mine.update") is None  # nothing configured
    assert ctx.call("mine.send", "roles", mine_function="grains.get", key="roles") is True
    assert ctx.call("mine.get", "*", "roles") == {"m1": ["web", "db"]}
    assert ctx.call("mine.get", "m*", "roles,other") == {"roles": {"m1": ["web", "db"]}}
    assert ctx.call("mine.get", "other", "roles") == {}
    assert ctx.call("mine.get", "G@os:Debian", "roles", tgt_type="compound") == {
        "m1": ["web", "db"]}
    assert (tmp_path / "cache/mine_cache.json").stat().st_mode & 0o777 == 0o600
    assert ctx.call("mine.update", mine_functions={"os": [{"mine_function": "grains.get"},
                                                          "os"]}) is True
    assert ctx.call("mine.get", "*", "os") == {"m1": "Debian"}
    assert ctx.call("mine.delete", "os") is True
    assert ctx.call("mine.get", "*", "os") == {}
    assert ctx.call("mine.flush") is True
    assert ctx.call("mine.get", "*", "roles") == {}


def test_mine_get_with_a_master_is_empty(tmp_path: Path) -> None:
    ctx = make_ctx(tmp_path, file_client="remote")
    ctx.call("mine.send", "roles", mine_function="grains.get", key="roles")
    assert ctx.call("mine.get", "*", "roles") == {}


def test_dnsutil_serial(tmp_path: Path) -> None:
    ctx = make_ctx(tmp_path)
    today = time.strftime("%Y%m%d01")
    assert ctx.call("dnsutil.serial", "example.com") == today
    assert ctx.call("dnsutil.serial", "example.com", update=True) == today
    assert ctx.grains["dnsserial_example.com"] == today
    assert ctx.call("dnsutil.serial", "example.com", update=True) == str(int(today) + 1)
    assert ctx.call("dnsutil.serial", "example.com") == str(int(today) + 1)
    saved = yaml.safe_load((tmp_path / "grains").read_text())
    assert saved == {"dnsserial_example.com": str(int(today) + 1)}
    ctx.grains["dnsserial_old.org"] = "2001010105"
    assert ctx.call("dnsutil.serial", "old.org", update=True) == today


def test_test_provider(ctx: Context) -> None:
    assert ctx.call("test.provider", "pkg") in ("aptpkg", "")
    assert ctx.call("test.provider", "cmd") == "cmdmod"
    assert ctx.call("test.provider", "config") == "config"
    assert ctx.call("test.provider", "nosuchmodule") == ""
    assert ctx.call("test.provider", "service") in ("systemd_service", "debian_service")


def test_cp_list_states(ctx: Context) -> None:
    assert ctx.call("cp.list_states") == ["top", "web", "web.conf"]


def test_network_calculations(ctx: Context) -> None:
    assert ctx.call("network.calc_net", "192.168.1.77/24") == "192.168.1.0/24"
    assert ctx.call("network.calc_net", "192.168.1.77", "255.255.0.0") == "192.168.0.0/16"
    assert ctx.call("network.ip_in_subnet", "10.1.2.3", "10.0.0.0/8") is True
    assert ctx.call("network.ip_in_subnet", "10.1.2.3", "192.168.0.0/16") is False
    assert ctx.call("network.ip_in_subnet", "10.1.2.3", "not-a-net") is False
    assert ctx.call("network.convert_cidr", "172.16.5.4/12") == {
        "network": "172.16.0.0", "netmask": "255.240.0.0", "broadcast": "172.31.255.255"}
    assert ctx.call("network.ipaddrs") == ctx.call("network.ip_addrs")
    assert all("/" in net for net in ctx.call("network.subnets"))
