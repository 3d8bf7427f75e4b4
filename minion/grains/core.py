"""Core grains: what a minion knows about its host, computed once at start.

Names and shapes follow Salt's core grains so existing formulas that read
``grains['os_family']`` or ``grains['ipv4']`` keep working. Everything is
read from /proc, /sys, /etc and the standard library; no subprocesses, and no
DNS lookup that could block the minion's start (see `_resolve_quickly`).
Every file reader tolerates the file being absent, as it is in containers.
"""

from __future__ import annotations

import os
import socket
import sys
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from common.version import __version__
from minion.grains.system import system_grains

# os-release ID -> Salt's `os` grain.
_OS_NAMES: dict[str, str] = {
    "debian": "Debian",
    "ubuntu": "Ubuntu",
    "linuxmint": "Mint",
    "raspbian": "Raspbian",
    "devuan": "Devuan",
    "pop": "Pop",
    "kali": "Kali",
    "elementary": "elementary OS",
    "centos": "CentOS",
    "rhel": "RedHat",
    "fedora": "Fedora",
    "rocky": "Rocky",
    "almalinux": "AlmaLinux",
    "ol": "OEL",
    "amzn": "Amazon",
    "scientific": "Scientific",
    "arch": "Arch",
    "archarm": "Arch ARM",
    "manjaro": "Manjaro",
    "endeavouros": "EndeavourOS",
    "alpine": "Alpine",
    "sles": "SUSE",
    "sled": "SUSE",
    "opensuse": "openSUSE",
    "opensuse-leap": "Leap",
    "opensuse-tumbleweed": "openSUSE Tumbleweed",
    "gentoo": "Gentoo",
    "void": "Void",
    "nixos": "NixOS",
}

# Salt's `os` grain -> `os_family`.
_OS_FAMILIES: dict[str, str] = {
    "Debian": "Debian",
    "Ubuntu": "Debian",
    "Mint": "Debian",
    "Raspbian": "Debian",
    "Devuan": "Debian",
    "Pop": "Debian",
    "Kali": "Debian",
    "elementary OS": "Debian",
    "CentOS": "RedHat",
    "RedHat": "RedHat",
    "Fedora": "RedHat",
    "Rocky": "RedHat",
    "AlmaLinux": "RedHat",
    "OEL": "RedHat",
    "Amazon": "RedHat",
    "Scientific": "RedHat",
    "Arch": "Arch",
    "Arch ARM": "Arch",
    "Manjaro": "Arch",
    "EndeavourOS": "Arch",
    "Alpine": "Alpine",
    "SUSE": "Suse",
    "openSUSE": "Suse",
    "Leap": "Suse",
    "openSUSE Tumbleweed": "Suse",
    "Gentoo": "Gentoo",
    "Void": "Void",
    "NixOS": "NixOS",
}

# ID_LIKE words -> os_family, for distributions not in the tables above.
_FAMILY_LIKE: dict[str, str] = {
    "debian": "Debian",
    "ubuntu": "Debian",
    "rhel": "RedHat",
    "fedora": "RedHat",
    "centos": "RedHat",
    "arch": "Arch",
    "suse": "Suse",
    "opensuse": "Suse",
    "alpine": "Alpine",
    "gentoo": "Gentoo",
}

_DNS_BUDGET = 0.05  # seconds we are willing to wait for the local resolver


def compute_grains(opts: Mapping[str, Any], config_dir: str | os.PathLike[str]) -> dict[str, Any]:
    """Core grains, then custom grain modules, then the config's and grains file's."""
    from minion.grains.custom import custom_grains

    grains = core_grains(opts)
    grains.update(custom_grains(opts, grains))
    grains.update(static_grains(opts, config_dir))
    return grains


def static_grains(opts: Mapping[str, Any], config_dir: str | os.PathLike[str]) -> dict[str, Any]:
    """Grains set by hand: ``grains:`` in the minion config, then ``<config_dir>/grains``."""
    grains: dict[str, Any] = {}
    from_config = opts.get("grains")
    if isinstance(from_config, Mapping):
        grains.update(from_config)
    path = Path(config_dir) / "grains"
    if path.is_file():
        grains.update(_load_grains_file(path))
    return grains


def _load_grains_file(path: Path) -> dict[str, Any]:
    import yaml

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f", line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ValueError(f"{path}{where}: invalid YAML: {problem}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path}: cannot read: {exc}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ValueError(f"{path}, line 1: expected a mapping of grain names to values")
    return {str(k): v for k, v in data.items()}


def core_grains(opts: Mapping[str, Any]) -> dict[str, Any]:
    """Compute the host's core grains (Salt-compatible names)."""
    uname = os.uname()
    grains: dict[str, Any] = {
        "id": opts.get("id") or socket.gethostname(),
        "kernel": uname.sysname,
        "kernelrelease": uname.release,
        "kernelversion": uname.version,
        "cpuarch": uname.machine,
        "nodename": uname.nodename,
        "num_cpus": os.cpu_count() or 1,
        "pythonversion": list(sys.version_info),
        "pythonexecutable": sys.executable,
        "saline_version": __version__,
    }
    release = _os_release()
    grains.update(_os_grains(release))
    grains.update(_cpu_grains())
    grains.update(_memory_grains())
    grains.update(_network_grains())
    grains.update(_hostname_grains(grains["ipv4"]))
    grains.update(_virtual_grains())
    grains.update(_process_grains())
    grains["disks"], grains["ssds"] = _disks()
    grains.update(system_grains(opts, grains, release))
    machine_id = _read("/etc/machine-id") or _read("/var/lib/dbus/machine-id")
    if machine_id:
        grains["machine_id"] = machine_id
    return grains


def _read(path: str) -> str:
    """A small text file's stripped content, or '' when it is absent or unreadable."""
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            return fh.read().strip()
    except OSError:
        return ""


def parse_os_release(text: str) -> dict[str, str]:
    """Parse os-release(5) ``KEY=value`` lines, unquoting values."""
    import shlex

    info: dict[str, str] = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.partition("=")
        try:
            parts = shlex.split(value)
        except ValueError:
            parts = [value.strip("\"'")]
        info[key.strip()] = " ".join(parts)
    return info


def os_grains_from_release(info: Mapping[str, str], debian_version: str = "") -> dict[str, Any]:
    """Salt's os, os_family, osrelease... grains from parsed os-release data."""
    os_id = info.get("ID", "").lower()
    name = _OS_NAMES.get(os_id) or info.get("NAME", "") or os.uname().sysname
    family = _OS_FAMILIES.get(name)
    if family is None:
        likes = info.get("ID_LIKE", "").lower().split()
        family = next((_FAMILY_LIKE[w] for w in likes if w in _FAMILY_LIKE), name)
    release = info.get("VERSION_ID", "")
    if not release and os_id == "debian" and debian_version[:1].isdigit():
        release = debian_version
    codename = info.get("VERSION_CODENAME") or info.get("UBUNTU_CODENAME", "")
    if not codename and "(" in info.get("VERSION", ""):
        codename = info["VERSION"].split("(", 1)[1].rstrip(")").strip()
    fullname = info.get("NAME", name).strip()
    grains: dict[str, Any] = {
        "os": name,
        "os_family": family,
        "osfullname": fullname,
        "osrelease": release,
        "oscodename": codename,
    }
    info_parts = [int(p) if p.isdigit() else p for p in release.split(".") if p]
    grains["osrelease_info"] = info_parts
    if info_parts and isinstance(info_parts[0], int):
        grains["osmajorrelease"] = info_parts[0]
    major = release if name in ("Ubuntu", "Pop") else release.split(".")[0]
    # Salt names a few distributions by `os` here, the others by osfullname.
    finger = name if name in ("Debian", "Raspbian") else fullname
    grains["osfinger"] = f"{finger}-{major}" if major else finger
    return grains


def _os_release() -> dict[str, str]:
    """This host's parsed os-release (empty when it has none); read once at start."""
    return parse_os_release(_read("/etc/os-release") or _read("/usr/lib/os-release"))


def _os_grains(release: Mapping[str, str]) -> dict[str, Any]:
    if not release:
        sysname = os.uname().sysname
        return {"os": sysname, "os_family": sysname, "osfullname": sysname,
                "osrelease": os.uname().release, "oscodename": "", "osfinger": sysname}
    return os_grains_from_release(release, _read("/etc/debian_version"))


def parse_cpuinfo(text: str) -> dict[str, Any]:
    """cpu_model and cpu_flags (in /proc/cpuinfo's order, as Salt) from /proc/cpuinfo."""
    fields: dict[str, str] = {}
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        key = key.strip()
        if sep and key not in fields:
            fields[key] = value.strip()
    model = (fields.get("model name") or fields.get("Model") or fields.get("cpu model")
             or fields.get("Processor") or fields.get("cpu") or "")
    flags = fields.get("flags") or fields.get("Features") or ""
    return {"cpu_model": model, "cpu_flags": flags.split()}


def _cpu_grains() -> dict[str, Any]:
    return parse_cpuinfo(_read("/proc/cpuinfo"))


def parse_meminfo(text: str) -> dict[str, int]:
    """mem_total and swap_total in MiB from /proc/meminfo, as Salt reports them."""
    kib: dict[str, int] = {}
    for line in text.splitlines():
        key, _, rest = line.partition(":")
        parts = rest.split()
        if parts and parts[0].isdigit():
            kib[key.strip()] = int(parts[0])
    return {"mem_total": kib.get("MemTotal", 0) // 1024,
            "swap_total": kib.get("SwapTotal", 0) // 1024}


def _memory_grains() -> dict[str, int]:
    text = _read("/proc/meminfo")
    if text:
        return parse_meminfo(text)
    try:
        import psutil

        return {"mem_total": psutil.virtual_memory().total // 1048576,
                "swap_total": psutil.swap_memory().total // 1048576}
    except Exception:
        return {"mem_total": 0, "swap_total": 0}


def _network_grains() -> dict[str, Any]:
    import psutil

    ip4: dict[str, list[str]] = {}
    ip6: dict[str, list[str]] = {}
    hwaddr: dict[str, str] = {}
    try:
        addrs = psutil.net_if_addrs()
    except Exception:  # no /proc/net or no permission: report no addresses
        addrs = {}
    for ifname, entries in addrs.items():
        ip4[ifname], ip6[ifname] = [], []
        for entry in entries:
            if entry.family == socket.AF_INET:
                ip4[ifname].append(entry.address)
            elif entry.family == socket.AF_INET6:
                ip6[ifname].append(entry.address.split("%", 1)[0])
            elif entry.family == psutil.AF_LINK and entry.address:
                hwaddr[ifname] = entry.address
    return {
        "ipv4": sorted({a for v in ip4.values() for a in v}),
        "ipv6": sorted({a for v in ip6.values() for a in v}),
        "ip4_interfaces": ip4,
        "ip6_interfaces": ip6,
        "ip_interfaces": {name: ip4[name] + ip6[name] for name in ip4},
        "hwaddr_interfaces": hwaddr,
    }


def _hosts_entries(text: str) -> list[tuple[str, list[str]]]:
    entries = []
    for line in text.splitlines():
        fields = line.split("#", 1)[0].split()
        if len(fields) >= 2:
            entries.append((fields[0], fields[1:]))
    return entries


def _resolve_quickly(name: str) -> tuple[str, list[str]] | None:
    """Canonical name and addresses of `name`, or None if the resolver is slow.

    The lookup runs in a daemon thread; if it has not answered within the
    budget we give up and let the thread finish on its own.
    """
    box: list[tuple[str, list[str]]] = []

    def lookup() -> None:
        try:
            infos = socket.getaddrinfo(name, None, 0, socket.SOCK_STREAM, 0, socket.AI_CANONNAME)
        except (OSError, UnicodeError):
            return
        canon = next((i[3] for i in infos if i[3]), name)
        box.append((canon, [str(i[4][0]) for i in infos]))

    thread = threading.Thread(target=lookup, name="grains-dns", daemon=True)
    thread.start()
    thread.join(_DNS_BUDGET)
    return box[0] if box else None


def _hostname_grains(local_ipv4: list[str]) -> dict[str, Any]:
    localhost = socket.gethostname()
    short = localhost.split(".", 1)[0]
    fqdn = localhost if "." in localhost else ""
    addrs: list[str] = []
    for address, names in _hosts_entries(_read("/etc/hosts")):
        if localhost in names or short in names:
            addrs.append(address)
            fqdn = fqdn or next((n for n in names if "." in n and n.startswith(short + ".")), "")
    resolved = None if fqdn and addrs else _resolve_quickly(localhost)
    if resolved is not None:
        canon, found = resolved
        if not fqdn and canon.startswith(short + "."):
            fqdn = canon
        addrs.extend(found)
    fqdn = fqdn or localhost
    ip4 = sorted({a for a in addrs if ":" not in a})
    ip6 = sorted({a for a in addrs if ":" in a})
    return {
        "localhost": localhost,
        "fqdn": fqdn,
        "host": fqdn.split(".", 1)[0],
        "domain": fqdn.split(".", 1)[1] if "." in fqdn else "",
        "fqdn_ip4": ip4 or [a for a in local_ipv4 if not a.startswith("127.")],
        "fqdn_ip6": ip6,
    }


def detect_virtual(root: str = "/") -> dict[str, str]:
    """Salt's ``virtual`` (and ``virtual_subtype``) grains, looking under `root`."""
    base = Path(root)

    def read(rel: str) -> str:
        return _read(str(base / rel))

    container = read("run/systemd/container")
    cgroup = read("proc/1/cgroup")
    if (base / ".dockerenv").exists() or "docker" in cgroup or container == "docker":
        return {"virtual": "container", "virtual_subtype": "Docker"}
    if (base / "run/.containerenv").exists() or container == "podman":
        return {"virtual": "container", "virtual_subtype": "Podman"}
    if container.startswith("lxc") or "/lxc/" in cgroup:
        return {"virtual": "container", "virtual_subtype": "LXC"}
    if container == "systemd-nspawn":
        return {"virtual": "container", "virtual_subtype": "systemd-nspawn"}
    if "kubepods" in cgroup or container:
        return {"virtual": "container"}
    product = read("sys/class/dmi/id/product_name")
    vendor = read("sys/class/dmi/id/sys_vendor")
    both = f"{product} {vendor}"
    for needle, virtual in (("VMware", "VMware"), ("VirtualBox", "VirtualBox"),
                            ("KVM", "kvm"), ("QEMU", "kvm"), ("Bochs", "kvm"),
                            ("Google Compute Engine", "kvm"), ("Amazon EC2", "kvm"),
                            ("Parallels", "Parallels"), ("Xen", "xen")):
        if needle in both:
            return {"virtual": virtual}
    if "Microsoft" in vendor and "Virtual Machine" in product:
        return {"virtual": "HyperV"}
    if read("sys/hypervisor/type") == "xen":
        return {"virtual": "xen"}
    return {"virtual": "physical"}


def _virtual_grains() -> dict[str, str]:
    return detect_virtual("/")


def _process_grains() -> dict[str, Any]:
    import grp
    import pwd

    uid, gid = os.getuid(), os.getgid()
    try:
        user = pwd.getpwuid(uid)
        username, login_shell = user.pw_name, user.pw_shell
    except KeyError:
        username, login_shell = str(uid), "/bin/sh"
    try:
        groupname = grp.getgrgid(gid).gr_name
    except KeyError:
        groupname = str(gid)
    return {
        "uid": uid,
        "gid": gid,
        "username": username,
        "groupname": groupname,
        "pid": os.getpid(),
        "shell": os.environ.get("SHELL") or login_shell or "/bin/sh",
        "path": os.environ.get("PATH", ""),
    }


def list_disks(sys_block: str = "/sys/block") -> tuple[list[str], list[str]]:
    """Block devices (no loop, ram or zram) and those of them that do not rotate."""
    try:
        names = sorted(os.listdir(sys_block))
    except OSError:
        return [], []
    disks = [n for n in names if not n.startswith(("loop", "ram", "zram"))]
    ssds = [n for n in disks if _read(f"{sys_block}/{n}/queue/rotational") == "0"]
    return disks, ssds


def _disks() -> tuple[list[str], list[str]]:
    return list_disks()
