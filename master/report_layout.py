"""Where every bar of a job's Gantt chart goes: a pure function of the job.

One lane per minion, one bar per state placed by its start time and duration
(for a job that is not a state run, one bar per minion from publish to
return). States that ran at the same time on one minion (``parallel: True``)
go into sub-rows of its lane, so bars in one row never overlap. Times are
seconds after the job was published; pixels are computed here too, so the SVG
writer only prints.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from master.report_outcome import (
    duration_ms,
    is_state_return,
    outcome,
    start_seconds,
    state_names,
)

ROW_H = 15          # one sub-row of a lane
BAR_H = 11
LANE_PAD = 3        # above and below the rows of a lane
LABEL_W = 220       # the minion-id column
PLOT_W = 1100
RIGHT_PAD = 40
LABEL_FONT = 11     # px, monospace: 0.6 em a character, so widths are known
BAR_FONT = 9
CHAR = 0.61         # a monospace character's width in em (DejaVu Sans Mono: 0.602)
MIN_BAR_W = 1.0
# Above this many states in a job, runs of states too thin to see one by one
# (under THIN_PX each, back to back in a row) are drawn as one mark, which
# keeps 300 minions x 500 states to a few MB; hover lists what it holds.
CLUSTER_ABOVE = 20_000
THIN_PX = 4.0
TICK_MIN_PX = 90
TOLERANCE = 0.005   # s: wall-clock start vs monotonic duration jitter between states
CLOCK_SLACK = 2.0   # s: how far a minion's clock may be off before it is realigned
COMMENT_MAX = 600   # characters of a comment kept for the hover details
MIDDAY = 43200.0


@dataclass
class Bar:
    """One state (or one whole return) drawn in a lane."""

    lane: int
    row: int
    start: float
    end: float
    outcome: str
    state_id: str
    function: str
    name: str
    comment: str
    duration_ms: float
    run_num: int
    sls: str = ""
    x: float = 0.0
    w: float = 0.0
    y: float = 0.0
    label: str = ""
    thin: bool = False              # narrower than THIN_PX at this scale


@dataclass
class Mark:
    """What the chart draws: one bar, or a run of bars too thin to draw one by one."""

    x: float
    w: float
    y: float
    outcome: str
    bars: list[Bar]


# The outcome a run of thin bars shows: a failure first, then a change.
WORST = ("failed", "changed", "unchanged", "notrun")


@dataclass
class Lane:
    """One minion: its rows, where it sits, and how its return went."""

    minion: str
    index: int
    status: str                     # ok, failed or missing
    return_at: float | None         # seconds after publish
    rows: int = 1
    y: float = 0.0
    height: float = 0.0
    label: str = ""
    shifted: bool = False           # its clock was off: bars realigned to its return
    bars: list[Bar] = field(default_factory=list)
    marks: list[Mark] = field(default_factory=list)


@dataclass
class Gantt:
    """The whole chart: lanes with their bars, the time axis and the canvas size."""

    jid: str
    fun: str
    state_job: bool
    t0: float
    span: float
    lanes: list[Lane]
    ticks: list[tuple[float, str]]
    width: float
    height: float
    plot_x: float = LABEL_W
    plot_w: float = PLOT_W

    @property
    def bars(self) -> list[Bar]:
        return [bar for lane in self.lanes for bar in lane.bars]


def layout(job: Mapping[str, Any], returns: Iterable[tuple[str, Any, bool, float | None]],
           published_tod: float, plot_w: float = PLOT_W) -> Gantt:
    """Lay out job `job` (its ``jid``, ``fun``, ``started``, ``expected``) and its
    `returns` as (minion, return, success, arrival time).

    `published_tod` is the publish time as seconds after local midnight, the
    clock a minion's ``start_time`` is read against.
    """
    lanes: dict[str, Lane] = {}
    state_job = False
    for minion, ret, success, ts in returns:
        at = None if ts is None else max(0.0, float(ts) - float(job["started"] or 0))
        lane = Lane(str(minion), 0, "ok" if success else "failed", at)
        if is_state_return(ret):
            state_job = True
            lane.bars, lane.shifted = _state_bars(ret, published_tod, at)
        else:
            lane.bars = [_return_bar(job["fun"], ret, success, at)]
        if any(bar.outcome == "failed" for bar in lane.bars):
            lane.status = "failed"
        lanes[lane.minion] = lane
    for minion in job.get("expected") or []:
        if isinstance(minion, str) and minion not in lanes:
            lanes[minion] = Lane(minion, 0, "missing", None)
    ordered = [lanes[m] for m in sorted(lanes, key=natural_key)]
    for index, lane in enumerate(ordered):
        lane.index = index
        lane.rows = _assign_rows(lane.bars)
        for bar in lane.bars:
            bar.lane = index
    return _place(str(job["jid"]), str(job["fun"]), state_job, ordered, plot_w)


def _state_bars(ret: Mapping[str, Any], published_tod: float, at: float | None
                ) -> tuple[list[Bar], bool]:
    """Bars of one minion's state results, in run order, placed in time."""
    items = sorted(ret.items(), key=lambda kv: _run_num(kv[1]))
    bars: list[Bar] = []
    previous_end = 0.0
    for tag, result in items:
        state_id, function, name = state_names(str(tag), result)
        seconds = duration_ms(result) / 1000
        start = start_seconds(result)
        begin = previous_end if start is None else (
            (start - published_tod + MIDDAY) % 86400 - MIDDAY)  # across midnight too
        bars.append(Bar(0, 0, begin, begin + seconds, outcome(result), state_id, function,
                        name, _short(result.get("comment")), duration_ms(result),
                        _run_num(result), str(result.get("__sls__") or "")))
        previous_end = begin + seconds
    shifted = False
    if bars and at is not None:
        first = min(b.start for b in bars)
        last = max(b.end for b in bars)
        if first < -CLOCK_SLACK or last > at + CLOCK_SLACK:
            # The minion's clock (or time zone) differs: end its run at its return.
            shift = at - last
            for bar in bars:
                bar.start += shift
                bar.end += shift
            shifted = True
    return bars, shifted


def _return_bar(fun: str, ret: Any, success: bool, at: float | None) -> Bar:
    """The single bar of a return that is not a mapping of state results."""
    end = at or 0.0
    return Bar(0, 0, 0.0, end, "unchanged" if success else "failed", "return", fun, "",
               _short(ret), end * 1000, 0)


def _assign_rows(bars: list[Bar]) -> int:
    """Put each bar in the first sub-row free at its start; return how many rows."""
    bars.sort(key=lambda b: (b.start, b.run_num))
    ends: list[float] = []
    for bar in bars:
        for row, end in enumerate(ends):
            if bar.start >= end - TOLERANCE:
                bar.row = row
                break
        else:
            bar.row = len(ends)
            ends.append(bar.start)
        # jitter below TOLERANCE: start where the row's previous bar ended
        bar.start = max(bar.start, ends[bar.row])
        bar.end = max(bar.end, bar.start)
        ends[bar.row] = bar.end
    return max(1, len(ends))


def _place(jid: str, fun: str, state_job: bool, lanes: list[Lane], plot_w: float) -> Gantt:
    """Pixels for every lane and bar, and the time axis."""
    bars = [bar for lane in lanes for bar in lane.bars]
    t0 = min([0.0, *(b.start for b in bars)])
    t1 = max([0.0, *(b.end for b in bars), *(la.return_at or 0.0 for la in lanes)])
    span = max(t1 - t0, 0.001)
    scale = plot_w / span
    cluster = len(bars) > CLUSTER_ABOVE
    y = 0.0
    for lane in lanes:
        lane.y = y
        lane.height = lane.rows * ROW_H + 2 * LANE_PAD
        lane.label = fit(lane.minion, LABEL_W - 16, LABEL_FONT)
        y += lane.height
        rows: dict[int, list[Bar]] = {}
        for bar in lane.bars:
            rows.setdefault(bar.row, []).append(bar)
        lane.marks = []
        for _, row_bars in sorted(rows.items()):
            _pixels(row_bars, lane.y + LANE_PAD + (ROW_H - BAR_H) / 2, t0, scale)
            lane.marks += _marks(row_bars, cluster)
    return Gantt(jid, fun, state_job, t0, span, lanes, ticks(t0, span, plot_w), LABEL_W +
                 plot_w + RIGHT_PAD, y, LABEL_W, plot_w)


def _pixels(row: list[Bar], top: float, t0: float, scale: float) -> None:
    """x and width of the bars of one row (in time order): at least MIN_BAR_W wide
    where there is room, never reaching into the next bar."""
    for i, bar in enumerate(row):
        x0 = round(LABEL_W + (bar.start - t0) * scale, 1)
        x1 = max(round(LABEL_W + (bar.end - t0) * scale, 1), x0 + MIN_BAR_W)
        if i + 1 < len(row):
            x1 = min(x1, round(LABEL_W + (row[i + 1].start - t0) * scale, 1))
        bar.x, bar.w = x0, round(max(0.0, x1 - x0), 1)
        bar.y = round(top + bar.row * ROW_H, 1)
        bar.label = fit(bar.state_id, bar.w - 4, BAR_FONT, minimum=4)
        bar.thin = (bar.end - bar.start) * scale < THIN_PX


def _marks(row: list[Bar], cluster: bool) -> list[Mark]:
    """One mark per bar of a row; with `cluster`, one per run of thin bars that
    touch (within a pixel), as wide as the run (at least MIN_BAR_W where there is room)."""
    runs: list[list[Bar]] = []
    for bar in row:
        last = runs[-1][-1] if runs else None
        if cluster and last is not None and last.thin and bar.thin and \
                bar.x - (last.x + last.w) <= 1.0:
            runs[-1].append(bar)
        else:
            runs.append([bar])
    marks = []
    for i, run in enumerate(runs):
        if len(run) == 1:
            marks.append(Mark(run[0].x, run[0].w, run[0].y, run[0].outcome, run))
            continue
        x0, x1 = run[0].x, max(run[-1].x + run[-1].w, run[0].x + MIN_BAR_W)
        if i + 1 < len(runs):
            x1 = min(x1, runs[i + 1][0].x)
        shown = min((b.outcome for b in run), key=WORST.index)
        for bar in run:
            bar.label = ""
        marks.append(Mark(x0, round(max(0.0, x1 - x0), 1), run[0].y, shown, run))
    return marks


def ticks(t0: float, span: float, plot_w: float) -> list[tuple[float, str]]:
    """Axis ticks (x, text) at a round step, at least TICK_MIN_PX apart."""
    raw = span * TICK_MIN_PX / plot_w
    step = next(s for s in _steps() if s >= raw)
    first = math.ceil(t0 / step - 1e-9) * step
    count = int((t0 + span - first) / step + 1e-9) + 1
    return [(round(LABEL_W + (first + i * step - t0) * plot_w / span, 1),
             seconds_text(first + i * step, step)) for i in range(count)]


def _steps() -> Iterable[float]:
    for power in range(-4, 3):
        for mantissa in (1, 2, 5):
            yield mantissa * 10.0 ** power
    minutes = (60, 120, 300, 600, 900, 1800, 3600, 7200, 14400, 28800, 43200)
    yield from (float(s) for s in minutes)
    yield from (86400.0 * 2 ** k for k in range(30))


def seconds_text(value: float, step: float) -> str:
    """A tick's text: ``0.25 s``, ``12 s``, ``2:30`` (minutes) or ``1:05:00``."""
    if step >= 60:
        total = round(value)
        sign = "-" if total < 0 else ""
        hours, rest = divmod(abs(total), 3600)
        if hours:
            return f"{sign}{hours}:{rest // 60:02d}:{rest % 60:02d}"
        return f"{sign}{rest // 60}:{rest % 60:02d}"
    decimals = max(0, -math.floor(math.log10(step) + 1e-9))
    return f"{value:.{decimals}f} s"


def fit(text: str, width: float, font: float, minimum: int = 1) -> str:
    """`text` cut (with an ellipsis) to fit `width` px in a monospace `font`; empty
    when fewer than `minimum` characters fit."""
    room = int(width / (font * CHAR))
    if room < minimum:
        return ""
    return text if len(text) <= room else text[:room - 1] + "…"


def natural_key(text: str) -> list[Any]:
    """Sort key that puts web2 before web10."""
    return [(0, int(part), "") if part.isdigit() else (1, 0, part)
            for part in re.split(r"(\d+)", text) if part]


def _run_num(ret: Any) -> int:
    num = ret.get("__run_num__") if isinstance(ret, Mapping) else None
    return num if isinstance(num, int) else 1 << 30


def _short(value: Any) -> str:
    if isinstance(value, list | tuple):
        value = "\n".join(str(v) for v in value)
    text = value if isinstance(value, str) else repr(value)
    return text if len(text) <= COMMENT_MAX else text[:COMMENT_MAX - 1] + "…"
