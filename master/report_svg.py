"""The Gantt chart as SVG text, from a laid-out `Gantt` (nothing is measured here)."""

from __future__ import annotations

from html import escape

from master.report_layout import BAR_H, LANE_PAD, ROW_H, Bar, Gantt, Lane, Mark
from master.report_outcome import COLOURS, OUTCOMES, labels
from master.report_summary import duration_text

AXIS_H = 30
# One letter per outcome keeps 15,000 bars small.
CODES = {"unchanged": "u", "changed": "c", "failed": "f", "notrun": "n"}
RUN_IDS = 6  # ids named in the hover text of a run of thin bars
LANE_STATUS = {"ok": "returned", "failed": "failed", "missing": "did not return"}

STYLE = "\n".join([
    "svg.gantt text{font-family:'DejaVu Sans Mono',Menlo,Consolas,monospace}",
    ".ml{font-size:11px;fill:#1d2329}.missing .ml{fill:#8a9096}",
    ".failed .ml{fill:#b3261e;font-weight:bold}",
    ".bl{font-size:9px;fill:#fff;pointer-events:none}",
    ".nr{font-size:11px;fill:#8a9096;font-style:italic}",
    ".bg0{fill:#fff}.bg1{fill:#f3f5f7}.grid{stroke:#dfe3e8;stroke-width:1}",
    ".ret{stroke:#39424b;stroke-width:1.5}",
    f".fm{{fill:{COLOURS['failed']}}}",
    ".tk{font-size:10px;fill:#39424b}.axisbg{fill:#fff}.axisline{stroke:#8a9096}",
    ".b:hover{stroke:#000;stroke-width:1}",
    *(f".b.{CODES[o]}{{fill:{COLOURS[o]}}}" for o in OUTCOMES),
])


def chart_svg(gantt: Gantt, titles: bool = False, with_axis: bool = False) -> str:
    """The lanes (and, for a standalone file, the time axis above them).

    `titles` adds an SVG ``<title>`` to every bar and lane label: hover text
    for a viewer without the page's script, at the cost of size.
    """
    top = AXIS_H if with_axis else 0
    height = round(gantt.height + top, 1)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="gantt chart" '
             f'width="{gantt.width:g}" height="{height:g}" '
             f'viewBox="0 0 {gantt.width:g} {height:g}">']
    if with_axis:
        parts.append(f"<style>{STYLE}</style>")
        parts.append(axis_group(gantt))
    parts.append(f'<g transform="translate(0 {top})">')
    parts.extend(_stripes(gantt))
    parts.append("".join(f'<path class="grid" d="M{x:g} 0V{gantt.height:g}"/>'
                         for x, _ in gantt.ticks))
    for lane in gantt.lanes:
        parts.append(_lane(lane, gantt, titles))
    parts.append("</g></svg>")
    return "\n".join(parts)


def axis_svg(gantt: Gantt) -> str:
    """The time axis alone (the page keeps it in view while the lanes scroll)."""
    return (f'<svg xmlns="http://www.w3.org/2000/svg" class="gantt axis" '
            f'width="{gantt.width:g}" height="{AXIS_H}" viewBox="0 0 {gantt.width:g} {AXIS_H}">'
            f"{axis_group(gantt)}</svg>")


def axis_group(gantt: Gantt) -> str:
    """Tick marks and their times along the top."""
    out = [f'<g class="axis"><rect class="axisbg" width="{gantt.width:g}" height="{AXIS_H}"/>',
           '<text class="tk" x="8" y="19">minion</text>',
           f'<path class="axisline" d="M{gantt.plot_x:g} {AXIS_H - 1}'
           f'H{gantt.plot_x + gantt.plot_w:g}"/>']
    for x, text in gantt.ticks:
        out.append(f'<path class="axisline" d="M{x:g} {AXIS_H - 7}V{AXIS_H - 1}"/>'
                   f'<text class="tk" x="{x:g}" y="{AXIS_H - 11}" text-anchor="middle">'
                   f"{escape(text)}</text>")
    out.append("</g>")
    return "".join(out)


def _stripes(gantt: Gantt) -> list[str]:
    return [f'<rect class="bg{lane.index % 2}" x="0" y="{lane.y:g}" width="{gantt.width:g}" '
            f'height="{lane.height:g}"/>' for lane in gantt.lanes]


def _lane(lane: Lane, gantt: Gantt, titles: bool) -> str:
    """One minion's group: its label, its bars, the moment it returned."""
    middle = lane.y + LANE_PAD + ROW_H / 2
    out = [f'<g class="lane {lane.status}" data-minion="{escape(lane.minion)}">',
           f'<text class="ml" x="8" y="{middle + 4:g}">{escape(lane.label)}'
           + (f"<title>{escape(lane_text(lane))}</title>" if titles else "") + "</text>"]
    if lane.status == "missing":
        out.append(f'<text class="nr" x="{gantt.plot_x + 6:g}" y="{middle + 4:g}">'
                   "did not return</text>")
    for mark in lane.marks:
        out.append(_mark(mark, titles, gantt.state_job))
    for bar in lane.bars:  # a failed state may be a sliver: a mark above it finds it
        if bar.outcome == "failed":
            out.append(f'<path class="fm" d="M{bar.x + bar.w / 2 - 4:g} {lane.y + 0.5:g}'
                       'h8l-4 4.5z"/>')
    for bar in lane.bars:
        if bar.label:
            out.append(f'<text class="bl" x="{bar.x + 2:g}" y="{bar.y + BAR_H - 2.5:g}">'
                       f"{escape(bar.label)}</text>")
    if lane.return_at is not None:
        x = round(gantt.plot_x + (lane.return_at - gantt.t0) * gantt.plot_w / gantt.span, 1)
        out.append(f'<path class="ret" d="M{x:g} {lane.y + 2:g}V{lane.y + lane.height - 2:g}"/>')
    out.append("</g>")
    return "".join(out)


def _mark(mark: Mark, titles: bool, state_job: bool) -> str:
    """A bar's rect; a run of thin bars is one rect with ``data-n``, how many."""
    many = len(mark.bars) > 1
    head = (f'<rect class="b {CODES[mark.outcome]}" x="{mark.x:g}" y="{mark.y:g}" '
            f'width="{mark.w:g}" height="{BAR_H}"' + (f' data-n="{len(mark.bars)}"' if many
                                                       else ""))
    if not titles:
        return head + "/>"
    text = run_text(mark.bars, state_job) if many else bar_text(mark.bars[0], state_job)
    return f"{head}><title>{escape(text)}</title></rect>"


def run_text(bars: list[Bar], state_job: bool = True) -> str:
    """The hover text of a run of thin bars: how many, their outcomes, the first ids."""
    words = labels(state_job)
    counts = [f"{n} {words[o]}" for o in OUTCOMES
              if (n := sum(1 for b in bars if b.outcome == o))]
    ids = ", ".join(b.state_id for b in bars[:RUN_IDS]) + (" …" if len(bars) > RUN_IDS else "")
    total = sum(b.duration_ms for b in bars)
    return (f"{len(bars)} states, {duration_text(total)} in all "
            f"(from {bars[0].start:.3f} s): {', '.join(counts)}\n{ids}")


def bar_text(bar: Bar, state_job: bool = True) -> str:
    """The hover text of one bar: id, function, outcome, duration, comment."""
    lines = [f"{bar.state_id} ({bar.function})"]
    if bar.name and bar.name != bar.state_id:
        lines.append(f"name: {bar.name}")
    lines.append(f"{labels(state_job)[bar.outcome]} · {duration_text(bar.duration_ms)} · "
                 f"started at {bar.start:.3f} s")
    if bar.comment:
        lines.append(bar.comment)
    return "\n".join(lines)


def lane_text(lane: Lane) -> str:
    """The hover text of a minion's label."""
    text = f"{lane.minion}: {LANE_STATUS[lane.status]}"
    if lane.return_at is not None:
        text += f" after {duration_text(lane.return_at * 1000)}, {len(lane.bars)} bars"
    if lane.shifted:
        text += " (its clock differs: bars aligned to its return)"
    return text
