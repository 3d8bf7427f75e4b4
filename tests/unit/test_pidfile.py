"""Pid files and the start-up pipe's parsing: pure, no daemons."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from common import daemon, pidfile


def test_a_held_pid_file_refuses_a_second_holder_and_is_removed_on_release(
        tmp_path: Path) -> None:
    path = tmp_path / "master.pid"
    held = pidfile.PidFile.hold(path, "master")
    assert pidfile.read_pid(path) == os.getpid()
    with pytest.raises(pidfile.AlreadyRunning,
                       match=rf"another master \(pid {os.getpid()}\) is running in {tmp_path}"):
        pidfile.PidFile.hold(path, "master")
    held.release()
    assert not path.exists()
    held.release()  # twice is harmless


def test_release_leaves_a_pid_file_that_is_no_longer_ours(tmp_path: Path) -> None:
    path = tmp_path / "minion.pid"
    held = pidfile.PidFile.hold(path, "minion")
    path.unlink()
    path.write_text("12345\n")  # someone else's now
    held.release()
    assert path.read_text() == "12345\n"


def test_a_stale_pid_file_does_not_stop_a_new_holder(tmp_path: Path) -> None:
    path = tmp_path / "master.pid"
    path.write_text("999999\n")
    held = pidfile.PidFile.hold(path, "master")
    assert pidfile.read_pid(path) == os.getpid()
    held.release()


@pytest.mark.parametrize("text, pid", [("42\n", 42), ("", None), ("abc", None), ("0", None),
                                       ("-5", None), ("9" * 30, None)])
def test_read_pid(tmp_path: Path, text: str, pid: int | None) -> None:
    (tmp_path / "p").write_text(text)
    assert pidfile.read_pid(tmp_path / "p") == pid
    assert pidfile.read_pid(tmp_path / "missing") is None


def test_a_zombie_is_not_running_and_a_foreign_process_is_not_the_daemon() -> None:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    try:
        os.waitid(os.P_PID, proc.pid, os.WEXITED | os.WNOWAIT)  # exited, not reaped
        assert not pidfile.running(proc.pid)
    finally:
        proc.wait()
    assert pidfile.running(os.getpid())
    me = pidfile.not_the_daemon(os.getpid(), "no-such-daemon", os.getuid())
    assert me == f"process {os.getpid()} is not a saline no-such-daemon"
    assert pidfile.not_the_daemon(os.getpid(), "python", os.getuid() + 1) == (
        f"process {os.getpid()} belongs to another user than its pid file")


def test_stop_says_not_running(tmp_path: Path) -> None:
    assert pidfile.stop("minion", tmp_path / "minion.pid") == (
        1, f"the minion is not running (no pid file at {tmp_path / 'minion.pid'})")


@pytest.mark.parametrize("line, parsed", [
    ("2024-01-02 03:04:05,678 [ERROR  ] master.server: cannot bind tcp://x: address in use",
     ("ERROR", "cannot bind tcp://x: address in use")),
    ('{"time": "t", "level": "ERROR", "logger": "m", "message": "bad key"}',
     ("ERROR", "bad key")),
    ("master: error: user: no such user 'x'", ("ERROR", "user: no such user 'x'")),
    ("ModuleNotFoundError: No module named 'x'", ("", "ModuleNotFoundError: No module named 'x'")),
])
def test_parse_line(line: str, parsed: tuple[str, str]) -> None:
    assert daemon.parse_line(line) == parsed


def test_first_error_prefers_an_error_line_else_the_last_line() -> None:
    info = "2024-01-02 03:04:05,678 [INFO   ] master.server: loading"
    error = "2024-01-02 03:04:05,678 [ERROR  ] master.server: cannot start: disk full"
    assert daemon.first_error([info, error, "later"]) == "cannot start: disk full"
    assert daemon.first_error(["Traceback (most recent call last):", "  File x",
                               "OSError: boom"]) == "OSError: boom"
    assert daemon.first_error([]) is None
