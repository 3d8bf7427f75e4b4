"""Salt's package-list refresh rule: pkg states with refresh unset refresh once per run.

The engine runs a state module's ``mod_init`` before its first chunk of a run;
pkg's writes the refresh tag (``cachedir/pkg_refresh``) when that chunk is a
pkg.installed or pkg.latest, the first install then refreshes (apt-get update
removes the tag) and later ones in the same run do not.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from minion.context import Context
from minion.loader import Registry
from minion.modules import pkg
from minion.runner import CommandResult, FakeRunner
from minion.sls.run import StateRun
from minion.states import STATE_MODULES
from tests.unit.test_sls_run import chunks_of

STATES = Registry.load({}, {}, modules={"pkg": STATE_MODULES["pkg"]}, kind="states")
APT_UPDATE = " ".join([*pkg.APT_GET, "update"])


class Host:
    """pkg.list_pkgs / pkg.install over a set, the real pkg.refresh_db on a fake apt-get."""

    def __init__(self) -> None:
        self.installed: dict[str, str] = {"bash": "5.2"}
        self.refreshes: list[bool] = []  # the refresh each pkg.install was called with

    def registry(self) -> Registry:
        def list_pkgs(ctx: Context, removed: bool = False, **kwargs: Any) -> dict[str, str]:
            return dict(self.installed)

        def install(ctx: Context, name: str | None = None, pkgs: list[Any] | None = None,
                    refresh: bool = False, **kwargs: Any) -> dict[str, Any]:
            self.refreshes.append(refresh)
            if refresh:
                pkg.refresh_db(ctx)
            names = [str(p) for p in pkgs] if pkgs else [str(name)]
            self.installed.update({n: "1.0" for n in names})
            return {n: {"old": "", "new": "1.0"} for n in names}

        return Registry({"pkg.list_pkgs": list_pkgs, "pkg.install": install,
                         "pkg.refresh_db": pkg.refresh_db})


SLS = """
first:
  pkg.installed:
    - name: vim
second:
  pkg.installed:
    - name: less
third:
  pkg.installed:
    - name: bash
"""


def apply(host: Host, cachedir: Path, text: str = SLS, test: bool = False
          ) -> dict[str, dict[str, Any]]:
    runner = FakeRunner({APT_UPDATE: CommandResult("Hit:1 http://deb bookworm InRelease\n",
                                                   "", 0)})
    ctx = Context({"cachedir": str(cachedir)}, {}, {}, host.registry(), runner=runner)
    return StateRun(ctx, STATES, chunks_of(text), test=test).run()


def test_first_install_of_each_run_refreshes(tmp_path: Path) -> None:
    host = Host()
    results = apply(host, tmp_path)
    assert all(r["result"] is True for r in results.values())
    assert host.refreshes == [True, False]  # vim refreshes, less does not, bash is there
    assert not (tmp_path / "pkg_refresh").exists()

    host.installed.pop("less")
    apply(host, tmp_path)  # a new run refreshes again
    assert host.refreshes == [True, False, True]


def test_refresh_false_never_refreshes_and_leaves_the_tag(tmp_path: Path) -> None:
    host = Host()
    apply(host, tmp_path, "a:\n  pkg.installed:\n    - name: vim\n    - refresh: False\n")
    assert host.refreshes == [False]
    assert (tmp_path / "pkg_refresh").exists()  # the next install with refresh unset will


def test_nothing_to_install_refreshes_nothing(tmp_path: Path) -> None:
    host = Host()
    apply(host, tmp_path, "a:\n  pkg.installed:\n    - name: bash\n")
    assert host.refreshes == []


def test_check_refresh_and_refresh_db_clear_the_tag(tmp_path: Path) -> None:
    opts = {"cachedir": str(tmp_path)}
    assert pkg.check_refresh(opts, None) is False
    pkg.write_rtag(opts)
    assert pkg.check_refresh(opts, None) is True
    assert pkg.check_refresh(opts, False) is False
    assert pkg.check_refresh({}, None) is False
    assert pkg.check_refresh({}, "True") is True
    runner = FakeRunner({APT_UPDATE: CommandResult("", "", 0)})
    ctx = Context(opts, {}, {}, Registry({}), runner=runner)
    pkg.refresh_db(ctx)
    assert not (tmp_path / "pkg_refresh").exists()
