"""`master demo`: a throw-away master and minion on loopback, one job, cleaned up.

Shows the whole path (keys, accept, publish, return) in a few seconds
without touching any config outside a temporary directory.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import yaml

STEPS = [
    ["key", "list"],
    ["key", "accept", "demo-minion", "-y"],
    ["run", "*", "test.ping"],
    ["run", "*", "grains.item", "os", "osrelease", "num_cpus", "kernel"],
    ["run", "demo-minion", "cmd.run", "uname -a"],
    ["jobs", "list", "-n", "3"],
]


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _until(check: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.05)
    return False


def demo() -> int:
    """Run the demo; the exit code is non-zero if any step failed."""
    with tempfile.TemporaryDirectory(prefix="saline-demo-") as tmp:
        base = Path(tmp)
        ret = _port()
        (base / "master").mkdir()
        (base / "minion").mkdir()
        (base / "master" / "master").write_text(yaml.safe_dump(
            {"interface": "127.0.0.1", "ret_port": ret,
             "log_level": "warning"}))
        (base / "minion" / "minion").write_text(yaml.safe_dump(
            {"id": "demo-minion", "master": "127.0.0.1", "master_port": ret,
             "log_level": "warning", "acceptance_wait_time": 2}))
        env = {**os.environ, "SALINE_CONFIG_DIR": str(base / "master")}
        print(f"# demo master and minion in {base} (port {ret})", flush=True)
        daemons = [
            subprocess.Popen([sys.executable, "-m", name, "-c", str(base / name), "start"],
                             env=env)
            for name in ("master", "minion")
        ]
        try:
            return _steps(base, env)
        finally:
            for proc in daemons:
                proc.send_signal(signal.SIGTERM)
            for proc in daemons:
                try:
                    proc.wait(5)
                except subprocess.TimeoutExpired:
                    proc.kill()


def _steps(base: Path, env: dict[str, str]) -> int:
    pending = base / "master" / "pki" / "pending" / "demo-minion"
    if not _until(pending.exists, 20):
        print("demo: the minion's key never reached the master", file=sys.stderr)
        return 1
    code = 0
    for step in STEPS:
        print(f"\n$ master {' '.join(step)}", flush=True)
        if step[0] == "run":
            step = ["run", "-t", "10", *step[1:]]
        proc = subprocess.run([sys.executable, "-m", "master", *step], env=env)
        code = code or proc.returncode
    print("\n# demo finished" + ("" if code == 0 else f" with exit code {code}"))
    return code
