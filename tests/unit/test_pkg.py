"""The pkg execution module against a fake runner: command lines, parsing, changes."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest

from minion.context import Context
from minion.loader import Registry, exposed_functions
from minion.modules import pkg
from minion.runner import CommandResult, FakeRunner

QUERY = " ".join(pkg.QUERY)
ARCH = " ".join(pkg.NATIVE_ARCH)
APT = " ".join(pkg.APT_GET)


def ok(stdout: str = "") -> CommandResult:
    return CommandResult(stdout, "", 0)


def db(*rows: str) -> CommandResult:
    """dpkg-query output: rows of 'name version arch want state'."""
    lines = []
    for row in rows:
        name, version, arch, want, state = row.split()
        lines.append(f"{name}\t{version}\t{arch}\t{want} ok {state}\n")
    return ok("".join(lines))


@dataclasses.dataclass
class SeqRunner(FakeRunner):
    """A FakeRunner whose answer to a command may be a list, given in turn.

    The last answer of a list repeats, so `dpkg-query` can answer "before"
    and then "after" an apt-get run.
    """

    seq: dict[str, list[CommandResult]] = dataclasses.field(default_factory=dict)

    def run(self, cmd: Any, **kwargs: Any) -> CommandResult:
        answer = super().run(cmd, **kwargs)
        line = cmd if isinstance(cmd, str) else " ".join(cmd)
        queue = self.seq.get(line)
        if queue:
            return queue.pop(0) if len(queue) > 1 else queue[0]
        return answer

    def lines(self) -> list[str]:
        return [str(call["cmd"]) for call in self.calls]


BEFORE = db(
    "dpkg 1.21.22 amd64 install installed",
    "curl 7.88.1-10 amd64 install installed",
    "libc6 2.36-9 i386 install installed",
    "tzdata 2024a-0 all hold installed",
    "oldconf 1.0-1 amd64 deinstall config-files",
    "gone 2.0 amd64 purge not-installed",
)


def make_ctx(runner: FakeRunner) -> Context:
    registry = Registry(exposed_functions("pkg", pkg))
    return Context({"id": "m1"}, {"os_family": "Debian"}, {}, registry, runner=runner)


def runner_with(*queries: CommandResult, **more: CommandResult) -> SeqRunner:
    runner = SeqRunner(table={ARCH: ok("amd64\n"), **more})
    runner.seq[QUERY] = list(queries or [BEFORE])
    return runner


# --- parsing ---------------------------------------------------------------------------------


def test_parse_query_names_foreign_architectures_and_keeps_states() -> None:
    records = pkg.parse_query(BEFORE.stdout + "garbage line\n", "amd64")
    assert [r.name for r in records] == [
        "dpkg", "curl", "libc6:i386", "tzdata", "oldconf", "gone"]
    assert records[3] == pkg.Record("tzdata", "2024a-0", "all", "hold", "installed")
    assert records[4].state == "config-files"


def test_compare_reports_every_version_that_moved() -> None:
    old = {"a": "1", "b": "1", "c": "1"}
    new = {"a": "1", "b": "2", "d": "4"}
    assert pkg.compare(old, new) == {
        "b": {"old": "1", "new": "2"},
        "c": {"old": "1", "new": ""},
        "d": {"old": "", "new": "4"},
    }


def test_parse_update_like_salt() -> None:
    out = (
        "Hit:1 http://deb.debian.org/debian bookworm InRelease\n"
        "Get:2 http://deb.debian.org/debian bookworm-updates InRelease [55.4 kB]\n"
        "Ign:3 http://example.org/repo stable InRelease\n"
        "Err:4 http://example.org/repo stable Release\n"
        "  404  Not Found\n"
        "Reading package lists...\n"
    )
    assert pkg.parse_update(out) == {
        "http://deb.debian.org/debian bookworm InRelease": None,
        "http://deb.debian.org/debian bookworm-updates InRelease": True,
        "http://example.org/repo stable InRelease": False,
        "http://example.org/repo stable Release": False,
    }


POLICY = """\
curl:
  Installed: 7.88.1-10
  Candidate: 7.88.1-10+deb12u5
  Version table:
     7.88.1-10+deb12u5 500
        500 http://deb.debian.org/debian-security bookworm-security/main amd64 Packages
dpkg:
  Installed: 1.21.22
  Candidate: 1.21.22
nginx:
  Installed: (none)
  Candidate: 1.22.1-9
"""


def test_parse_policy() -> None:
    assert pkg.parse_policy(POLICY) == {
        "curl": ("7.88.1-10", "7.88.1-10+deb12u5"),
        "dpkg": ("1.21.22", "1.21.22"),
        "nginx": ("", "1.22.1-9"),
    }


def test_parse_simulation() -> None:
    out = (
        "Inst libssl3 [3.0.11-1~deb12u1] (3.0.13-1~deb12u1 Debian-Security:12/stable [amd64])\n"
        "Inst newdep (2.0-1 Debian:12.5/stable [amd64])\n"
        "Conf libssl3 (3.0.13-1~deb12u1 Debian-Security:12/stable [amd64])\n"
    )
    assert pkg.parse_simulation(out) == {"libssl3": "3.0.13-1~deb12u1", "newdep": "2.0-1"}


# --- queries ---------------------------------------------------------------------------------


def test_version_one_name_is_a_string_several_a_dict() -> None:
    ctx = make_ctx(runner_with())
    assert ctx.call("pkg.version", "curl") == "7.88.1-10"
    assert ctx.call("pkg.version", "nope") == ""
    assert ctx.call("pkg.version", "curl", "oldconf", "libc6:i386") == {
        "curl": "7.88.1-10", "oldconf": "", "libc6:i386": "2.36-9"}
    assert ctx.retcode == 0


def test_list_pkgs_installed_removed_and_as_lists() -> None:
    ctx = make_ctx(runner_with())
    assert ctx.call("pkg.list_pkgs") == {
        "curl": "7.88.1-10", "dpkg": "1.21.22", "libc6:i386": "2.36-9", "tzdata": "2024a-0"}
    assert ctx.call("pkg.list_pkgs", removed=True) == {"oldconf": "1.0-1"}
    assert ctx.call("pkg.list_pkgs", versions_as_list=True)["curl"] == ["7.88.1-10"]


def test_queries_run_without_a_shell_in_the_c_locale() -> None:
    runner = runner_with()
    make_ctx(runner).call("pkg.list_pkgs")
    assert runner.lines() == [ARCH, QUERY]
    for call in runner.calls:
        assert call["shell"] is False
        assert call["env"] == pkg.ENV


def test_a_failing_dpkg_query_fails_the_job_with_one_line() -> None:
    runner = runner_with(CommandResult("", "dpkg-query: error: cannot access archive\n", 2))
    ctx = make_ctx(runner)
    assert ctx.call("pkg.version", "curl") == (
        "ERROR: pkg.version: dpkg-query failed: dpkg-query: error: cannot access archive")
    assert ctx.retcode == 1


def test_latest_version_is_empty_when_up_to_date_or_unknown() -> None:
    line = "apt-cache -q policy curl dpkg nginx zzz"
    ctx = make_ctx(runner_with(**{line: ok(POLICY)}))
    assert ctx.call("pkg.latest_version", "curl", "dpkg", "nginx", "zzz") == {
        "curl": "7.88.1-10+deb12u5", "dpkg": "", "nginx": "1.22.1-9", "zzz": ""}
    ctx = make_ctx(runner_with(**{"apt-cache -q policy nginx": ok(POLICY)}))
    assert ctx.call("pkg.available_version", "nginx") == "1.22.1-9"


def test_list_upgrades_simulates_dist_upgrade() -> None:
    out = "Inst curl [7.88.1-10] (7.88.1-10+deb12u5 Debian:12/stable [amd64])\n"
    runner = runner_with(**{"apt-get -q --simulate dist-upgrade": ok(out)})
    assert make_ctx(runner).call("pkg.list_upgrades") == {"curl": "7.88.1-10+deb12u5"}


# --- install ---------------------------------------------------------------------------------


AFTER_INSTALL = db(
    "dpkg 1.21.22 amd64 install installed",
    "curl 7.88.1-10+deb12u5 amd64 install installed",
    "libc6 2.36-9 i386 install installed",
    "tzdata 2024a-0 all hold installed",
    "nginx 1.22.1-9 amd64 install installed",
    "nginx-common 1.22.1-9 all install installed",
)


def test_install_one_name_returns_salts_changes() -> None:
    runner = runner_with(BEFORE, AFTER_INSTALL, **{f"{APT} install nginx": ok()})
    ctx = make_ctx(runner)
    assert ctx.call("pkg.install", "nginx") == {
        "curl": {"old": "7.88.1-10", "new": "7.88.1-10+deb12u5"},
        "nginx": {"old": "", "new": "1.22.1-9"},
        "nginx-common": {"old": "", "new": "1.22.1-9"},
    }
    assert ctx.retcode == 0
    assert f"{APT} install nginx" in runner.lines()
    apt_call = next(c for c in runner.calls if str(c["cmd"]).startswith("apt-get"))
    assert apt_call["env"] == pkg.ENV
    assert pkg.ENV["DEBIAN_FRONTEND"] == "noninteractive"
    assert "DPkg::Options::=--force-confold" in APT


def test_install_pins_versions_from_version_and_pkgs() -> None:
    line = f"{APT} --allow-downgrades install nginx=1.22.1-9"
    runner = runner_with(BEFORE, AFTER_INSTALL, **{line: ok()})
    make_ctx(runner).call("pkg.install", "nginx", version="1.22.1-9")
    assert line in runner.lines()

    line = f"{APT} --no-install-recommends --allow-downgrades install curl nginx=1.22* jq"
    runner = runner_with(**{line: ok()})
    ctx = make_ctx(runner)
    assert ctx.call("pkg.install", pkgs=["curl", {"nginx": "=1.22*"}, {"jq": None}],
                    install_recommends=False) == {}
    assert line in runner.lines()


def test_install_already_installed_changes_nothing() -> None:
    runner = runner_with(BEFORE, **{f"{APT} install curl": ok()})
    ctx = make_ctx(runner)
    assert ctx.call("pkg.install", "curl") == {}
    assert ctx.retcode == 0


def test_install_from_local_debs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    deb = tmp_path / "saline-hello_1.0_all.deb"
    deb.write_bytes(b"!<arch>\n")
    after = db("saline-hello 1.0 all install installed")
    line = f"{APT} install {deb}"
    runner = runner_with(db(), after, **{line: ok()})
    monkeypatch.chdir(tmp_path)
    ctx = make_ctx(runner)
    result = ctx.call("pkg.install", sources=[{"saline-hello": "saline-hello_1.0_all.deb"}])
    assert result == {"saline-hello": {"old": "", "new": "1.0"}}
    assert line in runner.lines()


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"name": "-oAPT::Foo=1"}, "invalid package name '-oAPT::Foo=1'"),
    ({"name": "two words"}, "invalid package name 'two words'"),
    ({"name": "nginx", "version": ">=1.2"}, "version comparisons ('>=1.2') are not supported"),
    ({"name": "nginx", "version": "1.2; rm -rf /"}, "invalid version '1.2; rm -rf /'"),
    ({"pkgs": "nginx"}, "pkgs: expected a list"),
    ({}, "no package given"),
    ({"sources": [{"x": "/nonexistent/x.deb"}]}, "no such file /nonexistent/x.deb"),
    ({"sources": [{"x": "https://example.org/x.deb"}]}, "only local .deb files"),
    ({"sources": [{"x": "/a.deb"}], "pkgs": ["y"]}, "give pkgs or sources, not both"),
])
def test_install_refuses_bad_arguments_before_running_anything(
    kwargs: dict[str, Any], message: str
) -> None:
    runner = runner_with()
    ctx = make_ctx(runner)
    result = ctx.call("pkg.install", **kwargs)
    assert isinstance(result, str) and result.startswith("ERROR: pkg.install: ")
    assert message in result
    assert "\n" not in result
    assert ctx.retcode == 1
    assert not any(line.startswith("apt-get") for line in runner.lines())


def test_install_failure_names_apts_error() -> None:
    stderr = ("W: some warning\nE: Unable to locate package nosuch\n")
    runner = runner_with(**{f"{APT} install nosuch": CommandResult("Reading...\n", stderr, 100)})
    ctx = make_ctx(runner)
    assert ctx.call("pkg.install", "nosuch") == (
        "ERROR: pkg.install: E: Unable to locate package nosuch")
    assert ctx.retcode == 1


def test_install_refresh_runs_update_first_and_stops_when_it_fails() -> None:
    update = f"{APT} update"
    runner = runner_with(**{update: CommandResult("", "E: Could not resolve host\n", 100)})
    ctx = make_ctx(runner)
    assert ctx.call("pkg.install", "nginx", refresh=True) == (
        "ERROR: pkg.install: apt-get update failed: E: Could not resolve host")
    assert update in runner.lines()
    assert f"{APT} install nginx" not in runner.lines()


# --- remove, purge, upgrade ------------------------------------------------------------------


def test_remove_skips_what_is_not_installed() -> None:
    runner = runner_with()
    ctx = make_ctx(runner)
    assert ctx.call("pkg.remove", pkgs=["nginx", "oldconf"]) == {}
    assert not any(line.startswith("apt-get") for line in runner.lines())


def test_remove_returns_removed_versions() -> None:
    after = db("dpkg 1.21.22 amd64 install installed",
               "libc6 2.36-9 i386 install installed",
               "tzdata 2024a-0 all hold installed",
               "curl 7.88.1-10 amd64 deinstall config-files")
    line = f"{APT} remove curl"
    runner = runner_with(BEFORE, BEFORE, after, **{line: ok()})
    assert make_ctx(runner).call("pkg.remove", "curl") == {
        "curl": {"old": "7.88.1-10", "new": ""}}
    assert line in runner.lines()


def test_purge_includes_packages_left_with_config_files() -> None:
    after = db("dpkg 1.21.22 amd64 install installed",
               "libc6 2.36-9 i386 install installed",
               "tzdata 2024a-0 all hold installed")
    line = f"{APT} purge curl oldconf"
    runner = runner_with(BEFORE, BEFORE, after, **{line: ok()})
    assert make_ctx(runner).call("pkg.purge", pkgs=["curl", "oldconf", "gone"]) == {
        "curl": {"old": "7.88.1-10", "new": ""},
        "oldconf": {"old": "1.0-1", "new": ""},
    }


def test_upgrade_reports_changes() -> None:
    line = f"{APT} dist-upgrade"
    runner = runner_with(BEFORE, AFTER_INSTALL, **{line: ok()})
    changes = make_ctx(runner).call("pkg.upgrade", dist_upgrade=True)
    assert changes["curl"] == {"old": "7.88.1-10", "new": "7.88.1-10+deb12u5"}


def test_refresh_db_failhard() -> None:
    out = "Hit:1 http://a x InRelease\nErr:2 http://b y InRelease\n  Could not resolve 'b'\n"
    runner = runner_with(**{f"{APT} update": ok(out)})
    ctx = make_ctx(runner)
    assert ctx.call("pkg.refresh_db") == {"http://a x InRelease": None,
                                          "http://b y InRelease": False}
    assert ctx.retcode == 0
    assert ctx.call("pkg.refresh_db", failhard=True) == (
        "ERROR: pkg.refresh_db: apt-get update failed: Err:2 http://b y InRelease")
    assert ctx.retcode == 1


# --- hold, unhold ----------------------------------------------------------------------------


def test_hold_sets_selections_only_for_what_changes() -> None:
    runner = runner_with(**{"dpkg --set-selections": ok()})
    ctx = make_ctx(runner)
    result = ctx.call("pkg.hold", pkgs=["curl", "tzdata"])
    assert result == {
        "curl": {"name": "curl", "result": True, "changes": {"old": "install", "new": "hold"},
                 "comment": "Package curl is now being held."},
        "tzdata": {"name": "tzdata", "result": True, "changes": {},
                   "comment": "Package tzdata is already set to be held."},
    }
    call = next(c for c in runner.calls if c["cmd"] == "dpkg --set-selections")
    assert call["stdin"] == "curl hold\n"
    assert ctx.retcode == 0


def test_unhold_and_not_installed() -> None:
    runner = runner_with(**{"dpkg --set-selections": ok()})
    ctx = make_ctx(runner)
    result = ctx.call("pkg.unhold", pkgs=["tzdata", "nginx"])
    assert result["tzdata"]["changes"] == {"old": "hold", "new": "install"}
    assert result["nginx"] == {"name": "nginx", "result": False, "changes": {},
                               "comment": "Package nginx is not installed."}
    call = next(c for c in runner.calls if c["cmd"] == "dpkg --set-selections")
    assert call["stdin"] == "tzdata install\n"
    assert ctx.retcode == 1


# --- loading ---------------------------------------------------------------------------------


def test_unavailable_without_dpkg(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pkg.shutil, "which", lambda tool: None)
    why = pkg._unavailable({}, {})
    assert why is not None and why.startswith("dpkg, dpkg-query, apt-get, apt-cache not found")
    registry = Registry.load({}, {}, {"pkg": "minion.modules.pkg"})
    assert registry.functions == {}
    assert "apt and dpkg" in registry.unavailable["pkg"]


def test_exposed_functions_and_their_docs() -> None:
    functions = exposed_functions("pkg", pkg)
    assert sorted(functions) == [
        "pkg.available_version", "pkg.hold", "pkg.install", "pkg.latest_version",
        "pkg.list_pkgs", "pkg.list_upgrades", "pkg.purge", "pkg.refresh_db", "pkg.remove",
        "pkg.unhold", "pkg.upgrade", "pkg.version",
    ]
    for name, func in functions.items():
        doc = func.__doc__ or ""
        assert f"master run '*' {name}" in doc, name
