"""`master events`: follow the master's event stream, or wait for an event in a script.

Long-polls the running master over its local socket (the ``events`` local
command, see master.events) and prints each event as it comes: one JSON
object per line by default. Exit 0 once `--count` events were shown (or at
`--timeout` without `--count`); 1 when the timeout came first, or the master
stopped or cannot be reached.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import sys
import time
from typing import TYPE_CHECKING, Any

from common import output

if TYPE_CHECKING:  # the parser is built on every `master` call: zmq only when used
    from master.localclient import LocalClient

OUT_FORMATS = ("json", "yaml", "nested")
POLL_WAIT = 2.0  # seconds one poll may wait at the master
REPLY_GRACE = 3.0  # and how much longer its answer may take to come back

EPILOG = """\
examples:
  master events                                      every event, one JSON object per line
  master events --tag 'saline/job/*/ret/*' --out nested
  master events --tag 'saline/key/pending/*' --count 1 --timeout 60
                                                     wait for a new minion key (exit 1 if none)

Tags are listed in docs/events.md. A --tag without * ? [ matches as a prefix."""


def add_parser(sub: Any, common: argparse.ArgumentParser) -> None:
    """`master events` (called from master.cli)."""
    ev = sub.add_parser("events", parents=[common], epilog=EPILOG,
                        help="follow the master's events live (jobs, returns, keys, minions)",
                        description="Print the running master's events as they happen: "
                                    "jobs published, acknowledged\nand returned, keys "
                                    "pending, accepted, rejected or deleted, minions "
                                    "connected\nor disconnected, the master started or "
                                    "stopping.")
    ev.add_argument("--tag", dest="tags", action="append", metavar="GLOB",
                    help="only events whose tag matches (repeat for several; "
                         "e.g. 'saline/job/*/ret/*')")
    ev.add_argument("--count", type=_positive(int), metavar="N",
                    help="exit 0 after N matching events")
    ev.add_argument("--timeout", type=_positive(float), metavar="SECONDS",
                    help="stop after SECONDS: exit 1 if --count events had not come "
                         "by then, else 0")
    ev.add_argument("--since", type=_positive(float), metavar="SECONDS",
                    help="first replay the events of the last SECONDS that the master "
                         "still holds (its last 4096), so a script started late misses none")
    ev.add_argument("--out", choices=OUT_FORMATS, default="json", help="output format")


def _positive(kind: type) -> Any:
    def parse(text: str) -> Any:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
        if value <= 0:
            raise argparse.ArgumentTypeError(f"must be more than 0, not {text}")
        return value
    return parse


def main(args: argparse.Namespace, opts: dict[str, Any]) -> int:
    """Follow the events until --count, --timeout, Ctrl-C or the master's stop."""
    from master.localclient import CommandFailed, LocalClient, MasterUnavailable

    try:
        client = LocalClient(opts)
    except MasterUnavailable as exc:
        print(f"master: {exc}", file=sys.stderr)
        return 1
    try:
        return follow(client, args)
    except (MasterUnavailable, CommandFailed) as exc:
        print(f"master: {exc}", file=sys.stderr)
        return 1
    except BrokenPipeError:
        # The reader went away (`| head -1`): stop quietly, as a filter does.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    finally:
        client.close()


def follow(client: LocalClient, args: argparse.Namespace) -> int:
    """Poll the master and print matching events; the exit code."""
    deadline = None if args.timeout is None else time.monotonic() + args.timeout
    cursor: int | None = None
    shown = 0
    while True:
        left = POLL_WAIT if deadline is None else deadline - time.monotonic()
        wait = max(0.0, min(POLL_WAIT, left))
        reply = client.call("events", timeout=wait + REPLY_GRACE, cursor=cursor,
                            tags=args.tags or [], wait=wait,
                            since=args.since if cursor is None else None)
        if reply.get("missed"):
            print(f"master: missed {reply['missed']} events: this reader fell behind the "
                  "master's buffer", file=sys.stderr)
        for event in reply.get("events") or []:
            write(event, args.out)
            shown += 1
            if args.count and shown >= args.count:
                return 0
        cursor = int(reply["cursor"])
        if reply.get("closing"):
            print("master: the master is stopping", file=sys.stderr)
            return 1
        if deadline is not None and time.monotonic() >= deadline:
            if not args.count:
                return 0
            print(f"master: {shown} of {args.count} matching event{'s' * (args.count != 1)} "
                  f"within {args.timeout:g} s", file=sys.stderr)
            return 1


def stamp(ts: float) -> str:
    """An event time as ISO 8601 UTC with milliseconds, as the JSON logs write it."""
    when = datetime.datetime.fromtimestamp(ts, datetime.UTC)
    return when.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def render(event: dict[str, Any], fmt: str) -> str:
    """One event as text: a JSON line, a YAML document, or Salt's nested layout."""
    tag, ts, data = str(event["tag"]), stamp(float(event["ts"])), event.get("data") or {}
    if fmt == "json":
        return json.dumps({"tag": tag, "ts": ts, "data": data}, ensure_ascii=False, default=str)
    if fmt == "yaml":
        return "---\n" + output.render({"tag": tag, "ts": ts, "data": data}, "yaml", ordered=True)
    return output.nested({tag: {"ts": ts, **data}})


def write(event: dict[str, Any], fmt: str) -> None:
    sys.stdout.write(render(event, fmt) + "\n")
    sys.stdout.flush()
