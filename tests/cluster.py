"""Real master and minion processes on 127.0.0.1 for integration tests and benchmarks.

Every process gets its own config dir under a temp dir and free ports; the
helpers poll with deadlines instead of sleeping.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(check: Callable[[], Any], timeout: float = 10.0, interval: float = 0.05,
             what: str = "condition") -> Any:
    """Poll `check` until it returns something truthy; fail after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)


class Cluster:
    """A master and any number of minions, each a real process."""

    def __init__(self, base: Path, **master_opts: Any) -> None:
        self.base = base
        self.pub_port = free_port()
        self.ret_port = free_port()
        self.master_dir = base / "master"
        self.master_dir.mkdir(parents=True, exist_ok=True)
        opts = {"interface": "127.0.0.1", "publish_port": self.pub_port,
                "ret_port": self.ret_port, "log_level": "debug", "heartbeat_interval": 2,
                **master_opts}
        (self.master_dir / "master").write_text(yaml.safe_dump(opts))
        self.master: subprocess.Popen[bytes] | None = None
        self.minions: dict[str, subprocess.Popen[bytes]] = {}
        self.env = {**os.environ, "PYTHONPATH": str(ROOT), "NO_COLOR": "1"}
        self.env.pop("SALINE_CONFIG_DIR", None)

    # -- processes ----------------------------------------------------------
    def _spawn(self, prog: str, cdir: Path) -> subprocess.Popen[bytes]:
        log = open(cdir / f"{prog}.out", "ab")  # noqa: SIM115 - owned by the process
        return subprocess.Popen(
            [sys.executable, "-m", prog, "-c", str(cdir), "start"],
            stdout=log, stderr=subprocess.STDOUT, env=self.env, cwd=str(self.base),
        )

    def start_master(self) -> None:
        self.master = self._spawn("master", self.master_dir)
        wait_for(lambda: self.master_cmd("jobs", "list").returncode == 0 and
                 (self.master_dir / "run" / "master.ipc").exists(), what="master socket")
        wait_for(self._status, what="master answering")

    def _status(self) -> bool:
        proc = self.master_cmd("run", "--async", "nobody-at-all", "test.ping")
        return "No minions matched" in proc.stderr

    def stop_master(self) -> None:
        if self.master is not None:
            self.master.send_signal(signal.SIGTERM)
            self.master.wait(10)
            self.master = None

    def minion_dir(self, minion_id: str) -> Path:
        return self.base / f"minion-{minion_id}"

    def add_minion(self, minion_id: str, dirname: str | None = None, **opts: Any) -> Path:
        cdir = self.base / (dirname or f"minion-{minion_id}")
        cdir.mkdir(parents=True, exist_ok=True)
        conf = {"id": minion_id, "master": "127.0.0.1", "master_port": self.ret_port,
                "publish_port": self.pub_port, "log_level": "debug",
                "acceptance_wait_time": 2, "heartbeat_interval": 2,
                "random_reauth_delay": 0.5, **opts}
        (cdir / "minion").write_text(yaml.safe_dump(conf))
        self.minions[dirname or minion_id] = self._spawn("minion", cdir)
        return cdir

    def stop_minion(self, name: str) -> None:
        proc = self.minions.pop(name)
        proc.send_signal(signal.SIGTERM)
        proc.wait(10)

    def close(self) -> None:
        procs = [*self.minions.values()] + ([self.master] if self.master else [])
        for proc in procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self.minions.clear()
        self.master = None

    # -- commands -----------------------------------------------------------
    def master_cmd(self, *args: str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "master", "-c", str(self.master_dir), *args],
            capture_output=True, text=True, env=self.env, timeout=timeout, cwd=str(self.base),
        )

    def keys(self) -> dict[str, list[str]]:
        proc = self.master_cmd("key", "list", "--out", "json")
        assert proc.returncode == 0, proc.stderr
        return json.loads(proc.stdout)

    def wait_pending(self, *ids: str, timeout: float = 15) -> None:
        wait_for(lambda: set(ids) <= set(self.keys()["pending"]), timeout,
                 what=f"pending keys {ids}")

    def run_json(
        self, *args: str, timeout: float = 30
    ) -> tuple[dict[str, Any], subprocess.CompletedProcess[str]]:
        """`master run ... --out json`; returns the merged returns and the process."""
        proc = self.master_cmd("run", "--out", "json", "--static", *args, timeout=timeout)
        data = json.loads(proc.stdout) if proc.stdout.strip() else {}
        return data, proc

    def wait_answer(self, minion_ids: list[str], timeout: float = 15) -> None:
        """Poll `test.ping` until every one of `minion_ids` answers."""
        target = ",".join(minion_ids)

        def answered() -> bool:
            data, _ = self.run_json("-t", "2", "-L", target, "test.ping")
            return all(data.get(m) is True for m in minion_ids)

        wait_for(answered, timeout, interval=0.2, what=f"{minion_ids} answering test.ping")

    def minion_log(self, name: str) -> str:
        return (self.base / f"minion-{name}" / "minion.out").read_text()

    def master_log(self) -> str:
        return (self.master_dir / "master.out").read_text()
