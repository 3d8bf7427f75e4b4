"""Core and static grains, read from the real host and from files we write."""

from __future__ import annotations

import os
import socket
import sys
import time
from pathlib import Path

import pytest

from common.version import __version__
from minion.grains.core import (
    compute_grains,
    core_grains,
    detect_virtual,
    list_disks,
    os_grains_from_release,
    parse_cpuinfo,
    parse_meminfo,
    parse_os_release,
    static_grains,
)


@pytest.fixture(scope="module")
def grains() -> dict[str, object]:
    return core_grains({"id": "minion-1"})


def test_core_grains_describe_this_host(grains: dict[str, object]) -> None:
    uname = os.uname()
    assert grains["id"] == "minion-1"
    assert grains["kernel"] == uname.sysname
    assert grains["kernelrelease"] == uname.release
    assert grains["kernelversion"] == uname.version
    assert grains["cpuarch"] == uname.machine
    assert grains["nodename"] == uname.nodename
    assert grains["num_cpus"] == os.cpu_count()
    assert grains["pythonversion"] == list(sys.version_info)
    assert grains["saline_version"] == __version__
    assert grains["saltversion"] == "3007.15"
    assert grains["saltversioninfo"] == [3007, 15]
    assert grains["pid"] == os.getpid()
    assert grains["uid"] == os.getuid()
    assert grains["gid"] == os.getgid()
    assert grains["path"] == os.environ.get("PATH", "")
    assert isinstance(grains["username"], str) and grains["username"]
    assert isinstance(grains["groupname"], str) and grains["groupname"]
    assert grains["localhost"] == socket.gethostname()


def test_id_defaults_to_hostname_when_config_has_none() -> None:
    assert core_grains({})["id"] == socket.gethostname()


def test_network_grains_are_consistent(grains: dict[str, object]) -> None:
    ipv4 = grains["ipv4"]
    assert isinstance(ipv4, list)
    assert "127.0.0.1" in ipv4
    assert ipv4 == sorted(ipv4)
    interfaces = grains["ip_interfaces"]
    assert isinstance(interfaces, dict)
    assert "127.0.0.1" in interfaces["lo"]
    flat = {a for addrs in interfaces.values() for a in addrs}
    assert set(ipv4) <= flat
    ipv6 = grains["ipv6"]
    assert isinstance(ipv6, list) and all("%" not in a for a in ipv6)
    assert isinstance(grains["hwaddr_interfaces"], dict)


def test_host_names_fit_together(grains: dict[str, object]) -> None:
    fqdn = grains["fqdn"]
    assert isinstance(fqdn, str) and fqdn
    assert grains["host"] == fqdn.split(".")[0]
    assert grains["domain"] == (fqdn.split(".", 1)[1] if "." in fqdn else "")
    assert isinstance(grains["fqdn_ip4"], list)


def test_memory_cpu_and_misc_grains(grains: dict[str, object]) -> None:
    if Path("/proc/meminfo").exists():
        kib = int(Path("/proc/meminfo").read_text().split("\n")[0].split()[1])
        assert grains["mem_total"] == kib // 1024
    assert isinstance(grains["swap_total"], int)
    assert isinstance(grains["cpu_model"], str)
    assert grains["virtual"] in {"physical", "container", "kvm", "VMware", "VirtualBox",
                                 "xen", "HyperV", "Parallels"}
    assert isinstance(grains["init"], str) and grains["init"]
    locale_info = grains["locale_info"]
    assert isinstance(locale_info, dict)
    assert {"defaultlanguage", "defaultencoding"} <= set(locale_info)
    disks = grains["disks"]
    assert isinstance(disks, list)
    assert not [d for d in disks if d.startswith(("loop", "ram"))]
    if Path("/etc/machine-id").exists():
        assert grains["machine_id"] == Path("/etc/machine-id").read_text().strip()
    if Path("/etc/os-release").exists():
        assert isinstance(grains["osmajorrelease"], int) or grains["osrelease"] == ""


def test_core_grains_are_fast() -> None:
    core_grains({"id": "warm"})  # first call pays for importing psutil
    start = time.perf_counter()
    core_grains({"id": "timed"})
    assert time.perf_counter() - start < 0.1


def test_parse_os_release_unquotes_values() -> None:
    text = 'NAME="Ubuntu"\n# comment\nVERSION_ID="22.04"\nID=ubuntu\nPRETTY=\'a b\'\n\nbad line\n'
    assert parse_os_release(text) == {
        "NAME": "Ubuntu", "VERSION_ID": "22.04", "ID": "ubuntu", "PRETTY": "a b",
    }


@pytest.mark.parametrize(
    ("release", "expected"),
    [
        (
            {"NAME": "Debian GNU/Linux", "ID": "debian", "VERSION_ID": "12",
             "VERSION_CODENAME": "bookworm"},
            {"os": "Debian", "os_family": "Debian", "osrelease": "12", "osmajorrelease": 12,
             "oscodename": "bookworm", "osfullname": "Debian GNU/Linux",
             "osfinger": "Debian-12"},
        ),
        (
            {"NAME": "Ubuntu", "ID": "ubuntu", "ID_LIKE": "debian", "VERSION_ID": "22.04",
             "VERSION": "22.04.4 LTS (Jammy Jellyfish)", "UBUNTU_CODENAME": "jammy"},
            {"os": "Ubuntu", "os_family": "Debian", "osrelease": "22.04", "osmajorrelease": 22,
             "oscodename": "jammy", "osfinger": "Ubuntu-22.04"},
        ),
        (
            {"NAME": "Rocky Linux", "ID": "rocky", "ID_LIKE": "rhel centos fedora",
             "VERSION_ID": "9.3"},
            {"os": "Rocky", "os_family": "RedHat", "osrelease": "9.3", "osmajorrelease": 9,
             "osrelease_info": [9, 3], "osfullname": "Rocky Linux",
             "osfinger": "Rocky Linux-9"},
        ),
        (
            {"NAME": "Alpine Linux", "ID": "alpine", "VERSION_ID": "3.19.1"},
            {"os": "Alpine", "os_family": "Alpine", "osmajorrelease": 3},
        ),
        (
            {"NAME": "openSUSE Leap", "ID": "opensuse-leap", "ID_LIKE": "suse opensuse",
             "VERSION_ID": "15.5"},
            {"os": "Leap", "os_family": "Suse", "osmajorrelease": 15},
        ),
        (
            {"NAME": "Arch Linux", "ID": "arch"},
            {"os": "Arch", "os_family": "Arch", "osrelease": ""},
        ),
        (
            {"NAME": "Zorin OS", "ID": "zorin", "ID_LIKE": "ubuntu debian", "VERSION_ID": "17",
             "VERSION": "17 (core)"},
            {"os": "Zorin OS", "os_family": "Debian", "oscodename": "core"},
        ),
    ],
)
def test_os_grains_follow_salt_names(release: dict[str, str], expected: dict[str, object]) -> None:
    got = os_grains_from_release(release)
    assert {k: got.get(k) for k in expected} == expected


def test_debian_without_version_id_uses_debian_version() -> None:
    got = os_grains_from_release({"ID": "debian", "NAME": "Debian GNU/Linux"}, "12.5")
    assert got["osrelease"] == "12.5"
    assert got["osmajorrelease"] == 12


def test_parse_cpuinfo_x86_and_arm() -> None:
    x86 = "processor\t: 0\nmodel name\t: AMD EPYC 7B13\nflags\t\t: fpu sse2 avx\n\n" \
          "processor\t: 1\nmodel name\t: AMD EPYC 7B13\n"
    assert parse_cpuinfo(x86) == {"cpu_model": "AMD EPYC 7B13", "cpu_flags": ["fpu", "sse2", "avx"]}
    arm = "processor : 0\nFeatures : fp asimd\n\nModel : Raspberry Pi 4 Model B Rev 1.4\n"
    assert parse_cpuinfo(arm)["cpu_model"] == "Raspberry Pi 4 Model B Rev 1.4"
    assert parse_cpuinfo("") == {"cpu_model": "", "cpu_flags": []}


def test_parse_meminfo_reports_mib() -> None:
    text = "MemTotal:       16307840 kB\nMemFree: 1 kB\nSwapTotal:       2097148 kB\n"
    assert parse_meminfo(text) == {"mem_total": 15925, "swap_total": 2047}
    assert parse_meminfo("") == {"mem_total": 0, "swap_total": 0}


def _tree(root: Path, files: dict[str, str]) -> str:
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content)
    return str(root)


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        ({}, {"virtual": "physical"}),
        ({".dockerenv": ""}, {"virtual": "container", "virtual_subtype": "Docker"}),
        ({"proc/1/cgroup": "0::/docker/abc123\n"},
         {"virtual": "container", "virtual_subtype": "Docker"}),
        ({"proc/1/cgroup": "12:cpu:/lxc/web1\n"},
         {"virtual": "container", "virtual_subtype": "LXC"}),
        ({"run/systemd/container": "lxc\n"}, {"virtual": "container", "virtual_subtype": "LXC"}),
        ({"run/systemd/container": "oci\n"}, {"virtual": "container"}),
        ({"sys/class/dmi/id/product_name": "KVM\n", "sys/class/dmi/id/sys_vendor": "Red Hat"},
         {"virtual": "kvm"}),
        ({"sys/class/dmi/id/product_name": "Standard PC", "sys/class/dmi/id/sys_vendor": "QEMU"},
         {"virtual": "kvm"}),
        ({"sys/class/dmi/id/product_name": "VMware Virtual Platform"}, {"virtual": "VMware"}),
        ({"sys/class/dmi/id/product_name": "Virtual Machine",
          "sys/class/dmi/id/sys_vendor": "Microsoft Corporation"}, {"virtual": "HyperV"}),
        ({"sys/class/dmi/id/product_name": "PowerEdge R640",
          "sys/class/dmi/id/sys_vendor": "Dell Inc."}, {"virtual": "physical"}),
    ],
)
def test_detect_virtual(tmp_path: Path, files: dict[str, str], expected: dict[str, str]) -> None:
    assert detect_virtual(_tree(tmp_path, files)) == expected


def test_list_disks_skips_loop_and_ram(tmp_path: Path) -> None:
    _tree(tmp_path, {
        "sda/queue/rotational": "1\n",
        "nvme0n1/queue/rotational": "0\n",
        "loop0/queue/rotational": "0\n",
        "ram0/queue/rotational": "0\n",
        "zram0/queue/rotational": "0\n",
    })
    assert list_disks(str(tmp_path)) == (["nvme0n1", "sda"], ["nvme0n1"])
    assert list_disks(str(tmp_path / "absent")) == ([], [])


def test_static_grains_merge_config_then_file(tmp_path: Path) -> None:
    (tmp_path / "grains").write_text("roles:\n  - web\n  - db\ndc: paris\n")
    opts = {"id": "m1", "grains": {"dc": "london", "rack": 4}}
    assert static_grains(opts, tmp_path) == {"dc": "paris", "rack": 4, "roles": ["web", "db"]}


def test_static_grains_without_file_or_config(tmp_path: Path) -> None:
    assert static_grains({}, tmp_path) == {}
    (tmp_path / "grains").write_text("")
    assert static_grains({}, tmp_path) == {}


def test_malformed_grains_file_names_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "grains"
    path.write_text("roles:\n  - web\n bad: [unclosed\n")
    with pytest.raises(ValueError, match=r"grains, line \d+") as info:
        static_grains({}, tmp_path)
    assert str(path) in str(info.value)


def test_grains_file_must_be_a_mapping(tmp_path: Path) -> None:
    (tmp_path / "grains").write_text("- just\n- a list\n")
    with pytest.raises(ValueError, match="expected a mapping"):
        static_grains({}, tmp_path)


def test_compute_grains_lets_static_grains_override_core(tmp_path: Path) -> None:
    (tmp_path / "grains").write_text("os: Custom\n")
    grains = compute_grains({"id": "m1", "grains": {"role": "web"}}, tmp_path)
    assert grains["os"] == "Custom"
    assert grains["role"] == "web"
    assert grains["id"] == "m1"
    assert grains["kernel"] == os.uname().sysname
