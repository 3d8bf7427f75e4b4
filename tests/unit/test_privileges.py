from __future__ import annotations

import os
import pwd
import shutil
import stat
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from common.config import ConfigError
from common.privileges import switch_user

ROOT = Path(__file__).resolve().parents[2]


def test_unknown_user_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="no such user 'no-such-user-here'"):
        switch_user("no-such-user-here", [])


def test_no_user_means_no_change() -> None:
    switch_user(None, [])
    switch_user(pwd.getpwuid(os.getuid()).pw_name, [])


def _switch(user: str, dirs: list[Path], files: list[Path]) -> subprocess.CompletedProcess[str]:
    """Run switch_user as root in a child (a switch cannot be undone).

    The child needs nothing more once switched, and this Python may be closed to
    `nobody` (under /root): test_user.py covers the check that says so."""
    script = (
        "import os, sys\n"
        "from common.config import ConfigError\n"
        "from common.privileges import switch_user\n"
        "n = int(sys.argv[2])\n"
        "try:\n"
        "    switch_user(sys.argv[1], sys.argv[3:3 + n], sys.argv[3 + n:], check_python=False)\n"
        "except ConfigError as exc:\n"
        "    sys.exit(f'error: {exc}')\n"
        "print(os.getuid(), os.getgid())\n"
    )
    return subprocess.run(
        [sys.executable, "-c", script, user, str(len(dirs)), *map(str, dirs), *map(str, files)],
        cwd=ROOT, capture_output=True, text=True, timeout=30)


@pytest.fixture
def shared() -> Iterator[Path]:
    # Outside pytest's 0700 tmp tree, so that `nobody` can reach it.
    base = Path(tempfile.mkdtemp(prefix="saline-priv-"))
    base.chmod(0o755)
    try:
        yield base
    finally:
        shutil.rmtree(base)


@pytest.mark.skipif(os.getuid() != 0, reason="needs root to switch users")
def test_root_hands_over_only_what_it_created(shared: Path) -> None:
    nobody = pwd.getpwnam("nobody")
    logs = shared / "log"  # like /var/log: root's, holding other files
    (logs / "other").mkdir(parents=True)
    (logs / "other" / "syslog").write_text("x")
    logs.chmod(0o777)  # writable by all, still not saline's to take
    pki = shared / "new" / "deeper" / "pki"
    proc = _switch("nobody", [pki], [logs / "saline.log"])
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == [str(nobody.pw_uid), str(nobody.pw_gid)]
    for made in (shared / "new", shared / "new" / "deeper", pki, logs / "saline.log"):
        assert made.stat().st_uid == nobody.pw_uid, made
    assert stat.S_IMODE(pki.stat().st_mode) == 0o700
    for kept in (shared, logs, logs / "other", logs / "other" / "syslog"):
        assert kept.stat().st_uid == 0, kept
    assert stat.S_IMODE(logs.stat().st_mode) == 0o777


@pytest.mark.skipif(os.getuid() != 0, reason="needs root to switch users")
def test_existing_dirs_and_files_are_never_taken_over(shared: Path) -> None:
    existing = shared / "existing"
    (existing / "inner").mkdir(parents=True)
    (existing / "inner" / "file").write_text("x")
    existing.chmod(0o755)
    proc = _switch("nobody", [existing], [])
    assert proc.returncode == 1
    assert f"'nobody' cannot use {existing}" in proc.stderr
    assert {p.stat().st_uid for p in [existing, *existing.rglob("*")]} == {0}

    log_file = shared / "root.log"
    log_file.write_text("old\n")
    proc = _switch("nobody", [shared / "fresh"], [log_file])
    assert proc.returncode == 1
    assert f"'nobody' cannot write {log_file}" in proc.stderr
    assert log_file.stat().st_uid == 0 and log_file.read_text() == "old\n"

    # A symlink planted where the log file goes is not followed.
    target = shared / "target"
    target.write_text("")
    os.symlink(target, shared / "planted.log")
    proc = _switch("nobody", [shared / "fresh2"], [shared / "planted.log"])
    assert proc.returncode == 1
    assert target.stat().st_uid == 0


@pytest.mark.skipif(os.getuid() != 0, reason="needs root to switch users")
def test_unreachable_dirs_are_one_clear_line(tmp_path: Path) -> None:
    # Created and handed over, but behind pytest's 0700 tmp dir.
    proc = _switch("nobody", [tmp_path / "d"], [])
    assert proc.returncode == 1
    assert "'nobody' cannot use" in proc.stderr and "Traceback" not in proc.stderr


@pytest.mark.skipif(os.getuid() == 0, reason="checks the refusal of a non-root user")
def test_non_root_cannot_switch() -> None:
    with pytest.raises(ConfigError, match="not started as root"):
        switch_user("nobody", [])
