"""Daemon lifecycle: `start -d`, `status`, `stop`, stale pid files, SIGHUP, systemd's notify.

Real daemons in the background on loopback; every daemon a test starts is
recorded and killed at teardown if the test left it running.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from common import pidfile
from tests.cluster import Cluster, wait_for


class Daemons:
    """Runs `master`/`minion` commands for one Cluster and remembers the daemons they start."""

    def __init__(self, cluster: Cluster) -> None:
        self.cluster = cluster
        self.pids: list[int] = []

    def cmd(self, prog: str, cdir: Path, *args: str,
            env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run(
            [sys.executable, "-m", prog, "-c", str(cdir), *args], capture_output=True,
            text=True, env=env or self.cluster.env, timeout=60, cwd=str(self.cluster.base))
        pid = pidfile.read_pid(cdir / "run" / f"{prog}.pid")
        if args[:1] == ("start",) and pid is not None and pid not in self.pids:
            self.pids.append(pid)
        return proc

    def master(self, *args: str) -> subprocess.CompletedProcess[str]:
        return self.cmd("master", self.cluster.master_dir, *args)

    def minion_config(self, minion_id: str, **opts: object) -> Path:
        cdir = self.cluster.minion_dir(minion_id)
        cdir.mkdir(parents=True, exist_ok=True)
        conf = {"id": minion_id, "master": "127.0.0.1", "master_port": self.cluster.ret_port,
                "publish_port": self.cluster.pub_port, "acceptance_wait_time": 1,
                "random_reauth_delay": 0, **opts}
        (cdir / "minion").write_text(yaml.safe_dump(conf))
        return cdir

    def kill_all(self) -> None:
        for pid in self.pids:
            if pidfile.running(pid):
                os.kill(pid, signal.SIGKILL)


@pytest.fixture
def daemons(cluster: Cluster) -> Iterator[Daemons]:
    d = Daemons(cluster)
    try:
        yield d
    finally:
        d.kill_all()


def _pid_of(proc: subprocess.CompletedProcess[str], code: int = 0) -> int:
    """The pid `start -d` printed (it exited with `code`)."""
    assert proc.returncode == code, proc.stderr
    assert "started in the background (pid " in proc.stdout, proc.stdout
    return int(proc.stdout.split("(pid ", 1)[1].split(")", 1)[0])


def test_master_start_d_status_stop(cluster: Cluster, daemons: Daemons) -> None:
    run = cluster.master_dir / "run"
    pid = _pid_of(daemons.master("start", "-d"))
    # Returned only once the master answers; detached, in /, output to /dev/null.
    assert pidfile.read_pid(run / "master.pid") == pid
    assert os.getsid(pid) != os.getsid(0) and os.readlink(f"/proc/{pid}/cwd") == "/"
    assert {os.readlink(f"/proc/{pid}/fd/{fd}") for fd in (0, 1, 2)} == {"/dev/null"}
    status = daemons.master("status")
    assert status.returncode == 0 and f"master running (pid {pid}), 0 minions" in status.stdout

    again = daemons.master("start", "-d")
    assert again.returncode == 1
    assert f"the master is already running (pid {pid})" in again.stderr

    stop = daemons.master("stop")
    assert stop.returncode == 0 and f"master stopped (pid {pid})" in stop.stdout
    assert not pidfile.running(pid)
    assert not (run / "master.pid").exists() and not (run / "master.ipc").exists()
    log = (cluster.master_dir / "log" / "master.log").read_text()
    assert "master ready" in log and "master stopped" in log

    stopped = daemons.master("stop")
    assert stopped.returncode == 1
    assert stopped.stderr.strip() == (
        f"master: the master is not running (no pid file at {run / 'master.pid'})")
    gone = daemons.master("status")
    assert gone.returncode == 1 and "the master is not running (no socket at" in gone.stderr


def test_a_killed_master_is_told_at_once_and_does_not_block_a_new_start(
        cluster: Cluster, daemons: Daemons) -> None:
    pid = _pid_of(daemons.master("start", "-d"))
    os.kill(pid, signal.SIGKILL)
    wait_for(lambda: not pidfile.running(pid), 5, what="the master to die")
    assert (cluster.master_dir / "run" / "master.ipc").exists()  # left behind by SIGKILL

    began = time.monotonic()
    proc = daemons.master("run", "*", "test.ping")
    took = time.monotonic() - began
    assert proc.returncode == 1
    assert proc.stderr.strip() == f"master: the master is not running (no process {pid})"
    # Interpreter start-up included; before, this waited out a 10 s request timeout.
    assert took < 2.5, took
    stop = daemons.master("stop")
    assert stop.returncode == 1 and f"not running (no process {pid})" in stop.stderr

    new = _pid_of(daemons.master("start", "-d"))
    assert new != pid and daemons.master("status").returncode == 0
    assert daemons.master("stop").returncode == 0


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_a_clean_stop_removes_the_pid_file_and_socket(cluster: Cluster, daemons: Daemons,
                                                      sig: signal.Signals) -> None:
    cluster.start_master()
    assert cluster.master is not None
    run = cluster.master_dir / "run"
    assert pidfile.read_pid(run / "master.pid") == cluster.master.pid
    cluster.master.send_signal(sig)
    assert cluster.master.wait(10) == 0
    cluster.master = None
    assert sorted(p.name for p in run.iterdir()) == []
    proc = daemons.master("key", "list")  # the key files answer without a master
    assert proc.returncode == 0
    began = time.monotonic()
    proc = daemons.master("run", "*", "test.ping")
    assert proc.returncode == 1 and "the master is not running (no socket at" in proc.stderr
    assert time.monotonic() - began < 2.5


def test_start_d_prints_the_daemons_first_error(cluster: Cluster, daemons: Daemons) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", cluster.ret_port))
        busy.listen()
        proc = daemons.master("start", "-d")
    assert proc.returncode == 1
    line = proc.stderr.strip()
    assert line.startswith("master: error: cannot bind tcp://127.0.0.1:"), line
    assert "address already in use; see " in line and "\n" not in line
    assert not (cluster.master_dir / "run" / "master.pid").exists()


def test_stop_never_signals_a_process_that_is_not_the_daemon(cluster: Cluster,
                                                            daemons: Daemons) -> None:
    run = cluster.master_dir / "run"
    run.mkdir(mode=0o700)
    other = subprocess.Popen(["sleep", "30"])
    try:
        (run / "master.pid").write_text(f"{other.pid}\n")
        proc = daemons.master("stop")
        assert proc.returncode == 1
        assert f"process {other.pid} is not a saline master; not stopping it" in proc.stderr
        assert other.poll() is None
        # A pid reused by another program after a SIGKILL: commands do not wait either.
        (run / "master.ipc").touch()
        began = time.monotonic()
        proc = daemons.master("run", "*", "test.ping")
        assert proc.stderr.strip() == (
            f"master: the master is not running (process {other.pid} is not a master)")
        assert time.monotonic() - began < 2.5
        assert other.poll() is None
    finally:
        other.kill()
        other.wait()


def test_sighup_reopens_the_log_file(cluster: Cluster, daemons: Daemons) -> None:
    pid = _pid_of(daemons.master("start", "-d"))
    log = cluster.master_dir / "log" / "master.log"
    log.rename(log.with_suffix(".log.1"))
    os.kill(pid, signal.SIGHUP)
    wait_for(lambda: log.exists() and "log file reopened" in log.read_text(), 10,
             what="a new log file")
    assert log.stat().st_mode & 0o777 == 0o600
    assert pidfile.running(pid)
    assert "log file reopened" not in log.with_suffix(".log.1").read_text()
    daemons.master("run", "--async", "nobody", "test.ping")
    assert daemons.master("stop").returncode == 0
    assert "master stopped" in log.read_text()


def test_minion_start_d_waits_until_accepted(cluster: Cluster, daemons: Daemons) -> None:
    cluster.start_master()
    cdir = daemons.minion_config("m1")
    began = time.monotonic()
    proc = daemons.cmd("minion", cdir, "start", "-d", "--wait-connected", "2")
    assert time.monotonic() - began < 10
    pid = _pid_of(proc, 1)
    assert proc.stderr.strip() == (
        "minion: error: m1: key is pending on the master; accept it with "
        "`master key accept m1` (the minion keeps trying in the background)")
    status = daemons.cmd("minion", cdir, "status")
    assert status.returncode == 0
    assert f"m1: running (pid {pid}), key pending on the master at 127.0.0.1:" in status.stdout
    assert (cdir / "run" / "minion.status").stat().st_mode & 0o777 == 0o600

    waited = daemons.cmd("minion", cdir, "status", "--wait-connected", "0.5")
    assert waited.returncode == 1 and "m1: key is pending on the master" in waited.stderr
    assert daemons.master("key", "accept", "m1", "-y").returncode == 0
    waited = daemons.cmd("minion", cdir, "status", "--wait-connected", "15")
    assert waited.returncode == 0, waited.stderr
    assert waited.stdout.startswith("m1: accepted by the master at 127.0.0.1:")
    status = daemons.cmd("minion", cdir, "status")
    assert f"m1: running (pid {pid}), accepted by the master at" in status.stdout
    second = daemons.cmd("minion", cdir, "start", "-d")
    assert second.returncode == 1 and f"already running (pid {pid})" in second.stderr

    log = cdir / "log" / "minion.log"
    log.rename(log.with_suffix(".log.1"))
    os.kill(pid, signal.SIGHUP)
    wait_for(lambda: log.exists() and "log file reopened" in log.read_text(), 10,
             what="a new minion log file")

    stop = daemons.cmd("minion", cdir, "stop")
    assert stop.returncode == 0 and f"minion stopped (pid {pid})" in stop.stdout
    assert list((cdir / "run").iterdir()) == []
    assert "minion m1 stopped" in log.read_text()

    again = daemons.cmd("minion", cdir, "start", "-d", "--wait-connected", "15")
    assert again.returncode == 0, again.stderr
    assert "m1: accepted by the master at 127.0.0.1:" in again.stdout
    assert daemons.cmd("minion", cdir, "stop").returncode == 0


def test_minion_wait_connected_without_a_master(cluster: Cluster, daemons: Daemons) -> None:
    cdir = daemons.minion_config("m2")
    proc = daemons.cmd("minion", cdir, "start", "-d", "--wait-connected", "1")
    assert proc.returncode == 1
    assert "m2: no answer from the master at 127.0.0.1:" in proc.stderr
    assert daemons.cmd("minion", cdir, "stop").returncode == 0
    usage = daemons.cmd("minion", cdir, "start", "--wait-connected", "1")
    assert usage.returncode == 2 and "--wait-connected needs -d" in usage.stderr


def test_a_foreground_master_tells_systemd_it_is_ready(cluster: Cluster,
                                                      daemons: Daemons) -> None:
    path = cluster.base / "notify.sock"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as notify:
        notify.bind(str(path))
        notify.settimeout(30)
        cluster.env["NOTIFY_SOCKET"] = str(path)
        proc = subprocess.Popen(
            [sys.executable, "-m", "master", "-c", str(cluster.master_dir), "start"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=cluster.env)
        try:
            assert notify.recv(100) == b"READY=1"
            # Ready means answering.
            assert daemons.master("status").returncode == 0
        finally:
            proc.terminate()
            assert proc.wait(10) == 0


def test_stop_and_status_work_without_a_config_file(tmp_path: Path, daemons: Daemons) -> None:
    bare = tmp_path / "bare"  # as `start` does, they read the defaults
    for prog in ("master", "minion"):
        for command in ("stop", "status"):
            proc = daemons.cmd(prog, bare, command)
            assert proc.returncode == 1, proc.stderr
            assert f"the {prog} is not running (no " in proc.stderr
