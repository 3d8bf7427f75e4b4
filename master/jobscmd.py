"""`master jobs list|show|report|stats`, read from the job cache."""

from __future__ import annotations

import argparse
import datetime
import fnmatch
import re
import sqlite3
import sys
import time
from collections.abc import Iterator
from typing import Any

from common import output
from master.jobcache import JobCache
from master.report_outcome import STATE_FUNS, is_test_run
from master.store import open_store

_AGO = re.compile(r"(\d+(?:\.\d+)?)\s*([smhdw])\Z")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def main(args: argparse.Namespace, opts: dict[str, Any]) -> int:
    stores = open_store(opts)  # the SQLite cache, or the cluster store
    if not stores.has_jobs():
        print("No jobs yet.", file=sys.stderr)
        return 0 if args.jobs_command in ("list", "stats") else 1
    try:
        since = None if getattr(args, "since", None) is None else parse_since(args.since)
    except ValueError as exc:
        print(f"master: error: {exc}", file=sys.stderr)
        return 2
    if getattr(args, "limit", 1) < 1:
        print(f"master: error: --limit {args.limit}: use 1 or more", file=sys.stderr)
        return 2
    try:
        cache = stores.jobs(readonly=True)
        if args.jobs_command == "list":
            return list_jobs(cache, args, since)
        if args.jobs_command == "report":
            from master import report

            return report.main(cache, args.jid, args.output, args.width)
        if args.jobs_command == "stats":
            return show_stats(cache, args, since or 0.0)
        return show_job(cache, args)
    except sqlite3.Error as exc:
        print(f"master: error: job cache: {exc}", file=sys.stderr)
        return 1


def parse_since(text: str, now: float | None = None) -> float:
    """The time `text` names: ``90s``, ``30m``, ``2h``, ``7d``, ``1w`` back from now,
    or a local date or date and time (``2024-05-01``, ``2024-05-01 14:30``)."""
    now = time.time() if now is None else now
    match = _AGO.match(text.strip().lower())
    if match:
        return now - float(match.group(1)) * _UNITS[match.group(2)]
    try:
        return datetime.datetime.fromisoformat(text.strip()).timestamp()
    except ValueError:
        raise ValueError(f"--since {text!r}: use a duration such as 30m, 2h or 7d, or a date "
                         "such as 2024-05-01 or '2024-05-01 14:30'") from None


def list_jobs(cache: JobCache, args: argparse.Namespace, since: float | None) -> int:
    jobs = cache.list_jobs(args.limit + 1, since=since, fun=args.fun, tgt=args.target,
                           before=args.before)
    data = {
        j["jid"]: {
            "Function": j["fun"],
            "Arguments": j["arg"],
            "Target": j["tgt"],
            "Target-type": j["tgt_type"],
            "StartTime": _when(j["started"]),
            "User": j["user"],
            "Returned": f"{j['returned']}/{j['expected']}",
        }
        for j in jobs[:args.limit]
    }
    output.emit(data, args.out)
    if len(jobs) > args.limit:
        print(f"more: {_next_page(args, jobs[args.limit - 1]['jid'])}", file=sys.stderr)
    return 0


def _next_page(args: argparse.Namespace, last: str) -> str:
    """The command that lists the page after this one."""
    words = ["master", "jobs", "list", "-n", str(args.limit), "--before", last]
    for flag, value in (("--since", args.since), ("--fun", args.fun),
                        ("--target", args.target)):
        if value:
            words += [flag, f"'{value}'" if set(value) & set("*?[ ") else value]
    return " ".join(words)


def show_job(cache: JobCache, args: argparse.Namespace) -> int:
    job = cache.job_header(args.jid)
    if job is None:
        print(f"master: no job {args.jid} in the job cache", file=sys.stderr)
        return 1
    wanted = args.minion or "*"
    expected = [m for m in job["expected"] if fnmatch.fnmatchcase(m, wanted)]
    returns = _returns(cache, args.jid, wanted)
    if args.out != "nested":
        got = dict(returns)
        missing = [m for m in expected if m not in got]
        output.emit({**job, "started": _when(job["started"]), "returns": got,
                     "missing": missing}, args.out)
        return 0
    header = {"Function": job["fun"], "Arguments": job["arg"], "Target": job["tgt"],
              "Target-type": job["tgt_type"], "StartTime": _when(job["started"])}
    output.emit({job["jid"]: header}, "nested")
    seen = set()
    for minion, ret in returns:  # printed as read: a large job is never held whole
        seen.add(minion)
        output.emit({minion: ret["return"]}, "nested", ok=ret["success"])
    for minion in expected:
        if minion not in seen:
            print(f"{minion}: no return yet", file=sys.stderr)
    return 0


def _returns(cache: JobCache, jid: str, wanted: str) -> Iterator[tuple[str, dict[str, Any]]]:
    for minion, ret, ok, rc, _ in cache.iter_returns(jid):
        if fnmatch.fnmatchcase(minion, wanted):
            yield minion, {"return": ret, "success": ok, "retcode": rc}


def show_stats(cache: JobCache, args: argparse.Namespace, since: float) -> int:
    from master import stats

    jobs = [(jid, started) for jid, fun, started, kwarg in cache.recent_jobs("state.*", since,
                                                                              args.limit)
            if fun in STATE_FUNS and fun != "state.test" and not is_test_run(kwarg)]

    def returns() -> Iterator[tuple[str, str, Any, bool, float | None]]:
        for jid, started in jobs:
            for minion, ret, ok, _, ts in cache.iter_returns(jid):
                took = None if ts is None or started is None else max(0.0, ts - started)
                yield jid, minion, ret, ok, took

    sys.stdout.write(stats.render(stats.collect(returns()), args.out, since))
    return 0


def _when(ts: float | None) -> str:
    if ts is None:
        return ""
    return datetime.datetime.fromtimestamp(ts).strftime("%Y-%m-%d %H:%M:%S")
