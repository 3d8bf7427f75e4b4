#!/usr/bin/env python3
"""State benchmark: a jinja-generated formula of N file.managed states, masterless.

Usage: python bench/state_apply.py [N] [--runs R]

Prints the render+compile time alone (state.show_low_sls), the first run
(every file created) and the median of the no-change runs, each as the
whole `minion call --local` command and as the time the state run itself
reported (sum of state durations is not used: the wall time of the apply is
taken from inside one process).
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
MAX_STATES = 20_000

FORMULA = """\
{% for i in range(N) %}
managed-{{ i }}:
  file.managed:
    - name: {{ grains['bench_dir'] }}/f{{ i }}.conf
    - contents: |
        # file {{ i }} managed by saline
        value = {{ i * 7 }}
    - mode: '0644'
{% endfor %}
"""

INPROC = """
import json, sys, time
from pathlib import Path
from minion.cli import build_context, _call_local
from common import config
cdir = Path(sys.argv[1])
opts = config.load("minion", cdir)
ctx = build_context(opts, cdir)
out = {}
for fun in sys.argv[2:]:
    start = time.perf_counter()
    ret = _call_local(opts, ctx, fun, ["bench"], {})
    out[fun] = [time.perf_counter() - start, ret["success"]]
print(json.dumps(out))
"""


def command(cdir: Path, *args: str) -> tuple[float, object]:
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "minion", "-c", str(cdir), "call", "--local",
                           "--out", "json", *args], capture_output=True, text=True,
                          timeout=600, cwd=ROOT)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"failed: {' '.join(args)}: {proc.stderr or proc.stdout[:500]}")
    return elapsed, json.loads(proc.stdout)["local"]


def in_process(cdir: Path, *funs: str) -> dict[str, list[object]]:
    proc = subprocess.run([sys.executable, "-c", INPROC, str(cdir), *funs],
                          capture_output=True, text=True, timeout=600, cwd=ROOT)
    if proc.returncode != 0:
        raise SystemExit(proc.stderr)
    result: dict[str, list[object]] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("n", type=int, nargs="?", default=500)
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    n = max(1, min(args.n, MAX_STATES))
    runs = max(1, min(args.runs, 50))
    with tempfile.TemporaryDirectory(prefix="saline-bench-") as tmp:
        cdir = Path(tmp)
        (cdir / "formulas").mkdir()
        (cdir / "out").mkdir()
        (cdir / "formulas" / "bench.sls").write_text(FORMULA.replace("range(N)", f"range({n})"))
        (cdir / "minion").write_text(
            f"id: bench\nfile_client: local\nlog_level: warning\n"
            f"grains:\n  bench_dir: {cdir / 'out'}\n")
        compile_time, chunks = command(cdir, "state.show_low_sls", "bench")
        assert isinstance(chunks, list) and len(chunks) == n, chunks
        first, results = command(cdir, "state.apply", "bench")
        assert isinstance(results, dict) and len(results) == n
        assert all(r["changes"] for r in results.values())
        again = []
        for _ in range(runs):
            elapsed, results = command(cdir, "state.apply", "bench")
            assert isinstance(results, dict)
            assert not any(r["changes"] for r in results.values()), "not idempotent"
            again.append(elapsed)
        inside = in_process(cdir, "state.show_low_sls", "state.apply")
        print(f"states: {n}")
        print(f"render + compile (state.show_low_sls, whole command)  {compile_time:6.2f} s")
        print(f"first run, files created (whole command)              {first:6.2f} s")
        print(f"no-change run, median of {runs} (whole command)          "
              f"{statistics.median(again):6.2f} s")
        print(f"render + compile inside one process                   "
              f"{inside['state.show_low_sls'][0]:6.2f} s")
        print(f"no-change state.apply inside one process              "
              f"{inside['state.apply'][0]:6.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
