"""Grains Salt formulas read about the system and about Salt itself.

init, systemd, lsb_distrib_*, osarch, server_id, saltversion(info),
locale_info, dns, default gateways, kernelparams, efi and a few more, named
and shaped as Salt 3007 reports them. Unlike `core`, three grains need a
command, each run once at start only when its tool exists (as Salt does):
``systemctl --version`` (the ``systemd`` grain, when systemctl and
localectl exist), ``dpkg --print-architecture`` (``osarch`` on Debian) and
``selinuxenabled``/``getenforce`` (``selinux``).

saline reports the Salt release it is compatible with, not its own version,
in ``saltversion`` (``"3007.15"``) and ``saltversioninfo`` (``[3007, 15]``):
formulas compare them to pick syntax that Salt release understands, and
saline answers as that release. Its own version is ``saline_version``.
"""

from __future__ import annotations

import contextlib
import hashlib
import ipaddress
import locale
import os
import re
import shlex
import shutil
import subprocess
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

SALT_VERSION_INFO = (3007, 15)
SALT_VERSION = ".".join(str(part) for part in SALT_VERSION_INFO)

# uname's machine -> the architecture dpkg names, for hosts without dpkg.
_DPKG_ARCH = {
    "x86_64": "amd64", "aarch64": "arm64", "armv7l": "armhf", "armv6l": "armel",
    "i386": "i386", "i486": "i386", "i586": "i386", "i686": "i386", "ppc64le": "ppc64el",
    "s390x": "s390x", "riscv64": "riscv64", "mips64": "mips64el",
}
_LSB_LINE = re.compile(r"^(DISTRIB_(?:ID|RELEASE|CODENAME|DESCRIPTION))=(?:'|\")?([\w\s.\-]+)")
_INIT_NAMES = (b"upstart", b"sysvinit", b"systemd")
_TIMEOUT = 5.0


def _read(path: str) -> str:
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            return fh.read()
    except OSError:
        return ""


def _output(argv: list[str]) -> tuple[int, str]:
    """Exit code and stdout of a short command (127 when it cannot run)."""
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=_TIMEOUT,
                              check=False, env={**os.environ, "LC_ALL": "C"})
    except (OSError, subprocess.SubprocessError):
        return 127, ""
    return done.returncode, done.stdout


def system_grains(opts: Mapping[str, Any], os_grains: Mapping[str, Any],
                  os_release: Mapping[str, str]) -> dict[str, Any]:
    """The grains of this module for this host; `os_grains` are the os* grains known so far,
    `os_release` the host's parsed os-release."""
    grains: dict[str, Any] = {
        "saltversion": SALT_VERSION,
        "saltversioninfo": list(SALT_VERSION_INFO),
        "server_id": server_id(str(opts.get("id") or "")),
        "master": opts.get("master", ""),
        "init": init_system(),
        "osarch": osarch(str(os_grains.get("os_family", "")), os.uname().machine),
        "locale_info": locale_info(),
        "cwd": os.getcwd(),
        "systempath": os.environ.get("PATH", "").strip().split(os.pathsep),
        "pythonpath": list(sys.path),
        "ps": "ps -efHww",
        "fibre_channel_host": os.path.isdir("/sys/class/fc_host"),
        "transactional": shutil.which("transactional-update") is not None,
    }
    # zpool-features exists in every ZFS release that still runs, so support
    # implies feature flags (Salt asks man(1); we do not spawn it for that).
    grains["zfs_support"] = grains["zfs_feature_flags"] = bool(
        shutil.which("zpool") and (os.path.exists("/sys/module/zfs") or shutil.which("zfs-fuse")))
    grains.update(lsb_grains(_read("/etc/lsb-release"), os_release))
    grains.update(efi_grains())
    grains.update(_optional(systemd_grain, "systemd"))
    grains.update(_optional(selinux_grain, "selinux"))
    grains.update(kernel_params(_read("/proc/cmdline")))
    grains.update(dns_grain(_read("/etc/resolv.conf")))
    grains.update(gateway_grains())
    zmq = _zmq_version()
    if zmq:
        grains["zmqversion"] = zmq
    return grains


def _optional(func: Callable[[], Any], name: str) -> dict[str, Any]:
    value = func()
    return {name: value} if value is not None else {}


def server_id(minion_id: str) -> int:
    """Salt's ``server_id``: a stable 31-bit integer derived from the minion id."""
    return abs(int(hashlib.sha256(minion_id.encode()).hexdigest(), 16) % (2**31))


def osarch(os_family: str, machine: str) -> str:
    """The package architecture: dpkg's name on Debian (``amd64``), else the CPU's."""
    if os_family != "Debian":
        return machine
    if shutil.which("dpkg"):
        code, out = _output(["dpkg", "--print-architecture"])
        if code == 0 and out.strip():
            return out.strip()
    return _DPKG_ARCH.get(machine, machine)


def lsb_grains(lsb_release: str, os_release: Mapping[str, str]) -> dict[str, str]:
    """lsb_distrib_* from /etc/lsb-release, else from os-release as Salt falls back.

    From os-release: id is NAME, release VERSION_ID, codename VERSION_CODENAME
    (else PRETTY_NAME).
    """
    grains: dict[str, str] = {}
    for line in lsb_release.splitlines():
        match = _LSB_LINE.match(line.rstrip("\n"))
        if match:
            grains[f"lsb_{match.group(1).lower()}"] = match.group(2).rstrip()
    if "lsb_distrib_id" in grains or not os_release:
        return grains
    if "NAME" in os_release:
        grains["lsb_distrib_id"] = os_release["NAME"].strip()
    if "VERSION_ID" in os_release:
        grains["lsb_distrib_release"] = os_release["VERSION_ID"]
    codename = os_release.get("VERSION_CODENAME") or os_release.get("PRETTY_NAME")
    if codename:
        grains["lsb_distrib_codename"] = codename
    return grains


def init_system(root: str = "/",
                which: Callable[[str], str | None] = shutil.which) -> str:
    """The init system as Salt names it: systemd, upstart, sysvinit, runit, tini... or unknown.

    `which` finds programs on PATH (tests give a fake one).
    """
    base = Path(root)
    if (base / "run/systemd/system").exists():
        return "systemd"
    try:
        raw = (base / "proc/1/cmdline").read_bytes()
    except OSError:
        return "unknown"
    cmdline = raw.decode("utf-8", "replace").replace("\x00", " ").split()
    if not cmdline:
        return "unknown"
    init_bin = which(cmdline[0])
    if init_bin is not None and init_bin.endswith("bin/init"):
        return _init_from_binary(init_bin)
    for tool in ("supervisord", "dumb-init", "tini"):
        found = which(tool)
        if found is not None and found in cmdline:
            return tool
    if cmdline == ["runit"] or "/sbin/my_init" in cmdline:
        return "runit"
    return "unknown"


def _init_from_binary(path: str, chunk: int = 262144) -> str:
    """Which init a binary is: read in chunks, the first chunk naming one decides, and
    within a chunk upstart beats sysvinit beats systemd (Salt's rule)."""
    edge_len = max(len(name) for name in _INIT_NAMES) - 1
    try:
        with open(path, "rb") as fh:
            edge = b""
            while block := fh.read(chunk):
                buf = edge + block.lower()
                for name in _INIT_NAMES:
                    if name in buf:
                        return name.decode()
                edge = buf[-edge_len:]
    except OSError:
        pass
    return "unknown"


def systemd_grain() -> dict[str, str] | None:
    """``{version, features}`` from ``systemctl --version``; None without systemctl/localectl."""
    if not (shutil.which("systemctl") and shutil.which("localectl")):
        return None
    code, out = _output(["systemctl", "--version"])
    version, features = "UNDEFINED", ""
    lines = out.splitlines()
    if code == 0 and len(lines) >= 2 and lines[0].startswith("systemd "):
        version, features = lines[0].split()[1], lines[1]
    return {"version": version, "features": features}


def selinux_grain() -> dict[str, Any] | None:
    """``{enabled, enforced}`` when the SELinux tools exist, else None."""
    if not shutil.which("selinuxenabled"):
        return None
    grain: dict[str, Any] = {"enabled": _output(["selinuxenabled"])[0] == 0}
    if shutil.which("getenforce"):
        grain["enforced"] = _output(["getenforce"])[1].strip()
    return grain


def locale_info() -> dict[str, Any]:
    """Salt's locale_info: the locale Python runs under, its encoding and the timezone."""
    import time

    try:
        language, encoding = locale.getlocale()
    except ValueError:
        language, encoding = "unknown", "unknown"
    return {
        "defaultlanguage": language,
        "defaultencoding": encoding,
        "detectedencoding": sys.getdefaultencoding(),
        "timezone": time.strftime("%Z"),
    }


def efi_grains(root: str = "/") -> dict[str, bool]:
    """efi (booted through UEFI) and efi-secure-boot."""
    base = Path(root, "sys/firmware/efi")
    varsdir = next((d for d in (base / "efivars", base / "vars") if d.exists()), None)
    secure = False
    if varsdir is not None:
        pattern = "SecureBoot-*" if varsdir.name == "efivars" else "SecureBoot-*/data"
        found = list(varsdir.glob(pattern))
        if len(found) == 1:
            with contextlib.suppress(OSError):
                secure = found[0].read_bytes()[-1:] == b"\x01"
    return {"efi": varsdir is not None, "efi-secure-boot": secure}


def kernel_params(cmdline: str) -> dict[str, Any]:
    """kernelparams: each boot parameter as [name, value] (value None for a bare flag)."""
    if not cmdline:
        return {}
    try:
        words = shlex.split(cmdline)
    except ValueError:
        words = cmdline.split()
    params = []
    for word in words:
        parts = word.split("=")
        params.append([parts[0], parts[1].strip('"') if len(parts) == 2 else None])
    return {"kernelparams": params}


def dns_grain(resolv_conf: str) -> dict[str, Any]:
    """The resolver configuration, as Salt's ``dns`` grain."""
    servers: list[str] = []
    search: list[str] = []
    sortlist: list[str] = []
    options: list[str] = []
    domain = ""
    for line in resolv_conf.splitlines():
        words = line.strip().split()
        if len(words) < 2:
            continue
        directive = words[0].lower()
        args = []
        for word in words[1:]:
            if word[0] in "#;":
                break
            args.append(word)
        if not args:
            continue
        if directive == "nameserver":
            try:
                address = str(ipaddress.ip_address(args[0]))
            except ValueError:
                continue
            if address not in servers:
                servers.append(address)
        elif directive == "domain":
            domain = args[0]
        elif directive == "search":
            search = args
        elif directive == "sortlist":
            for net in args:
                try:
                    text = ipaddress.ip_network(net, strict=False).with_netmask
                except ValueError:
                    continue
                if text not in sortlist:
                    sortlist.append(text)
        elif directive == "options" and args[0] not in options:
            options.append(args[0])
    return {"dns": {
        "nameservers": servers,
        "ip4_nameservers": [s for s in servers if ":" not in s],
        "ip6_nameservers": [s for s in servers if ":" in s],
        "sortlist": sortlist,
        "domain": domain,
        "search": search,
        "options": options,
    }}


def gateway_grains(proc_net: str = "/proc/net") -> dict[str, Any]:
    """ip4_gw, ip6_gw (the default gateway, True without one, False with no default route)
    and ip_gw; none of them on a host without the ``ip`` tool, as in Salt."""
    if not shutil.which("ip"):
        return {}
    ip4 = _default_v4(_read(f"{proc_net}/route"))
    ip6 = _default_v6(_read(f"{proc_net}/ipv6_route"))
    return {"ip_gw": bool(ip4 or ip6), "ip4_gw": ip4, "ip6_gw": ip6}


def _default_v4(text: str) -> str | bool:
    for line in text.splitlines()[1:]:
        fields = line.split()
        if len(fields) >= 8 and fields[1] == "00000000" and fields[7] == "00000000":
            gateway = int(fields[2], 16)
            if gateway == 0:
                return True
            return str(ipaddress.IPv4Address(gateway.to_bytes(4, "little")))
    return False


def _default_v6(text: str) -> str | bool:
    for line in text.splitlines():
        fields = line.split()
        if len(fields) >= 10 and fields[0] == "0" * 32 and fields[1] == "00" \
                and fields[9] != "lo":
            gateway = ipaddress.IPv6Address(int(fields[4], 16))
            return str(gateway) if int(gateway) else True
    return False


def _zmq_version() -> str:
    try:
        from common.transport.options import libzmq_version

        return libzmq_version()
    except ImportError:
        return ""
