"""The options of `master ssh` (built here so master/cli.py only adds the subparser)."""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from typing import Any

from common import highstate
from common.output import FORMATS

# Target types whose data the CLI has: ids, and grains cached from earlier runs.
SSH_TARGETS = ("-E", "-L", "-G", "-P", "-S", "-C", "-N")
DEFAULT_MAX_PROCS = 100
DEFAULT_GRAINS_MAX_AGE = 300.0

EPILOG = """\
examples:
  master ssh '*' test.ping
  master ssh -L web1,web2 cmd.run 'uname -a' --timings
  master ssh 'web*' state.apply web test=True
  master ssh '*' test.ping --known-hosts ./known_hosts --out json

Hosts come from the roster (`roster` in the config dir, Salt's format). Host
keys are checked against ~/.ssh/known_hosts (or ssh_known_hosts_file in the
master config, or --known-hosts); a host whose key is missing or differs is
refused. No master daemon is needed: this command does the SSH itself and
records the job in the job cache (`master jobs show JID`)."""


def add_parser(sub: Any, common: argparse.ArgumentParser,
               target_flags: Mapping[str, tuple[str, str]]) -> None:
    """`master ssh TARGET FUN [ARG...]`."""
    ssh = sub.add_parser("ssh", parents=[common], epilog=EPILOG,
                         help="run a function on roster hosts over SSH (no minion needed)")
    add_options(ssh, target_flags)
    ssh.add_argument("target", help="which roster ids: a glob unless a flag says otherwise")
    ssh.add_argument("fun", help="the function to run, as module.function (e.g. test.ping)")
    ssh.add_argument("args", nargs=argparse.REMAINDER, metavar="ARG",
                     help="its arguments: values and KEY=VALUE pairs, read as YAML")


def add_options(ssh: argparse.ArgumentParser,
                target_flags: Mapping[str, tuple[str, str]]) -> None:
    """The options of `master ssh` (also accepted after the function's arguments)."""
    group = ssh.add_mutually_exclusive_group()
    for flag in SSH_TARGETS:
        tgt_type, text = target_flags[flag]
        group.add_argument(flag, dest="tgt_type", action="store_const", const=tgt_type,
                           help=text + (" (grains cached from earlier runs)"
                                        if flag in ("-G", "-P", "-S") else ""))
    ssh.add_argument("--delimiter", default=":", help="separator of nested keys for -G and -P")
    ssh.add_argument("--roster-file", metavar="FILE",
                     help="the roster (default: `roster` in the config dir)")
    ssh.add_argument("--known-hosts", metavar="FILE",
                     help="known_hosts file to check host keys against (default: the "
                          "config's ssh_known_hosts_file, else ~/.ssh/known_hosts)")
    ssh.add_argument("--ignore-host-keys", action="store_true",
                     help="do not check host keys (anyone on the path can pose as the host)")
    ssh.add_argument("--max-procs", type=int, default=DEFAULT_MAX_PROCS, metavar="N",
                     help="hosts worked on at once")
    ssh.add_argument("-t", "--timeout", type=float, default=300.0, metavar="SECONDS",
                     help="seconds one host may take in all (connecting: the roster's "
                          "timeout, 10 s by default)")
    ssh.add_argument("--grains-max-age", type=float, default=DEFAULT_GRAINS_MAX_AGE,
                     metavar="SECONDS",
                     help="reuse grains a host computed this recently (default 300; 0: "
                          "compute them every run; state functions always compute them)")
    ssh.add_argument("--out", choices=FORMATS,
                     help="output format (default: highstate for state functions, else nested)")
    highstate.add_options(ssh)
    ssh.add_argument("--static", action="store_true",
                     help="print all returns together at the end")
    ssh.add_argument("--timings", action="store_true",
                     help="print min/median/max seconds per phase (connect, auth, upload, "
                          "run) on stderr at the end")
