"""`master jobs report JID -o FILE`: a job's Gantt chart as an HTML page or an SVG."""

from __future__ import annotations

import datetime
import os
import sys
from pathlib import Path
from typing import Any

from master.jobcache import JobCache
from master.report_html import page
from master.report_layout import PLOT_W, Gantt, layout
from master.report_summary import summarize
from master.report_svg import chart_svg

SUFFIXES = (".html", ".htm", ".svg")


def main(cache: JobCache, jid: str, out: str | None, width: int | None) -> int:
    """Write the report of job `jid` to `out` (``.html`` or ``.svg``; default
    ``report-JID.html``) and say where it went."""
    target = Path(out or f"report-{jid}.html")
    if target.suffix.lower() not in SUFFIXES:
        print(f"master: error: -o {target}: the report is .html or .svg", file=sys.stderr)
        return 2
    if width is not None and not 200 <= width <= 20_000:
        print(f"master: error: --width {width}: use 200 to 20000 pixels", file=sys.stderr)
        return 2
    job = cache.job_header(jid)
    if job is None:
        print(f"master: no job {jid} in the job cache", file=sys.stderr)
        return 1
    text, gantt = render(cache, job, target.suffix.lower() == ".svg", width or PLOT_W)
    _write(target, text)
    kind = "chart" if target.suffix.lower() == ".svg" else "report"
    print(f"{kind} of job {jid} ({_count(len(gantt.lanes), 'minion')}, "
          f"{_count(len(gantt.bars), 'bar')}): {target}")
    return 0


def render(cache: JobCache, job: dict[str, Any], svg: bool, plot_w: float = PLOT_W
           ) -> tuple[str, Gantt]:
    """The report's text (an HTML page, or the chart alone as SVG) and its layout."""
    returns = ((m, ret, ok, ts) for m, ret, ok, _, ts in cache.iter_returns(job["jid"]))
    gantt = layout(job, returns, time_of_day(job["started"] or 0.0), plot_w)
    if svg:
        return chart_svg(gantt, titles=True, with_axis=True), gantt
    expected = [m for m in job.get("expected") or [] if isinstance(m, str)]
    return page(gantt, summarize(gantt, expected), job), gantt


def time_of_day(when: float) -> float:
    """Seconds after local midnight at `when`: the clock minions write ``start_time`` in."""
    moment = datetime.datetime.fromtimestamp(when)
    return moment.hour * 3600 + moment.minute * 60 + moment.second + moment.microsecond / 1e6


def _count(n: int, what: str) -> str:
    return f"{n} {what}" if n == 1 else f"{n} {what}s"


def _write(target: Path, text: str) -> None:
    """Write through a temporary file, so a reader never sees half a report."""
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(target)
