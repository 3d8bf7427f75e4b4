from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from common.config import ConfigError
from common.privileges import switch_user

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = """
import os, sys
from common.privileges import switch_user
switch_user(sys.argv[1], [sys.argv[2]])
print(os.getuid(), os.getgid(), os.stat(sys.argv[2] + "/inner/file").st_uid)
"""


def test_unknown_user_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="no such user 'no-such-user-here'"):
        switch_user("no-such-user-here", [])


def test_no_user_means_no_change() -> None:
    switch_user(None, [])
    switch_user(pwd.getpwuid(os.getuid()).pw_name, [])


@pytest.mark.skipif(os.getuid() != 0, reason="needs root to switch users")
def test_root_drops_to_the_user_and_hands_over_its_dirs() -> None:
    # pytest's tmp tree is 0700 root; the daemon's dirs must be reachable.
    base = Path(tempfile.mkdtemp(prefix="saline-priv-"))
    base.chmod(0o755)
    owned = base / "owned"
    (owned / "inner").mkdir(parents=True)
    (owned / "inner" / "file").write_text("x")
    proc = subprocess.run([sys.executable, "-c", SCRIPT, "nobody", str(owned)], cwd=ROOT,
                          capture_output=True, text=True, timeout=30)
    assert proc.returncode == 0, proc.stderr
    nobody = pwd.getpwnam("nobody")
    try:
        assert proc.stdout.split() == [str(nobody.pw_uid), str(nobody.pw_gid),
                                       str(nobody.pw_uid)]
    finally:
        shutil.rmtree(base)


@pytest.mark.skipif(os.getuid() != 0, reason="needs root to switch users")
def test_unreachable_dirs_are_one_clear_line(tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, "-c", SCRIPT, "nobody", str(tmp_path / "d")],
                          cwd=ROOT, capture_output=True, text=True, timeout=30)
    assert proc.returncode == 1
    assert "'nobody' cannot reach" in proc.stderr


@pytest.mark.skipif(os.getuid() == 0, reason="checks the refusal of a non-root user")
def test_non_root_cannot_switch() -> None:
    with pytest.raises(ConfigError, match="not started as root"):
        switch_user("nobody", [])
