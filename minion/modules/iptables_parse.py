"""Reading iptables-save output into tables, chains and rules, as Salt's ``iptables`` shows them.

Each rule becomes ``{option: [values]}`` keyed by the long option name
(``jump``, ``protocol``, ``destination_port`` ...), with a negation kept in
the value (``"! docker0"``), the way Salt's ``iptables.get_rules`` reports
them; options this table does not know are left out, as in Salt.
"""

from __future__ import annotations

import argparse
import shlex
from typing import Any

# Options with a short form or a key other than their long name.
_SPECIAL: list[tuple[tuple[str, ...], str]] = [
    (("-A", "--append"), "append"), (("-D", "--delete"), "delete"),
    (("-I", "--insert"), "insert"), (("-R", "--replace"), "replace"),
    (("-L", "--list"), "list"), (("-F", "--flush"), "flush"), (("-Z", "--zero"), "zero"),
    (("-N", "--new-chain"), "new-chain"), (("-X", "--delete-chain"), "delete-chain"),
    (("-P", "--policy"), "policy"), (("-E", "--rename-chain"), "rename-chain"),
    (("-p", "--protocol"), "protocol"), (("-s", "--source"), "source"),
    (("-d", "--destination"), "destination"), (("-j", "--jump"), "jump"),
    (("-g", "--goto"), "goto"), (("-i", "--in-interface"), "in-interface"),
    (("-o", "--out-interface"), "out-interface"), (("-f", "--fragment"), "fragment"),
    (("-c", "--set-counters"), "set-counters"), (("-m", "--match"), "match"),
    (("--sport", "--source-port"), "source_port"),
    (("--dport", "--destination-port"), "destination_port"),
    (("--sports", "--source-ports"), "source-ports"),
    (("--dports", "--destination-ports"), "destination-ports"),
    (("--src-cc", "--source-country"), "source-country"),
    (("--dst-cc", "--destination-country"), "destination-country"),
]


def _words(text: str) -> list[str]:
    return text.split()


# Long options (iptables(8), iptables-extensions(8), xtables-addons) keyed by their own name.
_PLAIN = _words(
    "src-type dst-type limit-iface-in limit-iface-out ahspi ahlen ahres bytecode cgroup "
    "cluster-total-nodes cluster-local-node cluster-local-nodemask cluster-hash-seed h-length "
    "mangle-mac-s mangle-mac-d comment connbytes connbytes-dir connbytes-mode label "
    "connlimit-upto connlimit-above connlimit-mask connlimit-saddr connlimit-daddr mark "
    "ctstate ctproto ctorigsrc ctorigdst ctreplsrc ctrepldst ctorigsrcport ctorigdstport "
    "ctreplsrcport ctrepldstport ctstatus ctexpire ctdir cpu dccp-types dccp-option src-group "
    "dst-group dscp dscp-class dst-len dst-opts ecn-tcp-cwr ecn-tcp-ece ecn-ip-ect espspi "
    "fragid fraglen fragres fragfirst fragmore fraglast hashlimit-upto hashlimit-above "
    "hashlimit-burst hashlimit-mode hashlimit-srcmask hashlimit-dstmask hashlimit-name "
    "hashlimit-htable-size hashlimit-htable-max hashlimit-htable-expire "
    "hashlimit-htable-gcinterval hbh-len hbh-opts helper hl-eq hl-lt hl-gt icmp-type "
    "icmpv6-type src-range dst-range soft header ipvs vproto vaddr vport vdir vmethod "
    "vportctl length limit limit-burst mac-source mh-type ports nfacct-name genre ttl log "
    "uid-owner gid-owner socket-exists physdev-in physdev-out physdev-is-in physdev-is-out "
    "physdev-is-bridged pkt-type dir pol strict reqid spi proto mode tunnel-src tunnel-dst "
    "next quota rateest rateest1 rateest2 rateest-delta rateest-bps rateest-bps1 rateest-bps2 "
    "rateest-pps rateest-pps1 rateest-pps2 rateest-lt rateest-gt rateest-eq rateest-name "
    "rateest-interval rateest-ewma realm name set rsource rdest mask rcheck update remove "
    "seconds reap hitcount rttl loose validmark accept-local invert rt-type rt-segsleft "
    "rt-len rt-0-res rt-0-addrs rt-0-not-strict chunk-types match-set return-nomatch "
    "update-counters update-subcounters packets-eq packets-lt packets-gt bytes-eq bytes-lt "
    "bytes-gt transparent nowildcard state probability every packet algo from to string "
    "hex-string tcp-flags syn tcp-option mss datestart datestop timestart timestop monthdays "
    "weekdays contiguous kerneltz utc localtz tos ttl-eq ttl-gt ttl-lt u32 condition mac "
    "lower-limit upper-limit enabled disabled iface dev-in dev-out up down broadcast loopback "
    "pointtopoint running noarp arp promisc multicast dynamic lower-up dormant edk kazaa gnu "
    "dc bit apple soul winmx ares debug flags any layer3 layer4 layer5 stealth synscan cnscan "
    "grscan psd-weight-threshold psd-delay-threshold psd-lo-ports-weight psd-hi-ports-weight "
    "grow no-change packets knockports time autoclose checkip type checksum-fill set-class "
    "new hashmode clustermac total-nodes local-node hash-init set-xmark save-mark "
    "restore-mark and-mark or-mark xor-mark set-mark nfmask ctmask save restore notrack "
    "ctevents expevents zone timeout to-destination random persistent src-pfx dst-pfx "
    "set-dscp set-dscp-class ecn-tcp-remove hl-set hl-dec hl-inc hmark-tuple hmark-mod "
    "hmark-offset hmark-src-prefix hmark-dst-prefix hmark-sport-mask hmark-dport-mask "
    "hmark-spi-mask hmark-proto-mask hmark-rnd led-trigger-id led-delay led-always-blink "
    "log-level log-prefix log-tcp-sequence log-tcp-options log-ip-options log-uid to-ports "
    "nflog-group nflog-prefix nflog-range nflog-threshold queue-num queue-balance "
    "queue-bypass queue-cpu-fanout rateest-ewmalog reject-with nodst selctx add-set del-set "
    "exist to-source set-mss clamp-mss-to-pmtu strip-options gateway set-tos and-tos or-tos "
    "xor-tos on-port on-ip tproxy-mark ttl-set ttl-dec ttl-inc ulog-nlgroup ulog-prefix "
    "ulog-cprange ulog-qthreshold addr tname delude tarpit set-mac prefix reuse static "
    "and-mask or-mask shift honeypot reset "
)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(add_help=False)
    for flags, dest in _SPECIAL:
        parser.add_argument(*flags, dest=dest, action="append")
    for name in _PLAIN:
        parser.add_argument(f"--{name}", dest=name, action="append")
    return parser


_PARSER = _parser()


def _group_words(words: list[str]) -> list[str]:
    """Pair each option with one value: its words joined, a leading "!" kept in the value."""
    i = 0
    while i + 1 < len(words):
        swapped = words[i] == "!" and words[i + 1].startswith("-")
        if swapped:
            words[i], words[i + 1] = words[i + 1], words[i]
        if words[i].startswith("-"):
            i += 1
            if words[i].startswith("-") or (words[i] == "!" and not swapped):
                words.insert(i, "")  # a flag without a value
            else:
                while (i + 1 < len(words) and words[i + 1] != "!"
                       and not words[i + 1].startswith("-")):
                    words[i] += f" {words.pop(i + 1)}"
        i += 1
    if words and words[-1].startswith("-"):
        words.append("")
    return words


def parse_rule(line: str) -> tuple[str, dict[str, list[str]]]:
    """The chain and the options of one ``-A CHAIN ...`` line."""
    known, _unknown = _PARSER.parse_known_args(_group_words(shlex.split(line)))
    found = {k: v for k, v in vars(known).items() if v and k != "append"}
    return (vars(known)["append"] or [""])[0], found


def parse_save(text: str) -> dict[str, dict[str, Any]]:
    """Tables, chains (policy, counters, rules, rules_comment) of an iptables-save text."""
    tables: dict[str, dict[str, Any]] = {}
    table = ""
    for line in text.splitlines():
        if line.startswith("*"):
            table = line.replace("*", "")
            tables[table] = {}
        elif line.startswith(":") and table:
            words = line.split()
            packets, _, octets = words[2].replace("[", "").replace("]", "").partition(":")
            tables[table][words[0][1:]] = {"policy": words[1], "packet count": packets,
                                           "byte count": octets, "rules": [],
                                           "rules_comment": {}}
        elif line.startswith("-A") and table:
            chain, rule = parse_rule(line)
            entry = tables[table].setdefault(chain, {"policy": "-", "rules": [],
                                                     "rules_comment": {}})
            if rule.get("comment"):
                entry["rules_comment"][rule["comment"][0].strip('"')] = rule
            entry["rules"].append(rule)
    return tables
