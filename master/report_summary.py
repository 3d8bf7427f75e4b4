"""The figures above a job's Gantt chart: who returned, what failed, what was slow."""

from __future__ import annotations

from dataclasses import dataclass, field

from master.report_layout import Bar, Gantt, Lane
from master.report_outcome import OUTCOMES

TOP = 10


@dataclass
class Summary:
    """Counts and the slowest states and minions of one job."""

    targeted: int
    returned: int
    failed: list[str]
    missing: list[str]
    outcomes: dict[str, int]
    slowest_states: list[Bar] = field(default_factory=list)
    slowest_minions: list[Lane] = field(default_factory=list)
    shifted: list[str] = field(default_factory=list)


def summarize(gantt: Gantt, expected: list[str], top: int = TOP) -> Summary:
    """The summary of `gantt`, whose job was published to `expected`."""
    lanes = gantt.lanes
    returned = [lane for lane in lanes if lane.status != "missing"]
    bars = gantt.bars
    counts = {name: 0 for name in OUTCOMES}
    for bar in bars:
        counts[bar.outcome] += 1
    slow_states = sorted((b for b in bars if gantt.state_job),
                         key=lambda b: -b.duration_ms)[:top]
    slow_minions = sorted((lane for lane in returned if lane.return_at is not None),
                          key=lambda lane: -(lane.return_at or 0.0))[:top]
    return Summary(
        targeted=len(set(expected) | {lane.minion for lane in returned}),
        returned=len(returned),
        failed=[lane.minion for lane in lanes if lane.status == "failed"],
        missing=[lane.minion for lane in lanes if lane.status == "missing"],
        outcomes=counts,
        slowest_states=slow_states,
        slowest_minions=slow_minions,
        shifted=[lane.minion for lane in lanes if lane.shifted],
    )


def duration_text(ms: float) -> str:
    """``0.4 ms``, ``120 ms``, ``3.20 s``, ``2 min 5 s``."""
    if ms < 10:
        return f"{ms:.1f} ms"
    if ms < 1000:
        return f"{ms:.0f} ms"
    if ms < 120_000:
        return f"{ms / 1000:.2f} s"
    minutes, seconds = divmod(round(ms / 1000), 60)
    return f"{minutes} min {seconds} s"
