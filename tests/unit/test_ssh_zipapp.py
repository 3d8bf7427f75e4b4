"""The SSH zipapp: deterministic, small, self-contained, installed atomically.

The runs use the test's own python3 with -I -S, so no site-packages are
seen: what works there works on a host that has nothing but python3.
"""

from __future__ import annotations

import ast
import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest

from master.ssh import remote, zipapp

MAX_SIZE = 700_000


@pytest.fixture(scope="module")
def built() -> zipapp.Zipapp:
    return zipapp.build()


def _names(app: zipapp.Zipapp) -> set[str]:
    return set(zipfile.ZipFile(io.BytesIO(app.data)).namelist())


def test_deterministic_and_named_by_content(built: zipapp.Zipapp) -> None:
    again = zipapp.build()
    assert again.data == built.data
    assert built.digest == hashlib.sha256(built.data).hexdigest()
    assert built.name == built.digest[:16]
    print(f"zipapp: {len(built.data)} bytes, {len(_names(built))} files")
    assert len(built.data) < MAX_SIZE


def test_a_changed_source_changes_the_hash(built: zipapp.Zipapp, tmp_path: Path) -> None:
    for pkg in zipapp.PACKAGES:
        shutil.copytree(zipapp.ROOT / pkg, tmp_path / pkg,
                        ignore=shutil.ignore_patterns("__pycache__"))
    assert zipapp.build(tmp_path).digest == built.digest
    target = tmp_path / "minion" / "modules" / "test.py"
    target.write_text(target.read_text() + "\n# changed\n")
    assert zipapp.build(tmp_path).digest != built.digest


def test_holds_the_minion_side_not_the_daemon(built: zipapp.Zipapp) -> None:
    names = _names(built)
    for wanted in ("__main__.py", "saline_ssh_host.py", "_fallback/psutil.py",
                   "minion/executor.py", "minion/sls/run.py", "common/render.py",
                   "jinja2/__init__.py", "markupsafe/_native.py", "yaml/__init__.py",
                   "msgpack/fallback.py", "common/crypto.py"):
        assert wanted in names
    for unwanted in ("common/transport/aio.py", "minion/agent.py", "minion/cli.py",
                     "common/codec.py"):
        assert unwanted not in names
    assert not [n for n in names if not n.endswith(".py") or "__pycache__" in n]


def test_no_member_imports_zmq_or_nacl(built: zipapp.Zipapp) -> None:
    archive = zipfile.ZipFile(io.BytesIO(built.data))
    for name in archive.namelist():
        for node in ast.walk(ast.parse(archive.read(name), name)):
            if isinstance(node, ast.Import):
                tops = {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                tops = {node.module.split(".")[0]}
            else:
                continue
            assert not tops & {"zmq", "nacl"}, name


def _run(app_path: Path, request: dict[str, Any], home: Path) -> subprocess.CompletedProcess[str]:
    env = {"PATH": os.environ["PATH"], "HOME": str(home)}
    return subprocess.run([sys.executable, "-I", "-S", str(app_path)], input=json.dumps(request),
                          capture_output=True, text=True, env=env, timeout=60, cwd="/")


def test_runs_without_site_packages(built: zipapp.Zipapp, tmp_path: Path) -> None:
    app = tmp_path / "saline.pyz"
    app.write_bytes(built.data)
    proc = _run(app, {"id": "h1", "fun": "test.ping"}, tmp_path)
    assert proc.returncode == 0, proc.stderr
    answer = json.loads(proc.stdout)
    assert answer["result"]["return"] is True
    assert answer["grains"]["id"] == "h1"
    proc = _run(app, {"id": "h1", "fun": "cmd.run", "arg": ["echo hi; exit 3"]}, tmp_path)
    result = json.loads(proc.stdout)["result"]
    assert (result["return"], result["retcode"], result["success"]) == ("hi", 3, False)


def test_state_apply_with_sent_files_and_pillar(built: zipapp.Zipapp, tmp_path: Path) -> None:
    app = tmp_path / "saline.pyz"
    app.write_bytes(built.data)
    target = tmp_path / "out.txt"
    sls = (f"{target}:\n  file.managed:\n    - source: salt://web/motd.j2\n"
           f"    - template: jinja\n")
    files = {"web/init.sls": sls, "web/motd.j2": "hello {{ pillar['who'] }}\n"}
    request = {"id": "h1", "fun": "state.apply", "arg": ["web"], "pillar": {"who": "ssh"},
               "files": {k: _b64(v) for k, v in files.items()}}
    proc = _run(app, request, tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["result"]["success"] is True
    assert target.read_text() == "hello ssh\n"


def test_a_file_path_leaving_the_root_is_refused(built: zipapp.Zipapp, tmp_path: Path) -> None:
    app = tmp_path / "saline.pyz"
    app.write_bytes(built.data)
    proc = _run(app, {"id": "h1", "fun": "test.ping", "files": {"../x": _b64("x")}}, tmp_path)
    assert proc.returncode != 0
    assert "leaves the file root" in proc.stderr
    assert not (tmp_path / "x").exists()


def _b64(text: str) -> str:
    import base64

    return base64.b64encode(text.encode()).decode()


def _sh(command: str, home: Path, data: bytes = b"") -> subprocess.CompletedProcess[bytes]:
    env = {"PATH": os.environ["PATH"], "HOME": str(home)}
    return subprocess.run(["sh", "-c", command], input=data, capture_output=True, env=env,
                          timeout=60)


def test_install_then_run_from_the_cache(built: zipapp.Zipapp, tmp_path: Path) -> None:
    request = json.dumps({"id": "h1", "fun": "test.ping"}).encode()
    first = _sh(remote.run_command(built.name), tmp_path, request)
    assert first.returncode == remote.NEED_UPLOAD
    assert remote.NEED_UPLOAD_WORD.encode() in first.stderr
    damaged = _sh(remote.install_command(built.name, built.digest), tmp_path, built.data[:-10])
    assert damaged.returncode == 1 and b"arrived damaged" in damaged.stderr
    cache = tmp_path / remote.CACHE
    assert not (cache / built.name).exists()
    assert not cache.exists() or os.listdir(cache) == []  # nothing half-written left
    ok = _sh(remote.install_command(built.name, built.digest), tmp_path, built.data)
    assert ok.returncode == 0, ok.stderr
    assert oct((cache / built.name).stat().st_mode & 0o777) == "0o700"
    again = _sh(remote.install_command(built.name, built.digest), tmp_path, built.data)
    assert again.returncode == 0, again.stderr  # a second install (another id) is harmless
    assert sorted(os.listdir(cache)) == [built.name]
    run = _sh(remote.run_command(built.name), tmp_path, request)
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout)["result"]["return"] is True


def test_sudo_words() -> None:
    assert "sudo" not in remote.run_command("abc")
    assert "exec sudo -n python3 -I" in remote.run_command("abc", sudo=True)
    assert "sudo -S -p '' -u www python3" in remote.run_command("abc", sudo=True,
                                                              sudo_user="www",
                                                              sudo_passwd=True)
