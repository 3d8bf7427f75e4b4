"""pkgrepo, archive, alternatives, pip, git and debconf states for real, in Debian containers.

Each formula runs through ``minion call --local state.apply`` in a container
without network: first ``test=True`` (nothing may change), then for real
(changes), then again (no changes). git and debconf-utils are not in the
minion image: they are installed once per module from Debian's mirror into a
derived image, and the tests that need them are skipped, with the reason,
when that is impossible.
"""

from __future__ import annotations

import io
import json
import shlex
import tarfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.docker.conftest import Container, docker, running_container
from tests.docker.test_states_system import BUILD_DEB

ROOT = Path(__file__).resolve().parents[2]
WHEELS = ROOT / "tests" / "oracle" / "cases" / "newstates1" / "pip_venv_wheels"
TOOLS_IMAGE = "saline/minion-formulas1:test"
MINION = "/opt/saline/bin/minion"
CONFIG = "id: formulas1\nfile_client: local\nfile_roots:\n  base: [/srv/salt]\n"
PKG = "saline-state-demo"
# A flat repository by hand (no dpkg-dev in the image): Packages and Release for /srv/repo.
FLAT_REPO = r"""
set -eu
cd /srv/repo
: > Packages
for deb in *.deb; do
    dpkg-deb -f "$deb" >> Packages
    printf 'Filename: ./%s\nSize: %s\nSHA256: %s\n\n' "$deb" "$(stat -c %s "$deb")" \
        "$(sha256sum "$deb" | cut -d' ' -f1)" >> Packages
done
printf 'Origin: saline\nLabel: saline\nSuite: ./\nSHA256:\n %s %s Packages\n' \
    "$(sha256sum Packages | cut -d' ' -f1)" "$(stat -c %s Packages)" > Release
"""


@pytest.fixture(scope="module")
def tools_image(minion_image: str) -> Iterator[str]:
    """The minion image plus git and debconf-utils (from Debian's mirror, once)."""
    with running_container(minion_image) as box:
        proc = box.sh("apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install "
                      "-y -qq --no-install-recommends git debconf-utils >/dev/null",
                      timeout=900)
        if proc.returncode != 0:
            last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
            pytest.skip(f"cannot install git and debconf-utils in the container: {last}")
        box.sh("apt-get clean && rm -rf /var/lib/apt/lists/*")
        docker("commit", box.name, TOOLS_IMAGE, timeout=300, check=True)
    yield TOOLS_IMAGE
    docker("rmi", "--force", TOOLS_IMAGE, timeout=120)


@pytest.fixture
def box(tools_image: str) -> Iterator[Container]:
    """A fresh container without network, with a masterless minion config and no mirrors."""
    with running_container(tools_image, "--network", "none") as c:
        sh(c, "mkdir -p /srv/salt /etc/saline && rm -f /etc/apt/sources.list "
              "/etc/apt/sources.list.d/*")
        write(c, "/etc/saline/minion", CONFIG)
        yield c


def sh(box: Container, cmd: str, timeout: float = 300) -> str:
    proc = box.sh(cmd, timeout=timeout)
    assert proc.returncode == 0, f"{cmd}: {proc.stderr.strip()}"
    return proc.stdout


def write(box: Container, path: str, text: str) -> None:
    sh(box, f"mkdir -p {shlex.quote(str(Path(path).parent))} && "
            f"printf %s {shlex.quote(text)} > {shlex.quote(path)}")


def apply(box: Container, sls: str, test: bool = False,
          may_fail: tuple[str, ...] = ()) -> dict[str, dict[str, Any]]:
    """``state.apply SLS``: ``{id: result}``; every state must succeed (None in test mode)."""
    cmd = shlex.join([MINION, "call", "--local", "state.apply", sls, "--out", "json",
                      *(["test=True"] if test else [])])
    proc = box.sh(cmd, timeout=600)
    try:
        results = json.loads(proc.stdout)["local"]
    except (ValueError, KeyError, TypeError):
        raise AssertionError(f"{cmd}: no JSON (exit {proc.returncode}): {proc.stdout} "
                             f"{proc.stderr}") from None
    assert isinstance(results, dict), results
    by_id = {r["__id__"]: r for r in results.values()}
    allowed = (True, None) if test else (True,)
    bad = {i: r["comment"] for i, r in by_id.items()
           if r["result"] not in allowed and i not in may_fail}
    assert not bad, json.dumps(bad, indent=1)
    return by_id


def three_runs(box: Container, sls: str, dry_may_fail: tuple[str, ...] = ()
               ) -> tuple[dict[str, Any], dict[str, Any]]:
    """test=True, then for real, then again: the real run's and the last run's results."""
    apply(box, sls, test=True, may_fail=dry_may_fail)
    first = apply(box, sls)
    second = apply(box, sls)
    assert {i: r["changes"] for i, r in second.items() if r["changes"]} == {}
    return first, second


def test_pkgrepo_local_flat_repository_feeds_pkg(box: Container) -> None:
    sh(box, f"sh -c {shlex.quote(BUILD_DEB)} build 1.0 {PKG} /srv/repo")
    sh(box, f"sh -c {shlex.quote(FLAT_REPO)}")
    write(box, "/srv/salt/repo.sls", f"""\
local-repo:
  pkgrepo.managed:
    - name: deb [trusted=yes] file:/srv/repo ./
    - file: /etc/apt/sources.list.d/local.list
    - require_in:
      - pkg: demo

demo:
  pkg.installed:
    - name: {PKG}
""")
    dry = apply(box, "repo", test=True)
    assert dry["local-repo"]["result"] is None
    assert dry["local-repo"]["changes"] == {"repo": "deb [trusted=yes] file:/srv/repo ./"}
    assert box.sh("test -e /etc/apt/sources.list.d/local.list").returncode != 0
    first, _ = three_runs(box, "repo")
    assert first["local-repo"]["changes"] == {"repo": "deb [trusted=yes] file:/srv/repo ./"}
    assert first["demo"]["changes"][PKG]["new"] == "1.0"
    assert sh(box, "cat /etc/apt/sources.list.d/local.list") == (
        "deb [trusted=yes] file:/srv/repo ./\n")
    write(box, "/srv/salt/norepo.sls", "gone:\n  pkgrepo.absent:\n"
                                       "    - name: deb [trusted=yes] file:/srv/repo ./\n")
    gone = apply(box, "norepo")["gone"]
    assert gone["changes"] == {"repo": "deb [trusted=yes] file:/srv/repo ./"}
    assert box.sh("test -e /etc/apt/sources.list.d/local.list").returncode != 0
    assert apply(box, "norepo")["gone"]["changes"] == {}


def _tarball(path: Path) -> None:
    with tarfile.open(path, "w:gz") as tar:
        for name, data in (("app", None), ("app/README", b"hello\n"), ("app/bin", None),
                           ("app/bin/run", b"#!/bin/sh\necho run\n")):
            info = tarfile.TarInfo(name)
            if data is None:
                info.type, info.mode = tarfile.DIRTYPE, 0o755
                tar.addfile(info)
            else:
                info.size, info.mode = len(data), 0o755
                tar.addfile(info, io.BytesIO(data))


def test_archive_extracted_from_salt_url_with_owner(box: Container, tmp_path: Path) -> None:
    _tarball(tmp_path / "app.tar.gz")
    box.put(tmp_path / "app.tar.gz", "/srv/salt/app.tar.gz")
    write(box, "/srv/salt/app.sls", """\
/opt/app:
  archive.extracted:
    - source: salt://app.tar.gz
    - user: daemon
    - group: daemon
""")
    first, second = three_runs(box, "app")
    changes = first["/opt/app"]["changes"]
    assert changes["extracted_files"] == ["app", "app/README", "app/bin", "app/bin/run"]
    assert changes["updated ownership"] is True
    assert second["/opt/app"]["comment"] == "All files in archive are already present"
    assert sh(box, "stat -c %U:%G /opt/app/app/bin/run").strip() == "daemon:daemon"
    assert sh(box, "/opt/app/app/bin/run").strip() == "run"


def test_alternatives_install_and_set(box: Container) -> None:
    for name in ("hello-a", "hello-b"):
        write(box, f"/usr/local/bin/{name}", f"#!/bin/sh\necho {name}\n")
    sh(box, "chmod 755 /usr/local/bin/hello-a /usr/local/bin/hello-b")
    write(box, "/srv/salt/alt.sls", """\
{% for name, prio in [('hello-a', 10), ('hello-b', 20)] %}
install-{{ name }}:
  alternatives.install:
    - name: hello
    - link: /usr/local/bin/hello
    - path: /usr/local/bin/{{ name }}
    - priority: {{ prio }}
{% endfor %}
pick-a:
  alternatives.set:
    - name: hello
    - path: /usr/local/bin/hello-a
    - require:
      - alternatives: install-hello-b
""")
    # In test mode nothing is registered, so the set cannot find its path (as in Salt).
    first, second = three_runs(box, "alt", dry_may_fail=("pick-a",))
    assert first["install-hello-b"]["changes"]["priority"] == 20
    assert first["pick-a"]["changes"] == {"path": "/usr/local/bin/hello-a"}
    assert second["pick-a"]["comment"] == "Alternative for hello already set to " \
                                          "/usr/local/bin/hello-a"
    assert sh(box, "/usr/local/bin/hello").strip() == "hello-a"


def test_debconf_set(box: Container) -> None:
    write(box, "/srv/salt/deb.sls", """\
tzdata:
  debconf.set:
    - data:
        'tzdata/Areas': {type: select, value: Europe}
        'tzdata/Zones/Europe': {type: select, value: Paris}
""")
    first, second = three_runs(box, "deb")
    assert first["tzdata"]["changes"] == {"tzdata/Areas": "Europe",
                                          "tzdata/Zones/Europe": "Paris"}
    assert second["tzdata"]["comment"] == "All specified answers are already set"
    assert "tzdata/Zones/Europe\tselect\tParis" in sh(box, "debconf-get-selections")


def test_pip_installed_into_a_virtualenv(box: Container) -> None:
    sh(box, "python3 -m venv /srv/venv && mkdir -p /srv/wheels", timeout=600)
    for wheel in sorted(WHEELS.glob("*.whl")):
        box.put(wheel, f"/srv/wheels/{wheel.name}")
    write(box, "/srv/salt/pip.sls", """\
demo:
  pip.installed:
    - name: saline-demo >= 2.0
    - bin_env: /srv/venv
    - no_index: True
    - find_links: /srv/wheels
""")
    first, second = three_runs(box, "pip")
    assert first["demo"]["changes"] == {"saline-demo==2.0": "Installed"}
    assert second["demo"]["comment"].endswith("All specified packages are already installed")
    assert sh(box, "/srv/venv/bin/python -c 'import saline_demo; print(saline_demo.VERSION)'"
              ).strip() == "2.0"


def test_git_latest_follows_a_local_bare_repository(box: Container) -> None:
    ident = "-c user.name=t -c user.email=t@example.invalid"
    sh(box, f"git init -q --bare /srv/repo.git && git init -q -b main /srv/src && "
            f"echo one > /srv/src/a && git -C /srv/src add a && "
            f"git -C /srv/src {ident} commit -q -m one && "
            f"git -C /srv/src push -q /srv/repo.git main && "
            f"git -C /srv/repo.git symbolic-ref HEAD refs/heads/main")
    write(box, "/srv/salt/code.sls", """\
/srv/repo.git:
  git.latest:
    - target: /srv/checkout
    - rev: main
    - branch: main
""")
    first, second = three_runs(box, "code")
    ret = first["/srv/repo.git"]
    assert ret["changes"]["new"] == "/srv/repo.git => /srv/checkout"
    assert second["/srv/repo.git"]["comment"] == "Repository /srv/checkout is up-to-date"
    sh(box, f"echo two > /srv/src/b && git -C /srv/src add b && "
            f"git -C /srv/src {ident} commit -q -m two && git -C /srv/src push -q "
            "/srv/repo.git main")
    head = sh(box, "git -C /srv/src rev-parse HEAD").strip()
    moved = apply(box, "code")["/srv/repo.git"]
    assert moved["changes"]["revision"]["new"] == head
    assert "Repository was fast-forwarded to origin/main" in moved["comment"]
    assert apply(box, "code")["/srv/repo.git"]["changes"] == {}
    assert sh(box, "cat /srv/checkout/b").strip() == "two"
