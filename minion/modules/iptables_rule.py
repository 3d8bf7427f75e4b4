"""The rule words of Salt's ``iptables.build_rule``, from its keyword arguments.

Pure text: no command runs here. Each keyword is an iptables long option
without its dashes; a value starting with ``!`` or ``not`` negates it; the
jump target's own options follow the jump, in Salt's order.
"""

from __future__ import annotations

import re
from typing import Any

# Salt's state machinery keys, dropped from a rule's keywords.
_INTERNAL = frozenset({
    "onchanges", "onchanges_any", "onfail", "onfail_any", "onfail_all", "onfail_stop", "prereq",
    "prerequired", "watch", "watch_any", "require", "require_any", "listen", "onchanges_in",
    "onfail_in", "prereq_in", "watch_in", "require_in", "listen_in", "fun", "state",
    "check_cmd", "cmd_opts_exclude", "failhard", "onlyif", "unless", "creates", "retry", "order",
    "parallel", "reload_modules", "reload_grains", "reload_pillar", "runas", "runas_password",
    "fire_event", "saltenv", "umask", "use", "use_in", "__env__", "__sls__", "__id__",
    "__sls_included_from__", "__orchestration_jid__", "__pub_user", "__pub_arg", "__pub_jid",
    "__pub_fun", "__pub_tgt", "__pub_ret", "__pub_pid", "__pub_tgt_type", "__prereq__",
    "__prerequired__", "__umask__", "chain", "save", "table", "name"})

# Options that belong to the jump target: they follow it, in this order (Salt's list).
_AFTER_JUMP = (
    "j", "jump", "add-set", "and-mark", "and-tos", "checksum-fill", "clamp-mss-to-pmtu",
    "clustermac", "ctevents", "ctmask", "del-set", "ecn-tcp-remove", "exist", "expevents",
    "gateway", "hash-init", "hashmode", "helper", "label", "local-node", "log-ip-options",
    "log-level", "log-prefix", "log-tcp-options", "log-tcp-sequence", "log-uid", "map-set",
    "mask", "mss", "new", "nfmask", "nflog-group", "nflog-prefix", "nflog-range",
    "nflog-threshold", "nodst", "notrack", "on-ip", "on-port", "or-mark", "or-tos",
    "persistent", "queue-balance", "queue-bypass", "queue-num", "random", "random-fully",
    "rateest-ewmalog", "rateest-interval", "rateest-name", "reject-with", "restore",
    "restore-mark", "sack-perm", "save-mark", "selctx", "set-class", "set-dscp",
    "set-dscp-class", "set-mark", "set-mss", "set-tos", "set-xmark", "strip-options",
    "timeout", "timestamp", "to", "to-destination", "to-ports", "to-source", "total-nodes",
    "tproxy-mark", "ttl-dec", "ttl-inc", "ttl-set", "type", "ulog-cprange", "ulog-nlgroup",
    "ulog-prefix", "ulog-qthreshold", "wscale", "xor-mark", "xor-tos", "zone", "zone-orig",
    "zone-reply", "dst-pfx", "hl-dec", "hl-inc", "hl-set", "hmark-dport-mask",
    "hmark-dst-prefix", "hmark-mod", "hmark-offset", "hmark-proto-mask", "hmark-rnd",
    "hmark-spi-mask", "hmark-sport-mask", "hmark-src-prefix", "hmark-tuple",
    "led-always-blink", "led-delay", "led-trigger-id", "queue-cpu-fanout", "src-pfx",
    "to-port", "addr", "and-mask", "delude", "honeypot", "or-mask", "prefix", "reset",
    "reuse", "set-mac", "shift", "static", "tarpit", "tname", "ttl",
)
_BANG = re.compile(r"(!|not)\s?")


def _negated(kwargs: dict[str, Any], key: str) -> str:
    value = str(kwargs[key])
    if value.startswith("!") or value.startswith("not"):
        kwargs[key] = _BANG.sub("", value)
        return "! "
    return ""


def _multiport(kwargs: dict[str, Any], rule: list[str], protocol: bool) -> str | None:
    for key in ("dports", "sports"):
        if key not in kwargs:
            continue
        if "-m multiport" not in rule:
            rule.append("-m multiport")
            if not protocol:
                return "Error: protocol must be specified"
        value = kwargs.pop(key)
        if isinstance(value, list):
            if any(str(i).startswith(("!", "not")) for i in value):
                value = [_BANG.sub("", str(i)) for i in value]
                rule.append("!")
            ports = ",".join(str(i) for i in value)
        elif str(value).startswith(("!", "not")):
            ports = _BANG.sub("", value)
            rule.append("!")
        else:
            ports = value
        rule.append(f"--{key} {ports}")
    return None


def _matches(kwargs: dict[str, Any], rule: list[str]) -> None:
    if "match" in kwargs:
        values = kwargs["match"]
        for match in values if isinstance(values, list) else values.split(","):
            rule.append(f"-m {match}")
            if "name_" in kwargs and match.strip() in ("pknock", "quota2", "recent"):
                rule.append(f"--name {kwargs.pop('name_')}")
        if "proto" in kwargs and kwargs.get("match") == "policy":
            rule.append(f"{_negated(kwargs, 'proto')}--proto {kwargs.pop('proto')}")
        del kwargs["match"]
    if "match-set" in kwargs:
        sets = kwargs.pop("match-set")
        for match_set in [sets] if isinstance(sets, str) else sets:
            bang = ""
            if match_set.startswith(("!", "not")):
                bang, match_set = "! ", _BANG.sub("", match_set)
            rule.append(f"-m set {bang}--match-set {match_set}")
    if "connstate" in kwargs:
        if "-m state" not in rule:
            rule.append("-m state")
        rule.append(f"{_negated(kwargs, 'connstate')}--state {kwargs.pop('connstate')}")


def _after_jump(kwargs: dict[str, Any]) -> list[str]:
    words = []
    for key in _AFTER_JUMP:
        if key not in kwargs:
            continue
        value = kwargs.pop(key)
        if value in (None, ""):
            words.append(f"--{key}")
        elif any(c.isspace() for c in str(value)):
            words.append(f'--{key} "{value}"')
        else:
            words.append(f"--{key} {value}")
    return words


def rule_text(**kwargs: Any) -> str:
    """The rule words for Salt's keyword arguments (without table, chain or command)."""
    if "target" in kwargs:
        kwargs["jump"] = kwargs.pop("target")
    for key in _INTERNAL:
        kwargs.pop(key, None)
    rule: list[str] = []
    for key, flag in (("if", "-i"), ("of", "-o")):
        if key in kwargs:
            rule.append(f"{_negated(kwargs, key)}{flag} {kwargs.pop(key)}")
    if "proto" in kwargs and kwargs.get("match") != "policy":
        kwargs["protocol"] = kwargs.pop("proto")
    protocol = "protocol" in kwargs
    if protocol:
        rule.append(f"{_negated(kwargs, 'protocol')}-p {kwargs.pop('protocol')}")
    _matches(kwargs, rule)
    for key in ("dport", "sport"):
        if key in kwargs:
            rule.append(f"{_negated(kwargs, key)}--{key} {kwargs.pop(key)}")
    error = _multiport(kwargs, rule, protocol)
    if error:
        return error
    if "comment" in kwargs:
        if "-m comment" not in rule:
            rule.append("-m comment")
        rule.append(f'--comment "{kwargs.pop("comment")}"')
    if kwargs.get("set"):
        rule.append(f"{_negated(kwargs, 'set')}--match-set {kwargs.pop('set')}")
    after = _after_jump(kwargs)
    for key in list(kwargs):
        bang = _negated(kwargs, key)
        value = kwargs[key]
        shown = "" if value in (None, "") else f" {value}"
        rule.append(f"{bang}{'-' if len(key) == 1 else '--'}{key}{shown}")
    return " ".join(rule + after)


