"""iptables, kmod, mount, locale and ssh_known_hosts states against fakes and temp files."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from minion.context import Context
from minion.loader import MODULES, Registry
from minion.modules import iptables as ipt_mod
from minion.modules import kmod as kmod_mod
from minion.modules import locale as locale_mod
from minion.runner import CommandResult, FakeRunner
from minion.states import STATE_MODULES

NAMES = ("iptables", "kmod", "mount", "locale", "ssh_known_hosts")
STATES = Registry.load({}, {}, modules={n: STATE_MODULES[n] for n in NAMES}, kind="states")
GRAINS = {"kernel": "Linux", "os_family": "Debian", "os": "Debian"}
OK = CommandResult("", "", 0)


def make_ctx(runner: FakeRunner, test: bool = False) -> Context:
    mods = {n: MODULES[n] for n in ("iptables", "kmod", "mount", "locale", "ssh", "user", "file",
                                    "cmd")}
    return Context({}, dict(GRAINS), {}, Registry.load({}, GRAINS, modules=mods), runner=runner,
                   test=test)


def state(ctx: Context, fun: str, **kwargs: Any) -> dict[str, Any]:
    ret: dict[str, Any] = STATES.call(ctx, fun, [], kwargs)
    return ret


# --- iptables -------------------------------------------------------------------------------

IPT = ipt_mod.binary()
RULE = "-p tcp --dport 22 --jump ACCEPT"
FULL = f"{IPT} --wait -t filter -A INPUT  {RULE}"


def ipt_runner(present: bool) -> FakeRunner:
    check = f"{IPT} -t filter -C INPUT {RULE.replace('--jump', '--jump')}"
    return FakeRunner({f"{IPT} --help": CommandResult("  --wait -w\n", "", 0),
                       check: CommandResult("", "", 0 if present else 1),
                       f"{IPT} --wait -t filter -A INPUT {RULE}": OK})


def test_build_rule_matches_salt_words() -> None:
    assert ipt_mod.rule_text(match="state", connstate="NEW", proto="tcp", dport="!22",
                             jump="ACCEPT", comment="ssh in") == (
        '-p tcp -m state --state NEW ! --dport 22 -m comment --comment "ssh in" --jump ACCEPT')
    assert ipt_mod.rule_text(dports="80,443", jump="ACCEPT") == "Error: protocol must be specified"
    assert ipt_mod.rule_text(jump="LOG", **{"log-prefix": "x y", "log-level": 4}) == (
        '--jump LOG --log-level 4 --log-prefix "x y"')


def test_iptables_append_test_mode_then_apply_then_nothing() -> None:
    runner = ipt_runner(present=False)
    ret = state(make_ctx(runner, test=True), "iptables.append", name="ssh", chain="INPUT",
                proto="tcp", dport=22, jump="ACCEPT")
    assert ret["result"] is None and ret["changes"] == {}
    assert ret["comment"] == f"iptables rule for ssh needs to be set ({FULL}) for ipv4"
    assert not any(" -A " in str(c["cmd"]) for c in runner.calls)
    ret = state(make_ctx(runner), "iptables.append", name="ssh", chain="INPUT", proto="tcp",
                dport=22, jump="ACCEPT")
    assert (ret["result"], ret["changes"]) == (True, {"locale": "ssh"})
    assert runner.calls[-1]["cmd"] == f"{IPT} --wait -t filter -A INPUT {RULE}"
    again = state(make_ctx(ipt_runner(present=True)), "iptables.append", name="ssh",
                  chain="INPUT", proto="tcp", dport=22, jump="ACCEPT")
    assert (again["result"], again["changes"]) == (True, {})
    assert again["comment"] == f"iptables rule for ssh already set ({FULL}) for ipv4"


def test_iptables_rule_words_never_reach_a_shell() -> None:
    runner = ipt_runner(present=False)
    state(make_ctx(runner), "iptables.append", name="x", chain="INPUT",
          comment="a; rm -rf /", jump="ACCEPT")
    assert all(c["shell"] is False for c in runner.calls)


def test_iptables_policy_from_save_output() -> None:
    save = "*filter\n:INPUT DROP [1:2]\n:FORWARD ACCEPT [0:0]\n-A INPUT -j ACCEPT\nCOMMIT\n"
    runner = FakeRunner({f"{IPT}-save": CommandResult(save, "", 0)})
    ctx = make_ctx(runner)
    assert ctx.call("iptables.get_policy", "filter", "INPUT") == "DROP"
    ret = state(ctx, "iptables.set_policy", name="p", chain="INPUT", policy="DROP")
    assert ret["comment"] == ("iptables default policy for chain INPUT on table filter for ipv4 "
                              "already set to DROP")


# --- kmod -----------------------------------------------------------------------------------

LSMOD_BEFORE = "Module Size Used by\nloop 1 0\n"
LSMOD_AFTER = LSMOD_BEFORE + "dummy 2 0\n"


@pytest.fixture
def kmod_tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(kmod_mod, "conf_file", lambda ctx: str(tmp_path / "modules"))
    monkeypatch.setattr(kmod_mod, "available", lambda ctx: ["dummy", "loop"])
    monkeypatch.setattr(kmod_mod.shutil, "which", lambda name: f"/sbin/{name}")
    (tmp_path / "modules").write_text("# boot modules\n#dummy\n")
    return tmp_path / "modules"


class SequenceRunner(FakeRunner):
    """lsmod answers change after modprobe ran."""

    def run(self, cmd: Any, **kwargs: Any) -> CommandResult:
        line = cmd if isinstance(cmd, str) else " ".join(cmd)
        if line == "lsmod":
            self.calls.append({"cmd": line, "shell": False})
            loaded = any(c["cmd"] == "modprobe -- dummy" for c in self.calls)
            return CommandResult(LSMOD_AFTER if loaded else LSMOD_BEFORE, "", 0)
        return super().run(cmd, **kwargs)


def test_kmod_present_test_mode_apply_and_persist(kmod_tree: Path) -> None:
    runner = SequenceRunner({"modprobe -- dummy": OK})
    ret = state(make_ctx(runner, test=True), "kmod.present", name="dummy", persist=True)
    assert (ret["result"], ret["comment"]) == (None, "Kernel module dummy is set to be loaded")
    ret = state(make_ctx(runner), "kmod.present", name="dummy", persist=True)
    assert ret["result"] is True and ret["changes"] == {"dummy": "loaded"}
    assert ret["comment"] == "Loaded kernel module dummy"
    assert kmod_tree.read_text() == "# boot modules\ndummy\n"
    again = state(make_ctx(runner), "kmod.present", name="dummy", persist=True)
    assert (again["changes"], again["comment"]) == ({}, "Kernel module dummy is already present")


def test_kmod_absent_when_not_loaded(kmod_tree: Path) -> None:
    ret = state(make_ctx(SequenceRunner()), "kmod.absent", name="dummy")
    assert (ret["result"], ret["comment"]) == (True, "Kernel module dummy is already removed")


def test_kmod_refuses_option_like_names(kmod_tree: Path) -> None:
    with pytest.raises(ValueError):
        make_ctx(SequenceRunner()).call("kmod.load", "-r")


# --- mount (fstab only) ---------------------------------------------------------------------


def test_mount_fstab_persist_only(tmp_path: Path) -> None:
    fstab = tmp_path / "fstab"
    fstab.write_text("# fstab\ntmpfs\t/mnt/t\ttmpfs\tsize=1m\t0\t0\n")
    point = tmp_path / "data"
    args = {"name": str(point), "device": "/dev/nosuch", "fstype": "ext4", "mkmnt": True,
            "mount": False, "config": str(fstab)}
    ret = state(make_ctx(FakeRunner(), test=True), "mount.mounted", **args)
    assert ret["result"] is None and not point.exists()
    assert ret["comment"].endswith("needs to be written to the fstab in order to be made "
                                   "persistent.")
    ret = state(make_ctx(FakeRunner()), "mount.mounted", **args)
    assert ret["changes"] == {"persist": "new"} and point.is_dir()
    assert f"/dev/nosuch\t\t{point}\text4\tdefaults\t0 0\n" in fstab.read_text()
    again = state(make_ctx(FakeRunner()), "mount.mounted", **args)
    assert again["changes"] == {} and again["comment"].endswith("Entry already exists in the "
                                                                "fstab.")
    gone = state(make_ctx(FakeRunner()), "mount.unmounted", name=str(point), persist=True,
                 config=str(fstab))
    assert gone["changes"] == {"persist": "purged"}
    assert str(point) not in fstab.read_text() and "tmpfs" in fstab.read_text()


# --- locale ---------------------------------------------------------------------------------


def test_locale_present_generates_from_locale_gen(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(locale_mod, "LOCALE_GEN", tmp_path / "locale.gen")
    monkeypatch.setattr(locale_mod, "SUPPORTED", tmp_path / "SUPPORTED")
    monkeypatch.setattr(locale_mod.shutil, "which", lambda name: f"/usr/sbin/{name}")
    (tmp_path / "locale.gen").write_text("# en_US.UTF-8 UTF-8\n# fr_FR.UTF-8 UTF-8\n")
    (tmp_path / "SUPPORTED").write_text("en_US.UTF-8 UTF-8\nfr_FR.UTF-8 UTF-8\n")
    runner = FakeRunner({"locale -a": CommandResult("C\nC.utf8\nPOSIX\n", "", 0),
                         "locale-gen fr_FR.UTF-8 UTF-8": OK})
    ret = state(make_ctx(runner, test=True), "locale.present", name="fr_FR.UTF-8")
    assert (ret["result"], ret["comment"]) == (None, "Locale fr_FR.UTF-8 needs to be generated")
    ret = state(make_ctx(runner), "locale.present", name="fr_FR.UTF-8")
    assert (ret["result"], ret["changes"]) == (True, {"locale": "fr_FR.UTF-8"})
    assert (tmp_path / "locale.gen").read_text() == "# en_US.UTF-8 UTF-8\nfr_FR.UTF-8 UTF-8\n"
    ok = state(make_ctx(runner), "locale.present", name="C.UTF-8")
    assert ok["comment"] == "Locale C.UTF-8 is already present"


def test_locale_system_in_default_locale(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(locale_mod, "SYSTEMD_RUNTIME", tmp_path / "nosystemd")
    monkeypatch.setattr(locale_mod, "DEFAULT_LOCALE", tmp_path / "locale")
    monkeypatch.setattr(locale_mod.shutil, "which", lambda name: f"/usr/sbin/{name}")
    (tmp_path / "locale").write_text('LANG="C"\nLC_TIME=C\n')
    runner = FakeRunner({"/usr/sbin/update-locale": OK})
    ret = state(make_ctx(runner), "locale.system", name="en_US.UTF-8")
    assert (ret["result"], ret["changes"]) == (True, {"locale": "en_US.UTF-8"})
    assert (tmp_path / "locale").read_text() == 'LANG="en_US.UTF-8"\nLC_TIME=C\n'
    again = state(make_ctx(runner), "locale.system", name="en_US.UTF-8")
    assert again["comment"] == "System locale en_US.UTF-8 already set"


# --- ssh_known_hosts (real ssh-keygen on a temp file) ---------------------------------------

KEY = "AAAAC3NzaC1lZDI1NTE5AAAAIM52VZSyiUgWu2u6CpTCFQ6JjOHQeVExp0RKionIwXEG"


@pytest.mark.skipif(shutil.which("ssh-keygen") is None, reason="ssh-keygen is not installed")
def test_known_hosts_present_twice_then_absent(tmp_path: Path) -> None:
    from minion.runner import SubprocessRunner

    config = str(tmp_path / "known_hosts")
    args = {"name": "example.org", "config": config, "enc": "ssh-ed25519", "key": KEY}
    ctx = Context({}, dict(GRAINS), {}, make_ctx(FakeRunner()).registry,
                  runner=SubprocessRunner())
    ret = state(ctx, "ssh_known_hosts.present", **args)
    assert ret["result"] is True and ret["changes"]["new"][0]["key"] == KEY
    assert (tmp_path / "known_hosts").stat().st_mode & 0o777 == 0o600
    assert "example.org" not in (tmp_path / "known_hosts").read_text()  # hashed by default
    again = state(ctx, "ssh_known_hosts.present", **args)
    assert (again["changes"], again["comment"]) == ({}, f"example.org already exists in {config}")
    gone = state(ctx, "ssh_known_hosts.absent", name="example.org", config=config)
    assert gone["changes"]["new"] is None and gone["changes"]["old"][0]["key"] == KEY
    assert state(ctx, "ssh_known_hosts.absent", name="example.org",
                 config=config)["comment"] == "Host is already absent"


def test_known_hosts_needs_absolute_config_without_user() -> None:
    ret = state(make_ctx(FakeRunner()), "ssh_known_hosts.present", name="h", config="rel")
    assert ret == {"name": "h", "result": False, "changes": {},
                   "comment": 'If not specifying a "user", specify an absolute "config".'}


# --- mount options and known hosts fetched with ssh-keyscan -----------------------------------


def test_remount_triggers_follow_salts_rules() -> None:
    from minion.states.mountopts import remount_triggers

    def lookup(kind: str, value: str) -> dict[str, int]:
        return {"uid": 33} if value == "www-data" else {}

    proc = {"opts": ["rw", "relatime"], "superopts": ["rw"]}
    assert remount_triggers(["noexec", "rw", "defaults", "_netdev", "password=x"], "proc", proc,
                            lookup) == ["noexec"]
    assert remount_triggers(["uid=www-data", "tcp"], "nfs", proc, lookup) == ["uid=33",
                                                                              "proto=tcp"]
    # A size in force makes Salt compare every option as that size: no remount.
    dev = {"opts": ["rw"], "superopts": ["rw", "size=4096k"]}
    assert remount_triggers(["noexec", "size=8m"], "devtmpfs", dev, lookup) == []
    assert remount_triggers(["size=1m"], "ramfs", proc, lookup) == []
    assert remount_triggers(["x-y"], "proc", proc, lookup, hidden_opts=["x-y"]) == []


def test_known_host_fetched_with_keyscan_and_checked_by_fingerprint(tmp_path: Path) -> None:
    config = str(tmp_path / "known_hosts")
    scan = "ssh-keyscan -t ssh-ed25519 -T 5 127.0.0.1"
    lookup = f"ssh-keygen -F 127.0.0.1 -f {config}"
    runner = FakeRunner({scan: CommandResult(f"127.0.0.1 ssh-ed25519 {KEY}\n", "", 0),
                         lookup: CommandResult("", "", 1)})
    ctx = make_ctx(runner)
    wrong = state(ctx, "ssh_known_hosts.present", name="127.0.0.1", config=config,
                  enc="ssh-ed25519", fingerprint="00:11", hash_known_hosts=False)
    assert wrong["result"] is False and wrong["comment"] == (
        "Remote host public keys found but none of their fingerprints match the one you have "
        "provided")
    ret = state(ctx, "ssh_known_hosts.present", name="127.0.0.1", config=config,
                enc="ssh-ed25519", hash_known_hosts=False)
    assert ret["comment"] == f"127.0.0.1's ssh-ed25519 key saved to {config} (key: {KEY})"
    assert Path(config).read_text() == f"127.0.0.1 ssh-ed25519 {KEY}\n"
    assert [c["cmd"] for c in runner.calls].count(scan) == 2  # one scan per run


def test_known_host_port_needs_plain_names() -> None:
    ret = make_ctx(FakeRunner()).call("ssh.set_known_host", hostname="h", port=2222,
                                      key=KEY, enc="ssh-ed25519", config="/nonexistent/k")
    assert ret == {"status": "error", "error": "argument port can not be used in conjunction "
                                               "with argument hash_known_hosts"}


def test_locale_system_with_localectl_keeps_other_settings(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(locale_mod, "SYSTEMD_RUNTIME", tmp_path)
    monkeypatch.setattr(locale_mod.shutil, "which", lambda name: f"/usr/bin/{name}")
    status = ("   System Locale: LANG=C.UTF-8\n                  LC_TIME=en_GB.UTF-8\n"
              "       VC Keymap: us\n")
    runner = FakeRunner({"localectl status": CommandResult(status, "", 0),
                         "localectl set-locale LANG=de_DE.UTF-8 LC_TIME=en_GB.UTF-8": OK})
    pending = state(make_ctx(runner, test=True), "locale.system", name="de_DE.UTF-8")
    assert (pending["result"], pending["comment"]) == (None,
                                                       "System locale de_DE.UTF-8 needs to be set")
    ret = state(make_ctx(runner), "locale.system", name="de_DE.UTF-8")
    assert (ret["result"], ret["comment"]) == (True, "Set system locale de_DE.UTF-8")
    assert runner.calls[-1]["cmd"] == "localectl set-locale LANG=de_DE.UTF-8 LC_TIME=en_GB.UTF-8"
    same = state(make_ctx(runner), "locale.system", name="C.UTF-8")
    assert same["comment"] == "System locale C.UTF-8 already set"


def test_iptables_delete_by_position_and_chain_absent_failure() -> None:
    runner = FakeRunner({f"{IPT} --help": CommandResult("--wait\n", "", 0),
                         f"{IPT} --wait -t filter -D INPUT 2": OK,
                         f"{IPT}-save -t filter": CommandResult(":CUSTOM - [0:0]\n", "", 0),
                         f"{IPT} --wait -t filter -F CUSTOM":
                             CommandResult("", "iptables: Permission denied.\n", 4)})
    ret = state(make_ctx(runner), "iptables.delete", name="second", chain="INPUT", position=2)
    assert (ret["result"], ret["changes"]) == (True, {"locale": "second"})
    assert ret["comment"] == f"Delete iptables rule for second {IPT} --wait -t filter -D INPUT 2"
    gone = state(make_ctx(runner), "iptables.chain_absent", name="CUSTOM")
    assert gone["result"] is False
    assert gone["comment"] == ("Failed to flush CUSTOM chain in filter table: iptables: "
                               "Permission denied. for ipv4")


def test_iptables_refuses_odd_chain_names() -> None:
    with pytest.raises(ipt_mod.IptablesError):
        make_ctx(ipt_runner(present=False)).call("iptables.new_chain", "filter", "-F")


def test_kmod_absent_with_persist_comments_the_boot_line(kmod_tree: Path) -> None:
    kmod_tree.write_text("loop\ndummy\n")

    class Loaded(SequenceRunner):
        def run(self, cmd: Any, **kwargs: Any) -> CommandResult:
            line = cmd if isinstance(cmd, str) else " ".join(cmd)
            if line == "lsmod":
                self.calls.append({"cmd": line, "shell": False})
                removed = any(c["cmd"] == "rmmod -- dummy" for c in self.calls)
                return CommandResult(LSMOD_BEFORE if removed else LSMOD_AFTER, "", 0)
            return super().run(cmd, **kwargs)

    runner = Loaded({"rmmod -- dummy": OK})
    pending = state(make_ctx(runner, test=True), "kmod.absent", name="dummy", persist=True)
    assert (pending["result"], pending["comment"]) == (None,
                                                       "Kernel module dummy is set to be removed")
    ret = state(make_ctx(runner), "kmod.absent", name="dummy", persist=True)
    assert (ret["changes"], ret["comment"]) == ({"dummy": "removed"},
                                                "Removed kernel module dummy")
    assert kmod_tree.read_text() == "loop\n#dummy\n"
    again = state(make_ctx(runner), "kmod.absent", name="dummy", persist=True)
    assert again["comment"] == "Kernel module dummy is already removed"
