"""known_hosts, locale, mount, iptables and kmod states for real, in Debian containers.

Each state is applied twice in a fresh container: the first run changes
it, the second reports no changes. The tools come from Debian's packages
(openssh, locales, iptables, kmod), installed with apt-get at the start of
a test; a test is skipped, with apt's answer, when no Debian mirror can be
reached. Mounts run in a container with CAP_SYS_ADMIN and iptables in one
with CAP_NET_ADMIN (its own network namespace, never the host's); kernel
modules need a privileged container, and that test is skipped with the
engine's answer when it cannot start one.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.docker import staterun
from tests.docker.conftest import Container

GRAINS = {"kernel": "Linux", "os": "Debian", "os_family": "Debian"}
KEY = "AAAAC3NzaC1lZDI1NTE5AAAAIM52VZSyiUgWu2u6CpTCFQ6JjOHQeVExp0RKionIwXEG"

def run_states(box: Container, *calls: tuple[Any, ...]) -> list[Any]:
    return staterun.run_states(box, *calls, grains=GRAINS)


def one(box: Container, fun: str, test: bool = False, **kwargs: Any) -> dict[str, Any]:
    ret: dict[str, Any] = run_states(box, (fun, kwargs, test))[0]
    return ret


def twice(box: Container, fun: str, **kwargs: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """Apply one state twice in two processes: (first result, second result)."""
    return staterun.twice(box, fun, grains=GRAINS, **kwargs)


def sh_out(box: Container, cmd: str) -> str:
    proc = box.sh(cmd)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def install(box: Container, *packages: str) -> None:
    """apt-get install `packages` in the container, or skip saying why it could not."""
    proc = box.sh("apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "
                  f"--no-install-recommends {' '.join(packages)}", timeout=600)
    if proc.returncode != 0:
        reason = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        pytest.skip(f"cannot install {', '.join(packages)} from a Debian mirror: {reason}")


def test_known_hosts_given_and_scanned_keys(container: Container) -> None:
    box = container
    install(box, "openssh-client", "openssh-server")
    args = {"name": "example.org", "user": "root", "enc": "ssh-ed25519", "key": KEY}
    pending = one(box, "ssh_known_hosts.present", test=True, **args)
    assert (pending["result"], pending["comment"]) == (
        None, "Key for example.org is set to be added to .ssh/known_hosts")
    first, second = twice(box, "ssh_known_hosts.present", **args)
    assert first["changes"] == {"old": None, "new": [
        {"hostname": "example.org", "enc": "ssh-ed25519", "key": KEY}]}
    assert first["comment"] == f"example.org's key saved to .ssh/known_hosts (key: {KEY})"
    assert (second["changes"], second["comment"]) == (
        {}, "example.org already exists in .ssh/known_hosts")
    assert sh_out(box, "stat -c %a /root/.ssh /root/.ssh/known_hosts").split() == ["700", "600"]
    text = sh_out(box, "cat /root/.ssh/known_hosts")
    assert text.startswith("|1|") and "example.org" not in text  # hashed by default

    # A key fetched with ssh-keyscan from an sshd on the container's loopback.
    assert box.sh("mkdir -p /run/sshd && /usr/sbin/sshd").returncode == 0
    scan = {"name": "127.0.0.1", "config": "/etc/ssh/ssh_known_hosts", "enc": "ssh-ed25519",
            "hash_known_hosts": False}
    first, second = twice(box, "ssh_known_hosts.present", **scan)
    served = sh_out(box, "cut -d' ' -f2 /etc/ssh/ssh_host_ed25519_key.pub").strip()
    assert first["changes"]["new"][0]["key"] == served
    assert first["comment"] == (f"127.0.0.1's ssh-ed25519 key saved to /etc/ssh/ssh_known_hosts "
                                f"(key: {served})")
    assert second["comment"] == "127.0.0.1 already exists in /etc/ssh/ssh_known_hosts"
    assert sh_out(box, "cat /etc/ssh/ssh_known_hosts") == f"127.0.0.1 ssh-ed25519 {served}\n"

    first, second = twice(box, "ssh_known_hosts.absent", name="example.org", user="root")
    assert first["changes"]["new"] is None and first["changes"]["old"][0]["key"] == KEY
    assert (second["changes"], second["comment"]) == ({}, "Host is already absent")


def test_locale_generated_and_set(container: Container) -> None:
    box = container
    install(box, "locales")
    assert box.sh("sed -i 's/^fr_FR.UTF-8/# fr_FR.UTF-8/' /etc/locale.gen").returncode == 0
    pending = one(box, "locale.present", test=True, name="fr_FR.UTF-8")
    assert (pending["result"], pending["comment"]) == (
        None, "Locale fr_FR.UTF-8 needs to be generated")
    first, second = twice(box, "locale.present", name="fr_FR.UTF-8")
    assert (first["result"], first["changes"]) == (True, {"locale": "fr_FR.UTF-8"})
    assert (second["changes"], second["comment"]) == ({}, "Locale fr_FR.UTF-8 is already present")
    assert "fr_FR.utf8" in sh_out(box, "locale -a").split()
    assert "\nfr_FR.UTF-8 UTF-8\n" in sh_out(box, "cat /etc/locale.gen")

    first, second = twice(box, "locale.system", name="fr_FR.UTF-8")
    assert (first["changes"], first["comment"]) == ({"locale": "fr_FR.UTF-8"},
                                                    "Set system locale fr_FR.UTF-8")
    assert second["comment"] == "System locale fr_FR.UTF-8 already set"
    assert 'LANG="fr_FR.UTF-8"' in sh_out(box, "cat /etc/default/locale")


def test_fstab_entries_without_mounting(container: Container) -> None:
    box = container
    args = {"name": "/srv/data", "device": "/dev/disk/by-label/data", "fstype": "ext4",
            "mkmnt": True, "mount": False, "opts": "defaults,noatime", "pass_num": 2}
    first, second = twice(box, "mount.mounted", **args)
    assert first["changes"] == {"persist": "new"}
    assert first["comment"] == "/srv/data was created, not mounted. Added new entry to the fstab."
    assert second["comment"] == "/srv/data not mounted. Entry already exists in the fstab."
    assert ("/dev/disk/by-label/data\t\t/srv/data\text4\tdefaults,noatime\t0 2\n"
            in sh_out(box, "cat /etc/fstab"))
    first, second = twice(box, "mount.unmounted", name="/srv/data", persist=True)
    assert first["changes"] == {"persist": "purged"}
    assert second["comment"] == "Target was already unmounted. fstab entry not found"
    assert "/srv/data" not in sh_out(box, "cat /etc/fstab")


def test_tmpfs_mounted_and_unmounted(container_factory: Callable[..., Container]) -> None:
    box = container_factory("--cap-add", "SYS_ADMIN")
    args = {"name": "/mnt/scratch", "device": "tmpfs", "fstype": "tmpfs", "mkmnt": True,
            "opts": "size=2m"}
    pending = one(box, "mount.mounted", test=True, **args)
    assert (pending["result"], pending["comment"]) == (
        None, "/mnt/scratch would be created and mounted")
    first, second = twice(box, "mount.mounted", **args)
    assert first["changes"] == {"mount": True, "persist": "new"}, first
    assert second["changes"] == {}
    assert second["comment"] == "Target was already mounted. Entry already exists in the fstab."
    assert " /mnt/scratch " in sh_out(box, "cat /proc/self/mountinfo")

    # A wanted option not in force remounts; once in force, nothing to do.
    options = {"name": "/srv/tmp", "device": "tmpfs", "fstype": "tmpfs", "mkmnt": True,
               "persist": False}
    assert one(box, "mount.mounted", **options)["changes"] == {"mount": True}
    pending = one(box, "mount.mounted", test=True, **options, opts="noexec")
    assert (pending["result"], pending["comment"]) == (
        None, "Remount would be forced because options (noexec) changed")
    first, second = twice(box, "mount.mounted", **options, opts="noexec")
    assert first["changes"] == {"umount": "Forced remount because options (noexec) changed"}
    assert (second["changes"], second["comment"]) == ({}, "Target was already mounted")
    line = next(x for x in sh_out(box, "cat /proc/self/mountinfo").splitlines()
                if " /srv/tmp " in x)
    assert "noexec" in line.split()[5].split(",")
    first, second = twice(box, "mount.unmounted", name="/mnt/scratch", persist=True)
    assert first["changes"] == {"umount": True, "persist": "purged"}
    assert second["comment"] == "Target was already unmounted. fstab entry not found"
    assert " /mnt/scratch " not in sh_out(box, "cat /proc/self/mountinfo")


def test_iptables_rules_chains_and_policy(container_factory: Callable[..., Container]) -> None:
    box = container_factory("--cap-add", "NET_ADMIN")
    install(box, "iptables")
    rule = {"name": "ssh", "chain": "INPUT", "proto": "tcp", "dport": 22, "jump": "ACCEPT",
            "comment": "ssh in", "save": "/etc/iptables/rules.v4"}
    pending = one(box, "iptables.append", test=True, **rule)
    assert pending["result"] is None and "needs to be set" in pending["comment"]
    first, second = twice(box, "iptables.append", **rule)
    assert first["changes"] == {"locale": "ssh"}
    assert first["comment"].startswith("Set and saved iptables rule ssh for ipv4\n")
    assert second["changes"] == {} and "already set" in second["comment"]
    listed = sh_out(box, "iptables -S INPUT")
    assert '-A INPUT -p tcp -m tcp --dport 22 -m comment --comment "ssh in" -j ACCEPT' in listed
    assert "--dport 22" in sh_out(box, "cat /etc/iptables/rules.v4")

    first, second = twice(box, "iptables.insert", name="lo", chain="INPUT", position=1,
                          **{"in-interface": "lo"}, jump="ACCEPT")
    assert first["changes"] == {"locale": "lo"} and second["changes"] == {}
    assert sh_out(box, "iptables -S INPUT").splitlines()[1] == "-A INPUT -i lo -j ACCEPT"

    first, second = twice(box, "iptables.chain_present", name="SALINE")
    assert first["comment"] == "iptables SALINE chain in filter table create success for ipv4"
    assert second["comment"] == "iptables SALINE chain is already exist in filter table for ipv4"
    first, second = twice(box, "iptables.set_policy", name="fwd", chain="FORWARD", policy="DROP")
    assert first["comment"] == "Set default policy for FORWARD to DROP family ipv4"
    assert second["changes"] == {}
    first, second = twice(box, "iptables.delete", name="ssh", chain="INPUT", proto="tcp",
                          dport=22, jump="ACCEPT", comment="ssh in")
    assert first["changes"] == {"locale": "ssh"} and second["changes"] == {}
    first, second = twice(box, "iptables.chain_absent", name="SALINE")
    assert first["changes"] == {"locale": "SALINE"}
    assert second["comment"] == "iptables SALINE chain is already absent in filter table for ipv4"
    assert "--dport 22" not in sh_out(box, "iptables -S INPUT")


def test_kmod_in_a_privileged_container(privileged: Callable[[], Container]) -> None:
    box = privileged()
    install(box, "kmod")
    if box.sh("test -r /proc/modules && modprobe --dry-run dummy").returncode != 0:
        pytest.skip("this kernel offers no loadable 'dummy' module to the container")
    first, second = twice(box, "kmod.present", name="dummy", persist=True)
    assert first["changes"] == {"dummy": "loaded"}
    assert (second["changes"], second["comment"]) == ({}, "Kernel module dummy is already present")
    first, second = twice(box, "kmod.absent", name="dummy", persist=True)
    assert first["changes"] == {"dummy": "removed"}
    assert second["comment"] == "Kernel module dummy is already removed"
