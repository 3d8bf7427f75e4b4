"""pkg.* against real apt and dpkg in a container, with a .deb built on the spot.

The container has no network: the packages come from `dpkg-deb --build`
inside it, and nothing here touches the host's packages.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable

import pytest

from tests.docker.conftest import Container

PKG = "saline-hello"
DEBS = "/tmp/debs"

# `sh -c BUILD_DEB build VERSION PACKAGE DIR` writes DIR/PACKAGE_VERSION_all.deb,
# which installs /usr/bin/PACKAGE and the conffile /etc/PACKAGE.conf.
BUILD_DEB = r"""
set -eu
version="$1" pkg="$2" out="$3"
root="$(mktemp -d)"
mkdir -p "$root/DEBIAN" "$root/usr/bin" "$root/etc" "$out"
cat > "$root/DEBIAN/control" <<CONTROL
Package: $pkg
Version: $version
Architecture: all
Maintainer: saline tests <tests@example.invalid>
Description: saline's test package
 Prints a greeting; built by saline's Docker tests.
CONTROL
echo "/etc/$pkg.conf" > "$root/DEBIAN/conffiles"
echo "greeting=hello" > "$root/etc/$pkg.conf"
printf '#!/bin/sh\necho "hello from %s %s"\n' "$pkg" "$version" > "$root/usr/bin/$pkg"
chmod 0755 "$root/usr/bin/$pkg"
dpkg-deb --root-owner-group --build "$root" "$out/${pkg}_${version}_all.deb" >/dev/null
rm -rf "$root"
"""


def deb(version: str) -> str:
    return f"{DEBS}/{PKG}_{version}_all.deb"


def sources(version: str) -> str:
    return f"sources=[{{{PKG}: {deb(version)}}}]"


@pytest.fixture
def box(container_factory: Callable[..., Container]) -> Container:
    """A minion container without network access, holding saline-hello 1.0 and 2.0."""
    box = container_factory("--network", "none")
    for version in ("1.0", "2.0"):
        proc = box.sh(f"sh -c {shlex.quote(BUILD_DEB)} build {version} {PKG} {DEBS}")
        assert proc.returncode == 0, proc.stderr
    return box


def install_hello(box: Container) -> None:
    code, changes = box.call("pkg.install", sources("1.0"))
    assert (code, changes) == (0, {PKG: {"old": "", "new": "1.0"}})


def test_install_from_a_local_deb_then_query(box: Container) -> None:
    assert box.call("pkg.version", PKG) == (0, "")
    install_hello(box)
    assert box.sh(PKG).stdout == "hello from saline-hello 1.0\n"
    assert box.call("pkg.version", PKG) == (0, "1.0")
    assert box.call("pkg.version", PKG, "dpkg", "nosuch")[1] == {
        PKG: "1.0", "dpkg": box.sh("dpkg-query -W -f '${Version}' dpkg").stdout, "nosuch": ""}
    code, listed = box.call("pkg.list_pkgs")
    assert code == 0 and listed[PKG] == "1.0" and "python3" in listed
    assert box.call("pkg.install", sources("1.0")) == (0, {})
    assert box.call("pkg.install", sources("2.0")) == (0, {PKG: {"old": "1.0", "new": "2.0"}})
    assert box.call("pkg.install", PKG, "version='2.0'") == (0, {})  # apt knows it: installed
    assert box.call("pkg.install", PKG, "version='1.0'") == (  # a .deb, in no repository
        1, f"ERROR: pkg.install: E: Version '1.0' for '{PKG}' was not found")


def test_hold_blocks_upgrades_until_unhold(box: Container) -> None:
    install_hello(box)
    code, held = box.call("pkg.hold", PKG)
    assert code == 0
    assert held[PKG]["changes"] == {"old": "install", "new": "hold"}
    assert box.sh(f"dpkg --get-selections {PKG}").stdout.split() == [PKG, "hold"]
    assert box.call("pkg.hold", PKG)[1][PKG]["changes"] == {}

    code, error = box.call("pkg.install", sources("2.0"))
    assert code == 1
    assert error.startswith("ERROR: pkg.install: E: ") and "\n" not in error
    assert box.call("pkg.version", PKG) == (0, "1.0")

    code, released = box.call("pkg.unhold", PKG)
    assert (code, released[PKG]["changes"]) == (0, {"old": "hold", "new": "install"})
    assert box.sh(f"dpkg --get-selections {PKG}").stdout.split() == [PKG, "install"]
    assert box.call("pkg.install", sources("2.0")) == (0, {PKG: {"old": "1.0", "new": "2.0"}})


def test_remove_keeps_config_files_and_purge_drops_them(box: Container) -> None:
    install_hello(box)
    assert box.call("pkg.remove", PKG) == (0, {PKG: {"old": "1.0", "new": ""}})
    assert box.sh(f"command -v {PKG}").returncode != 0
    assert box.sh(f"test -f /etc/{PKG}.conf").returncode == 0
    assert box.call("pkg.list_pkgs", "removed=true") == (0, {PKG: "1.0"})
    assert box.call("pkg.remove", PKG) == (0, {})

    assert box.call("pkg.purge", PKG) == (0, {PKG: {"old": "1.0", "new": ""}})
    assert box.sh(f"test -e /etc/{PKG}.conf").returncode != 0
    assert box.call("pkg.list_pkgs", "removed=true") == (0, {})
    assert box.call("pkg.purge", PKG) == (0, {})


def test_purge_of_an_installed_package(box: Container) -> None:
    install_hello(box)
    assert box.call("pkg.purge", f"pkgs=[{PKG}, nosuch]") == (0, {PKG: {"old": "1.0", "new": ""}})
    assert box.sh(f"dpkg -s {PKG}").returncode != 0


def test_failures_are_one_clear_line(box: Container) -> None:
    code, error = box.call("pkg.install", "nosuch-package")
    assert code == 1
    assert error == "ERROR: pkg.install: E: Unable to locate package nosuch-package"
    code, error = box.call("pkg.install", sources("9.9"))
    assert (code, error) == (1, f"ERROR: pkg.install: sources: {PKG}: no such file {deb('9.9')}")
    code, held = box.call("pkg.hold", "nosuch")
    assert code == 1 and held["nosuch"]["result"] is False
