#!/usr/bin/env python3
"""Targeting benchmark: one compound expression against 10,000 cached minions.

Usage: python bench/targeting.py [N]

Builds a real `Master` in a temp dir, fills its grain cache with N minions
(varied ids, os, roles, addresses, nested dicts), and prints how long the
master takes to work out which of them an expression reaches (parse once,
evaluate against every minion), as the median of several runs.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from common import config
from master.server import Master

EXPRESSIONS = [
    ("compound", "G@os:Debian and ( web* or G@roles:db ) and not E@.*-canary$"),
    ("compound", "S@10.1.0.0/16 and G@ec2:tags:env:prod and I@nothing:here or L@db-00001"),
    ("grain", "roles:cache"),
    ("glob", "web-0[0-4]*"),
]
MAX_MINIONS = 100_000


def fleet(n: int) -> dict[str, dict[str, object]]:
    roles = ["web", "db", "cache", "queue"]
    grains = {}
    for i in range(n):
        role = roles[i % 4]
        minion = f"{role}-{i:05d}" + ("-canary" if i % 97 == 0 else "")
        grains[minion] = {
            "id": minion,
            "os": "Debian" if i % 3 else "Ubuntu",
            "os_family": "Debian",
            "osmajorrelease": 12,
            "num_cpus": 2 + i % 8,
            "roles": [role, "monitored"],
            "ipv4": ["127.0.0.1", f"10.{i % 4}.{i // 256 % 256}.{i % 256}"],
            "ec2": {"tags": {"env": "prod" if i % 2 else "dev", "team": "t" + str(i % 7)}},
        }
    return grains


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("n", type=int, nargs="?", default=10_000)
    n = max(1, min(ap.parse_args().n, MAX_MINIONS))
    with tempfile.TemporaryDirectory(prefix="saline-bench-") as tmp:
        (Path(tmp) / "master").write_text("log_level: warning\n")
        master = Master(config.load("master", Path(tmp)))
        master.grains = fleet(n)
        master.known_accepted = set(master.grains)
        print(f"minions: {n}")
        for tgt_type, tgt in EXPRESSIONS:
            times, reached = [], 0
            for _ in range(7):
                start = time.perf_counter()
                match = master.compile_target(tgt, tgt_type, ":")
                reached = len(master.expected_minions(match))
                times.append(time.perf_counter() - start)
            print(f"{statistics.median(times) * 1000:7.1f} ms  reaches {reached:5d}  "
                  f"{tgt_type}: {tgt}")
        master.cache.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
