"""`master jobs list|show|stats|report` over a job cache filled by real state runs
(a real master and two minions on loopback), and the report opened in real
headless Chromium: lanes, bars, hover details and a screenshot."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from master.report_outcome import COLOURS
from tests.chromium import Chromium, find_chromium
from tests.cluster import Cluster
from tests.pngread import colour_counts
from tests.reportdata import fill_cache

FORMULA = """\
{% set work = grains['workdir'] %}
slow_a:
  cmd.run:
    - name: sleep 0.4
    - parallel: True
slow_b:
  cmd.run:
    - name: sleep 0.3
    - parallel: True
conf:
  file.managed:
    - name: {{ work }}/app.conf
    - contents: "port = 80"
    - require:
      - cmd: slow_a
      - cmd: slow_b
notify:
  cmd.run:
    - name: echo reload
    - onchanges:
      - file: conf
{% if grains.get('flaky') %}
broken:
  cmd.run:
    - name: exit 3
after_broken:
  test.nop:
    - require:
      - cmd: broken
{% endif %}
"""

needs_chromium = pytest.mark.skipif(
    find_chromium() is None,
    reason="chromium is not installed (Debian package `chromium`; .ci/setup installs it)")


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Cluster, list[str]]]:
    """Three state runs on m1 and m2 (m2 has a failing state), a test=True run and a
    test.echo; yields the cluster and the jids of the three real runs."""
    base = tmp_path_factory.mktemp("report")
    roots = base / "master" / "formulas"
    roots.mkdir(parents=True)
    (roots / "timing.sls").write_text(FORMULA)
    cluster = Cluster(base, auto_accept=True)
    try:
        cluster.start_master()
        for minion, flaky in (("m1", False), ("m2", True)):
            work = base / f"work-{minion}"
            work.mkdir()
            cluster.add_minion(minion, grains={"workdir": str(work), "flaky": flaky})
        cluster.wait_answer(["m1", "m2"])
        jids = []
        for _ in range(3):
            proc = cluster.master_cmd("run", "-t", "60", "--out", "json", "m*",
                                      "state.apply", "timing", timeout=90)
            assert proc.returncode == 1, proc.stderr  # m2's `broken` fails
            jids.append(newest(cluster, "state.apply"))
        proc = cluster.master_cmd("run", "-t", "60", "m*", "state.apply", "timing",
                                  "test=True", timeout=90)
        proc = cluster.master_cmd("run", "-t", "30", "m*", "test.echo", "hello")
        assert proc.returncode == 0, proc.stderr
        yield cluster, jids
    finally:
        cluster.close()


def newest(cluster: Cluster, fun: str) -> str:
    proc = cluster.master_cmd("jobs", "list", "--fun", fun, "-n", "1", "--out", "json")
    assert proc.returncode == 0, proc.stderr
    return str(max(json.loads(proc.stdout)))


def listed(cluster: Cluster, *args: str) -> dict[str, Any]:
    proc = cluster.master_cmd("jobs", "list", "--out", "json", *args)
    assert proc.returncode == 0, proc.stderr
    data: dict[str, Any] = json.loads(proc.stdout)
    return data


def test_list_filters_and_pages(runs: tuple[Cluster, list[str]]) -> None:
    cluster, jids = runs
    assert set(jids) < set(listed(cluster, "--fun", "state.*"))
    assert len(listed(cluster, "--fun", "state.*")) == 4
    assert [v["Arguments"] for v in listed(cluster, "--fun", "test.e*").values()] == [["hello"]]
    assert len(listed(cluster, "--target", "m*", "--fun", "state.*", "--since", "1h")) == 4
    assert len(listed(cluster, "--target", "m1,m2")) >= 1  # the pings of wait_answer
    assert listed(cluster, "--target", "web*") == {}
    assert listed(cluster, "--since", "2030-01-01") == {}
    first = cluster.master_cmd("jobs", "list", "--fun", "state.*", "-n", "2", "--out", "json")
    assert first.returncode == 0
    hint = first.stderr.strip().splitlines()[-1]
    assert hint.startswith("more: master jobs list -n 2 --before ") and "--fun 'state.*'" in hint
    before = hint.split("--before ")[1].split()[0]
    rest = listed(cluster, "--fun", "state.*", "-n", "2", "--before", before)
    assert sorted([*json.loads(first.stdout), *rest]) == sorted(
        listed(cluster, "--fun", "state.*"))
    bad = cluster.master_cmd("jobs", "list", "--since", "last tuesday")
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "--since" in bad.stderr


def test_show_one_minion_of_a_job(runs: tuple[Cluster, list[str]]) -> None:
    cluster, jids = runs
    proc = cluster.master_cmd("jobs", "show", jids[0], "--minion", "m2", "--out", "json")
    assert proc.returncode == 0, proc.stderr
    job = json.loads(proc.stdout)
    assert list(job["returns"]) == ["m2"] and job["missing"] == []
    states = job["returns"]["m2"]["return"]
    assert all("start_time" in r and "duration" in r for r in states.values())
    slow = next(r for r in states.values() if r["__id__"] == "slow_a")
    assert slow["duration"] >= 350  # a parallel state's own duration, not the hand-off's


def test_stats_over_real_state_runs(runs: tuple[Cluster, list[str]]) -> None:
    cluster, _ = runs
    proc = cluster.master_cmd("jobs", "stats", "--since", "1h", "--out", "json")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["jobs"] == 3  # the test=True run and test.echo are not counted
    states = {s["id"]: s for s in data["states"]}
    assert [s["id"] for s in data["states"]][:2] == ["slow_a", "slow_b"]  # change every run
    assert states["slow_a"]["changes_every_run"] and states["slow_a"]["median_ms"] >= 350
    assert (states["conf"]["runs"], states["conf"]["changed"]) == (6, 2)
    assert not states["conf"]["changes_every_run"]
    assert (states["notify"]["changed"], states["notify"]["skipped"]) == (2, 4)
    assert (states["broken"]["runs"], states["broken"]["failed"]) == (3, 3)
    assert states["after_broken"]["skipped"] == 3
    minions = {m["minion"]: m for m in data["minions"]}
    assert (minions["m2"]["runs"], minions["m2"]["failed"]) == (3, 3)
    assert minions["m1"]["failed"] == 0 and minions["m1"]["median_s"] > 0.3

    table = cluster.master_cmd("jobs", "stats", "--since", "1h")
    assert table.returncode == 0 and table.stdout.startswith("3 state runs")
    assert re.search(r"^slow_a\s+cmd\.run\s+6\s+6\s+0\s+0\s+\S+ ms\s+changes every run$",
                     table.stdout, re.M), table.stdout
    prom = cluster.master_cmd("jobs", "stats", "--since", "1h", "--out", "prometheus")
    assert 'saline_state_failed{state="broken",function="cmd.run"} 3' in prom.stdout


def test_report_files_name_every_state(runs: tuple[Cluster, list[str]], tmp_path: Path
                                       ) -> None:
    cluster, jids = runs
    html, svg = tmp_path / "run.html", tmp_path / "run.svg"
    states = state_count(cluster, jids[-1])
    assert states == 4 + 6  # m2 has two more
    for out in (html, svg):
        proc = cluster.master_cmd("jobs", "report", jids[-1], "-o", str(out))
        assert proc.returncode == 0, proc.stderr
        assert f"2 minions, {states} bars" in proc.stdout
    chart = svg.read_text()
    assert chart.startswith("<svg") and chart.count('<rect class="b ') == states
    assert chart.count("<title>") == states + 2  # every bar and every minion label
    assert "<title>broken (cmd.run)" in chart
    bad = cluster.master_cmd("jobs", "report", jids[-1], "-o", str(tmp_path / "x.pdf"))
    assert bad.returncode == 2 and "html or .svg" in bad.stderr
    missing = cluster.master_cmd("jobs", "report", "20000101000000000000", "-o", str(html))
    assert missing.returncode == 1 and "no job" in missing.stderr


def state_count(cluster: Cluster, jid: str) -> int:
    """How many state results the job's returns hold (from `jobs show`)."""
    job = json.loads(cluster.master_cmd("jobs", "show", jid, "--out", "json").stdout)
    return sum(len(ret["return"]) for ret in job["returns"].values())


def bar_centre(browser: Chromium, selector: str) -> tuple[float, float]:
    box = browser.js(f"(() => {{ const r = document.querySelector({json.dumps(selector)})"
                     ".getBoundingClientRect(); return [r.x + r.width / 2, r.y + r.height / 2]"
                     "; })()")
    return float(box[0]), float(box[1])


@needs_chromium
def test_report_in_chromium(runs: tuple[Cluster, list[str]], tmp_path: Path) -> None:
    cluster, jids = runs
    page = tmp_path / "report.html"
    assert cluster.master_cmd("jobs", "report", jids[-1], "-o", str(page)).returncode == 0
    with Chromium(1400, 1000) as browser:
        browser.open(page)
        assert browser.js("document.querySelectorAll('svg.chart g.lane').length") == 2
        assert browser.js("document.querySelectorAll('svg.chart g.lane rect.b').length") == \
            state_count(cluster, jids[-1])
        assert browser.js("[...document.querySelectorAll('g.lane')].map(g => g.dataset.minion)"
                          ) == ["m1", "m2"]
        browser.js("document.querySelector('g.lane.failed rect.b.f')"
                   ".scrollIntoView({block: 'center'})")
        browser.hover(*bar_centre(browser, "g.lane.failed rect.b.f"))
        tip = browser.js("document.getElementById('tip').innerText")
        assert browser.js("getComputedStyle(document.getElementById('tip')).display") == "block"
        assert tip.startswith("broken (cmd.run)") and "minion: m2" in tip
        assert "failed · " in tip and " ms" in tip
        browser.js("window.scrollTo(0, 0)")
        shot = browser.screenshot(tmp_path / "report.png")
    counts = colour_counts(shot)
    for name in ("unchanged", "changed", "failed", "notrun"):
        assert counts[COLOURS[name]] > 20, (name, counts.most_common(10))


STATES_DRAWN = """[...document.querySelectorAll('svg.chart g.lane rect.b')]
    .reduce((n, r) => n + Number(r.dataset.n || 1), 0)"""


@needs_chromium
@pytest.mark.parametrize("states, max_mb", [(50, 2.0), (500, 4.5)])
def test_300_minions_in_chromium(tmp_path: Path, states: int, max_mb: float) -> None:
    """300 lanes that scroll, labels that do not overlap and fit, every state drawn
    (at 500 states a minion, runs of thin bars as one mark each), a few MB."""
    cache = tmp_path / "cache"
    jid = fill_cache(cache, 300, states, missing=3, parallel_pairs=2)
    from master.jobcache import JobCache
    from master.report import render

    jc = JobCache(cache, readonly=True)
    job = jc.job_header(jid)
    assert job is not None
    text, gantt = render(jc, job, svg=False)
    jc.close()
    page = tmp_path / "big.html"
    page.write_text(text)
    assert len(text.encode()) < max_mb * 1e6
    with Chromium(1400, 1000) as browser:
        seconds = browser.open(page)
        assert seconds < 20
        assert browser.js("document.querySelectorAll('svg.chart g.lane').length") == 300
        assert browser.js(STATES_DRAWN) == 297 * states
        if states == 50:  # below the clustering size: one rect a state
            assert browser.js("document.querySelectorAll('svg.chart rect.b').length") == \
                297 * 50
        else:
            browser.js("(() => { const r = [...document.querySelectorAll('rect.b[data-n]')]"
                       ".find(r => r.width.baseVal.value >= 3); r.id = 'probe';"
                       " r.scrollIntoView({block: 'center'}); })()")
            browser.hover(*bar_centre(browser, "#probe"))
            tip = browser.js("document.getElementById('tip').innerText")
            assert re.match(r"\d+ states, ", tip) and "minion: web" in tip, tip
        overlaps = browser.js("""(() => {
            const boxes = [...document.querySelectorAll('svg.chart text.ml')]
                .map(t => t.getBoundingClientRect());
            let bad = 0;
            for (let i = 1; i < boxes.length; i++) if (boxes[i].top < boxes[i-1].bottom) bad++;
            const plot = document.querySelector('svg.chart').getBoundingClientRect().left + 220;
            for (const b of boxes) if (b.right > plot) bad++;
            return bad; })()""")
        assert overlaps == 0
        fits = browser.js("""(() => { let bad = 0, seen = 0;
            for (const g of document.querySelectorAll('svg.chart g.lane')) {
              const rects = [...g.querySelectorAll('rect.b')];
              for (const t of g.querySelectorAll('text.bl')) {
                const x = t.x.baseVal[0].value - 2, y = t.y.baseVal[0].value;
                // its bar: the one starting where it starts (a zero-width one may too)
                const r = rects.filter(r => Math.abs(r.x.baseVal.value - x) < 0.05 &&
                                            r.y.baseVal.value < y && y < r.y.baseVal.value + 11)
                    .sort((a, b) => b.width.baseVal.value - a.width.baseVal.value)[0];
                const box = t.getBBox();
                seen++;
                if (!r || box.x + box.width > r.x.baseVal.value + r.width.baseVal.value) bad++;
              } } return [seen, bad]; })()""")
        assert fits[1] == 0 and (fits[0] > 100 or states == 500), fits  # 500: none fit
        scroll = browser.js("(() => { const s = document.querySelector('.scroll');"
                            " return [s.scrollHeight, s.clientHeight]; })()")
        assert scroll[0] > scroll[1] * 3  # the lanes scroll inside their box
    assert len(gantt.lanes) == 300
