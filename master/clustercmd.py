"""`master store migrate --to URL` and `master cluster status`.

`store migrate` copies this master's keys, join tokens, job cache and key
pair into a cluster store (run it again: nothing is copied twice). `cluster
status` lists the masters that share this master's `cluster_store`, with
their addresses, connected minions and last heartbeat.
"""

from __future__ import annotations

import argparse
import datetime
import re
import socket
import sys
from pathlib import Path
from typing import Any

from common import output
from common.output import FORMATS

MIGRATE_HELP = """\
Copy this master's keys (every state), join tokens, job cache (jobs, returns,
grains) and master key pair into the cluster store at URL. Rows the store
holds already are left as they are, so it can be run again. Then set
`cluster_store: URL` in the master config and restart the master."""


def add_parsers(sub: Any, common: argparse.ArgumentParser) -> None:
    """The `store` and `cluster` commands."""
    store = sub.add_parser("store", parents=[common], help="move this master's data into a "
                           "cluster store", description="The cluster store (docs/cluster.md).")
    store_sub = store.add_subparsers(dest="store_command", required=True, metavar="ACTION")
    mig = store_sub.add_parser("migrate", parents=[common], help="copy keys, tokens and jobs "
                               "into a cluster store", description=MIGRATE_HELP)
    mig.add_argument("--to", required=True, metavar="URL",
                     help="the store: postgresql://user:password@host:5432/dbname")
    mig.add_argument("--out", choices=FORMATS, default="nested", help="output format")
    cluster = sub.add_parser("cluster", parents=[common], help="the masters sharing this "
                             "master's cluster store")
    cluster_sub = cluster.add_subparsers(dest="cluster_command", required=True,
                                         metavar="ACTION")
    status = cluster_sub.add_parser("status", parents=[common], help="list the masters, their "
                                    "addresses, connected minions and last heartbeat")
    status.add_argument("--out", choices=FORMATS, default="nested", help="output format")


def main(args: argparse.Namespace, opts: dict[str, Any]) -> int:
    from master.store import StoreError  # here: every `master` command loads this module

    try:
        if args.command == "store":
            return migrate(args, opts)
        return status(args, opts)
    except StoreError as exc:
        print(f"master: error: {exc}", file=sys.stderr)
        return 1
    except ImportError as exc:
        print(f"master: error: the cluster store needs psycopg 3 ({exc}): "
              "pip install 'saline[cluster]'", file=sys.stderr)
        return 2


def migrate(args: argparse.Namespace, opts: dict[str, Any]) -> int:
    """Copy this master's data into the store `args.to`, and print the counts."""
    if not re.match(r"postgres(ql)?://\S+\Z", args.to):
        print("master: error: --to must be a postgresql:// URL "
              "(postgresql://user:password@host:5432/dbname)", file=sys.stderr)
        return 2
    from master.store.migrate import migrate as copy

    source = f"migrated:{socket.gethostname()}"
    report = copy(Path(opts["pki_dir"]), Path(opts["cachedir"]), args.to, source)
    output.emit(report, args.out)
    return 0


def status(args: argparse.Namespace, opts: dict[str, Any]) -> int:
    """List the masters registered in this master's cluster store."""
    if not opts.get("cluster_store"):
        print("master: error: no cluster_store in the master config: this master is alone "
              "(docs/cluster.md)", file=sys.stderr)
        return 2
    from master.store import members, schema
    from master.store.pglink import PgLink

    link = PgLink(str(opts["cluster_store"]))
    try:
        schema.ensure(link)
        masters = members.listing(link)
    finally:
        link.close()
    if args.out != "nested":
        output.emit({"masters": masters}, args.out)
        return 0
    if not masters:
        print("No master has registered in the cluster store yet.")
        return 0
    for m in masters:
        beat = datetime.datetime.fromtimestamp(m["heartbeat"]).strftime("%Y-%m-%d %H:%M:%S")
        state = "up" if m["up"] else "DOWN"
        where = (f"jobs and returns {m['ret']}" if m["publish"] == m["ret"]
                 else f"publish {m['publish']}, returns {m['ret']}")
        print(f"{m['id']}: {state}, {where}, "
              f"{m['connected']} minions connected, last heartbeat {beat} "
              f"({m['heartbeat_age']:g} s ago)")
    return 0 if all(m["up"] for m in masters) else 1


def check_start(opts: dict[str, Any]) -> str | None:
    """Before the master starts (and before -d): why its cluster store cannot be used, if so."""
    if not opts.get("cluster_store"):
        return None
    from master.store import StoreError, open_store

    try:
        open_store(opts).close()
    except ImportError as exc:
        return f"the cluster store needs psycopg 3 ({exc}): pip install 'saline[cluster]'"
    except StoreError as exc:
        return str(exc)
    return None
