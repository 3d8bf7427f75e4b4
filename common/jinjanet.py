"""Salt's IP address filters for jinja: ``is_ip``, ``ipv4``, ``ipaddr``, ``network_size``...

    {% if grains['fqdn_ip4'][0] | is_ip %}
    {{ ['10.0.0.1', '::1', 'x'] | ipv4 }}        -> ['10.0.0.1']
    {{ '10.0.0.0/30' | network_hosts }}          -> ['10.0.0.1', '10.0.0.2']

`options` is a comma list of properties the address must have (``private``,
``loopback``, ``multicast``, ``global``/``public``, ``link-local``,
``reserved``, ``site-local``, ``unspecified``).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from typing import Any

Address = ipaddress.IPv4Address | ipaddress.IPv6Address | ipaddress.IPv4Interface \
    | ipaddress.IPv6Interface

_PROPERTIES: dict[str, Callable[[Any], bool]] = {
    "global": lambda ip: not ip.is_private,
    "public": lambda ip: not ip.is_private,
    "link-local": lambda ip: ip.is_link_local,
    "linklocal": lambda ip: ip.is_link_local,
    "link_local": lambda ip: ip.is_link_local,
    "ll": lambda ip: ip.is_link_local,
    "loopback": lambda ip: ip.is_loopback,
    "lo": lambda ip: ip.is_loopback,
    "multicast": lambda ip: ip.is_multicast,
    "private": lambda ip: ip.is_private,
    "reserved": lambda ip: ip.is_reserved,
    "site-local": lambda ip: ip.version == 6 and ip.is_site_local,
    "site_local": lambda ip: ip.version == 6 and ip.is_site_local,
    "sl": lambda ip: ip.version == 6 and ip.is_site_local,
    "unspecified": lambda ip: ip.is_unspecified,
}


def _parse(value: Any) -> Address | None:
    try:
        return ipaddress.ip_address(value)
    except ValueError:
        pass
    try:
        return ipaddress.ip_interface(value)
    except ValueError:
        return None


def _checked(value: Any, version: int, options: str | None) -> str | None:
    """The address as text if it is of `version` and has every property asked for."""
    address = _parse(value)
    if address is None or address.version != version:
        return None
    wanted = [o.strip() for o in options.split(",")] if options else []
    for name, test in _PROPERTIES.items():
        if name in wanted and not test(address):
            return None
    return str(address)


def is_ipv4(value: Any, options: str | None = None) -> bool:
    """True if `value` is an IPv4 address (or address/prefix) with the given properties."""
    return _checked(value, 4, options) is not None


def is_ipv6(value: Any, options: str | None = None) -> bool:
    """True if `value` is an IPv6 address (or address/prefix) with the given properties."""
    return _checked(value, 6, options) is not None


def is_ip(value: Any, options: str | None = None) -> bool:
    """True if `value` is an IPv4 or IPv6 address."""
    return is_ipv4(value, options) or is_ipv6(value, options)


def _version_filter(value: Any, version: int, options: str | None) -> Any:
    if isinstance(value, str | bytes):
        return _checked(value, version, options)
    if isinstance(value, list | tuple):
        found = [_checked(v, version, options) for v in value]
        return [v for v in found if v is not None]
    return None


def ipv4(value: Any, options: str | None = None) -> Any:
    """The IPv4 addresses of a list (or the address itself, or None)."""
    return _version_filter(value, 4, options)


def ipv6(value: Any, options: str | None = None) -> Any:
    """The IPv6 addresses of a list (or the address itself, or None)."""
    return _version_filter(value, 6, options)


def ipaddr(value: Any, options: str | None = None) -> Any:
    """The IP addresses of a list, either version (or the address itself, or None)."""
    four, six = ipv4(value, options), ipv6(value, options)
    if four is None or six is None:
        return four or six
    return four + six


def _addresses(value: Any, options: str | None, version: int | None) -> list[str]:
    found = {4: ipv4, 6: ipv6}.get(version or 0, ipaddr)(value, options)
    if not found:
        return []
    return found if isinstance(found, list) else [found]


def _each(value: Any, options: str | None, version: int | None,
          fun: Callable[[str], Any]) -> Any:
    found = _addresses(value, options, version)
    if not found:
        return None
    if isinstance(value, list | tuple):
        return [fun(a) for a in found]
    return fun(found[0])


def ip_host(value: Any, options: str | None = None, version: int | None = None) -> Any:
    """The address with its prefix, e.g. ``192.168.0.1/28``."""
    return _each(value, options, version, lambda a: str(ipaddress.ip_interface(a)))


def network_hosts(value: Any, options: str | None = None, version: int | None = None) -> Any:
    """The host addresses of a network."""
    return _each(value, options, version, lambda a: [
        str(h) for h in ipaddress.ip_network(a, strict=False).hosts()])


def network_size(value: Any, options: str | None = None, version: int | None = None) -> Any:
    """How many addresses a network has."""
    return _each(value, options, version,
                 lambda a: ipaddress.ip_network(a, strict=False).num_addresses)


def ipwrap(value: Any) -> Any:
    """IPv6 addresses in square brackets (for URLs); anything else unchanged."""
    def wrap(item: Any) -> Any:
        if _checked(item, 6, None) is None:
            return item
        text = str(item)
        return text if text.startswith("[") else f"[{text}]"

    if isinstance(value, list | tuple):
        return [wrap(v) for v in value]
    return wrap(value)


FILTERS: dict[str, Callable[..., Any]] = {
    "is_ip": is_ip, "is_ipv4": is_ipv4, "is_ipv6": is_ipv6,
    "ipv4": ipv4, "ipv6": ipv6, "ipaddr": ipaddr, "ip_host": ip_host,
    "network_hosts": network_hosts, "network_size": network_size, "ipwrap": ipwrap,
}
