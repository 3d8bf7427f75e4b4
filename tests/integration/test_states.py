"""Formulas from the master's file roots applied to real minions."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cluster import Cluster

WEB = """\
{% set root = grains['webroot'] %}
webroot:
  file.directory:
    - name: {{ root }}
    - makedirs: True

index:
  file.managed:
    - name: {{ root }}/index.html
    - source: salt://web/index.html.j2
    - template: jinja
    - context:
        greeting: {{ pillar['greeting'] }}
    - require:
      - file: webroot

reload-marker:
  cmd.run:
    - name: echo reloaded >> {{ root }}/reloads
    - onchanges:
      - file: index
"""


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


@pytest.fixture(scope="module")
def web(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Cluster, Path]]:
    base = tmp_path_factory.mktemp("states")
    roots = base / "master" / "formulas"
    _write(roots / "web" / "init.sls", WEB)
    _write(roots / "web" / "index.html.j2",
           "<h1>{{ greeting }} from {{ grains['id'] }}</h1>\n")
    _write(roots / "top.sls", "base:\n  'G@role:web':\n    - web\n")
    _write(roots / "broken.sls", "oops:\n  test.nop:\n    - require:\n      - nothing_here\n")
    _write(base / "master" / "pillar" / "top.sls", "base:\n  '*':\n    - site\n")
    _write(base / "master" / "pillar" / "site.sls", "greeting: Hello\n")
    webroot = base / "www"
    cluster = Cluster(base, auto_accept=True)
    try:
        cluster.start_master()
        cluster.add_minion("m1", grains={"role": "web", "webroot": str(webroot)})
        cluster.wait_answer(["m1"])
        yield cluster, webroot
    finally:
        cluster.close()


def apply(cluster: Cluster, *args: str) -> tuple[object, int]:
    proc = cluster.master_cmd("run", "-t", "60", "--out", "json", "m1", *args, timeout=90)
    return json.loads(proc.stdout)["m1"], proc.returncode


def test_apply_web_from_the_master(web: tuple[Cluster, Path]) -> None:
    cluster, webroot = web
    results, code = apply(cluster, "state.apply", "web", "test=True")
    assert code == 0 and isinstance(results, dict), results
    assert {r["result"] for r in results.values()} <= {None, True}
    assert not webroot.exists()  # test mode changed nothing

    results, code = apply(cluster, "state.apply", "web")
    assert code == 0, results
    assert isinstance(results, dict)
    by_id = {r["__id__"]: r for r in results.values()}
    assert [r["__id__"] for r in sorted(results.values(), key=lambda r: r["__run_num__"])] == [
        "webroot", "index", "reload-marker"]
    assert all(r["result"] is True for r in results.values())
    assert (webroot / "index.html").read_text() == "<h1>Hello from m1</h1>\n"
    assert (webroot / "reloads").read_text() == "reloaded\n"
    assert "diff" in by_id["index"]["changes"]

    results, code = apply(cluster, "state.apply", "web")
    assert code == 0 and isinstance(results, dict)
    assert all(r["result"] is True and not r["changes"] for r in results.values())
    assert (webroot / "reloads").read_text() == "reloaded\n"  # onchanges did not fire


def test_highstate_uses_the_top_file(web: tuple[Cluster, Path]) -> None:
    cluster, _ = web
    results, code = apply(cluster, "state.show_top")
    assert results == {"base": ["web"]}
    results, code = apply(cluster, "state.highstate")
    assert code == 0 and isinstance(results, dict) and len(results) == 3


def test_a_broken_formula_fails_cleanly(web: tuple[Cluster, Path]) -> None:
    cluster, _ = web
    results, code = apply(cluster, "state.apply", "broken")
    assert code == 1
    # As in Salt, a requisite that names nothing fails only its own state.
    (ret,) = results.values()
    assert ret["result"] is False
    assert "The following requisites were not found" in ret["comment"]
    assert "nothing_here" in ret["comment"]


def test_highstate_output_and_exit_code(web: tuple[Cluster, Path]) -> None:
    cluster, _ = web
    proc = cluster.master_cmd("run", "-t", "60", "m1", "state.apply", "web", timeout=90)
    assert proc.returncode == 0
    assert "Summary for m1" in proc.stdout and "Failed:    0" in proc.stdout
