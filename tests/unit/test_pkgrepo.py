"""aptrepo module and pkgrepo states on a temp sources.list tree; apt-get answered by a fake."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pytest

from minion.context import Context
from minion.loader import MODULES, Registry
from minion.modules import aptrepo
from minion.runner import CommandResult, FakeRunner
from minion.states import STATE_MODULES

STATES = Registry.load({}, {}, modules={"pkgrepo": STATE_MODULES["pkgrepo"]}, kind="states")
FUNS = Registry.load({}, {"os_family": "Debian"},
                     modules={m: MODULES[m] for m in ("aptrepo", "archive")})
UPDATE = "apt-get -q update"
LOCAL = "deb [trusted=yes] file:/srv/repo ./"
MAIN = "deb http://deb.debian.org/debian bookworm main"


@pytest.fixture
def apt(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    etc = tmp_path / "apt"
    (etc / "sources.list.d").mkdir(parents=True)
    (etc / "sources.list").write_text(f"# main mirror\n{MAIN} contrib\n")
    monkeypatch.setattr(aptrepo, "SOURCES_LIST", str(etc / "sources.list"))
    monkeypatch.setattr(aptrepo, "SOURCES_DIR", str(etc / "sources.list.d"))
    monkeypatch.setattr(aptrepo.shutil, "which", lambda _: "/usr/bin/apt-key")
    return etc


def state(fun: str, test: bool = False, **kwargs: Any) -> tuple[dict[str, Any], FakeRunner]:
    runner = FakeRunner({UPDATE: CommandResult("", "", 0)})
    ctx = Context({}, {"os_family": "Debian"}, {}, FUNS, runner=runner, test=test)
    ret: dict[str, Any] = STATES.call(ctx, fun, [], kwargs)
    return ret, runner


def test_parse_and_get_repo(apt: Path) -> None:
    entry = aptrepo.parse("# deb [arch=amd64,arm64 signed-by=/k.gpg] https://x/ stable a b # note")
    assert entry["disabled"] and entry["architectures"] == ["amd64", "arm64"]
    assert (entry["signedby"], entry["uri"], entry["dist"], entry["comps"]) == (
        "/k.gpg", "https://x/", "stable", ["a", "b"])
    ctx = Context({}, {}, {}, FUNS)
    got = ctx.call("aptrepo.get_repo", "deb http://deb.debian.org/debian/ bookworm contrib")
    assert got["comps"] == ["main", "contrib"] and got["file"].endswith("sources.list")
    assert ctx.call("aptrepo.get_repo", "deb http://deb.debian.org/debian bookworm x") == {}


def test_managed_adds_then_nothing_to_do(apt: Path) -> None:
    listfile = str(apt / "sources.list.d" / "local.list")
    ret, runner = state("pkgrepo.managed", test=True, name=LOCAL, file=listfile)
    assert ret["result"] is None and ret["changes"] == {"repo": LOCAL}
    assert ret["comment"].startswith(f"Package repo '{LOCAL}' would be configured.")
    assert runner.calls == []
    ret, runner = state("pkgrepo.managed", name=LOCAL, file=listfile)
    assert (ret["result"], ret["changes"]) == (True, {"repo": LOCAL})
    assert ret["comment"] == f"Configured package repo '{LOCAL}'"
    assert Path(listfile).read_text() == LOCAL + "\n"
    assert [c["cmd"] for c in runner.calls] == [UPDATE]
    ret, runner = state("pkgrepo.managed", name=LOCAL, file=listfile)
    assert (ret["result"], ret["changes"]) == (True, {})
    assert ret["comment"] == f"Package repo '{LOCAL}' already configured"
    assert runner.calls == []


def test_managed_changes_an_entry_in_place(apt: Path) -> None:
    ret, _ = state("pkgrepo.managed", test=True, name=MAIN + " contrib", disabled=True,
                   refresh=False)
    assert ret["changes"]["disabled"] == {"new": True, "old": False}
    ret, _ = state("pkgrepo.managed", name=MAIN + " contrib", disabled=True, refresh=False)
    assert ret["changes"]["disabled"] == {"new": True, "old": False}
    assert (apt / "sources.list").read_text() == f"# main mirror\n# {MAIN} contrib\n"


def test_absent(apt: Path) -> None:
    ret, _ = state("pkgrepo.absent", name=LOCAL)
    assert ret["comment"] == f"Package repo {LOCAL} is absent"
    ret, _ = state("pkgrepo.absent", test=True, name=MAIN)
    assert ret["result"] is None and ret["comment"].startswith(f"Package repo '{MAIN}' will be")
    ret, _ = state("pkgrepo.absent", name=MAIN)
    assert (ret["result"], ret["changes"]) == (True, {"repo": MAIN})
    # Only the named component goes; the entry keeps the other one.
    left = MAIN.replace("main", "contrib")
    assert (apt / "sources.list").read_text() == f"# main mirror\n{left}\n"
    listfile = apt / "sources.list.d" / "local.list"
    listfile.write_text(LOCAL + "\n")
    ret, _ = state("pkgrepo.absent", name=LOCAL)
    assert ret["changes"] == {"repo": LOCAL} and not listfile.exists()


def test_signed_by_key_is_dearmored(apt: Path, tmp_path: Path) -> None:
    raw = bytes(range(256))
    body = base64.b64encode(raw).decode()
    armored = ("-----BEGIN PGP PUBLIC KEY BLOCK-----\nComment: test\n\n"
               + "\n".join(body[i:i + 64] for i in range(0, len(body), 64))
               + "\n=abcd\n-----END PGP PUBLIC KEY BLOCK-----\n")
    key = tmp_path / "key.asc"
    key.write_text(armored)
    keyring = tmp_path / "keyrings" / "x.gpg"
    keyring.parent.mkdir()
    line = f"deb [signed-by={keyring}] https://repo.example.invalid stable main"
    ret, _ = state("pkgrepo.managed", name=line, key_url=str(key), refresh=False)
    assert ret["result"] is True and keyring.read_bytes() == raw
    ret, _ = state("pkgrepo.managed", name=MAIN.replace("bookworm", "trixie"), aptkey=False,
                   refresh=False)
    assert ret["result"] is False
    assert ret["comment"].endswith("missing 'signedby' option when apt-key is missing")
