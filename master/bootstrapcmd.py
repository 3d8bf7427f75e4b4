"""`master bootstrap TARGET`: roster hosts to accepted minions that answer test.ping.

This command does the SSH itself (as `master ssh` does) and talks to the
running master daemon to wait for each new minion's test.ping; it changes
the master's keys directly, accepting only the key each host sent over its
authenticated SSH connection. One line per host; exit 1 if any failed.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from master.localclient import LocalClient, MasterUnavailable, try_notify

ANY_ADDRESS = ("0.0.0.0", "::", "")
DEFAULT_WAIT = 60.0

EPILOG = """\
examples:
  master bootstrap web1
  master bootstrap -L web1,web2 --master 10.0.0.1
  master bootstrap '*' --wheelhouse ./wheelhouse      # wheels for the hosts' Python

Installs saline in /opt/saline on each roster host from wheels this master
carries (nothing is downloaded on the host), writes /etc/saline/minion,
lets the minion make its key, accepts exactly that key (read over the SSH
connection whose host key known_hosts vouches for), starts the minion
(systemd unit, else `minion start -d`) and waits for its test.ping through
the running master. A second run changes nothing. Needs root on the host
(or sudo: true in the roster) and python3 >= 3.11 with venv."""


def add_parser(sub: Any, common: argparse.ArgumentParser,
               target_flags: Mapping[str, tuple[str, str]]) -> None:
    """`master bootstrap TARGET`."""
    from master.ssh.args import SSH_TARGETS

    p = sub.add_parser("bootstrap", parents=[common], epilog=EPILOG,
                       help="install and start minions on roster hosts over SSH, "
                            "accepting their keys")
    group = p.add_mutually_exclusive_group()
    for flag in SSH_TARGETS:
        tgt_type, text = target_flags[flag]
        group.add_argument(flag, dest="tgt_type", action="store_const", const=tgt_type,
                           help=text)
    p.add_argument("--delimiter", default=":", help=argparse.SUPPRESS)
    p.add_argument("target", help="which roster ids: a glob unless a flag says otherwise")
    p.add_argument("--roster-file", metavar="FILE",
                   help="the roster (default: `roster` in the config dir)")
    p.add_argument("--known-hosts", metavar="FILE",
                   help="known_hosts to check host keys against (default: the config's "
                        "ssh_known_hosts_file, else ~/.ssh/known_hosts)")
    # Never without the host key check: it is what vouches for the minion key accepted.
    p.set_defaults(ignore_host_keys=False)
    p.add_argument("--master", metavar="ADDR",
                   help="where the hosts reach this master (default: the config's "
                        "interface, unless it is 0.0.0.0)")
    p.add_argument("--wheelhouse", metavar="DIR",
                   help="wheels to use before the master's own installed ones (e.g. "
                        "docker/build-wheelhouse.sh's, for another Python)")
    p.add_argument("--wait", type=float, default=DEFAULT_WAIT, metavar="SECONDS",
                   help=f"how long to wait for test.ping answers (default {DEFAULT_WAIT:g})")
    p.add_argument("--max-procs", type=int, default=20, metavar="N",
                   help="hosts worked on at once (default 20)")
    p.add_argument("-t", "--timeout", type=float, default=600.0, metavar="SECONDS",
                   help="seconds one host may take to install and start (default 600)")
    p.add_argument("--host-root", default="/", metavar="DIR", help=argparse.SUPPRESS)


def main(args: argparse.Namespace, opts: dict[str, Any]) -> int:
    """Bootstrap the targeted roster hosts; 0 when every one answers test.ping."""
    if importlib.util.find_spec("asyncssh") is None:
        print("master: error: master bootstrap needs asyncssh: pip install 'saline[ssh]'",
              file=sys.stderr)
        return 2
    from master.ssh import cmd as sshcmd
    from master.ssh import roster
    from master.ssh.bootstrap import Plan
    from master.ssh.session import Settings
    from master.ssh.wheelhouse import WheelError
    from master.store import open_store

    try:
        entries = sshcmd.targets(args, opts)
        settings = Settings(sshcmd.known_hosts(args, opts), args.timeout)
        master = master_address(args, opts)
    except (sshcmd.UsageError, roster.RosterError, ValueError) as exc:
        print(f"master: error: {exc}", file=sys.stderr)
        return 2
    if not entries:
        print("No hosts in the roster matched the target. Nothing was done.", file=sys.stderr)
        return 1
    try:
        LocalClient(opts).close()
    except MasterUnavailable as exc:
        print(f"master: {exc}: bootstrap waits for each minion's test.ping through it; "
              "start it first (master start -d)", file=sys.stderr)
        return 1
    stores = open_store(opts)
    try:
        plan = Plan(_wheels(opts, args), {
            "master": master, "master_port": int(opts["ret_port"]),
            "master_finger": stores.master_pair().public.fingerprint()},
            stores.keys(), args.host_root, settings)
    except WheelError as exc:
        print(f"master: error: {exc}", file=sys.stderr)
        return 1
    return run(plan, entries, opts, args)


def _wheels(opts: dict[str, Any], args: argparse.Namespace) -> Any:
    from master.ssh import wheelhouse

    extra = Path(args.wheelhouse) if args.wheelhouse else None
    return wheelhouse.build(Path(opts["cachedir"]), extra)


def master_address(args: argparse.Namespace, opts: dict[str, Any]) -> str:
    """The address written as `master:` in each host's config."""
    if args.master:
        return str(args.master)
    interface = str(opts.get("interface") or "")
    if interface in ANY_ADDRESS:
        raise ValueError(f"the master listens on {interface or 'every address'}: say with "
                         "--master ADDR where the hosts reach it")
    return interface


def run(plan: Any, entries: list[Any], opts: dict[str, Any], args: argparse.Namespace) -> int:
    """Fan out, accept, wait for pings, one line per host; the exit code."""
    from master.ssh.bootstrap import Outcome, bootstrap_host

    async def all_hosts() -> list[Outcome]:
        gate = asyncio.Semaphore(max(1, args.max_procs))

        async def one(entry: Any) -> Outcome:
            async with gate:
                return await bootstrap_host(entry, plan)

        return list(await asyncio.gather(*(one(e) for e in entries)))

    outcomes = asyncio.run(all_hosts())
    accepted = [o.id for o in outcomes if o.accepted_now]
    if accepted:
        try_notify(opts, "keys_changed", accepted=accepted, removed=[])
    silent = wait_for_pings(opts, [o.id for o in outcomes if o.error is None], args.wait)
    for o in outcomes:
        if o.error is None and o.id in silent:
            o.error = (f"{silent[o.id]} (on the host: minion -c /etc/saline status, and "
                       "its log /etc/saline/log/minion.log)")
    return report(outcomes)


def report(outcomes: list[Any]) -> int:
    """One line per host, failures on stderr; 1 if any host failed."""
    for o in outcomes:
        if o.error is not None:
            done = f" (after: {'; '.join(o.changes)})" if o.changes else ""
            print(f"{o.id}: ERROR: {o.error}{done}", file=sys.stderr)
        elif o.changes:
            print(f"{o.id}: {'; '.join(o.changes)}; answers test.ping")
        else:
            print(f"{o.id}: nothing changed (saline installed, config as it was, key "
                  f"{o.fingerprint} accepted, minion running); answers test.ping")
    failed = sum(1 for o in outcomes if o.error is not None)
    if len(outcomes) > 1:
        changed = sum(1 for o in outcomes if o.error is None and o.changes)
        print(f"Summary: {len(outcomes)} hosts: {changed} changed, "
              f"{len(outcomes) - changed - failed} unchanged, {failed} failed", file=sys.stderr)
    return 1 if failed else 0


def wait_for_pings(opts: dict[str, Any], ids: list[str], seconds: float) -> dict[str, str]:
    """Ping each id through the running master until it answers; id -> why not, for the rest."""
    remaining = set(ids)
    if not remaining:
        return {}
    deadline = time.monotonic() + seconds
    try:
        client = LocalClient(opts)
    except MasterUnavailable as exc:
        return {m: f"cannot ask the master: {exc}" for m in remaining}
    try:
        connected: set[str] = set()
        while remaining and time.monotonic() < deadline:
            tgt = ",".join(sorted(remaining))
            connected = set(client.call("preview", tgt=tgt, tgt_type="list")["connected"])
            ready = sorted(remaining & connected)
            if ready:
                remaining -= _ping(client, ready, min(5.0, deadline - time.monotonic()))
            if remaining:
                time.sleep(min(0.5, max(0.0, deadline - time.monotonic())))
    except MasterUnavailable as exc:
        return {m: f"the master stopped answering: {exc}" for m in remaining}
    finally:
        client.close()
    return {m: (f"connected but no answer to test.ping within {seconds:g} s"
                if m in connected else
                f"the minion did not connect to the master within {seconds:g} s")
            for m in remaining}


def _ping(client: LocalClient, ids: list[str], seconds: float) -> set[str]:
    """test.ping to `ids`; the ids that answered True within `seconds`."""
    job = client.call("publish", tgt=",".join(ids), tgt_type="list", fun="test.ping",
                      arg=[], kwarg={}, user="bootstrap")
    answered: set[str] = set()
    if not job.get("jid"):
        return answered
    cursor, deadline = 0, time.monotonic() + max(seconds, 0.5)
    while len(answered) < len(ids) and time.monotonic() < deadline:
        state = client.call("job_wait", timeout=15, jid=job["jid"], cursor=cursor, wait=0.5)
        if not state.get("known"):
            break
        cursor = state["cursor"]
        answered.update(e["minion"] for e in state["events"] if e["return"] is True)
    return answered
