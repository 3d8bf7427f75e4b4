"""A stand-in for psutil on hosts without it, for the zipapp only.

The minion's core grains read network addresses and memory through psutil.
On a host that has psutil the real one wins (this file is found last on
sys.path); without it these few calls read /proc and /sys instead, and
anything else says clearly that psutil is needed.
"""

from __future__ import annotations

import collections
import fcntl
import socket
import struct
from pathlib import Path
from typing import Any

AF_LINK = -1
snicaddr = collections.namedtuple("snicaddr", "family address netmask broadcast ptp")
_mem = collections.namedtuple("_mem", "total")
SIOCGIFADDR = 0x8915


def net_if_addrs() -> dict[str, list[Any]]:
    """Each interface's IPv4, IPv6 and link addresses."""
    found: dict[str, list[Any]] = {}
    for _index, name in socket.if_nameindex():
        entries = found.setdefault(name, [])
        ip4 = _ipv4(name)
        if ip4:
            entries.append(snicaddr(socket.AF_INET, ip4, None, None, None))
        mac = _read(f"/sys/class/net/{name}/address")
        if mac:
            entries.append(snicaddr(AF_LINK, mac, None, None, None))
    for line in _read("/proc/net/if_inet6").splitlines():
        words = line.split()
        if len(words) == 6:
            addr = socket.inet_ntop(socket.AF_INET6, bytes.fromhex(words[0]))
            found.setdefault(words[5], []).append(
                snicaddr(socket.AF_INET6, addr, None, None, None))
    return found


def virtual_memory() -> Any:
    """Total memory in bytes (only `total`)."""
    return _mem(_meminfo("MemTotal"))


def swap_memory() -> Any:
    """Total swap in bytes (only `total`)."""
    return _mem(_meminfo("SwapTotal"))


def __getattr__(name: str) -> Any:
    raise AttributeError(f"psutil.{name} needs psutil on this host (python3-psutil)")


def _ipv4(name: str) -> str:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        try:
            packed = fcntl.ioctl(sock.fileno(), SIOCGIFADDR,
                                 struct.pack("256s", name.encode()[:15]))
        except OSError:  # no IPv4 address on this interface
            return ""
    return socket.inet_ntoa(packed[20:24])


def _meminfo(key: str) -> int:
    for line in _read("/proc/meminfo").splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1]) * 1024
    return 0


def _read(path: str) -> str:
    try:
        return Path(path).read_text().strip()
    except OSError:
        return ""
