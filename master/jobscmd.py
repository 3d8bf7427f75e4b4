"""`master jobs list` and `master jobs show JID`, read from the job cache."""

from __future__ import annotations

import argparse
import datetime
import sqlite3
import sys
from pathlib import Path
from typing import Any

from common import output
from master.jobcache import JobCache


def main(args: argparse.Namespace, opts: dict[str, Any]) -> int:
    if not (Path(opts["cachedir"]) / "jobs.sqlite").exists():
        print("No jobs yet.", file=sys.stderr)
        return 0 if args.jobs_command == "list" else 1
    try:
        cache = JobCache(Path(opts["cachedir"]), readonly=True)
        if args.jobs_command == "list":
            return list_jobs(cache, args)
        return show_job(cache, args)
    except sqlite3.Error as exc:
        print(f"master: error: job cache: {exc}", file=sys.stderr)
        return 1


def list_jobs(cache: JobCache, args: argparse.Namespace) -> int:
    jobs = cache.list_jobs(args.limit)
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
        for j in jobs
    }
    output.emit(data, args.out)
    return 0


def show_job(cache: JobCache, args: argparse.Namespace) -> int:
    job = cache.get_job(args.jid)
    if job is None:
        print(f"master: no job {args.jid} in the job cache", file=sys.stderr)
        return 1
    missing = [m for m in job["expected"] if m not in job["returns"]]
    if args.out != "nested":
        output.emit({**job, "started": _when(job["started"]), "missing": missing}, args.out)
        return 0
    header = {"Function": job["fun"], "Arguments": job["arg"], "Target": job["tgt"],
              "Target-type": job["tgt_type"], "StartTime": _when(job["started"])}
    output.emit({job["jid"]: header}, "nested")
    for minion, ret in job["returns"].items():
        output.emit({minion: ret["return"]}, "nested", ok=ret["success"])
    for minion in missing:
        print(f"{minion}: no return yet", file=sys.stderr)
    return 0


def _when(ts: float | None) -> str:
    if ts is None:
        return ""
    return datetime.datetime.fromtimestamp(ts).strftime("%Y-%m-%d %H:%M:%S")
