"""The SSH zipapp: deterministic, small, self-contained, installed atomically.

The runs use the test's own python3 with -I -S, so no site-packages are
seen: what works there works on a host that has nothing but python3.
"""

from __future__ import annotations

import ast
import asyncio
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

from master.ssh import remote, serve, wire, zipapp

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
    for wanted in ("__main__.py", "saline_ssh_host.py", "saline_ssh_wire.py", "_fallback/psutil.py",
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


class Recording(serve.Answers):
    """The master's answers, remembering what the host asked for."""

    def __init__(self, opts: dict[str, Any]) -> None:
        super().__init__(opts)
        self.asked: list[tuple[str, str]] = []

    async def answer(self, minion: str, message: dict[str, Any]) -> dict[str, Any]:
        self.asked.append((str(message.get("kind")), str(message.get("path")
                                                       or message.get("prefix") or "")))
        return await super().answer(minion, message)


def _talk(argv: list[str], request: dict[str, Any], home: Path,
          answers: serve.Answers | None = None) -> tuple[dict[str, Any] | None, int, str]:
    """Run the host side as a local process and talk frames with it as `master ssh` does:
    (its last frame, exit status, stderr)."""
    env = {"PATH": os.environ["PATH"], "HOME": str(home)}
    answers = answers or serve.Answers({})

    async def talk() -> tuple[dict[str, Any] | None, int, str]:
        proc = await asyncio.create_subprocess_exec(
            *argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            env=env, cwd="/")
        assert proc.stdin and proc.stdout and proc.stderr
        err = asyncio.ensure_future(proc.stderr.read())
        first = wire.pack({"jid": "1", "arg": [], "kwarg": {}, "minion_opts": {},
                           "pillar": answers.has_pillar, **request})
        answer = await serve.converse(proc.stdout, proc.stdin, str(request.get("id")), first,
                                      answers)
        proc.stdin.close()
        status = await proc.wait()
        return answer, status, (await err).decode()

    return asyncio.run(asyncio.wait_for(talk(), 60))


def _app(built: zipapp.Zipapp, tmp_path: Path) -> list[str]:
    app = tmp_path / "saline.pyz"
    app.write_bytes(built.data)
    return [sys.executable, "-I", "-S", str(app)]


def test_runs_without_site_packages(built: zipapp.Zipapp, tmp_path: Path) -> None:
    argv = _app(built, tmp_path)
    answer, status, err = _talk(argv, {"id": "h1", "fun": "test.ping"}, tmp_path)
    assert status == 0 and answer is not None, err
    assert answer["result"]["return"] is True
    assert answer["grains"]["id"] == "h1"
    answer, status, err = _talk(argv, {"id": "h1", "fun": "cmd.run",
                                       "arg": ["echo hi; cat; exit 3"]}, tmp_path)
    assert answer is not None, err
    result = answer["result"]
    # The command's stdin is /dev/null, not the master's frames.
    assert (result["return"], result["retcode"], result["success"]) == ("hi", 3, False)


def _roots(tmp_path: Path, files: dict[str, str], pillar: dict[str, str]) -> dict[str, Any]:
    for rel, text in [*((f"files/{k}", v) for k, v in files.items()),
                      *((f"pillar/{k}", v) for k, v in pillar.items())]:
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
    return {"file_roots": {"base": [str(tmp_path / "files")]},
            "pillar_roots": {"base": [str(tmp_path / "pillar")]}}


def test_state_apply_asks_the_master_for_files_and_pillar(built: zipapp.Zipapp,
                                                          tmp_path: Path) -> None:
    target = tmp_path / "out.txt"
    sls = (f"{target}:\n  file.managed:\n    - source: salt://web/motd.j2\n"
           f"    - template: jinja\n")
    opts = _roots(tmp_path, {"web/init.sls": sls, "web/motd.j2": "hello {{ pillar['who'] }}\n",
                             "other/big.txt": "not needed\n"},
                  {"top.sls": "base:\n  'h*':\n    - p\n",
                   "p.sls": "who: {{ grains['id'] }} over ssh\n"})
    answers = Recording(opts)
    assert answers.has_pillar
    answer, status, err = _talk(_app(built, tmp_path), {"id": "h1", "fun": "state.apply",
                                                        "arg": ["web"]}, tmp_path, answers)
    assert status == 0 and answer is not None, err
    assert answer["result"]["success"] is True, answer["result"]
    assert target.read_text() == "hello h1 over ssh\n"
    # Pillar once; only the formula's own files travelled (the SLS lookup lists names,
    # as a minion's does), never other/big.txt.
    assert answers.asked.count(("pillar", "")) == 1
    read = {path for kind, path in answers.asked if kind == "file_read"}
    assert read == {"web/init.sls", "web/motd.j2"}
    assert not [a for a in answers.asked if "other" in a[1]]


def test_the_master_refuses_paths_outside_file_roots(tmp_path: Path) -> None:
    opts = _roots(tmp_path, {"web/init.sls": "{}\n"}, {})
    (tmp_path / "secret").write_text("no\n")
    (tmp_path / "files" / "link").symlink_to(tmp_path / "secret")
    answers = serve.Answers(opts)
    assert not answers.has_pillar

    def ask(**body: Any) -> dict[str, Any]:
        return asyncio.run(answers.answer("h1", {"saltenv": "base", **body}))

    assert ask(kind="file_stat", path="web/init.sls")["ok"] is True
    for path in ("../secret", "/etc/passwd", "web/../../secret", "link", "web%2f..%2f..%2fsecret"):
        for kind in ("file_stat", "file_read"):
            reply = ask(kind=kind, path=path, offset=0, size=100)
            assert reply["ok"] is False and "refused" in reply["error"], (path, reply)
    listed = ask(kind="file_list", prefix="")
    assert listed["files"] == ["web/init.sls"]
    assert ask(kind="nonsense")["ok"] is False


def _sh(command: str, home: Path, data: bytes = b"") -> subprocess.CompletedProcess[bytes]:
    env = {"PATH": os.environ["PATH"], "HOME": str(home)}
    return subprocess.run(["sh", "-c", command], input=data, capture_output=True, env=env,
                          timeout=60)


def test_install_then_run_from_the_cache(built: zipapp.Zipapp, tmp_path: Path) -> None:
    command = remote.run_command(built.name)
    first = _sh(command, tmp_path)
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
    answer, status, err = _talk(["sh", "-c", command], {"id": "h1", "fun": "test.ping"},
                                tmp_path)
    assert status == 0 and answer is not None, err
    assert answer["result"]["return"] is True


def test_sudo_words() -> None:
    assert "sudo" not in remote.run_command("abc")
    assert "exec sudo -n python3 -I" in remote.run_command("abc", sudo=True)
    assert "sudo -S -p '' -u www python3" in remote.run_command("abc", sudo=True,
                                                              sudo_user="www",
                                                              sudo_passwd=True)


def test_the_master_keeps_the_built_zipapp(built: zipapp.Zipapp, tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    cache = tmp_path / "cache"
    assert zipapp.cached(cache) == built
    (kept,) = (cache / "ssh").glob("zipapp-*.pyz")
    assert oct(kept.stat().st_mode & 0o777) == "0o600"
    real_build = zipapp.build
    monkeypatch.setattr(zipapp, "build", lambda root=zipapp.ROOT: pytest.fail("built again"))
    assert zipapp.cached(cache) == built  # unchanged sources: read back, not built
    monkeypatch.setattr(zipapp, "build", real_build)
    kept.write_bytes(kept.read_bytes()[:-1])  # damaged: built again
    assert zipapp.cached(cache) == built
    for pkg in zipapp.PACKAGES:
        shutil.copytree(zipapp.ROOT / pkg, tmp_path / "src" / pkg,
                        ignore=shutil.ignore_patterns("__pycache__"))
    changed = tmp_path / "src" / "minion" / "modules" / "test.py"
    changed.write_text(changed.read_text() + "\n# changed\n")
    other = zipapp.cached(cache, tmp_path / "src")
    assert other.digest != built.digest
    assert [p.name for p in (cache / "ssh").iterdir()] == [
        f"zipapp-{zipapp.sources_stamp(tmp_path / 'src')}-{other.name}.pyz"]


def test_grains_reused_while_young_enough(built: zipapp.Zipapp, tmp_path: Path) -> None:
    """A run reuses the grains an earlier run on the host computed, unless told not to."""
    app = tmp_path / "app"
    zipfile.ZipFile(io.BytesIO(built.data)).extractall(app)
    argv = [sys.executable, "-I", "-S", str(app)]
    ping = {"id": "h1", "fun": "test.ping", "grains_max_age": 300}
    answer, _, err = _talk(argv, ping, tmp_path)
    assert answer is not None, err
    (kept,) = (app / ".grains").iterdir()
    assert oct(kept.stat().st_mode & 0o777) == "0o600"
    grains = json.loads(kept.read_text())
    assert grains["id"] == "h1"
    kept.write_text(json.dumps({**grains, "marker": "from the cache"}))
    answer, _, err = _talk(argv, ping, tmp_path)
    assert answer is not None and answer["grains"].get("marker") == "from the cache", err
    # Other options (or id) are other grains; max age 0 computes them afresh.
    answer, _, err = _talk(argv, {**ping, "minion_opts": {"grains": {"role": "db"}}}, tmp_path)
    assert answer is not None and "marker" not in answer["grains"], err
    assert answer["grains"]["role"] == "db"
    answer, _, err = _talk(argv, {**ping, "grains_max_age": 0}, tmp_path)
    assert answer is not None and "marker" not in answer["grains"], err
    assert "marker" not in json.loads(kept.read_text())  # and kept for the next run


def test_config_imports_yaml_only_when_it_reads_a_file(built: zipapp.Zipapp,
                                                       tmp_path: Path) -> None:
    """The zipapp's common/config.py defers PyYAML and still reads YAML, errors included."""
    app = tmp_path / "app"
    zipfile.ZipFile(io.BytesIO(built.data)).extractall(app)
    (tmp_path / "good").write_text("a: 1\nb: [x]\n")
    (tmp_path / "bad").write_text("a: [1\n")
    script = f"""
import sys
sys.path.insert(0, {str(app)!r})
from pathlib import Path
import common.config as config
assert "yaml" not in sys.modules, "imported at once"
assert config.read_yaml_file(Path({str(tmp_path / 'good')!r})) == {{"a": 1, "b": ["x"]}}
assert "yaml" in sys.modules
try:
    config.read_yaml_file(Path({str(tmp_path / 'bad')!r}))
except config.ConfigError as exc:
    print(exc)
"""
    proc = subprocess.run([sys.executable, "-I", "-S", "-c", script], capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "bad" in proc.stdout and "line" in proc.stdout
