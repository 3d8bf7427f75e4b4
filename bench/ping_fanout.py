#!/usr/bin/env python3
"""Fan-out benchmark: `master run '*' test.ping` to N real minions on loopback.

Usage: python bench/ping_fanout.py [N] [--runs R]

Prints the median and spread of the whole command's wall time (Python
start-up included), the time from `master key accept` until the minion has
authenticated and until it answers a ping, and the RSS of the master and of
one idle minion (each whole process tree).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from master.localclient import LocalClient
from tests.cluster import Cluster, wait_for

MAX_MINIONS = 200


def tree_rss_mb(pid: int) -> tuple[float, int]:
    proc = psutil.Process(pid)
    procs = [proc, *proc.children(recursive=True)]
    return sum(p.memory_info().rss for p in procs) / 2**20, len(procs)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("n", type=int, nargs="?", default=10)
    ap.add_argument("--runs", type=int, default=15)
    args = ap.parse_args()
    n = max(1, min(args.n, MAX_MINIONS))
    with tempfile.TemporaryDirectory(prefix="saline-bench-") as tmp:
        cluster = Cluster(Path(tmp), log_level="warning")
        try:
            return bench(cluster, n, max(3, min(args.runs, 100)))
        finally:
            cluster.close()


def bench(cluster: Cluster, n: int, runs: int) -> int:
    cluster.start_master()
    ids = [f"bench{i:03d}" for i in range(n)]
    for m in ids:
        cluster.add_minion(m, log_level="warning")
    cluster.wait_pending(*ids, timeout=60 + n)
    cluster.master_cmd("key", "accept", "--all", "-y")
    cluster.wait_answer(ids, timeout=60)

    times = []
    for _ in range(runs):
        start = time.perf_counter()
        data, proc = cluster.run_json("*", "test.ping")
        times.append(time.perf_counter() - start)
        assert proc.returncode == 0 and len(data) == n, (proc.returncode, proc.stderr)

    # Key acceptance to answer, for one more minion.
    cluster.add_minion("latecomer", log_level="warning")
    cluster.wait_pending("latecomer")
    local = LocalClient({"sock_dir": str(cluster.master_dir / "run"),
                         "max_msg_size": 1 << 20})
    start = time.perf_counter()
    cluster.master_cmd("key", "accept", "latecomer", "-y")
    wait_for(lambda: "latecomer" in local.call("status")["connected"], 10, interval=0.005)
    authed = time.perf_counter() - start
    data, _ = cluster.run_json("-t", "3", "latecomer", "test.ping")
    answered = time.perf_counter() - start
    assert data == {"latecomer": True}
    local.close()

    time.sleep(2)  # let the daemons settle before reading memory at rest
    assert cluster.master is not None
    master_mb, master_procs = tree_rss_mb(cluster.master.pid)
    minion_mb, minion_procs = tree_rss_mb(cluster.minions[ids[0]].pid)
    print(f"minions: {n}, runs: {runs}")
    print(f"master run '*' test.ping  median {statistics.median(times):.3f} s  "
          f"min {min(times):.3f} s  max {max(times):.3f} s")
    print(f"key accept -> authenticated  {authed:.3f} s")
    print(f"key accept -> answered ping  {answered:.3f} s (includes one whole run command)")
    print(f"master RSS at rest  {master_mb:.1f} MB in {master_procs} process(es)")
    print(f"minion RSS at rest  {minion_mb:.1f} MB in {minion_procs} process(es)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
