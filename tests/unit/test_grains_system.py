"""Grains Salt formulas read about the system: init, lsb, server_id, dns, gateways, efi..."""

from __future__ import annotations

from pathlib import Path

import pytest

from minion.grains import system


def test_server_id_is_salts() -> None:
    # Salt 3007.15 reports 1382249759 for the minion id "oracle".
    assert system.server_id("oracle") == 1382249759
    assert 0 <= system.server_id("") < 2**31


def test_salt_version_grains_name_the_compatible_release() -> None:
    grains = system.system_grains({"id": "m1", "master": "salt"}, {"os_family": "Debian"}, {})
    assert grains["saltversion"] == "3007.15"
    assert grains["saltversioninfo"] == [3007, 15]
    assert grains["saltversioninfo"] >= [3001]
    assert grains["master"] == "salt"
    assert grains["ps"] == "ps -efHww"
    assert set(grains["locale_info"]) == {
        "defaultlanguage", "defaultencoding", "detectedencoding", "timezone"}


OS_RELEASE = {"NAME": "Debian GNU/Linux", "VERSION_ID": "12", "VERSION_CODENAME": "bookworm",
              "PRETTY_NAME": "Debian GNU/Linux 12 (bookworm)", "ID": "debian"}


def test_lsb_grains_fall_back_to_os_release() -> None:
    assert system.lsb_grains("", OS_RELEASE) == {
        "lsb_distrib_id": "Debian GNU/Linux", "lsb_distrib_release": "12",
        "lsb_distrib_codename": "bookworm"}
    no_codename = {k: v for k, v in OS_RELEASE.items() if k != "VERSION_CODENAME"}
    assert system.lsb_grains("", no_codename)["lsb_distrib_codename"] == \
        "Debian GNU/Linux 12 (bookworm)"


def test_lsb_grains_from_lsb_release_file() -> None:
    text = ('DISTRIB_ID=Ubuntu\nDISTRIB_RELEASE=22.04\nDISTRIB_CODENAME=jammy\n'
            'DISTRIB_DESCRIPTION="Ubuntu 22.04.4 LTS"\n')
    assert system.lsb_grains(text, OS_RELEASE) == {
        "lsb_distrib_id": "Ubuntu", "lsb_distrib_release": "22.04",
        "lsb_distrib_codename": "jammy", "lsb_distrib_description": "Ubuntu 22.04.4 LTS"}


def _root(tmp_path: Path, cmdline: bytes, systemd: bool = False) -> str:
    (tmp_path / "proc/1").mkdir(parents=True)
    (tmp_path / "proc/1/cmdline").write_bytes(cmdline)
    if systemd:
        (tmp_path / "run/systemd/system").mkdir(parents=True)
    return str(tmp_path)


def test_init_systemd_when_booted_with_it(tmp_path: Path) -> None:
    assert system.init_system(_root(tmp_path, b"/sbin/init\x00", systemd=True)) == "systemd"


@pytest.mark.parametrize(("content", "expected"), [
    (b"\x7fELF ... SysVinit version 3.06 ...", "sysvinit"),
    (b"\x7fELF ... systemd ... sysvinit compat ...", "sysvinit"),  # Salt's order within a chunk
    (b"\x7fELF ... nothing known ...", "unknown"),
])
def test_init_from_the_init_binary(tmp_path: Path, content: bytes, expected: str) -> None:
    binary = tmp_path / "bin/init"
    binary.parent.mkdir()
    binary.write_bytes(content)
    root = _root(tmp_path, b"/sbin/init\x00")
    assert system.init_system(root, which=lambda name: str(binary)) == expected


def test_init_name_split_across_chunks(tmp_path: Path) -> None:
    binary = tmp_path / "init"
    binary.write_bytes(b"x" * 14 + b"systemd" + b"y" * 20)
    assert system._init_from_binary(str(binary), chunk=16) == "systemd"


def test_init_from_supervisors_and_unknown(tmp_path: Path) -> None:
    root = _root(tmp_path, b"/usr/bin/tini\x00--\x00app\x00")
    paths = {"tini": "/usr/bin/tini"}
    assert system.init_system(root, which=paths.get) == "tini"
    assert system.init_system(root, which=lambda name: None) == "unknown"
    assert system.init_system(str(tmp_path / "nowhere")) == "unknown"


def test_osarch_uses_dpkg_names_on_debian_only() -> None:
    assert system.osarch("RedHat", "x86_64") == "x86_64"
    assert system.osarch("Debian", "x86_64") in ("amd64", "i386", "x32")


def test_kernel_params() -> None:
    got = system.kernel_params('quiet console=ttyS0 root="/dev/vda1" ro\n')
    assert got == {"kernelparams": [["quiet", None], ["console", "ttyS0"],
                                    ["root", "/dev/vda1"], ["ro", None]]}
    assert system.kernel_params("") == {}


def test_dns_grain() -> None:
    text = ("# comment\nnameserver 10.0.0.53\nnameserver fd00::53 # v6\nnameserver bad\n"
            "search example.com corp.example.com\noptions ndots:2\noptions ndots:2\n"
            "sortlist 10.0.0.0/8\n")
    assert system.dns_grain(text) == {"dns": {
        "nameservers": ["10.0.0.53", "fd00::53"], "ip4_nameservers": ["10.0.0.53"],
        "ip6_nameservers": ["fd00::53"], "sortlist": ["10.0.0.0/255.0.0.0"], "domain": "",
        "search": ["example.com", "corp.example.com"], "options": ["ndots:2"]}}


ROUTE = ("Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n"
         "eth0\t00000000\t010200C0\t0003\t0\t0\t0\t00000000\t0\t0\t0\n"
         "eth0\t000200C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n")
ROUTE6 = ("00000000000000000000000000000000 00 00000000000000000000000000000000 00 "
          "fd000000000000000000000000000001 00000400 00000000 00000000 00000003 eth0\n")


def test_gateways_from_proc(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "route").write_text(ROUTE)
    (tmp_path / "ipv6_route").write_text(ROUTE6)
    monkeypatch.setattr(system.shutil, "which", lambda name: "/usr/bin/ip")
    assert system.gateway_grains(str(tmp_path)) == {
        "ip_gw": True, "ip4_gw": "192.0.2.1", "ip6_gw": "fd00::1"}
    (tmp_path / "ipv6_route").write_text("")
    assert system.gateway_grains(str(tmp_path))["ip6_gw"] is False
    monkeypatch.setattr(system.shutil, "which", lambda name: None)
    assert system.gateway_grains(str(tmp_path)) == {}


def test_efi_grains(tmp_path: Path) -> None:
    assert system.efi_grains(str(tmp_path)) == {"efi": False, "efi-secure-boot": False}
    efivars = tmp_path / "sys/firmware/efi/efivars"
    efivars.mkdir(parents=True)
    (efivars / "SecureBoot-8be4df61-93ca-11d2-aa0d-00e098032b8c").write_bytes(b"\x06\0\0\0\x01")
    assert system.efi_grains(str(tmp_path)) == {"efi": True, "efi-secure-boot": True}
