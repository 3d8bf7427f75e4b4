"""A job report as one self-contained HTML page: summary, legend, Gantt chart.

Everything is inline (CSS, SVG, a few lines of script for the hover details);
the page loads nothing and works offline. Hover details come from one compact
table in the page instead of a ``<title>`` per bar, which keeps a
15,000-bar page near a megabyte.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Sequence
from html import escape
from typing import Any

from master.report_layout import Bar, Gantt
from master.report_outcome import COLOURS, LABELS, OUTCOMES, labels
from master.report_summary import Summary, duration_text
from master.report_svg import LANE_STATUS, RUN_IDS, STYLE, axis_svg, chart_svg

LIST_MAX = 60  # minions named in the failed / did-not-return lists

PAGE_STYLE = """
body{font:14px/1.4 system-ui,sans-serif;margin:16px 24px;color:#1d2329;background:#fafbfc}
h1{font-size:20px;margin:0 0 4px}h2{font-size:15px;margin:16px 0 6px}
.meta{color:#5b646d;margin:0 0 12px}.cards{display:flex;flex-wrap:wrap;gap:10px}
.card{background:#fff;border:1px solid #dfe3e8;border-radius:6px;padding:8px 14px;min-width:90px}
.card b{display:block;font-size:22px}.card.bad b{color:#b3261e}
.tables{display:flex;flex-wrap:wrap;gap:24px}
table{border-collapse:collapse;background:#fff;font-size:13px}
td,th{border:1px solid #dfe3e8;padding:3px 8px;text-align:left}
.names{max-width:1300px;word-break:break-word;font-family:monospace;font-size:12px}
.legend span{display:inline-block;margin-right:16px}
.legend i{display:inline-block;width:14px;height:10px;margin-right:5px;vertical-align:middle}
.scroll{max-height:78vh;overflow:auto;border:1px solid #dfe3e8;background:#fff;
 max-width:100%;margin-top:8px}
.sticky{position:sticky;top:0;z-index:1}
#tip{position:fixed;display:none;max-width:460px;background:#1d2329;color:#fff;
 padding:6px 9px;border-radius:4px;font-size:12px;white-space:pre-wrap;pointer-events:none;
 z-index:2}
#tip b{display:block}
"""

SCRIPT = """
(function(){
const D=JSON.parse(document.getElementById('report-data').textContent);
const tip=document.getElementById('tip');
document.querySelectorAll('svg.chart g.lane rect.b').forEach((r,i)=>{r._bar=i;});
document.querySelectorAll('svg.chart g.lane').forEach((g,i)=>{g._lane=i;});
function line(text,bold){const e=document.createElement(bold?'b':'div');
 e.textContent=text;tip.appendChild(e);}
function ms(v){return v<10?v.toFixed(1)+' ms':v<1000?v.toFixed(0)+' ms':(v/1000).toFixed(2)+' s';}
function show(ev){const t=ev.target;tip.replaceChildren();
 if(t._bar!==undefined&&D.b[t._bar].length>5){const b=D.b[t._bar],lane=D.m[t.parentNode._lane];
  line(b[1]+' states, '+ms(b[2])+' in all',true);line('minion: '+lane[0]);
  line(b[5].map((n,o)=>n?n+' '+D.o[o]:'').filter(x=>x).join(', ')+' · from '+b[3].toFixed(3)+' s');
  line(b[6].map(i=>D.s[i][0]).join(', ')+(b[1]>b[6].length?' …':''));}
 else if(t._bar!==undefined){const b=D.b[t._bar],s=D.s[b[0]],lane=D.m[t.parentNode._lane];
  line(s[0]+' ('+s[1]+')',true);line('minion: '+lane[0]);
  if(s[2]&&s[2]!==s[0])line('name: '+s[2]);if(s[3])line('sls: '+s[3]);
  line(D.o[b[4]]+' · '+ms(b[2])+' · started at '+b[3].toFixed(3)+' s');
  if(D.c[b[1]])line(D.c[b[1]]);}
 else if(t.classList.contains('ml')){const m=D.m[t.parentNode._lane];line(m[0],true);
  line(m[1]+(m[2]===null?'':' after '+ms(m[2]*1000))+' · '+m[3]+' bars');
  if(m[4])line('its clock differs: bars aligned to its return');}
 else{tip.style.display='none';return;}
 tip.style.display='block';move(ev);}
function move(ev){if(tip.style.display!=='block')return;
 const w=tip.offsetWidth,h=tip.offsetHeight;
 tip.style.left=Math.max(4,Math.min(ev.clientX+14,innerWidth-w-8))+'px';
 tip.style.top=Math.max(4,Math.min(ev.clientY+14,innerHeight-h-8))+'px';}
const chart=document.querySelector('svg.chart');
chart.addEventListener('mouseover',show);chart.addEventListener('mousemove',move);
chart.addEventListener('mouseleave',()=>{tip.style.display='none';});
})();
"""


def page(gantt: Gantt, summary: Summary, job: dict[str, Any]) -> str:
    """The whole HTML document for one job."""
    title = f"{job['fun']} · job {job['jid']}"
    return "\n".join([
        "<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width">',
        f"<title>{escape(title)}</title>", f"<style>{PAGE_STYLE}{STYLE}</style></head><body>",
        _header(gantt, job), _summary(summary, gantt), _legend(gantt.state_job),
        '<div class="scroll"><div class="sticky">', axis_svg(gantt), "</div>",
        chart_svg(gantt), "</div>", '<div id="tip" role="tooltip"></div>',
        '<script type="application/json" id="report-data">'
        + _data(gantt).replace("<", "\\u003c") + "</script>",
        f"<script>{SCRIPT}</script>", "</body></html>",
    ])


def _header(gantt: Gantt, job: dict[str, Any]) -> str:
    args = " ".join(str(a) for a in job.get("arg") or [])
    kwargs = " ".join(f"{k}={v}" for k, v in (job.get("kwarg") or {}).items())
    target = job["tgt"] if isinstance(job["tgt"], str) else ",".join(map(str, job["tgt"]))
    when = datetime.datetime.fromtimestamp(job["started"] or 0).strftime("%Y-%m-%d %H:%M:%S")
    meta = (f"job {job['jid']} · target {target} ({job['tgt_type']}) · published {when}"
            + (f" by {job['user']}" if job.get("user") else "")
            + f" · last return after {duration_text(_last_return(gantt) * 1000)}")
    return (f"<h1>{escape(' '.join(p for p in (job['fun'], args, kwargs) if p))}</h1>"
            f'<p class="meta">{escape(meta)}</p>')


def _last_return(gantt: Gantt) -> float:
    return max([0.0, *(lane.return_at or 0.0 for lane in gantt.lanes)])


def _summary(summary: Summary, gantt: Gantt) -> str:
    cards = [("targeted", summary.targeted, False), ("returned", summary.returned, False),
             ("failed", len(summary.failed), bool(summary.failed)),
             ("did not return", len(summary.missing), bool(summary.missing))]
    if gantt.state_job:
        cards += [(f"states {LABELS[o]}", summary.outcomes[o], o == "failed" and
                   summary.outcomes[o] > 0) for o in OUTCOMES]
    out = ['<div class="cards">'] + [
        f'<div class="card{" bad" if bad else ""}"><b>{n}</b>{escape(label)}</div>'
        for label, n, bad in cards] + ["</div>"]
    out.append('<div class="tables">')
    if summary.slowest_states:
        rows: list[tuple[str, ...]] = [(b.state_id, b.function, gantt.lanes[b.lane].minion,
                 duration_text(b.duration_ms), LABELS[b.outcome])
                for b in summary.slowest_states]
        out.append(_table("Slowest states", ("state", "function", "minion", "took", "outcome"),
                          rows))
    if summary.slowest_minions:
        rows = [(lane.minion, duration_text((lane.return_at or 0) * 1000), str(len(lane.bars)),
                 LANE_STATUS[lane.status]) for lane in summary.slowest_minions]
        out.append(_table("Slowest minions", ("minion", "returned after", "bars", "status"),
                          rows))
    out.append("</div>")
    for title, names in (("Failed", summary.failed), ("Did not return", summary.missing),
                         ("Clock differs (bars aligned to the return)", summary.shifted)):
        if names:
            more = f" … and {len(names) - LIST_MAX} more" if len(names) > LIST_MAX else ""
            out.append(f"<h2>{escape(title)} ({len(names)})</h2>"
                       f'<p class="names">{escape(", ".join(names[:LIST_MAX]) + more)}</p>')
    return "\n".join(out)


def _table(title: str, head: tuple[str, ...], rows: Sequence[tuple[str, ...]]) -> str:
    cells = "".join(f"<th>{escape(h)}</th>" for h in head)
    body = "".join("<tr>" + "".join(f"<td>{escape(c)}</td>" for c in row) + "</tr>"
                   for row in rows)
    return f"<div><h2>{escape(title)}</h2><table><tr>{cells}</tr>{body}</table></div>"


def _legend(state_job: bool) -> str:
    shown = OUTCOMES if state_job else ("unchanged", "failed")
    items = "".join(f'<span><i style="background:{COLOURS[o]}"></i>{labels(state_job)[o]}'
                    "</span>" for o in shown)
    return (f'<h2>Timeline</h2><p class="legend">{items}<span>│ returned</span>'
            "<span>time is seconds after the job was published</span></p>")


def _data(gantt: Gantt) -> str:
    """The hover table: states and comments once each, then a row per mark in the
    chart's order: a bar (state, comment, ms, start, outcome) or a run of thin bars
    (its first state, count, total ms, start, outcome shown, counts per outcome,
    the first few states)."""
    states: dict[tuple[str, str, str, str], int] = {}
    comments: dict[str, int] = {"": 0}
    rows: list[list[Any]] = []

    def state(bar: Bar) -> int:
        return states.setdefault((bar.state_id, bar.function, bar.name, bar.sls), len(states))

    for lane in gantt.lanes:
        for mark in lane.marks:
            first = mark.bars[0]
            if len(mark.bars) == 1:
                rows.append([state(first), comments.setdefault(first.comment, len(comments)),
                             round(first.duration_ms, 2), round(first.start, 3),
                             OUTCOMES.index(first.outcome)])
                continue
            rows.append([state(first), len(mark.bars),
                         round(sum(b.duration_ms for b in mark.bars), 2), round(first.start, 3),
                         OUTCOMES.index(mark.outcome),
                         [sum(1 for b in mark.bars if b.outcome == o) for o in OUTCOMES],
                         [state(b) for b in mark.bars[:RUN_IDS]]])
    lanes = [[lane.minion, LANE_STATUS[lane.status],
              None if lane.return_at is None else round(lane.return_at, 4), len(lane.bars),
              int(lane.shifted)] for lane in gantt.lanes]
    data = {"o": [labels(gantt.state_job)[o] for o in OUTCOMES], "s": [list(k) for k in states],
            "c": list(comments), "b": rows, "m": lanes}
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))
