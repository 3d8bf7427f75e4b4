"""`master ssh` state runs with the master's file roots and pillar, against a real sshd.

The formula's salt:// files and the host's pillar come over the same SSH
command's stdin/stdout as the run asks for them; nothing is installed on
the host but the zipapp. Real processes, bounded waits; no master daemon.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests import sshd

pytestmark = pytest.mark.skipif(bool(sshd.available()), reason=sshd.available() or "ok")
TIMEOUT = 90

WEB_SLS = """\
{{ pillar['web']['dir'] }}/{{ grains['id'] }}.conf:
  file.managed:
    - source: salt://web/site.conf.j2
    - template: jinja
    - makedirs: true
    - mode: '0640'
"""
SITE_J2 = "# {{ grains['id'] }}\nport = {{ pillar['web']['port'] }}\nowner = {{ owner }}\n"
STATES_TOP = "base:\n  'h*':\n    - web\n"
PILLAR_TOP = "base:\n  '*':\n    - web\n  h2:\n    - h2\n"


@pytest.fixture
def setup(sshd_server: sshd.Sshd, tmp_path: Path) -> dict[str, Path]:
    out, states, pillar, cdir = (tmp_path / d for d in ("out", "states", "pillar", "cfg"))
    for d in (states / "web", pillar, cdir):
        d.mkdir(parents=True)
    (states / "top.sls").write_text(STATES_TOP)
    (states / "web" / "init.sls").write_text(WEB_SLS)
    (states / "web" / "site.conf.j2").write_text(SITE_J2.replace(
        "{{ owner }}", "{{ salt['pillar.get']('web:owner', 'nobody') }}"))
    (pillar / "top.sls").write_text(PILLAR_TOP)
    (pillar / "web.sls").write_text(f"web:\n  dir: {out}\n  port: 80{{{{ grains['id'][-1] }}}}\n")
    (pillar / "h2.sls").write_text("web:\n  owner: h2-team\n")
    (cdir / "master").write_text(f"cachedir: {tmp_path}/cache\nfile_roots: {{base: [{states}]}}\n"
                                 f"pillar_roots: {{base: [{pillar}]}}\n")
    (cdir / "roster").write_text("".join(
        f"{rid}: {{host: {addr}, port: {sshd_server.port}, user: {sshd_server.user}, "
        f"priv: {sshd_server.client_key}}}\n" for rid, addr in (("h1", "127.0.0.1"),
                                                          ("h2", "127.0.0.2"))))
    return {"cdir": cdir, "out": out, "states": states,
            "known_hosts": sshd_server.known_hosts(tmp_path / "known_hosts")}


def ssh(setup: dict[str, Path], *words: str) -> subprocess.CompletedProcess[str]:
    argv = [sys.executable, "-m", "master", "-c", str(setup["cdir"]), "ssh", *words,
            "--known-hosts", str(setup["known_hosts"])]
    return subprocess.run(argv, capture_output=True, text=True, timeout=TIMEOUT)


def states_of(proc: subprocess.CompletedProcess[str]) -> dict[str, dict[str, dict]]:
    """{host: {state tag: result}} of a `--out json --static` run."""
    assert proc.stdout, proc.stderr
    doc = json.loads(proc.stdout)
    return {host: ret for host, ret in doc.items() if host != "_timings"}


def test_state_apply_with_pillar_and_salt_files(setup: dict[str, Path]) -> None:
    out = setup["out"]
    predicted = ssh(setup, "h*", "state.apply", "web", "test=True", "--out", "json", "--static")
    assert predicted.returncode == 0, predicted.stderr
    for host, ret in states_of(predicted).items():
        (state,) = ret.values()
        assert state["result"] is None and state["changes"], (host, state)
    assert not out.exists()  # test=True changed nothing

    applied = ssh(setup, "h*", "state.apply", "web", "--out", "json", "--static")
    assert applied.returncode == 0, applied.stderr
    for ret in states_of(applied).values():
        (state,) = ret.values()
        assert state["result"] is True and state["changes"]
    # Pillar was compiled on the master for each host, with that host's grains.
    assert (out / "h1.conf").read_text() == "# h1\nport = 801\nowner = nobody\n"
    assert (out / "h2.conf").read_text() == "# h2\nport = 802\nowner = h2-team\n"
    assert oct((out / "h2.conf").stat().st_mode & 0o777) == "0o640"

    again = ssh(setup, "h*", "state.apply", "web", "--out", "json", "--static")
    assert again.returncode == 0, again.stderr
    for ret in states_of(again).values():
        (state,) = ret.values()
        assert state["result"] is True and state["changes"] == {}, state


def test_highstate_output_and_exit_codes_as_master_run(setup: dict[str, Path]) -> None:
    proc = ssh(setup, "h1", "state.highstate")
    assert proc.returncode == 0, proc.stderr
    assert "Summary for h1" in proc.stdout and "Succeeded: 1 (changed=1)" in proc.stdout
    assert "Function: file.managed" in proc.stdout
    # A state whose salt:// source is not on the master fails: exit 1, like master run.
    (setup["states"] / "web" / "site.conf.j2").unlink()
    (setup["out"] / "h1.conf").unlink()
    proc = ssh(setup, "h1", "state.highstate", "--state-output", "terse")
    assert proc.returncode == 1
    assert "Result: Failed" in proc.stdout and "h1: failed (retcode 2)" in proc.stderr


def test_show_sls_and_files_outside_the_roots_refused(setup: dict[str, Path],
                                                      tmp_path: Path) -> None:
    proc = ssh(setup, "h2", "state.show_sls", "web", "--out", "json")
    assert proc.returncode == 0, proc.stderr
    shown = json.loads(proc.stdout)["h2"]
    assert list(shown) == [f"{setup['out']}/h2.conf"]
    (tmp_path / "secret").write_text("private\n")
    (setup["states"] / "leak").symlink_to(tmp_path / "secret")
    proc = ssh(setup, "h1", "cp.get_file_str", "salt://leak")
    assert proc.returncode == 1
    assert "leads outside the file roots" in proc.stdout
    proc = ssh(setup, "h1", "cp.list_master", "--out", "json")
    assert json.loads(proc.stdout)["h1"] == ["top.sls", "web/init.sls", "web/site.conf.j2"]
