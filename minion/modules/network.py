"""Inspect the minion's network: interfaces, addresses, routes and reachability.

Shapes follow Salt's ``network`` module. Interfaces and addresses come from
psutil, default routes from /proc/net, and ``network.ping`` runs the host's
``ping`` command through ``ctx.run`` so tests can answer it with a fake.
"""

from __future__ import annotations

import contextlib
import ipaddress
import logging
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

import psutil

from minion.context import Context

__all__ = [
    "calc_net",
    "connect",
    "convert_cidr",
    "default_route",
    "get_fqdn",
    "get_hostname",
    "hwaddr",
    "in_subnet",
    "interfaces",
    "ip_addrs",
    "ip_addrs6",
    "ip_in_subnet",
    "ipaddrs",
    "ipaddrs6",
    "ping",
    "subnets",
    "subnets6",
]

# Route flags of /proc/net/route and /proc/net/ipv6_route (linux/route.h,
# linux/ipv6_route.h), with the letters netstat prints for them.
_RTF_LETTERS_V4: tuple[tuple[int, str], ...] = (
    (0x0001, "U"), (0x0002, "G"), (0x0004, "H"), (0x0010, "D"), (0x0020, "M"),
    (0x0200, "!"),
)
_RTF_LETTERS_V6: tuple[tuple[int, str], ...] = (
    (0x0001, "U"), (0x0200, "!"), (0x0002, "G"), (0x0004, "H"), (0x10000, "D"),
    (0x40000, "A"), (0x1000000, "C"), (0x400000, "e"),
)
log = logging.getLogger(__name__)

_RTF_UP = 0x0001
_RTF_REJECT = 0x0200
_FQDN_BUDGET = 2.0  # seconds we wait for the resolver in get_fqdn


def _netmask_prefix(netmask: str | None) -> str:
    if not netmask:
        return ""
    if netmask.isdigit():
        return netmask
    try:
        return str(bin(int(ipaddress.IPv6Address(netmask))).count("1"))
    except ValueError:
        return netmask


def _scope(address: str) -> str:
    ip = ipaddress.IPv6Address(address)
    if ip.is_loopback:
        return "host"
    if ip.is_link_local:
        return "link"
    if ip.is_site_local:
        return "site"
    return "global"


def interface_data(
    addrs: dict[str, list[Any]], stats: dict[str, Any]
) -> dict[str, dict[str, Any]]:
    """Salt's interface shape from psutil's net_if_addrs() and net_if_stats()."""
    result: dict[str, dict[str, Any]] = {}
    for ifname, entries in addrs.items():
        stat = stats.get(ifname)
        data: dict[str, Any] = {"hwaddr": "", "up": bool(stat.isup) if stat else False}
        inet: list[dict[str, str]] = []
        inet6: list[dict[str, str]] = []
        for entry in entries:
            if entry.family == socket.AF_INET:
                inet.append({"address": entry.address, "netmask": entry.netmask or "",
                             "broadcast": entry.broadcast or "", "label": ifname})
            elif entry.family == socket.AF_INET6:
                address = entry.address.split("%", 1)[0]
                inet6.append({"address": address, "prefixlen": _netmask_prefix(entry.netmask),
                              "scope": _scope(address)})
            elif entry.family == psutil.AF_LINK and entry.address:
                data["hwaddr"] = entry.address
        if inet:
            data["inet"] = inet
        if inet6:
            data["inet6"] = inet6
        result[ifname] = data
    return result


def interfaces(ctx: Context) -> dict[str, dict[str, Any]]:
    """Return every network interface with its MAC, state and addresses.

    The shape is Salt's: ``{name: {hwaddr, up, inet: [{address, netmask,
    broadcast, label}], inet6: [{address, prefixlen, scope}]}}``; an interface
    without IPv4 (or IPv6) addresses has no ``inet`` (or ``inet6``) key.

    CLI Example:

        master run '*' network.interfaces
    """
    return interface_data(psutil.net_if_addrs(), psutil.net_if_stats())


def _addresses(
    ctx: Context, family: str, interface: str | None, include_loopback: bool,
    cidr: str | None, type: str | None,
) -> list[str]:
    if type not in (None, "public", "private"):
        raise ValueError(f"type: expected 'public' or 'private', got {type!r}")
    network = ipaddress.ip_network(cidr, strict=False) if cidr else None
    found: set[ipaddress.IPv4Address | ipaddress.IPv6Address] = set()
    for ifname, data in interfaces(ctx).items():
        if interface is not None and ifname != interface:
            continue
        for entry in data.get(family, []):
            ip = ipaddress.ip_address(entry["address"])
            if ip.is_loopback and not include_loopback:
                continue
            if network is not None:
                if ip.version == network.version and ip in network:
                    found.add(ip)
            elif type is None or (type == "private") == ip.is_private:
                found.add(ip)
    return [str(ip) for ip in sorted(found)]


def ip_addrs(
    ctx: Context,
    interface: str | None = None,
    include_loopback: bool = False,
    cidr: str | None = None,
    type: str | None = None,
) -> list[str]:
    """Return the minion's IPv4 addresses, sorted.

    interface
        Only addresses of this interface (default: all of them).
    include_loopback
        Include 127.0.0.0/8 addresses (default False).
    cidr
        Only addresses inside this network, e.g. ``10.0.0.0/8``.
    type
        ``public`` or ``private`` to keep only those (ignored with cidr).

    CLI Example:

        master run '*' network.ip_addrs cidr=10.0.0.0/8
    """
    return _addresses(ctx, "inet", interface, include_loopback, cidr, type)


def ip_addrs6(
    ctx: Context,
    interface: str | None = None,
    include_loopback: bool = False,
    cidr: str | None = None,
    type: str | None = None,
) -> list[str]:
    """Return the minion's IPv6 addresses, sorted.

    interface
        Only addresses of this interface (default: all of them).
    include_loopback
        Include ``::1`` (default False).
    cidr
        Only addresses inside this network, e.g. ``fe80::/10``.
    type
        ``public`` or ``private`` to keep only those (ignored with cidr).

    CLI Example:

        master run '*' network.ip_addrs6 interface=eth0
    """
    return _addresses(ctx, "inet6", interface, include_loopback, cidr, type)


def ipaddrs(
    ctx: Context, interface: str | None = None, include_loopback: bool = False,
    cidr: str | None = None, type: str | None = None,
) -> list[str]:
    """Return the minion's IPv4 addresses, sorted (another name of ``network.ip_addrs``).

    CLI Example:

        master run '*' network.ipaddrs
    """
    return ip_addrs(ctx, interface, include_loopback, cidr, type)


def ipaddrs6(
    ctx: Context, interface: str | None = None, include_loopback: bool = False,
    cidr: str | None = None, type: str | None = None,
) -> list[str]:
    """Return the minion's IPv6 addresses, sorted (another name of ``network.ip_addrs6``).

    CLI Example:

        master run '*' network.ipaddrs6
    """
    return ip_addrs6(ctx, interface, include_loopback, cidr, type)


def calc_net(ctx: Context, ip_addr: str, netmask: str | None = None) -> str:
    """Return the network, in CIDR notation, that an address belongs to.

    ip_addr
        An address, optionally with a prefix: ``192.168.1.7/24``.
    netmask
        A netmask or prefix length for an address given without one.

    CLI Example:

        master run '*' network.calc_net 192.168.1.7 255.255.255.0
    """
    text = f"{ip_addr}/{netmask}" if netmask is not None else str(ip_addr)
    return str(ipaddress.ip_network(text, strict=False))


def convert_cidr(ctx: Context, cidr: str) -> dict[str, str]:
    """Return the network address, netmask and broadcast address of a CIDR network.

    CLI Example:

        master run '*' network.convert_cidr 172.31.0.0/16
    """
    net = ipaddress.ip_network(calc_net(ctx, cidr))
    return {"network": str(net.network_address), "netmask": str(net.netmask),
            "broadcast": str(net.broadcast_address)}


def _in_network(cidr: str, addresses: list[str]) -> bool:
    try:
        net = ipaddress.ip_network(cidr)
    except ValueError:
        log.error("Invalid CIDR '%s'", cidr)
        return False
    return any(ipaddress.ip_address(a) in net for a in addresses)


def ip_in_subnet(ctx: Context, ip_addr: str, cidr: str) -> bool:
    """Tell whether an address lies inside a network (``10.0.0.0/8``).

    CLI Example:

        master run '*' network.ip_in_subnet 172.17.0.4 172.16.0.0/12
    """
    return _in_network(cidr, list(ip_addr) if isinstance(ip_addr, list | tuple) else [ip_addr])


def in_subnet(ctx: Context, cidr: str) -> bool:
    """Tell whether one of this minion's addresses lies inside a network.

    CLI Example:

        master run '*' network.in_subnet 10.0.0.0/16
    """
    return _in_network(cidr, ip_addrs(ctx) + ip_addrs6(ctx))


def _subnets(ctx: Context, family: str, interfaces_: str | list[str] | None) -> list[str]:
    names = [interfaces_] if isinstance(interfaces_, str) else interfaces_
    found = set()
    for ifname, data in interfaces(ctx).items():
        if names is not None and ifname not in names:
            continue
        for entry in data.get(family, []):
            mask = entry.get("netmask") if family == "inet" else entry.get("prefixlen")
            iface = ipaddress.ip_interface(f"{entry['address']}/{mask}" if mask
                                           else entry["address"])
            if not iface.is_loopback:
                found.add(iface.network)
    return [str(net) for net in sorted(found)]


def subnets(ctx: Context, interfaces: str | list[str] | None = None) -> list[str]:
    """Return the IPv4 networks this minion is on (loopback left out), sorted.

    interfaces
        Only those of this interface (or list of interfaces).

    CLI Example:

        master run '*' network.subnets eth0
    """
    return _subnets(ctx, "inet", interfaces)


def subnets6(ctx: Context) -> list[str]:
    """Return the IPv6 networks this minion is on (loopback left out), sorted.

    CLI Example:

        master run '*' network.subnets6
    """
    return _subnets(ctx, "inet6", None)


def hwaddr(ctx: Context, iface: str) -> str:
    """Return the MAC address of one interface.

    iface
        The interface name, e.g. ``eth0``.

    CLI Example:

        master run '*' network.hwaddr eth0
    """
    found = interfaces(ctx)
    if iface not in found:
        raise ValueError(f"interface {iface!r} not found; the minion has: {', '.join(found)}")
    return str(found[iface]["hwaddr"])


def _flag_letters(flags: int, letters: tuple[tuple[int, str], ...]) -> str:
    return "".join(letter for bit, letter in letters if flags & bit)


def parse_route_v4(text: str) -> list[dict[str, Any]]:
    """Default routes from /proc/net/route text, in Salt's route shape."""
    routes = []
    for line in text.splitlines()[1:]:
        fields = line.split()
        if len(fields) < 8:
            continue
        flags = int(fields[3], 16)
        if fields[1] != "00000000" or fields[7] != "00000000" or not flags & _RTF_UP:
            continue
        gateway = socket.inet_ntoa(int(fields[2], 16).to_bytes(4, "little"))
        routes.append({"addr_family": "inet", "destination": "0.0.0.0", "gateway": gateway,
                       "netmask": "0.0.0.0", "flags": _flag_letters(flags, _RTF_LETTERS_V4),
                       "interface": fields[0]})
    return routes


def parse_route_v6(text: str) -> list[dict[str, Any]]:
    """Default routes from /proc/net/ipv6_route text, in Salt's route shape."""
    routes = []
    for line in text.splitlines():
        fields = line.split()
        if len(fields) < 10 or fields[0] != "0" * 32 or fields[1] != "00":
            continue
        flags = int(fields[8], 16)
        if not flags & _RTF_UP or flags & _RTF_REJECT:
            continue
        gateway = str(ipaddress.IPv6Address(bytes.fromhex(fields[4])))
        routes.append({"addr_family": "inet6", "destination": "::/0", "gateway": gateway,
                       "netmask": "", "flags": _flag_letters(flags, _RTF_LETTERS_V6),
                       "interface": fields[9]})
    return routes


def _read(path: str) -> str:
    try:
        with open(path, encoding="ascii", errors="replace") as fh:
            return fh.read()
    except OSError:
        return ""


def default_route(ctx: Context, family: str | None = None) -> list[dict[str, Any]]:
    """Return the default routes, as a list of route dicts.

    Each route is ``{addr_family, destination, gateway, netmask, flags,
    interface}``, read from /proc/net/route and /proc/net/ipv6_route.

    family
        ``inet`` or ``inet6`` for one family only (default: both).

    CLI Example:

        master run '*' network.default_route inet
    """
    if family not in (None, "inet", "inet6"):
        raise ValueError(f"family: expected 'inet' or 'inet6', got {family!r}")
    routes: list[dict[str, Any]] = []
    if family in (None, "inet"):
        routes += parse_route_v4(_read("/proc/net/route"))
    if family in (None, "inet6"):
        routes += parse_route_v6(_read("/proc/net/ipv6_route"))
    return routes


def _connect_once(address: tuple[Any, ...], family: int, proto: str, timeout: float) -> None:
    kind = socket.SOCK_DGRAM if proto == "udp" else socket.SOCK_STREAM
    with socket.socket(family, kind) as sock:
        sock.settimeout(timeout)
        if proto == "udp":
            sock.sendto(b"", address)
        else:
            sock.connect(address)


def connect(
    ctx: Context, host: str, port: int, proto: str = "tcp", timeout: float = 5
) -> dict[str, Any]:
    """Test whether the minion can open a connection to host:port.

    A UDP check only sends an empty datagram (UDP has no handshake), so it
    fails only when the host cannot be resolved or the send is refused.

    host
        Name or address to connect to.
    port
        Port number.
    proto
        ``tcp`` (default) or ``udp``.
    timeout
        Seconds to wait for the name lookup and the connection (default 5).

    CLI Example:

        master run '*' network.connect archlinux.org 80
    """
    proto = str(proto).lower()
    if proto not in ("tcp", "udp"):
        raise ValueError(f"proto: expected 'tcp' or 'udp', got {proto!r}")
    port = int(port)
    if not 0 < port < 65536:
        raise ValueError(f"port: expected 1-65535, got {port}")
    deadline = time.monotonic() + float(timeout)
    infos = _bounded(lambda: socket.getaddrinfo(host, port, 0, socket.SOCK_STREAM),
                     float(timeout))
    if not infos:
        return {"result": False, "comment": f"Unable to resolve host {host} on {proto} port {port}"}
    family, _, _, _, address = infos[0]
    where = f"{host} ({address[0]}) on {proto} port {port}"
    try:
        _connect_once(address, family, proto, max(deadline - time.monotonic(), 0.001))
    except OSError as exc:
        reason = "timed out" if isinstance(exc, TimeoutError) else exc.strerror or str(exc)
        return {"result": False, "comment": f"Unable to connect to {where}: {reason}"}
    return {"result": True, "comment": f"Successfully connected to {where}"}


def _bounded(func: Callable[[], Any], seconds: float) -> Any:
    """Call `func` in a daemon thread; None if it fails or is not done in `seconds`."""
    box: list[Any] = []

    def target() -> None:
        with contextlib.suppress(OSError, UnicodeError):
            box.append(func())

    thread = threading.Thread(target=target, name="network-lookup", daemon=True)
    thread.start()
    thread.join(seconds)
    return box[0] if box else None


def ping(
    ctx: Context, host: str, timeout: float | bool = False, return_boolean: bool = False
) -> str | bool:
    """Send four ICMP echo requests to a host with the ``ping`` command.

    host
        Name or address to ping.
    timeout
        Seconds to wait for each reply (``ping -W``); default: ping's own.
    return_boolean
        Return True or False for reachable or not instead of ping's output.

    CLI Example:

        master run '*' network.ping archlinux.org return_boolean=True
    """
    host = str(host).strip()
    if not host or host.startswith("-") or any(c.isspace() for c in host):
        raise ValueError(f"host: not a host name or address: {host!r}")
    argv = ["ping", "-c", "4"]
    if timeout:
        argv += ["-W", f"{float(timeout):g}"]
    argv.append(host)
    per_reply = float(timeout) if timeout else 10.0
    result = ctx.run(argv, timeout=4 * per_reply + 5)
    if result.retcode == 127 and not result.stdout:
        raise RuntimeError("the ping command is not installed on this minion "
                           "(install iputils-ping or inetutils-ping)")
    if return_boolean:
        return result.retcode == 0
    if result.retcode != 0:
        ctx.retcode = result.retcode
    return "\n".join(part for part in (result.stdout.rstrip(), result.stderr.rstrip()) if part)


def get_hostname(ctx: Context) -> str:
    """Return the minion's host name.

    CLI Example:

        master run '*' network.get_hostname
    """
    return socket.gethostname()


def get_fqdn(ctx: Context) -> str:
    """Return the minion's fully qualified domain name (its host name if DNS is slow).

    CLI Example:

        master run '*' network.get_fqdn
    """
    name = socket.gethostname()
    fqdn = _bounded(socket.getfqdn, _FQDN_BUDGET)
    return str(fqdn) if fqdn else name
