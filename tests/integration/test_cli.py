"""The `minion` command and fingerprints, as an operator uses them."""

from __future__ import annotations

import datetime
import json
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from common.version import __version__
from tests.cluster import ROOT, Cluster, wait_for


def minion(cdir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "minion", "-c", str(cdir), *args],
                          capture_output=True, text=True, timeout=60, cwd=ROOT,
                          env={"NO_COLOR": "1", "PATH": "/usr/bin:/bin"})


def test_minion_call_runs_locally(tmp_path: Path) -> None:
    (tmp_path / "minion").write_text(yaml.safe_dump({"id": "solo", "grains": {"role": "db"}}))
    proc = minion(tmp_path, "call", "--local", "test.echo", "hi there")
    assert proc.returncode == 0 and proc.stdout == "local:\n    hi there\n"
    proc = minion(tmp_path, "call", "--local", "grains.item", "id", "role", "--out", "json")
    assert json.loads(proc.stdout) == {"local": {"id": "solo", "role": "db"}}
    proc = minion(tmp_path, "call", "--local", "cmd.run", "exit 4")
    assert proc.returncode == 1
    proc = minion(tmp_path, "call", "--local", "no.such")
    assert proc.returncode == 1 and "'no.such' is not available." in proc.stdout


def test_bad_minion_id_in_config_is_refused(tmp_path: Path) -> None:
    (tmp_path / "minion").write_text("id: ../etc\n")
    proc = minion(tmp_path, "call", "--local", "test.ping")
    assert proc.returncode == 2
    assert proc.stderr.startswith(f"minion: error: {tmp_path / 'minion'}: id: minion id")


def test_fingerprints_agree_on_both_sides(cluster: Cluster) -> None:
    cluster.start_master()
    cdir = cluster.add_minion("m1")
    cluster.wait_pending("m1")
    shown = minion(cdir, "key", "fingerprint").stdout.splitlines()
    assert shown[0] == "Local Keys:"
    own = shown[1].split(": ", 1)[1]
    seen = json.loads(cluster.master_cmd("key", "fingerprint", "--out", "json").stdout)
    assert seen["pending"] == {"m1": own}
    cluster.master_cmd("key", "accept", "m1", "-y")
    cluster.wait_answer(["m1"])
    shown = minion(cdir, "key", "fingerprint").stdout.splitlines()
    assert shown[2:] == ["Master Key:", f"master.pub: {seen['local']['master.pub']}"]
    for path in (cdir / "pki" / "minion.pem", cdir / "pki" / "master.pub",
                 cluster.master_dir / "pki" / "master.pem",
                 cluster.master_dir / "pki" / "accepted" / "m1"):
        assert path.stat().st_mode & 0o777 == 0o600, path
    for path in (cdir / "pki", cluster.master_dir / "pki", cluster.master_dir / "run",
                 cluster.master_dir / "pki" / "accepted"):
        assert path.stat().st_mode & 0o777 == 0o700, path


def saline(prog: str, cdir: Path, *args: str, timeout: float = 60
           ) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", prog, "-c", str(cdir), *args],
                          capture_output=True, text=True, timeout=timeout, cwd=ROOT,
                          env={"NO_COLOR": "1", "PATH": "/usr/bin:/bin"})


@pytest.mark.parametrize("prog", ["master", "minion"])
def test_version(prog: str, tmp_path: Path) -> None:
    proc = saline(prog, tmp_path, "--version")
    assert proc.returncode == 0, proc.stderr
    first, second = proc.stdout.splitlines()
    assert first == f"{prog} {__version__}"
    assert second.startswith("Python ") and ", libzmq " in second


def put_key(master_dir: Path, state: str, minion_id: str) -> None:
    """A real minion key file in `state`, as the master stores it."""
    from common.crypto import KeyPair

    own = master_dir.parent / f"keys-{minion_id}"
    pub = KeyPair.load_or_create(own, "minion").public.dumps()
    path = master_dir / "pki" / state / minion_id
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(pub)


def test_key_actions_say_what_to_do(tmp_path: Path) -> None:
    mdir = tmp_path / "master"
    mdir.mkdir()
    (mdir / "master").write_text("interface: 127.0.0.1\n")
    proc = saline("master", mdir, "key", "accept", "--all", "-y")
    assert (proc.returncode, proc.stdout) == (0, "No unaccepted keys: nothing to accept.\n")
    put_key(mdir, "rejected", "r1")
    put_key(mdir, "accepted", "a1")
    proc = saline("master", mdir, "key", "accept", "r1", "-y")
    assert proc.returncode == 1 and proc.stdout == ""
    assert proc.stderr == ("master: error: the key for r1 is rejected; to accept it anyway, "
                           "add --include-rejected\n")
    proc = saline("master", mdir, "key", "reject", "a1", "-y")
    assert proc.returncode == 1 and "--include-accepted" in proc.stderr
    proc = saline("master", mdir, "key", "accept", "a1", "-y")
    assert (proc.returncode, proc.stdout) == (
        0, "The key for a1 is already accepted: nothing to do.\n")
    proc = saline("master", mdir, "key", "accept", "r1", "--include-rejected", "-y")
    assert (proc.returncode, proc.stdout) == (0, "Key for minion r1 accepted.\n")
    assert json.loads(saline("master", mdir, "key", "list", "--out", "json").stdout)[
        "accepted"] == ["a1", "r1"]


def test_fingerprint_of_an_unknown_id_fails(tmp_path: Path) -> None:
    mdir = tmp_path / "master"
    mdir.mkdir()
    (mdir / "master").write_text("interface: 127.0.0.1\n")
    put_key(mdir, "pending", "p1")
    proc = saline("master", mdir, "key", "fingerprint", "nosuch")
    assert proc.returncode == 1 and proc.stdout == ""
    assert proc.stderr.splitlines() == [
        "master: error: no minion key for nosuch (`master key list` shows the known ids)"]
    every = yaml.safe_load(saline("master", mdir, "key", "fingerprint", "--out", "yaml").stdout)
    assert set(every) == {"local", "pending"} and set(every["pending"]) == {"p1"}
    one = saline("master", mdir, "key", "fingerprint", "p1", "--out", "json")
    assert one.returncode == 0 and json.loads(one.stdout)["pending"] == every["pending"]


def test_token_create_names_its_parts_and_list_shows_dates(tmp_path: Path) -> None:
    mdir = tmp_path / "master"
    mdir.mkdir()
    (mdir / "master").write_text("interface: 127.0.0.1\n")
    proc = saline("master", mdir, "key", "token", "create", "--ttl", "1h", "--uses", "3",
                  "--match", "web*")
    assert proc.returncode == 0, proc.stderr
    token = proc.stdout.strip()
    token_id = token.split(".")[0]
    assert proc.stdout == token + "\n" and len(token.split(".")) == 3
    assert f"Token id: {token_id} (the part before the first dot" in proc.stderr
    assert f"master key token revoke {token_id}" in proc.stderr
    assert "Secret token, shown only this once" in proc.stderr
    listed = saline("master", mdir, "key", "token", "list").stdout.splitlines()
    assert listed[0] == "Join tokens:"
    assert re.fullmatch(rf"{token_id}  ids 'web\*', 3 of 3 uses left, expires "
                        r"\d{4}-\d\d-\d\d \d\d:\d\d UTC \(in (59 min|1 h)\)", listed[1]), listed
    data = json.loads(saline("master", mdir, "key", "token", "list", "--out", "json").stdout)
    when = datetime.datetime.strptime(data[token_id]["expires"], "%Y-%m-%dT%H:%M:%SZ")
    left = when.replace(tzinfo=datetime.UTC).timestamp() - time.time()
    assert 3500 < left <= 3600 and data[token_id]["uses_left"] == 3
    proc = saline("master", mdir, "key", "token", "revoke", "ffffffff")
    assert proc.returncode == 1 and "no token with id ffffffff" in proc.stderr


def test_key_list_waits_for_keys(cluster: Cluster) -> None:
    cluster.start_master()
    proc = cluster.master_cmd("key", "list", "--wait", "0.5")
    assert proc.returncode == 1 and proc.stderr == "master: no pending key after 0.5 s\n"
    assert proc.stdout.startswith("Accepted Keys:\n")
    waiting = subprocess.Popen(
        [sys.executable, "-m", "master", "-c", str(cluster.master_dir), "key", "list",
         "--wait", "30", "--out", "json"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=cluster.env)
    started = time.monotonic()
    cluster.add_minion("m1")
    out, err = waiting.communicate(timeout=40)
    assert waiting.returncode == 0, err
    assert json.loads(out)["pending"] == ["m1"] and time.monotonic() - started < 25
    cluster.master_cmd("key", "accept", "m1", "-y")
    cluster.add_minion("m2")
    proc = cluster.master_cmd("key", "list", "--wait-for", "m1,m2", "--wait", "30",
                              "--out", "json")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["pending"] == ["m2"]
    proc = cluster.master_cmd("key", "list", "--wait-for", "m1,m9", "--wait", "0.3")
    assert proc.returncode == 1 and proc.stderr == "master: no key from m9 after 0.3 s\n"
    proc = cluster.master_cmd("key", "list", "--wait-for", "../x")
    assert proc.returncode == 2 and proc.stderr.startswith("master: error: ")


def wait_line(path: Path, needle: str, timeout: float = 20) -> str:
    """The first line of file `path` that contains `needle` (bounded in time)."""

    def found() -> str | None:
        lines = path.read_text(errors="replace").splitlines() if path.exists() else []
        return next((line for line in lines if needle in line), None)

    return str(wait_for(found, timeout, what=f"{needle!r} in {path.name}"))


@pytest.mark.parametrize(("prog", "expected"), [
    ("master", r"no config file at {conf}: running on the defaults \(interface 0\.0\.0\.0, "
               r"port 4506, root_dir {root}\)"),
    ("minion", r"no config file at {conf}: running on the defaults \(master 'salt' \(Salt's "
               r"default host name\) on port 4506, id '[^']+', root_dir {root}\)"),
])
def test_start_without_a_config_file_runs_on_defaults(prog: str, expected: str,
                                                      tmp_path: Path) -> None:
    cdir = tmp_path / "conf"
    cdir.mkdir()
    with open(tmp_path / "stderr", "wb") as err:
        proc = subprocess.Popen([sys.executable, "-m", prog, "-c", str(cdir), "start"],
                                stdout=subprocess.DEVNULL, stderr=err, cwd=tmp_path,
                                env={"NO_COLOR": "1", "PATH": "/usr/bin:/bin",
                                     "PYTHONPATH": str(ROOT)})
    try:
        line = wait_line(tmp_path / "stderr", "no config file")
        # root_dir is the config dir, as documented (the keys come just after the line).
        wait_for(lambda: (cdir / "pki").is_dir(), 15, what="pki dir in the config dir")
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(15)
    pattern = expected.format(conf=re.escape(str(cdir.resolve() / prog)),
                              root=re.escape(str(cdir.resolve())))
    assert re.search(pattern, line), line


@pytest.mark.parametrize("prog", ["master", "minion"])
def test_start_with_a_bad_config_file_exits_2(prog: str, tmp_path: Path) -> None:
    (tmp_path / prog).write_text("publish_port: [\n")
    proc = saline(prog, tmp_path, "start", timeout=30)
    assert proc.returncode == 2
    assert len(proc.stderr.splitlines()) == 1 and "YAML error" in proc.stderr


def bash_complete(script: str, *words: str) -> list[str]:
    """What `script` offers in a real bash for the command line `words` (the last one is
    being completed)."""
    code = script + """
COMP_WORDS=("$@"); COMP_CWORD=$(( $# - 1 )); COMPREPLY=()
_saline_${COMP_WORDS[0]##*/}
printf '%s\\n' "${COMPREPLY[@]}"
"""
    proc = subprocess.run(["bash", "-c", code, "bash", *words], capture_output=True, text=True,
                          timeout=30)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.split()


def test_completion_offers_function_names_the_minions_listed(cluster: Cluster) -> None:
    cluster.start_master()
    cluster.add_minion("m1")
    cluster.wait_pending("m1")
    cluster.master_cmd("key", "accept", "m1", "-y")
    cluster.wait_answer(["m1"])
    data, proc = cluster.run_json("m1", "sys.list_functions")
    assert proc.returncode == 0 and "test.ping" in data["m1"]
    cluster.stop_master()
    # The master is down: completion still answers, at once, from its caches.
    bindir = Path(sys.executable).parent
    master_cmd = shutil.which("master", path=str(bindir)) or "master"
    started = time.monotonic()
    words = subprocess.run([master_cmd, "-c", str(cluster.master_dir), "completion",
                            "functions"], capture_output=True, text=True, timeout=10,
                           env=cluster.env).stdout.split()
    assert time.monotonic() - started < 1.0
    assert set(words) == set(data["m1"])
    script = subprocess.run([master_cmd, "completion", "bash"], capture_output=True,
                            text=True, timeout=10, env=cluster.env).stdout
    offered = bash_complete(script, master_cmd, "-c", str(cluster.master_dir), "run", "m1",
                            "test.pi")
    assert offered == ["test.ping"]
    offered = bash_complete(script, master_cmd, "-c", str(cluster.master_dir), "run", "m")
    assert offered == ["m1"]
    # The list outlives the jobs that brought it.
    (cluster.master_dir / "cache" / "jobs.sqlite").unlink()
    again = subprocess.run([master_cmd, "-c", str(cluster.master_dir), "completion",
                            "functions"], capture_output=True, text=True, timeout=10,
                           env=cluster.env).stdout.split()
    assert again == words


def test_minion_completion_lists_its_own_functions(tmp_path: Path) -> None:
    proc = saline("minion", tmp_path, "completion", "functions")
    names = proc.stdout.split()
    assert proc.returncode == 0 and {"test.ping", "cmd.run", "state.apply"} <= set(names)
    assert not any(n.split(".")[1].startswith("_") for n in names)
    script = saline("minion", tmp_path, "completion", "bash").stdout
    assert bash_complete(script, "minion", "call", "state.ap") == ["state.apply"]
