"""`master jobs stats`: how recent state runs went, per state and per minion.

For each state (its id and function, across minions) and each minion: in how many runs it
appeared, changed, failed, was skipped (did not run: onchanges/onfail not
met, or a requisite failed), and its median duration. A state that changed on
every one of two or more runs is the sign of a formula that is not idempotent;
those come first.
"""

from __future__ import annotations

import json
import random
import statistics
from array import array
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from master.report_layout import natural_key
from master.report_outcome import duration_ms, is_state_return, outcome, state_names

SAMPLE = 20_000  # durations kept per row; beyond that a fixed-seed random sample


@dataclass
class Row:
    """Counts of one state or one minion over the runs seen."""

    key: tuple[str, ...]
    runs: int = 0
    changed: int = 0
    failed: int = 0
    skipped: int = 0
    offered: int = 0
    durations: array = field(default_factory=lambda: array("d"))

    def add_duration(self, value: float, rng: random.Random) -> None:
        """Keep the value, or (past SAMPLE) replace a random kept one: a fair sample."""
        self.offered += 1
        if len(self.durations) < SAMPLE:
            self.durations.append(value)
            return
        slot = rng.randrange(self.offered)
        if slot < SAMPLE:
            self.durations[slot] = value

    @property
    def median(self) -> float | None:
        return statistics.median(self.durations) if self.durations else None

    @property
    def every_run(self) -> bool:
        """Changed on every run, and there were at least two."""
        return self.runs >= 2 and self.changed == self.runs


@dataclass
class Stats:
    """Rows per state and per minion, and how many jobs they came from."""

    jobs: int = 0
    states: dict[tuple[str, ...], Row] = field(default_factory=dict)
    minions: dict[tuple[str, ...], Row] = field(default_factory=dict)


def collect(returns: Iterable[tuple[str, str, Any, bool, float | None]]) -> Stats:
    """Count `returns` given as (jid, minion, return, success, seconds from publish
    to return). A minion's median is of its whole runs (publish to return, s); a
    state's of its own duration (ms), over the runs where it ran."""
    stats = Stats()
    rng = random.Random(0)
    jids: set[str] = set()
    for jid, minion, ret, success, took in returns:
        jids.add(jid)
        mrow = stats.minions.setdefault((minion,), Row((minion,)))
        mrow.runs += 1
        seen: set[str] = set()
        if is_state_return(ret):
            for tag, result in ret.items():
                kind = outcome(result)
                seen.add(kind)
                key = state_names(str(tag), result)[:2]
                row = stats.states.setdefault(key, Row(key))
                row.runs += 1
                _count(row, kind)
                if kind != "notrun":
                    row.add_duration(duration_ms(result), rng)
        elif not success:
            seen.add("failed")
        for kind in seen:
            _count(mrow, kind)
        if took is not None:
            mrow.add_duration(took, rng)
    stats.jobs = len(jids)
    return stats


def _count(row: Row, kind: str) -> None:
    if kind == "changed":
        row.changed += 1
    elif kind == "failed":
        row.failed += 1
    elif kind == "notrun":
        row.skipped += 1


def ordered(rows: Iterable[Row]) -> list[Row]:
    """Changed on every run first, then by share changed, failures, then by name."""
    return sorted(rows, key=lambda r: (not r.every_run, -r.changed / max(r.runs, 1),
                                       -r.failed, natural_key(" ".join(r.key))))


def as_data(stats: Stats, since: float) -> dict[str, Any]:
    """Plain data for ``--out json``."""
    def counts(row: Row) -> dict[str, Any]:
        return {"runs": row.runs, "changed": row.changed, "failed": row.failed,
                "skipped": row.skipped}

    return {
        "since": since, "jobs": stats.jobs,
        "states": [{"id": r.key[0], "function": r.key[1], **counts(r),
                    "median_ms": _round(r.median), "changes_every_run": r.every_run}
                   for r in ordered(stats.states.values())],
        "minions": [{"minion": r.key[0], **counts(r), "median_s": _round(r.median),
                     "changes_every_run": r.every_run}
                    for r in ordered(stats.minions.values())],
    }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def table(stats: Stats) -> str:
    """Two aligned text tables: states, then minions."""
    states: list[tuple[str, ...]] = [
        ("STATE", "FUNCTION", "RUNS", "CHANGED", "FAILED", "SKIPPED", "MEDIAN", "")]
    for r in ordered(stats.states.values()):
        states.append((r.key[0], r.key[1], *_counts(r), _ms(r.median),
                       "changes every run" if r.every_run else ""))
    minions: list[tuple[str, ...]] = [
        ("MINION", "RUNS", "CHANGED", "FAILED", "SKIPPED", "MEDIAN RUN", "")]
    for r in ordered(stats.minions.values()):
        minions.append((r.key[0], *_counts(r),
                        "" if r.median is None else f"{r.median:.2f} s",
                        "changes every run" if r.every_run else ""))
    return f"{stats.jobs} state runs\n\n{_align(states)}\n\n{_align(minions)}\n"


def _counts(row: Row) -> tuple[str, str, str, str]:
    return str(row.runs), str(row.changed), str(row.failed), str(row.skipped)


def _ms(value: float | None) -> str:
    return "" if value is None else f"{value:.1f} ms"


def _align(rows: list[tuple[str, ...]]) -> str:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    numeric = {i for i, h in enumerate(rows[0]) if h in ("RUNS", "CHANGED", "FAILED",
                                                         "SKIPPED", "MEDIAN", "MEDIAN RUN")}
    return "\n".join("  ".join(cell.rjust(widths[i]) if i in numeric else cell.ljust(widths[i])
                               for i, cell in enumerate(row)).rstrip() for row in rows)


def prometheus(stats: Stats) -> str:
    """Prometheus text exposition: one gauge family per count and median."""
    out = ["# HELP saline_state_stats_jobs State runs counted.",
           "# TYPE saline_state_stats_jobs gauge", f"saline_state_stats_jobs {stats.jobs}"]
    families = [("runs", "Runs in which the {} appeared."),
                ("changed", "Runs in which the {} changed something."),
                ("failed", "Runs in which the {} failed."),
                ("skipped", "Runs in which the {} did not run (requisites).")]
    for scope, rows, labels in (
            ("state", ordered(stats.states.values()), ("state", "function")),
            ("minion", ordered(stats.minions.values()), ("minion",))):
        what = "state" if scope == "state" else "minion's state run"
        for name, text in families:
            metric = f"saline_{scope}_{name}"
            out += [f"# HELP {metric} {text.format(what)}", f"# TYPE {metric} gauge"]
            out += [f"{metric}{{{_labels(labels, r.key)}}} {getattr(r, name)}" for r in rows]
        metric = f"saline_{scope}_duration_median_seconds"
        out += [f"# HELP {metric} Median duration of the {what}.", f"# TYPE {metric} gauge"]
        scale = 1000 if scope == "state" else 1
        out += [f"{metric}{{{_labels(labels, r.key)}}} {r.median / scale:.6g}"
                for r in rows if r.median is not None]
    return "\n".join(out) + "\n"


def _labels(names: tuple[str, ...], values: tuple[str, ...]) -> str:
    return ",".join(f'{n}="{_escape(v)}"' for n, v in zip(names, values, strict=True))


def _escape(value: str) -> str:
    """A label value as the exposition format wants it."""
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def render(stats: Stats, fmt: str, since: float) -> str:
    """The text `master jobs stats --out FMT` prints."""
    if fmt == "json":
        return json.dumps(as_data(stats, since), indent=2) + "\n"
    if fmt == "prometheus":
        return prometheus(stats)
    return table(stats)
