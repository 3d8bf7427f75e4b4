#!/usr/bin/env python3
"""Swarm benchmark: N simulated minions (tests/swarm.py) against one real master.

Usage: python bench/swarm.py N [--procs P] [--restart] [--reauth-delay S]

The master runs as its own process in a temp dir on loopback; the minions
run in P worker processes, each minion with its own key pair, id, grains,
sockets and session, doing the real handshake and real encrypted returns.
Prints: the time until all N keys are pending, `master key accept --all`,
the time until all N are connected, `master run '*' test.ping` (wall time,
how many returned, publish to last return), test.echo and grains.item, the
master's RSS and CPU and, with --restart, the time until all N are back
after a master restart. The last line is machine-readable:

    swarm N=<n> returned=<k> seconds=<wall s of the ping> master_rss_mb=<m>
"""

from __future__ import annotations

import argparse
import os
import resource
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from common.output import did_not_return  # noqa: E402
from master.localclient import LocalClient  # noqa: E402
from tests.cluster import Cluster, wait_for  # noqa: E402

MAX_MINIONS = 10_000
PER_PROC = 1250


def raise_fd_limit() -> None:
    """A TCP connection per minion on both sides: lift the soft fd limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


class Swarm:
    """A master (via tests.cluster) and the worker processes of simulated minions."""

    def __init__(self, base: Path, n: int, procs: int, reauth_delay: float = 0.0,
                 hb: int = 5, prefix: str = "swarm") -> None:
        self.n = n
        self.prefix = prefix
        self.cluster = Cluster(base, log_level="warning", heartbeat_interval=int(hb))
        self.procs = procs
        self.reauth_delay = reauth_delay
        self.hb = hb
        self.workers: list[subprocess.Popen[bytes]] = []
        self.local: LocalClient | None = None

    # -- processes ----------------------------------------------------------
    def start_master(self) -> None:
        self.cluster.start_master()
        self.local = LocalClient({"sock_dir": str(self.cluster.master_dir / "run"),
                                  "max_msg_size": 64 << 20})

    def restart_master(self) -> None:
        if self.local is not None:
            self.local.close()
        self.cluster.stop_master()
        self.start_master()

    def start_minions(self) -> None:
        per = -(-self.n // self.procs)
        for first in range(0, self.n, per):
            count = min(per, self.n - first)
            log = open(self.cluster.base / f"swarm-{first}.out", "ab")  # noqa: SIM115
            self.workers.append(subprocess.Popen(
                [sys.executable, "-m", "tests.swarm", "--ret-port", str(self.cluster.ret_port),
                 "--prefix", self.prefix,
                 "--first", str(first), "--count", str(count), "--hb", str(self.hb),
                 "--reauth-delay", str(self.reauth_delay)],
                stdout=log, stderr=subprocess.STDOUT, env=self.cluster.env, cwd=str(ROOT)))

    def close(self) -> None:
        for proc in self.workers:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.workers:
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if self.local is not None:
            self.local.close()
        self.cluster.close()

    # -- observations -------------------------------------------------------
    def count_keys(self, state: str) -> int:
        with os.scandir(self.cluster.master_dir / "pki" / state) as it:
            return sum(1 for e in it if e.name.startswith(self.prefix))

    def connected(self) -> int:
        assert self.local is not None
        try:
            return len(self.local.call("status", timeout=10)["connected"])
        except Exception:  # the master may be busy: poll again
            return -1

    def master_proc(self) -> psutil.Process:
        assert self.cluster.master is not None
        return psutil.Process(self.cluster.master.pid)

    def ping(self, fun: str = "test.ping", *args: str,
             timeout: float = 60) -> tuple[int, float, dict[str, Any]]:
        """`master run '*' fun args`: how many returned, the wall time, the returns."""
        start = time.perf_counter()
        data, proc = self.cluster.run_json("-t", str(int(timeout)), "*", fun, *args,
                                           timeout=timeout + 30)
        wall = time.perf_counter() - start
        # Minions without a return are in the output too, as Salt's text.
        returned = sum(1 for value in data.values() if not did_not_return(value))
        if returned < self.n:
            tail = proc.stderr.strip().splitlines()[-3:]
            print(f"  {fun}: exit {proc.returncode}: {' | '.join(tail)[:300]}", flush=True)
        return returned, wall, data

    def last_job_latency(self) -> float:
        """Publish to last return of the newest job, from the job cache."""
        db = sqlite3.connect(f"file:{self.cluster.master_dir / 'cache' / 'jobs.sqlite'}?mode=ro",
                             uri=True)
        try:
            jid, started = db.execute(
                "SELECT jid, started FROM jobs ORDER BY jid DESC LIMIT 1").fetchone()
            last = db.execute("SELECT MAX(ts) FROM returns WHERE jid=?", (jid,)).fetchone()[0]
        finally:
            db.close()
        return float(last - started) if last else float("nan")


def timed(label: str, fn: Any) -> Any:
    start = time.perf_counter()
    value = fn()
    print(f"{label:<44} {time.perf_counter() - start:8.2f} s", flush=True)
    return value


def run(swarm: Swarm, restart: bool) -> int:
    n = swarm.n
    limit = 60 + n / 50  # every wait is bounded
    swarm.start_master()
    proc = swarm.master_proc()
    start = time.perf_counter()
    swarm.start_minions()
    wait_for(lambda: swarm.count_keys("pending") >= n, limit, 0.05, "all keys pending")
    print(f"{'all ' + str(n) + ' keys pending':<44} {time.perf_counter() - start:8.2f} s")
    accept = timed("master key accept --all", lambda: swarm.cluster.master_cmd(
        "key", "accept", "--all", "-y", timeout=limit))
    assert accept.returncode == 0, accept.stderr
    timed(f"all {n} connected after accept", lambda: wait_for(
        lambda: swarm.connected() >= n, limit, 0.1, "all minions connected"))

    cpu0 = proc.cpu_times()
    returned, wall, _ = swarm.ping()
    cpu = proc.cpu_times()
    busy = (cpu.user + cpu.system) - (cpu0.user + cpu0.system)
    latency = swarm.last_job_latency()
    print(f"{'master run * test.ping':<44} {wall:8.2f} s   returned {returned}/{n}")
    print(f"{'  publish to last return':<44} {latency:8.2f} s")
    print(f"{'  master CPU during the ping':<44} {busy:8.2f} s ({100 * busy / wall:.0f}%)")
    again, wall2, _ = swarm.ping()
    print(f"{'master run * test.ping (again)':<44} {wall2:8.2f} s   returned {again}/{n}")
    _, wall_e, data = swarm.ping("test.echo", "hello")
    good = sum(1 for v in data.values() if v == "hello")
    print(f"{'master run * test.echo hello':<44} {wall_e:8.2f} s   returned {good}/{n}")
    _, wall_g, data = swarm.ping("grains.item", "os", "roles")
    good = sum(1 for v in data.values() if isinstance(v, dict) and v.get("os") == "Debian")
    print(f"{'master run * grains.item os roles':<44} {wall_g:8.2f} s   returned {good}/{n}")
    rss = proc.memory_info().rss / 2**20
    total = proc.cpu_times()
    print(f"{'master RSS':<44} {rss:8.1f} MB")
    print(f"{'master CPU since start':<44} {total.user + total.system:8.2f} s")

    if restart:
        swarm.restart_master()
        start = time.perf_counter()
        wait_for(lambda: swarm.connected() >= n, limit, 0.1, "all minions back")
        back = time.perf_counter() - start
        print(f"{'all back after a master restart':<44} {back:8.2f} s"
              f"   (reauth delay up to {swarm.reauth_delay:g} s)")
        after, wall_r, _ = swarm.ping()
        print(f"{'master run * test.ping after the restart':<44} {wall_r:8.2f} s"
              f"   returned {after}/{n}")
        print(f"{'master RSS after the restart':<44} "
              f"{swarm.master_proc().memory_info().rss / 2**20:8.1f} MB")
    print(f"swarm N={n} returned={returned} seconds={wall:.2f} master_rss_mb={rss:.0f}")
    return 0 if returned == n else 1


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("n", type=int, nargs="?", default=1000)
    ap.add_argument("--procs", type=int, default=0, help="worker processes (default N/1250)")
    ap.add_argument("--restart", action="store_true", help="also time a master restart")
    ap.add_argument("--reauth-delay", type=float, default=0.0,
                    help="minions re-authenticate within this random delay after a restart")
    args = ap.parse_args()
    n = max(1, min(args.n, MAX_MINIONS))
    procs = args.procs or max(1, min(4, -(-n // PER_PROC)))
    raise_fd_limit()
    with tempfile.TemporaryDirectory(prefix="saline-swarm-") as tmp:
        swarm = Swarm(Path(tmp), n, procs, args.reauth_delay)
        try:
            return run(swarm, args.restart)
        finally:
            swarm.close()


if __name__ == "__main__":
    sys.exit(main())
