"""Names and addresses in the hosts file, like Salt's ``host`` state.

.. code-block:: yaml

    salt-master:
      host.present:
        - ip: 192.168.0.42

    old-name:
      host.absent:
        - ip: 192.168.0.42

    127.0.1.1:
      host.only:
        - hostnames: [web1.example.com, web1]

The file is ``/etc/hosts`` unless the minion option ``hosts_file`` names
another. Comments, blank lines and unrelated entries are kept as they are;
an alias is added to the first line of its address, or on a new line at the
end. The file is read and written through the ``file`` execution module
(``file.write`` is atomic).
"""

from __future__ import annotations

import ipaddress
import re
from typing import Any

from minion.context import Context
from minion.states import result

__all__ = ["absent", "only", "present"]


# --- pure: reading and editing the lines of a hosts file --------------------------------------


def _split(line: str) -> tuple[str, str]:
    """The entry part of a line and its trailing comment (with the spaces before it)."""
    cut = line.find("#")
    if cut < 0:
        return line, ""
    entry = line[:cut]
    body = entry.rstrip()
    return body, line[len(body):]


def _fields(line: str) -> list[str]:
    return _split(line)[0].split()


def parse(lines: list[str]) -> dict[str, list[str]]:
    """Map each address to its names, in file order (one address may span lines)."""
    found: dict[str, list[str]] = {}
    for line in lines:
        fields = _fields(line)
        if len(fields) >= 2:
            found.setdefault(fields[0], []).extend(fields[1:])
    return found


def add_alias(lines: list[str], addr: str, alias: str) -> list[str]:
    """Lines with `alias` added to the first line of `addr` (or on a new last line)."""
    out = list(lines)
    for i, line in enumerate(out):
        fields = _fields(line)
        if len(fields) >= 2 and fields[0] == addr:
            entry, comment = _split(line)
            out[i] = f"{entry.rstrip()} {alias}{comment}"
            return out
    return [*out, f"{addr}\t{alias}"]


def remove_alias(lines: list[str], addr: str, alias: str) -> list[str]:
    """Lines with `alias` taken off every line of `addr`; lines left without names go."""
    out: list[str] = []
    # The alias with the spaces after it, so the layout before it stays.
    token = re.compile(r"(?<=\s)" + re.escape(alias) + r"(?:\s+|$)")
    for line in lines:
        fields = _fields(line)
        if len(fields) < 2 or fields[0] != addr or alias not in fields[1:]:
            out.append(line)
            continue
        entry, comment = _split(line)
        head, rest = entry[: len(entry) - len(entry.lstrip())], entry.lstrip()
        rest = token.sub("", rest).rstrip()
        if len(rest.split()) > 1:
            out.append(head + rest + comment)
    return out


def _valid_ip(addr: str) -> bool:
    try:
        ipaddress.ip_address(addr)
    except ValueError:
        return False
    return True


# --- thin I/O through the file module --------------------------------------------------------


def _path(ctx: Context) -> str:
    return str(ctx.opts.get("hosts_file", "/etc/hosts"))


def _read(ctx: Context) -> list[str]:
    path = _path(ctx)
    if not ctx.call("file.file_exists", path):
        return []
    text: str = ctx.call("file.read", path)
    return text.splitlines()


def _write(ctx: Context, lines: list[str]) -> None:
    ctx.call("file.write", _path(ctx), args=lines)


def _ips(ip: Any) -> list[str]:
    items = ip if isinstance(ip, list | tuple) else [ip]
    return [str(item).strip() for item in items if item is not None and str(item).strip()]


# --- states ----------------------------------------------------------------------------------


def present(ctx: Context, name: str, ip: Any, clean: bool = False) -> dict[str, Any]:
    """Ensure the host name `name` is listed for each address in `ip`.

    name
        The host name.
    ip
        One address or a list of addresses.
    clean
        Also take `name` off addresses that are not in `ip` (by default
        those are kept, with a warning).

    CLI Example:

        minion call state.single host.present name=salt ip=192.168.0.42
    """
    ret = result.new(name)
    ips = _ips(ip)
    if not ips:
        return result.fail(ret, "No IP address given for host " + name)
    bad = [addr for addr in ips if not _valid_ip(addr)]
    if bad:
        return result.fail(ret, "\n".join(f"Invalid IP Address for {name} ({a})" for a in bad))
    lines = _read(ctx)
    hosts = parse(lines)
    comments: list[str] = []
    to_add = [a for a in ips if name not in hosts.get(a, [])]
    comments += [f"Host {name} ({a}) already present" for a in ips if a not in to_add]
    to_remove: list[str] = []
    for addr, aliases in hosts.items():
        if addr in ips or name not in aliases:
            continue
        if clean:
            to_remove.append(addr)
        else:
            ret.setdefault("warnings", []).append(
                f"Host {name} present for IP address {addr}. To get rid of this warning, "
                f"either run this state with 'clean' set to True to remove {name} from "
                f"{addr}, or add {addr} to the 'ip' argument.")
    if not to_add and not to_remove:
        return result.done(ret, "\n".join(comments))
    changes: dict[str, Any] = {}
    if to_add:
        changes["added"] = {addr: [name] for addr in to_add}
    if to_remove:
        changes["removed"] = {addr: [name] for addr in to_remove}
    if ctx.test:
        comments += [f"Host {name} ({a}) would be added" for a in to_add]
        comments += [f"Host {name} ({a}) would be removed" for a in to_remove]
        ret["changes"] = changes
        return result.done(ret, "\n".join(comments), None)
    for addr in to_add:
        lines = add_alias(lines, addr, name)
    for addr in to_remove:
        lines = remove_alias(lines, addr, name)
    _write(ctx, lines)
    comments += [f"Added host {name} ({a})" for a in to_add]
    comments += [f"Removed host {name} ({a})" for a in to_remove]
    ret["changes"] = changes
    return result.done(ret, "\n".join(comments))


def absent(ctx: Context, name: str, ip: Any) -> dict[str, Any]:
    """Ensure the host name `name` is not listed for the addresses in `ip`.

    name
        The host name.
    ip
        One address or a list of addresses.

    CLI Example:

        minion call state.single host.absent name=old ip=192.168.0.42
    """
    ret = result.new(name)
    lines = _read(ctx)
    hosts = parse(lines)
    ips = _ips(ip)
    gone = [a for a in ips if name in hosts.get(a, [])]
    comments = [f"Host {name} ({a}) already absent" for a in ips if a not in gone]
    if not gone:
        return result.done(ret, "\n".join(comments))
    if ctx.test:
        comments += [f"Host {name} ({a}) needs to be removed" for a in gone]
        ret["changes"] = {"host": name}
        return result.done(ret, "\n".join(comments), None)
    for addr in gone:
        lines = remove_alias(lines, addr, name)
    _write(ctx, lines)
    comments += [f"Removed host {name} ({a})" for a in gone]
    ret["changes"] = {"host": name}
    return result.done(ret, "\n".join(comments))


def set_only(lines: list[str], addr: str, names: str) -> list[str]:
    """Lines with the first line of `addr` set to exactly `names` (others of it dropped)."""
    out: list[str] = []
    new = f"{addr}\t\t{names}" if names.strip() else None
    placed = False
    for line in lines:
        fields = _fields(line)
        if not fields or line.strip().startswith("#") or fields[0] != addr:
            out.append(line)
            continue
        if not placed and new is not None:
            out.append(new)
        placed = True
    if not placed and new is not None:
        out.append(new)
    return out


def only(ctx: Context, name: str, hostnames: Any) -> dict[str, Any]:
    """Ensure the address `name` has exactly the names `hostnames`, in that order.

    name
        The IP address.
    hostnames
        One name or a list; an empty string removes the address's lines.

    CLI Example:

        minion call state.single host.only 127.0.1.1 hostnames='[web1.example.com, web1]'
    """
    ret = result.new(name)
    names = [hostnames] if isinstance(hostnames, str) else list(hostnames or [])
    lines = _read(ctx)
    old = " ".join(parse(lines).get(name, []))
    new = " ".join(str(x).strip() for x in names)
    if old == new:
        return result.done(ret, f'IP address {name} already set to "{new}"')
    if ctx.test:
        return result.done(ret, f'Would change {name} from "{old}" to "{new}"', None)
    _write(ctx, set_only(lines, name, new))
    ret["changes"] = {name: {"old": old, "new": new}}
    return result.done(ret, f'successfully changed {name} from "{old}" to "{new}"')
