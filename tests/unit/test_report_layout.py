"""The Gantt layout of a job report: every state placed, nothing overlapping, fixed colours."""

from __future__ import annotations

import itertools
import json
import random
import re
from html.parser import HTMLParser
from typing import Any

import pytest

from master.report_html import page
from master.report_layout import (
    BAR_FONT,
    CHAR,
    LABEL_FONT,
    LABEL_W,
    PLOT_W,
    TICK_MIN_PX,
    TOLERANCE,
    Gantt,
    fit,
    layout,
    natural_key,
    seconds_text,
)
from master.report_outcome import COLOURS, OUTCOMES, outcome
from master.report_summary import summarize
from master.report_svg import chart_svg
from tests.reportdata import clock, state_return

NOON = 12 * 3600.0


def job(expected: list[str], fun: str = "state.apply") -> dict[str, Any]:
    return {"jid": "20250101120000000000", "fun": fun, "started": 1000.0,
            "expected": expected, "arg": ["web"], "kwarg": {}, "tgt": "*", "tgt_type": "glob",
            "user": "ann"}


def fleet(minions: int, states: int, parallel_pairs: int = 0, seed: int = 1
          ) -> tuple[dict[str, Any], list[tuple[str, Any, bool, float]]]:
    """A state job of `minions` x `states`, published at noon (t=1000)."""
    rng = random.Random(seed)
    returns = []
    for i in range(minions):
        delay = rng.uniform(0.1, 1.0)
        ret, took = state_return(states, NOON + delay, rng, parallel_pairs)
        returns.append((f"m{i}", ret, True, 1000.0 + delay + took + 0.05))
    return job([m for m, *_ in returns]), returns


def build(minions: int, states: int, parallel_pairs: int = 0) -> tuple[Gantt, list[Any]]:
    header, returns = fleet(minions, states, parallel_pairs)
    return layout(header, returns, NOON), returns


def test_every_state_of_every_minion_has_one_bar() -> None:
    gantt, returns = build(30, 40, parallel_pairs=3)
    want = {(m, r["__id__"]) for m, ret, *_ in returns for r in ret.values()}
    got = [(gantt.lanes[b.lane].minion, b.state_id) for b in gantt.bars]
    assert len(got) == 30 * 40 and set(got) == want
    assert [lane.minion for lane in gantt.lanes] == sorted((f"m{i}" for i in range(30)),
                                                            key=natural_key)


@pytest.mark.parametrize("pairs", [0, 3, 20])
def test_no_two_bars_of_one_row_overlap_in_time_or_pixels(pairs: int) -> None:
    gantt, _ = build(20, 40, parallel_pairs=pairs)
    for lane in gantt.lanes:
        rows: dict[int, list[Any]] = {}
        for bar in lane.bars:
            rows.setdefault(bar.row, []).append(bar)
        for row in rows.values():
            row.sort(key=lambda b: b.start)
            for a, b in itertools.pairwise(row):
                assert a.end <= b.start + 1e-9, (lane.minion, a.state_id, b.state_id)
                assert a.x + a.w <= b.x + 1e-6, (lane.minion, a.state_id, b.state_id)
        for bar in lane.bars:  # inside its lane's own band
            assert lane.y < bar.y and bar.y + 11 < lane.y + lane.height
            assert bar.x >= LABEL_W and bar.x + bar.w <= LABEL_W + PLOT_W + 1.01


def test_parallel_states_go_to_sub_rows_and_sequential_ones_do_not() -> None:
    sequential, _ = build(5, 30)
    assert {lane.rows for lane in sequential.lanes} == {1}
    parallel, _ = build(5, 30, parallel_pairs=4)
    assert {lane.rows for lane in parallel.lanes} == {2}
    overlapping = 0
    for lane in parallel.lanes:
        by_num = {b.run_num: b for b in lane.bars}
        for n in range(0, 8, 2):  # the pairs that ran side by side
            a, b = by_num[n], by_num[n + 1]
            if a.end - b.start > TOLERANCE:
                overlapping += 1
                assert a.row != b.row, (lane.minion, n)
    assert overlapping >= 5


def test_lanes_and_their_labels_never_overlap() -> None:
    gantt, _ = build(300, 3)
    for a, b in itertools.pairwise(gantt.lanes):
        assert a.y + a.height <= b.y
    for lane in gantt.lanes:
        assert lane.height >= LABEL_FONT + 4
        assert len(lane.label) * LABEL_FONT * CHAR <= LABEL_W - 16
    assert gantt.height == sum(lane.height for lane in gantt.lanes)


def test_bar_labels_fit_inside_their_bars() -> None:
    gantt, _ = build(10, 20)
    labelled = [b for b in gantt.bars if b.label]
    assert labelled, "some bars are wide enough for their id"
    for bar in labelled:
        assert len(bar.label) * BAR_FONT * CHAR <= bar.w - 4
        assert bar.label == bar.state_id or bar.label.endswith("…")


def test_long_minion_ids_are_cut_to_the_label_column() -> None:
    name = "a-very-long-minion-identifier-in-a-big-datacenter.example.org"
    gantt = layout(job([name]), [(name, {}, True, 1001.0)], NOON)
    assert gantt.lanes[0].label.endswith("…")
    assert len(gantt.lanes[0].label) * LABEL_FONT * CHAR <= LABEL_W - 16
    assert fit("abc", 100, 10) == "abc" and fit("abcdefgh", 30, 10) == "abc…"
    assert fit("abcdefgh", 12, 10, minimum=4) == ""


def test_colours_are_fixed_and_distinct_and_outcomes_read_as_salt_means_them() -> None:
    assert COLOURS == {"unchanged": "#2f9e57", "changed": "#1597b8", "failed": "#d6453d",
                       "notrun": "#a3a8ad"}
    assert len(set(COLOURS.values())) == len(OUTCOMES)
    assert outcome({"result": True, "changes": {}}) == "unchanged"
    assert outcome({"result": True, "changes": {"x": 1}}) == "changed"
    assert outcome({"result": None, "changes": {"x": 1}}) == "changed"  # test=True
    assert outcome({"result": False, "changes": {}}) == "failed"
    assert outcome({"result": True, "__state_ran__": False}) == "notrun"
    assert outcome({"result": False, "comment": "One or more requisite failed: a.b"}) == "notrun"
    gantt, _ = build(3, 30)
    svg = chart_svg(gantt)
    for bar in gantt.bars:  # the class of each bar is its outcome's
        assert {"unchanged": "b u", "changed": "b c", "failed": "b f",
                "notrun": "b n"}[bar.outcome] in svg


def test_the_same_job_always_gives_the_same_chart() -> None:
    first, _ = build(8, 25, parallel_pairs=2)
    again, _ = build(8, 25, parallel_pairs=2)
    assert chart_svg(first, titles=True, with_axis=True) == \
        chart_svg(again, titles=True, with_axis=True)


def test_states_are_placed_by_start_time_against_the_publish_clock() -> None:
    ret = {"test_|-a_|-a_|-nop": {"result": True, "changes": {}, "comment": "",
                                  "__run_num__": 0, "start_time": clock(NOON + 0.5),
                                  "duration": 1500.0},
           "test_|-b_|-b_|-nop": {"result": True, "changes": {}, "comment": "",
                                  "__run_num__": 1, "start_time": clock(NOON + 2.0),
                                  "duration": 250.0}}
    gantt = layout(job(["m1"]), [("m1", ret, True, 1003.0)], NOON)
    a, b = sorted(gantt.bars, key=lambda bar: bar.run_num)
    assert (round(a.start, 6), round(a.end, 6)) == (0.5, 2.0)
    assert (round(b.start, 6), round(b.end, 6)) == (2.0, 2.25)
    assert gantt.lanes[0].return_at == 3.0 and not gantt.lanes[0].shifted
    assert gantt.span == 3.0


def test_a_run_across_midnight_stays_in_order() -> None:
    ret = {"test_|-a_|-a_|-nop": {"result": True, "changes": {}, "__run_num__": 0,
                                  "start_time": "00:00:00.200000", "duration": 100.0}}
    gantt = layout(job(["m1"]), [("m1", ret, True, 1001.0)], 86399.5)
    assert round(gantt.bars[0].start, 6) == 0.7


def test_a_minion_in_another_time_zone_is_aligned_to_its_return() -> None:
    ret, took = state_return(5, NOON + 7200 + 0.3, random.Random(3))  # two hours ahead
    gantt = layout(job(["m1"]), [("m1", ret, True, 1000.0 + took + 0.5)], NOON)
    lane = gantt.lanes[0]
    assert lane.shifted
    assert max(b.end for b in lane.bars) == pytest.approx(lane.return_at)
    assert min(b.start for b in lane.bars) >= 0
    assert summarize(gantt, ["m1"]).shifted == ["m1"]


def test_states_without_a_start_time_follow_the_one_before() -> None:
    ret = {"a": {"result": True, "changes": {}, "__run_num__": 0,
                 "start_time": clock(NOON + 1), "duration": 500.0},
           "b": {"result": False, "changes": {}, "__run_num__": 1, "comment": "bad args"}}
    gantt = layout(job(["m1"]), [("m1", ret, False, 1002.0)], NOON)
    late = next(bar for bar in gantt.bars if bar.run_num == 1)
    assert round(late.start, 6) == 1.5 and late.outcome == "failed"
    assert gantt.lanes[0].status == "failed"


def test_a_job_that_is_not_a_state_run_has_one_bar_per_minion() -> None:
    header = job(["m1", "m2", "m3"], fun="cmd.run")
    returns = [("m1", "Linux", True, 1000.4), ("m2", "boom", False, 1001.2)]
    gantt = layout(header, returns, NOON)
    assert not gantt.state_job
    assert [(lane.minion, lane.status) for lane in gantt.lanes] == [
        ("m1", "ok"), ("m2", "failed"), ("m3", "missing")]
    bars = {gantt.lanes[b.lane].minion: b for b in gantt.bars}
    assert set(bars) == {"m1", "m2"}
    assert (bars["m1"].start, round(bars["m1"].end, 6), bars["m1"].outcome) == \
        (0.0, 0.4, "unchanged")
    assert (round(bars["m2"].end, 6), bars["m2"].outcome, bars["m2"].comment) == \
        (1.2, "failed", "boom")
    summary = summarize(gantt, header["expected"])
    assert (summary.targeted, summary.returned, summary.failed, summary.missing) == \
        (3, 2, ["m2"], ["m3"])
    html = page(gantt, summary, header)
    assert "succeeded</span>" in html and "not run</span>" not in html  # its legend
    assert "states unchanged" not in html and "did not return</text>" in html
    assert "<title>return (cmd.run)\nsucceeded · 400 ms" in chart_svg(gantt, titles=True)


def test_summary_names_the_slowest_states_and_minions() -> None:
    gantt, returns = build(12, 10)
    summary = summarize(gantt, [m for m, *_ in returns], top=3)
    durations = sorted((r["duration"] for _, ret, *_ in returns for r in ret.values()),
                       reverse=True)
    assert [b.duration_ms for b in summary.slowest_states] == durations[:3]
    slowest = max(returns, key=lambda r: r[3])[0]
    assert summary.slowest_minions[0].minion == slowest
    assert sum(summary.outcomes.values()) == 120


def test_ticks_are_round_and_far_enough_apart() -> None:
    for span in (0.003, 0.9, 7.3, 59, 61, 600, 7300):
        gantt = layout(job(["m1"]), [("m1", "x", True, 1000.0 + span)], NOON)
        xs = [x for x, _ in gantt.ticks]
        assert len(xs) >= 2, span
        assert all(b - a >= TICK_MIN_PX - 0.2 for a, b in itertools.pairwise(xs)), span
        texts = [t for _, t in gantt.ticks]
        assert len(set(texts)) == len(texts), (span, texts)
    assert seconds_text(0.25, 0.05) == "0.25 s" and seconds_text(150, 60) == "2:30"
    assert seconds_text(3900, 300) == "1:05:00" and seconds_text(4, 2) == "4 s"


class Tags(HTMLParser):
    """Every element of a page with its attribute names."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: list[tuple[str, list[str]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.seen.append((tag, [name for name, _ in attrs]))


def test_the_page_is_self_contained_and_escapes_what_minions_said() -> None:
    evil = '</script><script>alert(1)</script><img src="http://x/">'
    ret = {f"cmd_|-{evil}_|-n_|-run": {"result": False, "changes": {}, "comment": evil,
                                       "__run_num__": 0, "__id__": evil,
                                       "start_time": clock(NOON), "duration": 5.0}}
    header = job([evil + "m"])
    gantt = layout(header, [(evil + "m", ret, False, 1001.0)], NOON)
    html = page(gantt, summarize(gantt, header["expected"]), header)
    tags = Tags()
    tags.feed(html)
    assert [t for t, _ in tags.seen if t == "script"] == ["script", "script"]
    assert {t for t, _ in tags.seen} <= {"html", "head", "meta", "title", "style", "body", "h1",
                                         "h2", "p", "div", "b", "table", "tr", "th", "td",
                                         "span", "i", "svg", "g", "rect", "path", "text",
                                         "script"}
    assert not [a for _, attrs in tags.seen for a in attrs if a in ("src", "href")]
    assert not re.search(r"url\(|@import", html)
    data = re.search(r'id="report-data">(.*?)</script>', html, re.S)
    assert data is not None
    table = json.loads(data.group(1))
    assert table["s"][table["b"][0][0]][0] == evil and table["c"][table["b"][0][1]] == evil


def test_300_minions_by_50_states_stay_small() -> None:
    gantt, _ = build(300, 50, parallel_pairs=1)
    header = job([lane.minion for lane in gantt.lanes])
    html = page(gantt, summarize(gantt, header["expected"]), header)
    assert len(gantt.bars) == 15_000
    assert html.count('<rect class="b ') == 15_000
    assert len(html.encode()) < 3_000_000


def test_big_jobs_draw_runs_of_thin_bars_as_one_mark(monkeypatch: pytest.MonkeyPatch) -> None:
    import master.report_layout as report_layout

    small, _ = build(10, 60)
    assert all(len(m.bars) == 1 for lane in small.lanes for m in lane.marks)
    monkeypatch.setattr(report_layout, "CLUSTER_ABOVE", 100)
    gantt, _ = build(10, 60, parallel_pairs=2)
    runs = 0
    for lane in gantt.lanes:
        held = [id(b) for m in lane.marks for b in m.bars]
        assert sorted(held) == sorted(id(b) for b in lane.bars)  # each state in one mark
        for a, b in itertools.pairwise(lane.marks):
            if a.y == b.y:  # same row: in time order, not overlapping
                assert a.x + a.w <= b.x + 1e-6
        for mark in lane.marks:
            if len(mark.bars) > 1:
                runs += 1
                assert all(b.thin and not b.label for b in mark.bars)
                worst = next(o for o in ("failed", "changed", "unchanged", "notrun")
                             if any(b.outcome == o for b in mark.bars))
                assert mark.outcome == worst
    assert runs > 20
    header = job([lane.minion for lane in gantt.lanes])
    html = page(gantt, summarize(gantt, header["expected"]), header)
    singles = len(re.findall(r'<rect class="b [ucfn]"[^>]*height="11"/>', html))
    grouped = [int(n) for n in re.findall(r'<rect class="b [ucfn]"[^>]* data-n="(\d+)"', html)]
    assert singles + sum(grouped) == 600 and len(grouped) == runs
    svg = chart_svg(gantt, titles=True)
    assert svg.count(" states, ") == runs  # every run says what it holds on hover
