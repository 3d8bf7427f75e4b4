#!/usr/bin/env python3
"""File server benchmark: N minions fetch one big file and many small files.

Usage: python bench/fileserver.py [N] [--mb 50] [--small 500]

Prints the aggregate throughput of the first fetch (every minion pulls the
whole file through the master) and the time of a second, cached fetch
(every file revalidated by hash, nothing transferred).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.cluster import Cluster

MAX_MINIONS = 50


def timed(cluster: Cluster, n: int, *args: str) -> float:
    start = time.perf_counter()
    data, proc = cluster.run_json("-t", "600", "*", *args, timeout=900)
    elapsed = time.perf_counter() - start
    bad = {m: r for m, r in data.items() if not r or str(r).startswith("ERROR")}
    assert len(data) == n and not bad, (proc.stderr, bad)
    return elapsed


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("n", type=int, nargs="?", default=10)
    ap.add_argument("--mb", type=int, default=50)
    ap.add_argument("--small", type=int, default=500)
    args = ap.parse_args()
    n = max(1, min(args.n, MAX_MINIONS))
    mb = max(1, min(args.mb, 1024))
    small = max(1, min(args.small, 10_000))
    with tempfile.TemporaryDirectory(prefix="saline-bench-") as tmp:
        base = Path(tmp)
        roots = base / "master" / "formulas"
        (roots / "small").mkdir(parents=True)
        (roots / "big.bin").write_bytes(os.urandom(mb * 1024 * 1024))
        for i in range(small):
            (roots / "small" / f"f{i:05d}.txt").write_bytes(os.urandom(2048))
        cluster = Cluster(base, auto_accept=True, log_level="warning")
        try:
            cluster.start_master()
            ids = [f"fs{i:02d}" for i in range(n)]
            for m in ids:
                cluster.add_minion(m, log_level="warning")
            cluster.wait_answer(ids, timeout=60)
            first = timed(cluster, n, "cp.cache_file", "salt://big.bin")
            second = timed(cluster, n, "cp.cache_file", "salt://big.bin")
            print(f"minions: {n}, big file: {mb} MB, small files: {small} x 2 KB")
            print(f"big file, first fetch   {first:6.2f} s  "
                  f"{n * mb / first:7.1f} MB/s aggregate ({mb / first:.1f} MB/s per minion)")
            print(f"big file, cached fetch  {second:6.2f} s")
            first = timed(cluster, n, "cp.cache_dir", "salt://small")
            second = timed(cluster, n, "cp.cache_dir", "salt://small")
            print(f"small files, first      {first:6.2f} s  "
                  f"{n * small / first:7.0f} files/s aggregate")
            print(f"small files, cached     {second:6.2f} s")
        finally:
            cluster.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
