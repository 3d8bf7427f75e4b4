#!/usr/bin/env python3
"""Job report benchmark: size, generation time and Chromium load time of a big report.

Usage: python bench/report.py [--minions 300] [--states 50] [--runs 3]
       python bench/report.py --screenshot docs/report.png   # a real run, for the README

The first form writes a synthetic job of MINIONS x STATES state results into a
real job cache (tests/reportdata.py: every minion with its own start, a few
parallel pairs, changes, failures, skipped states, three minions that never
return), then prints the HTML and SVG sizes, the time to read the cache and
write each file (in-process, and the whole `master jobs report` command), and
the time headless Chromium takes to load the page (navigation to load event).

The second form starts a real master and eight minions on loopback, applies a
small formula twice (one minion has a failing check, one is stopped before the
second run), writes the report of the second run and screenshots it.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from master.jobcache import JobCache  # noqa: E402
from master.report import render  # noqa: E402
from tests.chromium import Chromium, find_chromium  # noqa: E402
from tests.cluster import Cluster  # noqa: E402
from tests.reportdata import fill_cache  # noqa: E402

FORMULA = """\
{% set work = grains['workdir'] %}
{% set slow = grains['speed'] %}
app_dir:
  file.directory:
    - name: {{ work }}/app
config:
  file.managed:
    - name: {{ work }}/app/app.conf
    - contents: "workers = 4"
    - require:
      - file: app_dir
download_release:
  cmd.run:
    - name: sleep {{ 0.9 * slow }}
    - parallel: True
fetch_assets:
  cmd.run:
    - name: sleep {{ 0.5 * slow }}
    - parallel: True
migrate_db:
  cmd.run:
    - name: sleep {{ 0.4 * slow }}
    - require:
      - cmd: download_release
      - cmd: fetch_assets
reload_app:
  cmd.run:
    - name: echo reload
    - onchanges:
      - file: config
health_check:
  cmd.run:
    - name: {{ 'exit 2' if grains.get('broken') else 'sleep %s' % (0.3 * slow) }}
    - require:
      - cmd: migrate_db
announce:
  test.succeed_without_changes:
    - require:
      - cmd: health_check
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minions", type=int, default=300)
    parser.add_argument("--states", type=int, default=50)
    parser.add_argument("--runs", type=int, default=3, help="timed repetitions (median)")
    parser.add_argument("--screenshot", type=Path, help="PNG of a real run's report")
    args = parser.parse_args()
    if args.screenshot:
        return screenshot(args.screenshot)
    return synthetic(args.minions, args.states, args.runs)


def synthetic(minions: int, states: int, runs: int) -> int:
    with tempfile.TemporaryDirectory(prefix="saline-report-") as tmp:
        base = Path(tmp)
        jid = fill_cache(base / "cache", minions, states, missing=3, parallel_pairs=2)
        (base / "master").write_text(f"root_dir: {base}\ncachedir: {base / 'cache'}\n")
        print(f"job: {minions} minions x {states} states ({minions - 3} returned)")
        for suffix in ("html", "svg"):
            out = base / f"report.{suffix}"
            times = []
            for _ in range(runs):
                start = time.perf_counter()
                cache = JobCache(base / "cache", readonly=True)
                job = cache.job_header(jid)
                assert job is not None
                text, gantt = render(cache, job, svg=suffix == "svg")
                out.write_text(text)
                cache.close()
                times.append(time.perf_counter() - start)
            command = _command(base, jid, out, runs)
            print(f"{suffix}: {out.stat().st_size / 1e6:.2f} MB, {len(gantt.bars)} bars; "
                  f"generated in {statistics.median(times):.2f} s (median of {runs}), "
                  f"`master jobs report` {command:.2f} s")
        if find_chromium() is None:
            print("chromium: not installed (apt-get install chromium), load time not measured")
            return 0
        loads, in_page = [], []
        with Chromium(1400, 1000) as browser:
            for _ in range(runs):
                loads.append(browser.open(base / "report.html"))
                in_page.append(browser.js(
                    "performance.getEntriesByType('navigation')[0].loadEventEnd") / 1000)
            lanes = browser.js("document.querySelectorAll('svg.chart g.lane').length")
        print(f"chromium: loaded in {statistics.median(loads):.2f} s (navigation to load "
              f"event, median of {runs}; the page's own timing {statistics.median(in_page):.2f}"
              f" s), {lanes} lanes")
    return 0


def _command(base: Path, jid: str, out: Path, runs: int) -> float:
    """Median wall time of the whole CLI command (Python start-up included)."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "master", "-c", str(base), "jobs", "report", jid,
                        "-o", str(out)], check=True, capture_output=True, cwd=ROOT)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def screenshot(png: Path) -> int:
    """A real master and eight minions, the formula applied twice, the second run's
    report screenshotted."""
    with tempfile.TemporaryDirectory(prefix="saline-report-") as tmp:
        base = Path(tmp)
        roots = base / "master" / "formulas"
        roots.mkdir(parents=True)
        (roots / "deploy.sls").write_text(FORMULA)
        cluster = Cluster(base, auto_accept=True)
        names = [f"web{i:02d}" for i in range(1, 9)]
        try:
            cluster.start_master()
            for i, name in enumerate(names):
                (base / f"work-{name}").mkdir()
                cluster.add_minion(name, grains={"workdir": str(base / f"work-{name}"),
                                                 "speed": round(0.6 + 0.15 * (i % 5), 2),
                                                 "broken": name == "web05"})
            cluster.wait_answer(names, timeout=60)
            apply(cluster)
            cluster.stop_minion("web08")  # it will not return
            jid = apply(cluster)
            out = base / "report.html"
            proc = cluster.master_cmd("jobs", "report", jid, "-o", str(out))
            print(proc.stdout.strip() or proc.stderr.strip())
            with Chromium(1420, 900) as browser:
                browser.open(out)
                browser.screenshot(png, full_page=True)
        finally:
            cluster.close()
    print(f"screenshot: {png} ({png.stat().st_size / 1e3:.0f} kB)")
    return 0


def apply(cluster: Cluster) -> str:
    cluster.master_cmd("run", "-t", "60", "web*", "state.apply", "deploy", timeout=120)
    proc = cluster.master_cmd("jobs", "list", "--fun", "state.apply", "-n", "1", "--out", "json")
    return str(max(json.loads(proc.stdout)))


if __name__ == "__main__":
    sys.exit(main())
