"""The options of `master jobs list|show|report|stats` (kept apart from the
commands, which import more, since `master` parses them on every call)."""

from __future__ import annotations

import argparse
from typing import Any

from common.output import FORMATS

SINCE_HELP = "a duration back from now (90s, 30m, 2h, 7d, 1w) or a local date/time " \
             "(2024-05-01, '2024-05-01 14:30')"
STATS_FORMATS = ("table", "json", "prometheus")


def add_parser(sub: Any, common: argparse.ArgumentParser) -> None:
    """`master jobs ...` (called from master.cli)."""
    jobs = sub.add_parser("jobs", parents=[common], help="read the job cache",
                          description="Read the job cache: recent jobs, one job's returns, "
                                      "a job's timeline as a report, statistics of state "
                                      "runs.")
    jobs_sub = jobs.add_subparsers(dest="jobs_command", required=True, metavar="ACTION")
    jl = jobs_sub.add_parser("list", parents=[common], help="recent jobs, newest first",
                             description="Recent jobs, newest first. With more jobs than "
                                         "--limit, the last line (on stderr) gives the\n"
                                         "command for the next page.")
    jl.add_argument("-n", "--limit", type=int, default=50, help="how many jobs to show")
    jl.add_argument("--since", metavar="WHEN", help="only jobs published since: " + SINCE_HELP)
    jl.add_argument("--fun", metavar="GLOB", help="only jobs of these functions ('state.*')")
    jl.add_argument("--target", metavar="GLOB", help="only jobs whose target matches the glob")
    jl.add_argument("--before", metavar="JID", help="only jobs older than this job id "
                                                    "(the next page)")
    jl.add_argument("--out", choices=FORMATS, default="nested", help="output format")
    js = jobs_sub.add_parser("show", parents=[common], help="one job and its returns")
    js.add_argument("jid", help="the job id (`master jobs list` shows them)")
    js.add_argument("--minion", metavar="GLOB", help="only the returns of these minions")
    js.add_argument("--out", choices=FORMATS, default="nested", help="output format")
    jr = jobs_sub.add_parser(
        "report", parents=[common], help="a job's timeline: HTML page or SVG chart",
        description="Write one self-contained HTML page (no network, no external files) with "
                    "a\nsummary and a Gantt chart of the job: a lane per minion, a bar per "
                    "state\n(or per return), coloured by outcome, details on hover. With "
                    "-o FILE.svg,\nthe chart alone.")
    jr.add_argument("jid", help="the job id (`master jobs list --fun 'state.*'`)")
    jr.add_argument("-o", "--output", metavar="FILE",
                    help="FILE.html or FILE.svg (default: report-JID.html)")
    jr.add_argument("--width", type=int, metavar="PX",
                    help="width of the time axis in pixels (default 1100)")
    st = jobs_sub.add_parser(
        "stats", parents=[common], help="how state runs went: per state and per minion",
        description="Over recent state runs (test=True runs left out): per state and per "
                    "minion,\nhow often it changed, failed, was skipped, and its median "
                    "duration.\nStates that changed on every run (a formula that is not "
                    "idempotent) come first.")
    st.add_argument("--since", metavar="WHEN", default="24h",
                    help="state runs published since (default 24h): " + SINCE_HELP)
    st.add_argument("-n", "--limit", type=int, default=200,
                    help="at most this many of the newest state runs (default 200)")
    st.add_argument("--out", choices=STATS_FORMATS, default="table", help="output format")
