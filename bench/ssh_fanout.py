#!/usr/bin/env python3
"""SSH fan-out benchmark: `master ssh '*' test.ping` over N roster ids on a loopback sshd.

Usage: python bench/ssh_fanout.py [N] [--runs R] [--no-salt]

One real OpenSSH server (tests/sshd.py) listens on 127.0.0.1-4; N roster
ids spread over those addresses. Prints the whole command's wall time
(Python start-up included) on first contact (no zipapp on the host, none
cached on the master: built, uploaded and installed) and warm (median of R
runs; the hosts reuse the grains of the last run, as `--grains-max-age`
allows, and once more with `--grains-max-age 0`), with the per-phase table
of one warm run. When salt-ssh 3007.15 is
installed at /tmp/salt-venv/bin/salt-ssh (or --salt-ssh PATH), it runs on
the same hosts and ids, first contact (thin tarball deployed) and warm,
and the ratio is printed; otherwise it says it skipped.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests import sshd
from tests.cluster import free_port

ADDRESSES = ("127.0.0.1", "127.0.0.2", "127.0.0.3", "127.0.0.4")
SALT_SSH = "/tmp/salt-venv/bin/salt-ssh"
TIMEOUT = 300


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("n", type=int, nargs="?", default=20)
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--salt-ssh", default=SALT_SSH, help="salt-ssh to compare with")
    ap.add_argument("--no-salt", action="store_true", help="skip the salt-ssh comparison")
    args = ap.parse_args()
    if why := sshd.available():
        print(f"skipped: {why}", file=sys.stderr)
        return 1
    n, runs = max(1, min(args.n, 200)), max(1, min(args.runs, 50))
    with tempfile.TemporaryDirectory(prefix="saline-bench-ssh-") as tmp:
        base = Path(tmp)
        (base / "sshd").mkdir()
        server = sshd.Sshd(base / "sshd", free_port(), addresses=ADDRESSES)
        try:
            known = server.known_hosts(base / "known_hosts")
            print(f"hosts: {n} roster ids on one sshd ({len(ADDRESSES)} addresses), "
                  f"warm runs: {runs}")
            ours = bench_saline(base, server, known, n, runs)
            salt = None
            if args.no_salt or not Path(args.salt_ssh).exists():
                print(f"salt-ssh: skipped ({'--no-salt' if args.no_salt else args.salt_ssh}"
                      " not there)")
            else:
                salt = bench_salt(base, server, known, n, runs, args.salt_ssh)
            if salt:
                print(f"warm: saline {ours[1]:.3f} s vs salt-ssh {salt[1]:.3f} s: "
                      f"{salt[1] / ours[1]:.1f}x; first contact {ours[0]:.3f} s vs "
                      f"{salt[0]:.3f} s: {salt[0] / ours[0]:.1f}x")
        finally:
            server.stop()
    return 0


def roster_lines(server: sshd.Sshd, n: int, extra: str = "") -> str:
    """N ids over the server's addresses; `extra` is more YAML for each entry."""
    return "".join(
        f"host{i:03d}: {{host: {ADDRESSES[i % len(ADDRESSES)]}, port: {server.port}, "
        f"user: {server.user}, priv: {server.client_key}{extra.format(id=f'host{i:03d}')}}}\n"
        for i in range(n))


def bench_saline(base: Path, server: sshd.Sshd, known: Path, n: int,
                 runs: int) -> tuple[float, float]:
    cdir, cache = base / "saline", base / "saline-cache"
    cdir.mkdir()
    (cdir / "master").write_text(f"cachedir: {cache}\n")
    (cdir / "roster").write_text(roster_lines(server, n))
    argv = [sys.executable, "-m", "master", "-c", str(cdir), "ssh", "*", "test.ping",
            "--known-hosts", str(known), "--out", "txt"]
    shutil.rmtree(server.home / ".cache", ignore_errors=True)
    first = timed(argv, n)
    warm = [timed(argv, n) for _ in range(runs)]
    fresh = [timed([*argv, "--grains-max-age", "0"], n) for _ in range(runs)]
    table = run([*argv, "--timings"], n).stderr.strip()
    print(f"saline  master ssh '*' test.ping: first contact {first:.3f} s, warm median "
          f"{statistics.median(warm):.3f} s (min {min(warm):.3f}, max {max(warm):.3f}); "
          f"warm with grains computed anew (--grains-max-age 0) {statistics.median(fresh):.3f} s")
    print("  one warm run, seconds per host:\n  " + table.replace("\n", "\n  "))
    return first, statistics.median(warm)


def bench_salt(base: Path, server: sshd.Sshd, known: Path, n: int, runs: int,
               salt_ssh: str) -> tuple[float, float]:
    cdir, root = base / "salt", base / "salt-root"
    cdir.mkdir()
    (cdir / "master").write_text(
        f"root_dir: {root}\npki_dir: {root}/pki\ncachedir: {root}/cache\n"
        f"sock_dir: {root}/sock\nlog_file: {root}/master.log\n"
        f"ssh_log_file: {root}/ssh.log\nknown_hosts_file: {known}\n"
        f"ssh_max_procs: {max(25, n)}\n")
    # Each id gets its own thin_dir, as separate hosts would.
    (cdir / "roster").write_text(roster_lines(server, n, f", thin_dir: {root}/thin/{{id}}"))
    argv = [salt_ssh, "-c", str(cdir), "*", "test.ping", "--out", "quiet"]
    first = timed(argv, n)
    warm = [timed(argv, n) for _ in range(runs)]
    print(f"salt-ssh 3007.15 '*' test.ping: first contact {first:.3f} s, warm median "
          f"{statistics.median(warm):.3f} s (min {min(warm):.3f}, max {max(warm):.3f})")
    return first, statistics.median(warm)


def run(argv: list[str], n: int) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=TIMEOUT)
    if proc.returncode != 0:
        raise SystemExit(f"{argv[0]} failed ({proc.returncode}): {proc.stderr[-800:]}")
    return proc


def timed(argv: list[str], n: int) -> float:
    start = time.perf_counter()
    run(argv, n)
    return time.perf_counter() - start


if __name__ == "__main__":
    sys.exit(main())
