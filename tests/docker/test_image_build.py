"""From formulas to images: by hand (run, accept, apply, commit) and with `master image build`.

A master on the host (on the Docker bridge gateway, see test_cluster.py)
serves formulas the tests write into its file roots; containers come from
the session's minion image.
"""

from __future__ import annotations

import json
import re
import shlex
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from master.imagebuild import formula_hash
from tests.cluster import Cluster, wait_for
from tests.docker import test_cluster as shared
from tests.docker.conftest import LABEL, Container, docker
from tests.docker.test_cluster import START_TIMEOUT, MinionFactory, accept, unique

ROOT = Path(__file__).resolve().parents[2]
REPO_WEB = ROOT / "formulas" / "web" / "init.sls"
BUILD_TIMEOUT = 300

BUILDWEB = """\
buildweb-page:
  file.managed:
    - name: /srv/buildweb/index.html
    - makedirs: True
    - contents: "{{ pillar.get('greeting', 'hello from saline') }}"

buildweb-server:
  cmd.run:
    - name: nohup python3 -m http.server 8000 --directory /srv/buildweb >/dev/null 2>&1 &
    - unless: python3 -c 'import urllib.request; urllib.request.urlopen("http://127.0.0.1:8000/")'
    - require:
      - file: buildweb-page
"""

BUILDFAIL = """\
buildfail-file:
  file.managed:
    - name: /srv/buildfail/half-done
    - makedirs: True
    - contents: half done

buildfail-command:
  cmd.run:
    - name: echo about to fail; exit 3
    - require:
      - file: buildfail-file
"""

# The host master and minion container fixtures of test_cluster.py.
gateway = shared.gateway
host_master = shared.host_master
minion_factory = shared.minion_factory

FETCH = ("import sys, urllib.request; "
         "sys.stdout.write(urllib.request.urlopen(sys.argv[1], timeout=5).read().decode())")


@pytest.fixture(scope="module")
def master(host_master: Cluster) -> Cluster:
    roots = host_master.base / "formulas"
    (roots / "buildweb.sls").write_text(BUILDWEB)
    (roots / "buildfail.sls").write_text(BUILDFAIL)
    return host_master


@pytest.fixture
def images() -> Iterator[list[str]]:
    """Image tags a test makes; removed afterwards."""
    tags: list[str] = []
    yield tags
    for tag in tags:
        docker("rmi", "--force", tag, timeout=120)


@pytest.fixture
def kept() -> Iterator[list[str]]:
    """Containers a failed build left behind; removed afterwards."""
    names: list[str] = []
    yield names
    for name in names:
        docker("rm", "--force", "--volumes", name, timeout=120)


def fetch(box: Container, url: str) -> str:
    proc = box.sh(f"python3 -c {shlex.quote(FETCH)} {shlex.quote(url)}", timeout=30)
    return proc.stdout.strip() if proc.returncode == 0 else ""


@pytest.fixture
def run_image() -> Iterator[Any]:
    """`docker run -d --init IMAGE` (its own CMD); removed afterwards."""
    names: list[str] = []

    def start(image: str, *args: str) -> Container:
        name = f"saline-test-{uuid.uuid4().hex[:12]}"
        docker("run", "--detach", "--init", "--name", name, "--label", LABEL, *args, image,
               timeout=120, check=True)
        names.append(name)
        return Container(name)

    yield start
    for name in names:
        docker("rm", "--force", "--volumes", name, timeout=120)


def inspect_image(tag: str) -> dict[str, Any] | None:
    proc = docker("image", "inspect", tag, timeout=60)
    return json.loads(proc.stdout)[0] if proc.returncode == 0 else None


def image_build(master: Cluster, *args: str) -> Any:
    return master.master_cmd("image", "build", *args, timeout=BUILD_TIMEOUT)


def build_name(stderr: str) -> str:
    match = re.search(r"container (saline-build-[0-9a-f]+)", stderr)
    assert match, stderr
    return match.group(1)


def assert_no_build_leftovers(master: Cluster, name: str) -> None:
    minion_id = name.removeprefix("saline-")
    keys = master.keys()
    assert all(minion_id not in ids for ids in keys.values()), keys
    tokens = master.master_cmd("key", "token", "list", "--out", "json")
    assert json.loads(tokens.stdout or "{}") == {}, tokens.stdout


# --- by hand -------------------------------------------------------------------------------------

def test_manual_run_accept_apply_commit(master: Cluster, minion_factory: MinionFactory,
                                        images: list[str], run_image: Any) -> None:
    minion_id = unique("manual")
    box = minion_factory(minion_id)
    master.wait_pending(minion_id, timeout=START_TIMEOUT)
    assert minion_id not in master.keys()["accepted"]
    accept(master, minion_id)
    master.wait_answer([minion_id], timeout=START_TIMEOUT)

    data, proc = master.run_json("-t", "120", minion_id, "state.apply", "buildweb",
                                 "pillar={greeting: made by hand}", timeout=180)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    states = data[minion_id]
    assert len(states) == 2 and all(s["result"] is True for s in states.values()), states
    assert fetch(box, "http://127.0.0.1:8000/") == "made by hand"

    tag = f"saline-test/manual:{uuid.uuid4().hex[:8]}"
    images.append(tag)
    # An empty ENTRYPOINT would not replace the image's `minion` in a commit:
    # Docker takes an empty one as "keep the container's".
    docker("commit", "--change", 'ENTRYPOINT ["python3", "-m", "http.server", "8000", '
                                 '"--directory", "/srv/buildweb"]',
           "--change", "CMD []", box.name, tag, timeout=300, check=True)
    served = run_image(tag)
    page = wait_for(lambda: fetch(served, "http://127.0.0.1:8000/index.html"), 30, 0.3,
                    "the committed image to serve the page")
    assert page == "made by hand"


# --- master image build --------------------------------------------------------------------------

def test_image_build_commits_an_image(master: Cluster, minion_image: str, images: list[str],
                                      run_image: Any) -> None:
    tag = f"saline-test/buildweb:{uuid.uuid4().hex[:8]}"
    images.append(tag)
    proc = image_build(master, "--from", minion_image, "--apply", "buildweb", "--tag", tag,
                       "--pillar", "greeting=built by saline", "--pillar", "site:name=demo",
                       "--pillar", "site:port=8000",
                       "--cmd", "python3 -m http.server 8000 --directory /srv/buildweb",
                       "--entrypoint", "", "--expose", "8000")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    name = build_name(proc.stderr)
    assert "Succeeded: 2" in proc.stdout  # the highstate output was streamed
    lines = dict(line.split(": ", 1) for line in proc.stdout.splitlines()
                 if line.startswith(("image: ", "tag: ")))
    assert lines["tag"] == tag

    info = inspect_image(tag)
    assert info is not None and info["Id"] == lines["image"]
    config = info["Config"]
    roots = [str(master.base / "formulas")]
    assert {k: v for k, v in config["Labels"].items() if k.startswith("org.saline.")} == {
        "org.saline.formulas": "buildweb",
        "org.saline.pillar-keys": "greeting,site:name,site:port",
        "org.saline.formula-hash": formula_hash(roots),
        "org.saline.saltenv": "base",
    }
    assert config["Cmd"] == ["python3", "-m", "http.server", "8000", "--directory",
                             "/srv/buildweb"]
    assert not config["Entrypoint"]
    assert "8000/tcp" in config["ExposedPorts"]
    assert "SALINE_JOIN_TOKEN" not in json.dumps(config)

    look = docker("run", "--rm", "--entrypoint", "sh", tag, "-c",
                  "ls -A /etc/saline; echo ---; cat /etc/saline/minion; echo ---; "
                  "cat /srv/buildweb/index.html", timeout=120)
    assert look.returncode == 0, look.stderr
    listing, minion_conf, page = look.stdout.split("---\n")
    assert listing.split() == ["minion"]  # no pki/, cache/, log/: only the image's config
    assert minion_conf == "master: salt\n"
    assert page.strip() == "built by saline"

    served = run_image(tag)
    got = wait_for(lambda: fetch(served, "http://127.0.0.1:8000/"), 30, 0.3,
                   "the built image to serve the page")
    assert got == "built by saline"

    assert docker("container", "inspect", name, timeout=60).returncode != 0  # removed
    assert_no_build_leftovers(master, name)


def test_image_build_failure_keeps_the_container(master: Cluster, minion_image: str,
                                                 images: list[str], kept: list[str]) -> None:
    tag = f"saline-test/buildfail:{uuid.uuid4().hex[:8]}"
    images.append(tag)
    proc = image_build(master, "--from", minion_image, "--apply", "buildfail", "--tag", tag)
    name = build_name(proc.stderr)
    kept.append(name)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "buildfail-command (cmd.run)" in proc.stderr
    assert f"docker exec -it {name} sh" in proc.stderr
    assert inspect_image(tag) is None

    state = docker("container", "inspect", "--format", "{{.State.Running}}", name, timeout=60)
    assert state.stdout.strip() == "true"
    left = docker("exec", name, "cat", "/srv/buildfail/half-done", timeout=60)
    assert left.stdout.strip() == "half done"
    assert_no_build_leftovers(master, name)


def test_image_build_test_mode_commits_nothing(master: Cluster, minion_image: str,
                                               images: list[str]) -> None:
    tag = f"saline-test/buildtest:{uuid.uuid4().hex[:8]}"
    images.append(tag)
    proc = image_build(master, "--from", minion_image, "--apply", "buildweb", "--tag", tag,
                       "--test")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    name = build_name(proc.stderr)
    assert "Failed:    0" in proc.stdout
    assert inspect_image(tag) is None
    assert docker("container", "inspect", name, timeout=60).returncode != 0
    assert_no_build_leftovers(master, name)


def test_image_build_explains_an_unreachable_interface(tmp_path: Path,
                                                       minion_image: str) -> None:
    cluster = Cluster(tmp_path)  # listens on 127.0.0.1 only
    (cluster.master_dir / "formulas").mkdir()
    (cluster.master_dir / "formulas" / "x.sls").write_text("{}\n")
    cluster.start_master()
    try:
        proc = image_build(cluster, "--from", minion_image, "--apply", "x", "--tag", "x:y")
    finally:
        cluster.close()
    assert proc.returncode == 1
    assert "listens on 127.0.0.1" in proc.stderr and "interface:" in proc.stderr


@pytest.mark.skipif(not REPO_WEB.exists(), reason="formulas/web is not in this checkout")
def test_image_build_of_the_repository_web_formula(tmp_path_factory: pytest.TempPathFactory,
                                                   gateway: str,
                                                   minion_image: str, images: list[str],
                                                   run_image: Any) -> None:
    base = tmp_path_factory.mktemp("webmaster")
    (base / "pillar").mkdir()
    cluster = Cluster(base, interface=gateway,
                      file_roots={"base": [str(ROOT / "formulas")]},
                      pillar_roots={"base": [str(base / "pillar")]})
    cluster.start_master()
    tag = f"saline-test/web:{uuid.uuid4().hex[:8]}"
    images.append(tag)
    try:
        proc = image_build(
            cluster, "--from", minion_image, "--apply", "web", "--tag", tag,
            "--pillar", "web:greeting=Hello from an image", "--pillar", "web:port=8081",
            "--entrypoint", "",
            "--cmd", "/bin/sh -c '/etc/init.d/saline-httpd start && exec tail -f /dev/null'",
            "--expose", "8081", "--state-output", "terse")
    finally:
        cluster.close()
    assert proc.returncode == 0, proc.stdout + proc.stderr
    info = inspect_image(tag)
    assert info is not None
    assert info["Config"]["Labels"]["org.saline.formulas"] == "web"
    assert info["Config"]["Labels"]["org.saline.pillar-keys"] == "web:greeting,web:port"
    served = run_image(tag)
    page = wait_for(lambda: fetch(served, "http://127.0.0.1:8081/"), 30, 0.3,
                    "the web image to serve its page")
    assert "Hello from an image" in page
