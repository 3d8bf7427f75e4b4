"""Table-driven tests for common.targeting."""

from __future__ import annotations

from typing import Any

import pytest

from common import targeting
from common.targeting import TargetError

WEB1: dict[str, Any] = {
    "id": "web1.example.com",
    "grains": {
        "os": "Debian",
        "os_family": "Debian",
        "osrelease": "12",
        "num_cpus": 4,
        "virtual": False,
        "is_prod": True,
        "roles": ["web", "cache"],
        "ipv4": ["127.0.0.1", "10.0.0.5", "192.168.1.20"],
        "ipv6": ["::1", "fe80::1", "2001:db8::5"],
        "hwaddr_interfaces": {"eth0": "52:54:00:12:34:56", "lo": "00:00:00:00:00:00"},
        "mac": "52:54:00:ab:cd:ef",
        "ec2_tags": {"environment": "prod", "team": "infra"},
        "locale_info": {"defaultlanguage": "en_US"},
        "disks": [{"sda": "ssd"}, "sdb"],
        "nested": {"a": {"b": {"c": "deep"}}},
    },
    "pillar": {
        "role": "frontend",
        "tier": {"name": "gold", "rank": 1},
        "apps": ["nginx", "redis"],
    },
}
DB1: dict[str, Any] = {
    "id": "db1.example.com",
    "grains": {"os": "CentOS", "roles": ["db"], "ipv4": ["10.0.1.7"], "ipv6": []},
    "pillar": {"role": "backend"},
}
BARE: dict[str, Any] = {"id": "bare"}
UPPER: dict[str, Any] = {"id": "Web2", "grains": {"os": "Ubuntu"}}
ODD: dict[str, Any] = {
    "id": "odd",
    "grains": {"ipv4": ["bogus", "", "172.16.0.9"], "ipv6": "fe80::7%eth0", "dots": {"a.b": 1}},
    "pillar": None,
}

NODEGROUPS: dict[str, Any] = {
    "webs": "web*",
    "debian": "G@os:Debian",
    "debian_webs": "N@webs and N@debian",
    "named": ["db1.example.com", "bare"],
    "named_or_upper": "N@named or Web2",
    "deep": "N@debian_webs or N@named",
}

CASES: list[tuple[dict[str, Any], Any, str, bool]] = [
    # glob: whole id, case-sensitive
    (WEB1, "web1.example.com", "glob", True),
    (WEB1, "web*", "glob", True),
    (WEB1, "web?.example.com", "glob", True),
    (WEB1, "web[1-3].example.com", "glob", True),
    (WEB1, "web[!1].example.com", "glob", False),
    (WEB1, "web", "glob", False),
    (WEB1, "WEB*", "glob", False),
    (UPPER, "web*", "glob", False),
    (UPPER, "Web*", "glob", True),
    (BARE, "*", "glob", True),
    # pcre: re.match, anchored at start only
    (WEB1, r"web\d", "pcre", True),
    (WEB1, r"web\d\.example\.com$", "pcre", True),
    (WEB1, "example", "pcre", False),
    (WEB1, ".*example", "pcre", True),
    (WEB1, "(web|db)1", "pcre", True),
    (UPPER, "web", "pcre", False),
    # list: comma separated, spaces tolerated, python list, exact
    (WEB1, "db1.example.com,web1.example.com", "list", True),
    (WEB1, " db1.example.com , web1.example.com ", "list", False),  # spaces are kept
    (WEB1, "db1.example.com,web1.example.com", "list", True),
    (WEB1, ["bare", "web1.example.com"], "list", True),
    (WEB1, "web1", "list", False),
    (WEB1, "web*", "list", False),
    (BARE, "bare,", "list", True),
    # grain: glob on value, case-insensitive
    (WEB1, "os:Debian", "grain", True),
    (WEB1, "os:debian", "grain", True),
    (WEB1, "os:DEB*", "grain", True),
    (WEB1, "os:Ubuntu", "grain", False),
    (WEB1, "os:Deb", "grain", False),
    (WEB1, "missing:x", "grain", False),
    (BARE, "os:Debian", "grain", False),
    (UPPER, "os:ubuntu", "grain", True),
    # list grain: any element
    (WEB1, "roles:web", "grain", True),
    (WEB1, "roles:cache", "grain", True),
    (WEB1, "roles:ca*", "grain", True),
    (WEB1, "roles:db", "grain", False),
    # dict value: pattern matches one of its keys
    (WEB1, "ec2_tags:environment", "grain", True),
    (WEB1, "ec2_tags:*", "grain", True),
    (WEB1, "ec2_tags:owner", "grain", False),
    (WEB1, "disks:sda", "grain", True),
    (WEB1, "disks:sdb", "grain", True),
    # nested keys
    (WEB1, "ec2_tags:environment:prod", "grain", True),
    (WEB1, "ec2_tags:environment:PROD", "grain", True),
    (WEB1, "ec2_tags:environment:dev", "grain", False),
    (WEB1, "locale_info:defaultlanguage:en_*", "grain", True),
    (WEB1, "nested:a:b:c:deep", "grain", True),
    (WEB1, "nested:a:b:c", "grain", True),
    (WEB1, "nested:a:x:c:deep", "grain", False),
    # int and bool grains compare by text
    (WEB1, "num_cpus:4", "grain", True),
    (WEB1, "num_cpus:[34]", "grain", True),
    (WEB1, "num_cpus:8", "grain", False),
    (WEB1, "osrelease:12", "grain", True),
    (WEB1, "is_prod:True", "grain", True),
    (WEB1, "is_prod:true", "grain", True),
    (WEB1, "is_prod:False", "grain", False),
    (WEB1, "virtual:false", "grain", True),
    # delimiter inside the value: IPv6 and MAC addresses
    (WEB1, "ipv6:fe80::1", "grain", True),
    (WEB1, "ipv6:2001:db8::*", "grain", True),
    (WEB1, "ipv6:2001:db9::*", "grain", False),
    (WEB1, "mac:52:54:00:ab:cd:ef", "grain", True),
    (WEB1, "mac:52:54:00:AB:CD:EF", "grain", True),
    (WEB1, "mac:52:54:00:*", "grain", True),
    (WEB1, "hwaddr_interfaces:eth0:52:54:00:12:34:56", "grain", True),
    (WEB1, "hwaddr_interfaces:lo:52:54:00:12:34:56", "grain", False),
    (WEB1, "hwaddr_interfaces:eth0", "grain", True),
    # grain_pcre: re.match on the value, ignoring case
    (WEB1, "os:Deb.*", "grain_pcre", True),
    (WEB1, "os:deb", "grain_pcre", True),
    (WEB1, "os:ian", "grain_pcre", False),
    (WEB1, "os:(Debian|Ubuntu)$", "grain_pcre", True),
    (WEB1, r"num_cpus:\d+", "grain_pcre", True),
    (WEB1, "roles:ca", "grain_pcre", True),
    (WEB1, r"ipv6:fe80::\d", "grain_pcre", True),
    (WEB1, "mac:52:54:00:[a-f]{2}", "grain_pcre", True),
    (WEB1, "ec2_tags:env", "grain_pcre", True),
    (DB1, "os:Deb.*", "grain_pcre", False),
    # pillar and pillar_pcre: the same rules on pillar data
    (WEB1, "role:frontend", "pillar", True),
    (WEB1, "role:front*", "pillar", True),
    (WEB1, "role:FRONTEND", "pillar", True),
    (WEB1, "role:backend", "pillar", False),
    (WEB1, "tier:name:gold", "pillar", True),
    (WEB1, "tier:rank:1", "pillar", True),
    (WEB1, "tier:name", "pillar", True),
    (WEB1, "apps:redis", "pillar", True),
    (WEB1, "os:Debian", "pillar", False),
    (BARE, "role:frontend", "pillar", False),
    (WEB1, "role:f.*end$", "pillar_pcre", True),
    (WEB1, "role:end", "pillar_pcre", False),
    (WEB1, "apps:ng", "pillar_pcre", True),
    (DB1, "role:back", "pillar_pcre", True),
    # ipcidr: networks and single addresses, v4 and v6
    (WEB1, "10.0.0.0/24", "ipcidr", True),
    (WEB1, "10.0.0.0/8", "ipcidr", True),
    (WEB1, "10.0.1.0/24", "ipcidr", False),
    (WEB1, "192.168.1.20", "ipcidr", True),
    (WEB1, "192.168.1.21", "ipcidr", False),
    (WEB1, "2001:db8::/32", "ipcidr", True),
    (WEB1, "2001:db8::5", "ipcidr", True),
    (WEB1, "2001:db9::/32", "ipcidr", False),
    (DB1, "10.0.1.0/24", "ipcidr", True),
    (DB1, "::1", "ipcidr", False),
    (BARE, "0.0.0.0/0", "ipcidr", False),
    (ODD, "172.16.0.0/12", "ipcidr", True),
    (ODD, "10.0.0.0/8", "ipcidr", False),
    (ODD, "fe80::/64", "ipcidr", True),
    (ODD, "dots:a.b", "grain", True),
    (ODD, "dots:a.b:1", "grain", True),
    (ODD, "role:x", "pillar", False),
    # compound: prefixes
    (WEB1, "G@os:Debian", "compound", True),
    (WEB1, "P@os:deb.*", "compound", True),
    (WEB1, "I@role:frontend", "compound", True),
    (WEB1, "J@role:front.*", "compound", True),
    (WEB1, r"E@web\d", "compound", True),
    (WEB1, "L@db1.example.com,web1.example.com", "compound", True),
    (WEB1, "S@10.0.0.0/24", "compound", True),
    (WEB1, "N@webs", "compound", True),
    (WEB1, "web*", "compound", True),
    (WEB1, "G@ipv6:fe80::1", "compound", True),
    # compound: operators and precedence (not > and > or)
    (WEB1, "G@os:Debian and web*", "compound", True),
    (DB1, "G@os:Debian and web*", "compound", False),
    (DB1, "G@os:Debian or db*", "compound", True),
    (WEB1, "not db*", "compound", True),
    (WEB1, "not web*", "compound", False),
    (WEB1, "web* and not G@os:CentOS", "compound", True),
    (DB1, "db* or web* and G@os:Debian", "compound", True),
    (DB1, "(db* or web*) and G@os:Debian", "compound", False),
    (WEB1, "db* and G@os:CentOS or web*", "compound", True),
    (WEB1, "db* and (G@os:CentOS or web*)", "compound", False),
    (WEB1, "not db* and not G@os:CentOS", "compound", True),
    (DB1, "not ( db* or web* )", "compound", False),
    (WEB1, "( web* or db* )", "compound", True),
    (WEB1, "(web* or db*)", "compound", False),  # '(web*' and 'db*)' are globs, as in Salt
    (WEB1, "( ( web* ) and ( G@os:Debian or G@os:CentOS ) )", "compound", True),
    (WEB1, "web* not G@os:CentOS", "compound", True),  # implicit 'and'
    (WEB1, "( )", "compound", False),
    (WEB1, "not ( )", "compound", True),
    (WEB1, "X@foo", "compound", False),  # an unknown prefix is a glob
    (WEB1, "web* and G@", "compound", False),
    (WEB1, "", "glob", False),
    (WEB1, "", "list", False),
    (WEB1, " , ", "list", False),
    (WEB1, ["web1.example.com"], "list", True),
    (WEB1, [" web1.example.com"], "list", False),
    (WEB1, ":Debian", "grain", False),
    (WEB1, "( web* or db* ) and not ( I@role:backend )", "compound", True),
    (WEB1, "E@(web|db)1 and web*", "compound", True),
    (WEB1, "( E@(web|db)1 )", "compound", True),
    (WEB1, "( db* or E@web(1|2) )", "compound", True),
    (WEB1, ["G@os:Debian", "and", "web*"], "compound", True),
    # nodegroup target type
    (WEB1, "webs", "nodegroup", True),
    (DB1, "webs", "nodegroup", False),
    (WEB1, "debian_webs", "nodegroup", True),
    (DB1, "named", "nodegroup", True),
    (BARE, "named", "nodegroup", True),
    (WEB1, "named", "nodegroup", False),
    (UPPER, "named_or_upper", "nodegroup", True),
    (DB1, "deep", "nodegroup", True),
    (WEB1, "deep", "nodegroup", True),
    (UPPER, "deep", "nodegroup", False),
]


@pytest.mark.parametrize(("minion", "tgt", "tgt_type", "expected"), CASES)
def test_matches(minion: dict[str, Any], tgt: Any, tgt_type: str, expected: bool) -> None:
    result = targeting.matches(minion, tgt, tgt_type, nodegroups=NODEGROUPS)
    assert result is expected


DELIMITER_CASES: list[tuple[str, str, str, bool]] = [
    ("os|Debian", "grain", "|", True),
    ("ec2_tags|environment|prod", "grain", "|", True),
    ("ipv6|fe80::1", "grain", "|", True),
    ("mac|52:54:00:*", "grain", "|", True),
    ("os|Ubuntu", "grain", "|", False),
    ("hwaddr_interfaces|eth0|52:54:00:12:34:56", "grain", "|", True),
    ("tier/name/gold", "pillar", "/", True),
    ("G|@os|Debian and G|@roles|web", "compound", ":", True),  # per-word delimiter
    ("G;@nested;a;b;c;deep", "compound", "|", True),  # the job's delimiter is ignored
    ("G@os:Debian", "compound", "|", True),
]


@pytest.mark.parametrize(("tgt", "tgt_type", "delimiter", "expected"), DELIMITER_CASES)
def test_custom_delimiter(tgt: str, tgt_type: str, delimiter: str, expected: bool) -> None:
    assert targeting.matches(WEB1, tgt, tgt_type, delimiter=delimiter) is expected


def test_every_key_split_is_tried() -> None:
    minion = {"id": "m", "grains": {"a": [{"b": "x"}, {"b": "y"}], "c": {"d": "e:f"}}}
    # "a:b" walks into the first dict only ("x"); the split "a" + "b:y"
    # then finds the second one, as Salt does.
    assert targeting.matches(minion, "a:b:x", "grain")
    assert targeting.matches(minion, "a:b:y", "grain")
    assert not targeting.matches(minion, "a:b:z", "grain")
    assert targeting.matches(minion, "c:d:e:f", "grain")
    assert targeting.matches(minion, "a:1:b:y", "grain")
    assert targeting.matches(minion, "*:e:f", "grain") is False
    assert targeting.matches(minion, "c:*:e:f", "grain")


def test_directly_named_group_is_spliced_without_parentheses() -> None:
    # Salt's master expands N@g in place; only nested groups get parentheses.
    groups = {"g": "db* or G@os:Debian", "h": "N@g and G@os:Debian"}
    assert targeting.matches(DB1, "N@g and G@os:Debian", "compound", nodegroups=groups)
    assert not targeting.matches(DB1, "N@h", "compound", nodegroups=groups)


ERROR_CASES: list[tuple[Any, str, str]] = [
    ("G@os:Debian and ( web*", "compound", "unbalanced '(' at token 3"),
    ("web* or db* )", "compound", "unbalanced ')' at token 4"),
    ("( web* or ( db* )", "compound", "unbalanced '(' at token 1"),
    ("G@os and ( web*", "compound", "expected 'key:value' in 'G@os' at token 1"),
    ("", "compound", "empty expression"),
    ("   ", "compound", "empty expression"),
    ("web* and R@%foo", "compound", "range (R@) targets are not supported in 'R@%foo' at token 3"),
    ("not not web*", "compound", "unexpected 'not' after 'not' at token 2"),
    ("G@os|Debian", "compound", "expected 'key:value' in 'G@os|Debian'"),
    ("web* and", "compound", "expected a target after 'and' at token 2"),
    ("web* or not", "compound", "expected a target after 'not' at token 3"),
    ("and web*", "compound", "unexpected 'and' at token 1"),
    ("web* or or db*", "compound", "unexpected 'or' at token 3"),
    (") web*", "compound", "unexpected ')' at token 1"),
    ("( and web* )", "compound", "unexpected 'and' at token 2"),
    ("web* db*", "compound", "expected 'and' or 'or' before 'db*' at token 2"),
    ("( web* db* )", "compound", "expected 'and', 'or' or ')' before 'db*' at token 3"),
    ("web* and G@os", "compound", "expected 'key:value' in 'G@os' at token 3"),
    ("E@(web", "compound", "invalid regex '(web'"),
    ("web* or S@10.0.0.0/33", "compound", "invalid network or address '10.0.0.0/33'"),
    ("web* and N@nope", "compound", "unknown nodegroup 'nope'"),
    ("(web", "pcre", "pcre target '(web': invalid regex"),
    ("os", "grain", "grain target 'os': expected 'key:value'"),
    ("os:(deb", "grain_pcre", "invalid regex '(deb'"),
    ("ipv6:fe80::(", "grain_pcre", "invalid regex 'fe80::('"),
    ("role", "pillar", "expected 'key:value'"),
    ("role:[", "pillar_pcre", "invalid regex"),
    ("10.0.0.300", "ipcidr", "invalid network or address '10.0.0.300'"),
    ("not-an-ip", "ipcidr", "invalid network or address"),
    ("10.0.0.9/24", "ipcidr", "'10.0.0.9/24' has host bits set (the network is 10.0.0.0/24)"),
    ("nope", "nodegroup", "nodegroup target 'nope': unknown nodegroup 'nope'"),
    ("web*", "regex", "unknown target type 'regex'"),
    (["web*"], "glob", "expected a string"),
]


@pytest.mark.parametrize(("tgt", "tgt_type", "message"), ERROR_CASES)
def test_malformed_raises(tgt: Any, tgt_type: str, message: str) -> None:
    with pytest.raises(TargetError) as excinfo:
        targeting.validate(tgt, tgt_type, nodegroups=NODEGROUPS)
    assert message in str(excinfo.value)
    assert "\n" not in str(excinfo.value)
    with pytest.raises(TargetError):
        targeting.matches(WEB1, tgt, tgt_type, nodegroups=NODEGROUPS)


def test_error_message_names_the_token_fully() -> None:
    with pytest.raises(TargetError) as excinfo:
        targeting.validate("G@os:Debian and ( web*", "compound")
    assert str(excinfo.value) == (
        "compound target 'G@os:Debian and ( web*': unbalanced '(' at token 3"
    )


BAD_NODEGROUPS: list[tuple[dict[str, Any], str, str]] = [
    ({"a": "N@a"}, "a", "nodegroup cycle: a -> a"),
    ({"a": "N@b", "b": "web* or N@c", "c": "N@a"}, "a", "nodegroup cycle: a -> b -> c -> a"),
    ({"a": "N@b", "b": "N@a"}, "b", "nodegroup cycle: b -> a -> b"),
    ({"a": "web* and"}, "a", "expected a target after 'and'"),
    ({"a": "N@b"}, "a", "nodegroup 'a' names unknown nodegroup 'b'"),
    ({"a": 5}, "a", "nodegroup 'a': expected a compound string or a list"),
    ({"a": ["web*", 5]}, "a", "nodegroup 'a': every item must be a string"),
]


@pytest.mark.parametrize(("nodegroups", "name", "message"), BAD_NODEGROUPS)
def test_bad_nodegroups(nodegroups: dict[str, Any], name: str, message: str) -> None:
    with pytest.raises(TargetError) as excinfo:
        targeting.validate(name, "nodegroup", nodegroups=nodegroups)
    assert message in str(excinfo.value)
    with pytest.raises(TargetError) as excinfo:
        targeting.validate(f"web* or N@{name}", "compound", nodegroups=nodegroups)
    assert message in str(excinfo.value)


ID_ONLY_CASES: list[tuple[Any, str, bool]] = [
    ("web*", "glob", True),
    ("web", "pcre", True),
    ("a,b", "list", True),
    (["a", "b"], "list", True),
    ("os:Debian", "grain", False),
    ("os:Deb", "grain_pcre", False),
    ("role:x", "pillar", False),
    ("role:x", "pillar_pcre", False),
    ("10.0.0.0/8", "ipcidr", False),
    ("web* or E@db\\d and not L@a,b", "compound", True),
    ("web* and G@os:Debian", "compound", False),
    ("not S@10.0.0.0/8", "compound", False),
    ("N@webs or N@named", "compound", True),
    ("N@debian_webs", "compound", False),
    ("webs", "nodegroup", True),
    ("named_or_upper", "nodegroup", True),
    ("deep", "nodegroup", False),
]


@pytest.mark.parametrize(("tgt", "tgt_type", "expected"), ID_ONLY_CASES)
def test_id_only(tgt: Any, tgt_type: str, expected: bool) -> None:
    assert targeting.id_only(tgt, tgt_type, NODEGROUPS) is expected


def test_id_only_refuses_malformed() -> None:
    with pytest.raises(TargetError):
        targeting.id_only("web* and", "compound")


def test_compile_once_evaluate_many() -> None:
    target = targeting.compile("G@os:Debian or L@bare", "compound")
    minions = [WEB1, DB1, BARE, UPPER]
    assert [m["id"] for m in minions if target(m)] == ["web1.example.com", "bare"]
    assert not target.id_only
    assert "compound" in repr(target)


def test_delimiter_missing_from_expression_refused() -> None:
    with pytest.raises(TargetError, match=r"expected 'key\|value'"):
        targeting.validate("os:Debian", "grain", delimiter="|")


def test_empty_delimiter_refused() -> None:
    with pytest.raises(TargetError, match="delimiter"):
        targeting.compile("os:Debian", "grain", delimiter="")


def test_target_types_constant() -> None:
    assert targeting.TARGET_TYPES == (
        "glob", "pcre", "list", "grain", "grain_pcre", "pillar", "pillar_pcre",
        "pillar_exact", "ipcidr", "compound", "nodegroup",
    )  # fmt: skip
    assert issubclass(TargetError, ValueError)
