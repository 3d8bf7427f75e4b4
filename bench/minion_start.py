#!/usr/bin/env python3
"""Minion start-up benchmark.

Usage: python bench/minion_start.py [--runs R]

Prints the median of R runs of: `minion call --local test.ping` as a whole
command (cold start, Python included), grains collection inside one process,
and the time from `minion start` until the master sees the (already
accepted) minion connected.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from master.localclient import LocalClient
from tests.cluster import Cluster, wait_for

ROOT = Path(__file__).resolve().parent.parent


def call_ping(cdir: Path) -> float:
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "minion", "-c", str(cdir), "call", "--local",
                           "test.ping"], capture_output=True, text=True, timeout=60, cwd=ROOT)
    elapsed = time.perf_counter() - start
    assert proc.returncode == 0 and "True" in proc.stdout, proc.stderr
    return elapsed


def grains_time(cdir: Path) -> float:
    code = ("import time;from pathlib import Path;from common import config;"
            "from minion.grains.core import compute_grains;"
            f"o=config.load('minion', Path({str(cdir)!r}));t=time.perf_counter();"
            "compute_grains(o, o['config_dir']);print(time.perf_counter()-t)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60, cwd=ROOT)
    return float(proc.stdout.strip())


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=9)
    runs = max(1, min(ap.parse_args().runs, 50))
    with tempfile.TemporaryDirectory(prefix="saline-bench-") as tmp:
        base = Path(tmp)
        solo = base / "solo"
        solo.mkdir()
        (solo / "minion").write_text("id: solo\nfile_client: local\nlog_level: warning\n")
        pings = [call_ping(solo) for _ in range(runs)]
        grains = [grains_time(solo) for _ in range(runs)]
        cluster = Cluster(base / "c", auto_accept=True, log_level="warning")
        starts = []
        try:
            cluster.start_master()
            local = LocalClient({"sock_dir": str(cluster.master_dir / "run"),
                                 "max_msg_size": 1 << 20})
            cluster.add_minion("m1", log_level="warning")
            cluster.wait_answer(["m1"])
            for _ in range(runs):
                cluster.stop_minion("m1")
                wait_for(lambda: "m1" not in local.call("status")["connected"], 30,
                         interval=0.05, what="m1 disconnected")
                start = time.perf_counter()
                cluster.add_minion("m1", log_level="warning")
                wait_for(lambda: "m1" in local.call("status")["connected"], 30,
                         interval=0.005, what="m1 connected")
                starts.append(time.perf_counter() - start)
            local.close()
        finally:
            cluster.close()
    print(f"runs: {runs}")
    print(f"minion call --local test.ping (whole command)  median {statistics.median(pings):.3f} s"
          f"  min {min(pings):.3f} s")
    print(f"grains collection (in process)                 median "
          f"{statistics.median(grains) * 1000:.1f} ms")
    print("minion start -> connected to the master        median "
          f"{statistics.median(starts):.3f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
