"""The file server, pillar and synced extensions, with real master and minions."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import zmq

from common import protocol
from common.crypto import KeyPair
from tests.cluster import Cluster

TOP = """base:
  '*':
    - common
  'G@role:web':
    - web
  'db*':
    - match: glob
    - db
"""


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def _git_pillar(repo: Path) -> str:
    _write(repo / "top.sls", "base:\n  '*':\n    - fromgit\n")
    _write(repo / "fromgit.sls", "git_key: {{ grains['id'] }}-from-git\n")
    for cmd in (["init", "-q", "-b", "main"], ["add", "."],
                ["-c", "user.email=t@example.com", "-c", "user.name=t", "commit", "-qm", "x"]):
        subprocess.run(["git", *cmd], cwd=repo, check=True, capture_output=True)
    return f"file://{repo}"


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    base = tmp_path_factory.mktemp("served")
    roots = base / "master" / "formulas"
    _write(roots / "motd", "hello from the master\n")
    _write(roots / "web" / "conf" / "site.conf", "listen 80\n")
    _write(roots / "web" / "conf" / "extra" / "x.conf", "x\n")
    _write(roots / "_modules" / "hello.py",
           "def hi(ctx, name='you'):\n    return f'hi {name} from {ctx.grains[\"id\"]}'\n")
    _write(roots / "_grains" / "extra.py", "def more():\n    return {'synced_grain': 'yes'}\n")
    _write(roots / "_states" / "greet.py",
           "def said(ctx, name, word='hello'):\n"
           "    return {'name': name, 'result': True, 'changes': {'said': word},\n"
           "            'comment': f'{word} {name}'}\n")
    _write(base / "dev" / "only-dev.txt", "dev file\n")
    (base / "secret.txt").write_text("outside the roots\n")
    (roots / "escape").symlink_to(base / "secret.txt")
    pillar = base / "master" / "pillar"
    _write(pillar / "top.sls", TOP)
    _write(pillar / "common.sls", "common_key: {{ grains['id'] }}\nshared:\n  a: 1\n")
    _write(pillar / "web.sls", "include:\n  - .webextra\nrole_pillar: web\nshared:\n  b: 2\n")
    _write(pillar / "webextra.sls", "web_extra: true\n")
    _write(pillar / "db.sls", "role_pillar: db\ndb_password: s3cret\n")
    _write(base / "per-minion" / "m1.yaml", "from_dir: m1 only\n")
    cluster = Cluster(
        base, auto_accept=True,
        file_roots={"base": ["formulas"], "dev": [str(base / "dev")]},
        ext_pillar=[{"minion_dir": str(base / "per-minion")},
                    {"git": {"url": _git_pillar(base / "gitrepo"), "branch": "main"}}],
    )
    try:
        cluster.start_master()
        cluster.add_minion("m1", grains={"role": "web"})
        cluster.add_minion("db1", grains={"role": "db"})
        cluster.wait_answer(["m1", "db1"])
        yield cluster
    finally:
        cluster.close()


def one(cluster: Cluster, minion: str, *args: str) -> object:
    data, proc = cluster.run_json("-t", "20", minion, *args)
    assert minion in data, proc.stderr
    return data[minion]


def test_get_file_and_cache_revalidation(served: Cluster, tmp_path: Path) -> None:
    dest = tmp_path / "motd"
    assert one(served, "m1", "cp.get_file", "salt://motd", str(dest)) == str(dest)
    assert dest.read_text() == "hello from the master\n"
    reads = served.master_log().count("file_read from m1: base motd")
    assert reads == 1
    assert one(served, "m1", "cp.get_file", "salt://motd", str(dest)) == str(dest)
    assert served.master_log().count("file_read from m1: base motd") == 1  # cached
    src = served.master_dir / "formulas" / "motd"
    src.write_text("changed\n")
    one(served, "m1", "cp.get_file", "salt://motd", str(dest))
    assert dest.read_text() == "changed\n"
    assert served.master_log().count("file_read from m1: base motd") == 2
    digest = hashlib.sha256(b"changed\n").hexdigest()
    assert one(served, "m1", "cp.hash_file", "salt://motd") == {"hash_type": "sha256",
                                                                "hsum": digest}


def test_listing_dirs_and_environments(served: Cluster, tmp_path: Path) -> None:
    listed = one(served, "m1", "cp.list_master")
    assert "motd" in listed and "web/conf/site.conf" in listed and "escape" not in listed
    assert one(served, "m1", "cp.list_master", "prefix=web") == [
        "web/conf/extra/x.conf", "web/conf/site.conf"]
    written = one(served, "m1", "cp.get_dir", "salt://web/conf", str(tmp_path))
    assert sorted(written) == [str(tmp_path / "conf" / "extra" / "x.conf"),
                               str(tmp_path / "conf" / "site.conf")]
    dest = tmp_path / "dev.txt"
    one(served, "m1", "cp.get_file", "salt://only-dev.txt?saltenv=dev", str(dest))
    assert dest.read_text() == "dev file\n"
    assert one(served, "m1", "cp.get_file", "salt://only-dev.txt", str(dest)) == ""
    ret = one(served, "m1", "cp.list_master", "saltenv=nope")
    assert "no environment 'nope'" in str(ret)


@pytest.mark.parametrize("path", [
    "salt://../../etc/shadow", "salt:///etc/passwd", "salt://escape",
    "salt://web/../../secret.txt", "salt://a\\..\\b", "salt://%2e%2e/secret.txt",
])
def test_paths_out_of_the_roots_are_refused(served: Cluster, tmp_path: Path, path: str) -> None:
    ret = one(served, "m1", "cp.get_file", path, str(tmp_path / "x"))
    assert str(ret).startswith("ERROR: cp.get_file: ") and "refused" in str(ret)
    assert not (tmp_path / "x").exists()


def test_pillar_is_per_minion(served: Cluster) -> None:
    m1 = one(served, "m1", "pillar.items")
    assert m1 == {"common_key": "m1", "shared": {"a": 1, "b": 2}, "role_pillar": "web",
                  "web_extra": True, "from_dir": "m1 only", "git_key": "m1-from-git"}
    db1 = one(served, "db1", "pillar.items")
    assert db1["role_pillar"] == "db" and db1["db_password"] == "s3cret"
    assert "from_dir" not in db1 and db1["git_key"] == "db1-from-git"
    assert one(served, "m1", "pillar.get", "shared:b") == 2
    data, _ = served.run_json("-I", "role_pillar:db", "test.ping")
    assert data == {"db1": True}


def _as_m1(served: Cluster, body: dict[str, object]) -> dict[str, object]:
    """Send one boxed request with m1's own keys, as its minion would."""
    m1 = KeyPair.load_or_create(served.minion_dir("m1") / "pki", "minion")
    master = KeyPair.load_or_create(served.master_dir / "pki", "master").public
    box = m1.box_to(master)
    sock = zmq.Context.instance().socket(zmq.DEALER)
    sock.setsockopt(zmq.LINGER, 0)
    sock.connect(f"tcp://127.0.0.1:{served.ret_port}")
    try:
        sock.send_multipart([b"r", protocol.make_request(box, "m1", body)])
        assert sock.poll(10000)
        return protocol.open_reply(sock.recv_multipart()[1], box)
    finally:
        sock.close()


def test_a_minion_cannot_ask_for_another_minions_pillar(served: Cluster) -> None:
    body = {"kind": "pillar", "id": "db1", "minion": "db1", "grains": {"id": "db1"}}
    reply = _as_m1(served, body)
    pillar = reply["pillar"]
    assert isinstance(pillar, dict)
    assert pillar.get("common_key") == "m1" and "db_password" not in pillar


@pytest.mark.parametrize(("body", "error"), [
    ({"kind": "file_stat", "path": "motd\x00.txt"}, "forbidden characters"),
    ({"kind": "file_stat", "path": "../secret.txt"}, "not allowed"),
    ({"kind": "file_stat", "path": "motd", "saltenv": "../x"}, "no environment"),
    ({"kind": "file_read", "path": "motd", "offset": 0, "size": -1}, "bad offset"),
    ({"kind": "file_read", "path": "motd", "offset": 0}, "'size'"),
    ({"kind": "file_list", "prefix": "/etc"}, "must be relative"),
])
def test_bad_file_requests_get_an_answer_in_the_box(
    served: Cluster, body: dict[str, object], error: str
) -> None:
    reply = _as_m1(served, body)
    assert reply["ok"] is False and error in str(reply["error"])


def test_reads_are_bounded(served: Cluster) -> None:
    big = served.master_dir / "formulas" / "big.bin"
    big.write_bytes(b"x" * (3 * 1024 * 1024))
    reply = _as_m1(served, {"kind": "file_read", "path": "big.bin", "offset": 0,
                            "size": 64 * 1024 * 1024})
    assert reply["ok"] is True and len(reply["data"]) == 1024 * 1024  # type: ignore[arg-type]
    dest = served.base / "big.copy"
    assert one(served, "m1", "cp.get_file", "salt://big.bin", str(dest)) == str(dest)
    assert dest.read_bytes() == big.read_bytes()


def test_sync_modules_and_grains(served: Cluster) -> None:
    assert one(served, "m1", "saltutil.sync_all") == {
        "modules": ["modules.hello"], "states": ["states.greet"], "grains": ["grains.extra"]}
    results = one(served, "m1", "state.single", "greet.said", "name=world", "word=hi")
    assert isinstance(results, dict)
    (ret,) = results.values()
    assert (ret["result"], ret["comment"], ret["changes"]) == (True, "hi world", {"said": "hi"})
    assert one(served, "m1", "hello.hi", "name=ops") == "hi ops from m1"
    assert one(served, "m1", "grains.get", "synced_grain") == "yes"
    data, _ = served.run_json("-G", "synced_grain:yes", "test.ping")
    assert data == {"m1": True}
    assert one(served, "m1", "saltutil.sync_modules") == []


def test_minion_call_uses_the_master(served: Cluster) -> None:
    cdir = served.minion_dir("db1")
    proc = subprocess.run(
        [sys.executable, "-m", "minion", "-c", str(cdir), "call", "--out", "json", "pillar.get",
         "role_pillar"], capture_output=True, text=True, timeout=60, env=served.env)
    assert json.loads(proc.stdout) == {"local": "db"}, proc.stderr


def test_masterless_call(tmp_path: Path) -> None:
    _write(tmp_path / "minion", "id: solo\nfile_client: local\n")
    _write(tmp_path / "formulas" / "motd", "local motd\n")
    _write(tmp_path / "pillar" / "top.sls", "base:\n  solo:\n    - mine\n")
    _write(tmp_path / "pillar" / "mine.sls", "answer: {{ 6 * 7 }}\n")
    env = {"NO_COLOR": "1", "PATH": "/usr/bin:/bin", "PYTHONPATH": str(Path.cwd())}

    def call(*args: str) -> object:
        proc = subprocess.run([sys.executable, "-m", "minion", "-c", str(tmp_path), "call",
                               "--out", "json", *args], capture_output=True, text=True,
                              timeout=60, env=env)
        return json.loads(proc.stdout)["local"]

    assert call("pillar.get", "answer") == 42
    dest = tmp_path / "out"
    assert call("cp.get_file", "salt://motd", str(dest)) == str(dest)
    assert dest.read_text() == "local motd\n"
