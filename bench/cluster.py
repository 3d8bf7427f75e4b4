#!/usr/bin/env python3
"""Cluster store benchmark: what sharing keys and jobs in PostgreSQL costs.

Usage: python bench/cluster.py [N] [--runs R]

Part 1: `master run '*' test.ping` to N real minions through one master,
with the embedded store (pki files, SQLite) and then with the PostgreSQL
cluster store (a throw-away server, as the tests start one). Prints the
median wall time of the whole command and the master's own time from
publish to last return (from the job cache), and the store's overhead.
Part 2: two masters on 127.0.0.2 and 127.0.0.3 sharing the store: a key
accepted on A until the minion, connected to B only, answers through B.
Part 3: N minions with `master: [A, B]` (str) and N with failover; A is
killed: the time until every one answers through B.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from common import config
from master.store import open_store
from tests.cluster import Cluster, wait_for
from tests.pgserver import pg_server

MAX_MINIONS = 200


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("n", type=int, nargs="?", default=50)
    ap.add_argument("--runs", type=int, default=15)
    args = ap.parse_args()
    n, runs = max(1, min(args.n, MAX_MINIONS)), max(3, min(args.runs, 100))
    for server in pg_server():
        with tempfile.TemporaryDirectory(prefix="saline-bench-") as tmp:
            alone = fanout(Path(tmp) / "files", n, runs)
            shared = fanout(Path(tmp) / "pg", n, runs, cluster_store=server.fresh_dsn())
            report(n, runs, alone, shared)
            accept_via_other(Path(tmp) / "two", server.fresh_dsn())
            reachable_after_a_kill(Path(tmp) / "kill", server.fresh_dsn(), min(n, 20))
    return 0


def fanout(base: Path, n: int, runs: int, **opts: Any) -> tuple[list[float], list[float]]:
    """(whole command, publish to last return) seconds of each run."""
    cluster = Cluster(base, log_level="warning", **opts)
    try:
        cluster.start_master()
        ids = [f"bench{i:03d}" for i in range(n)]
        for m in ids:
            cluster.add_minion(m, log_level="warning")
        cluster.wait_pending(*ids, timeout=60 + n)
        cluster.master_cmd("key", "accept", "--all", "-y")
        cluster.wait_answer(ids, timeout=60)
        whole, inside = [], []
        for _ in range(runs):
            start = time.perf_counter()
            data, proc = cluster.run_json("*", "test.ping")
            whole.append(time.perf_counter() - start)
            assert proc.returncode == 0 and len(data) == n, (proc.returncode, proc.stderr)
            inside.append(_job_span(cluster))
        return whole, inside
    finally:
        cluster.close()


def _job_span(cluster: Cluster) -> float:
    """The newest job's time from publish to its last return, as the master recorded it."""
    listed = json.loads(cluster.master_cmd("jobs", "list", "-n", "1", "--out", "json").stdout)
    jid = next(iter(listed))
    opts = config.load("master", cluster.master_dir)
    store = open_store(opts)
    try:
        cache = store.jobs(readonly=True)
        header = cache.job_header(jid)
        assert header is not None
        last = max(ts for _, _, _, _, ts in cache.iter_returns(jid))
        return float(last - header["started"])
    finally:
        store.close()


def report(n: int, runs: int, alone: tuple[list[float], list[float]],
           shared: tuple[list[float], list[float]]) -> None:
    print(f"minions: {n}, runs: {runs}")
    for label, (whole, inside) in (("embedded store  ", alone), ("PostgreSQL store", shared)):
        print(f"{label}  master run '*' test.ping median {statistics.median(whole):.3f} s "
              f"(min {min(whole):.3f}, max {max(whole):.3f}); publish -> last return "
              f"median {statistics.median(inside) * 1000:.1f} ms")
    for what, i in (("whole command", 0), ("publish -> last return", 1)):
        a, s = statistics.median(alone[i]), statistics.median(shared[i])
        print(f"store overhead, {what}: {(s - a) / a * 100:+.1f}%")


def accept_via_other(base: Path, dsn: str) -> None:
    """Key accepted on A until the minion connected only to B answers through B."""
    a = Cluster(base / "a", interface="127.0.0.2", cluster_store=dsn, log_level="warning")
    b = Cluster(base / "b", interface="127.0.0.3", cluster_store=dsn, log_level="warning")
    try:
        a.start_master()
        b.start_master()
        b.add_minion("late", master="127.0.0.3", log_level="warning")
        a.wait_pending("late")
        start = time.perf_counter()
        a.master_cmd("key", "accept", "late", "-y")
        wait_for(lambda: b.run_json("-t", "1", "late", "test.ping")[0] == {"late": True},
                 timeout=30, interval=0.01, what="late answering through B")
        took = time.perf_counter() - start
        print(f"key accept on A -> first answer through B  {took:.3f} s "
              "(includes `master key accept` and each `master run` start-up)")
    finally:
        a.close()
        b.close()


def reachable_after_a_kill(base: Path, dsn: str, n: int) -> None:
    """Kill master A: until every str and failover minion answers through B."""
    a = Cluster(base / "a", interface="127.0.0.2", cluster_store=dsn, log_level="warning",
                auto_accept=True)
    b = Cluster(base / "b", interface="127.0.0.3", cluster_store=dsn, log_level="warning",
                auto_accept=True)
    masters = [f"127.0.0.2:{a.ret_port}", f"127.0.0.3:{b.ret_port}"]
    ids = [f"s{i}" for i in range(n)] + [f"f{i}" for i in range(n)]
    try:
        a.start_master()
        b.start_master()
        for m in ids:
            extra: dict[str, Any] = ({"master_type": "failover", "master_alive_interval": 3}
                                     if m[0] == "f" else {})
            a.add_minion(m, master=masters, log_level="warning", **extra)
        a.wait_answer(ids, timeout=60)
        assert a.master is not None
        start = time.perf_counter()
        a.master.kill()
        a.master.wait(10)
        a.master = None
        wait_for(lambda: b.run_json("-t", "2", "*", "test.ping")[0] == dict.fromkeys(ids, True),
                 timeout=60, interval=0.2, what="every minion through B")
        took = time.perf_counter() - start
        print(f"master A killed -> all {len(ids)} minions answer through B  {took:.2f} s "
              f"({n} str, {n} failover with master_alive_interval 3 s)")
    finally:
        a.close()
        b.close()


if __name__ == "__main__":
    sys.exit(main())
