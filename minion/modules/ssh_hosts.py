"""known_hosts files, the known-hosts half of Salt's ``ssh`` module (exposed as ``ssh.*``).

Entries are read and removed with ``ssh-keygen -F``/``-R`` (which
understand hashed names) and new keys fetched with ``ssh-keyscan``. The
file is ``/etc/ssh/ssh_known_hosts``, or the user's ``.ssh/known_hosts``
when a user is given; ``config`` names another (relative to the user's
home). Return values are Salt's (``{"status": "updated", "old": ..., "new":
...}``, ``"add"``/``"update"``/``"exists"``), which the states read.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
from typing import Any

from minion.context import Context

__all__ = ["check_known_host", "get_known_host_entries", "hash_known_hosts",
           "recv_known_host_entries", "rm_known_host", "set_known_host"]

DEFAULT_PORT = 22
SYSTEM_FILE = "/etc/ssh/ssh_known_hosts"
USER_FILE = ".ssh/known_hosts"


def _fingerprint(key: str, hash_type: str | None) -> str | None:
    try:
        raw = base64.b64decode(key, validate=True)
    except (binascii.Error, ValueError):
        return None
    digest = hashlib.new((hash_type or "sha256").lower(), raw).hexdigest()
    return ":".join(digest[i:i + 2] for i in range(0, len(digest), 2))


def parse_entries(text: str, hash_type: str | None = None) -> list[dict[str, str]]:
    """``HOST ENC KEY`` lines as Salt's entries (comments and bad lines skipped)."""
    found = []
    for line in text.splitlines():
        words = line.split()
        if not words or words[0].startswith("#") or len(words) != 3:
            continue
        fingerprint = _fingerprint(words[2], hash_type)
        if fingerprint:
            found.append({"hostname": words[0], "key": words[2], "enc": words[1],
                          "fingerprint": fingerprint})
    return found


def ssh_hostname(hostname: str, port: Any = None) -> str:
    """The name ssh files use for a host on a port (``[host]:2222`` off port 22)."""
    if not port or int(port) == DEFAULT_PORT:
        return hostname
    return f"[{hostname}]:{port}"


def known_hosts_file(ctx: Context, config: str | None = None,
                     user: str | None = None) -> str | dict[str, str]:
    """The known_hosts path for `user` (or the system's), or Salt's error dict."""
    config = config or (USER_FILE if user else SYSTEM_FILE)
    if os.path.isabs(config):
        return config
    if not user:
        return {"status": "error", "error": "Cannot determine absolute path to file."}
    info = ctx.call("user.info", user) if "\0" not in user else {}
    if not info:
        return {"status": "error", "error": f"User {user} does not exist"}
    return os.path.join(info["home"], config)


def _host_arg(hostname: str) -> str:
    if not hostname or hostname.startswith("-") or any(c.isspace() for c in hostname):
        raise ValueError(f"invalid host name {hostname!r}")
    return hostname


def get_known_host_entries(ctx: Context, user: str | None, hostname: str,
                           config: str | None = None, port: Any = None,
                           fingerprint_hash_type: str | None = None) -> Any:
    """Return the entries for `hostname` in a known_hosts file (None when there are none).

    CLI Example:

        master run '*' ssh.get_known_host_entries root github.com
    """
    full = known_hosts_file(ctx, config, user)
    if isinstance(full, dict):
        return full
    name = ssh_hostname(_host_arg(hostname), port)
    out = ctx.run(["ssh-keygen", "-F", name, "-f", full]).stdout
    return parse_entries(out, fingerprint_hash_type) or None


def recv_known_host_entries(ctx: Context, hostname: str, enc: str | None = None,
                            port: Any = None, hash_known_hosts: bool = True, timeout: int = 5,
                            fingerprint_hash_type: str | None = None) -> Any:
    """Fetch a host's public keys with ssh-keyscan (None when none came back).

    CLI Example:

        master run '*' ssh.recv_known_host_entries github.com enc=ssh-ed25519
    """
    argv = ["ssh-keyscan"]
    if port:
        argv += ["-p", str(int(port))]
    if enc:
        argv += ["-t", str(enc)]
    if hash_known_hosts:
        argv.append("-H")
    argv += ["-T", str(int(timeout)), _host_arg(hostname)]
    entries: list[dict[str, str]] = []
    for _attempt in range(5):  # as Salt: a busy sshd may not answer the first scan
        entries = parse_entries(ctx.run(argv).stdout, fingerprint_hash_type)
        if entries:
            break
    return entries or None


def check_known_host(ctx: Context, user: str | None = None, hostname: str | None = None,
                     key: str | None = None, fingerprint: str | None = None,
                     config: str | None = None, port: Any = None,
                     fingerprint_hash_type: str | None = None) -> Any:
    """Say whether a host's key is known: ``exists``, ``update`` or ``add``.

    CLI Example:

        master run '*' ssh.check_known_host root github.com key='AAAA...'
    """
    if not hostname:
        return {"status": "error", "error": "hostname argument required"}
    entries = get_known_host_entries(ctx, user, hostname, config=config, port=port,
                                     fingerprint_hash_type=fingerprint_hash_type)
    if isinstance(entries, dict):
        return entries
    if not entries:
        return "add"
    if key:
        return "exists" if key in [e["key"] for e in entries] else "update"
    if fingerprint:
        return "exists" if fingerprint in [e["fingerprint"] for e in entries] else "update"
    return "exists"


def _chown(ctx: Context, path: str, user: str | None) -> None:
    if user and os.geteuid() == 0:
        info = ctx.call("user.info", user)
        os.chown(path, info["uid"], info["gid"])


def rm_known_host(ctx: Context, user: str | None = None, hostname: str | None = None,
                  config: str | None = None, port: Any = None) -> dict[str, Any]:
    """Remove every key of `hostname` from a known_hosts file.

    CLI Example:

        master run '*' ssh.rm_known_host root github.com
    """
    if not hostname:
        return {"status": "error", "error": "hostname argument required"}
    full = known_hosts_file(ctx, config, user)
    if isinstance(full, dict):
        return full
    if not os.path.isfile(full):
        return {"status": "error", "error": f"Known hosts file {full} does not exist"}
    out = ctx.run(["ssh-keygen", "-R", ssh_hostname(_host_arg(hostname), port), "-f", full])
    _chown(ctx, full, user)
    return {"status": "removed", "comment": "\n".join(
        x for x in (out.stdout.rstrip("\n"), out.stderr.rstrip("\n")) if x)}


def hash_known_hosts(ctx: Context, user: str | None = None,
                     config: str | None = None) -> dict[str, Any]:
    """Hash every host name in a known_hosts file (ssh-keygen -H).

    CLI Example:

        master run '*' ssh.hash_known_hosts root
    """
    full = known_hosts_file(ctx, config, user)
    if isinstance(full, dict):
        return full
    if not os.path.isfile(full):
        return {"status": "error", "error": f"Known hosts file {full} does not exist"}
    mode = os.stat(full).st_mode
    out = ctx.run(["ssh-keygen", "-H", "-f", full])
    os.chmod(full, mode)
    _chown(ctx, full, user)
    return {"status": "updated", "comment": (out.stdout + out.stderr).rstrip("\n")}


def _remove_lines(ctx: Context, full: str, name: str, enc: str | None) -> None:
    """Drop the lines ssh-keygen -F finds for `name` (of key type `enc` when given)."""
    out = ctx.run(["ssh-keygen", "-F", name, "-f", full]).stdout.splitlines()
    drop = set()
    for i in range(0, len(out) - 1, 2):
        words, entry = out[i].split(), out[i + 1].split()
        if len(entry) >= 2 and (enc is None or entry[-2] == enc) and words[-1].isdigit():
            drop.add(int(words[-1]))
    if drop:
        with open(full, encoding="utf-8") as handle:
            lines = handle.readlines()
        with open(full, "w", encoding="utf-8") as handle:
            handle.writelines(x for n, x in enumerate(lines, 1) if n not in drop)


def _wanted_entries(ctx: Context, hostname: str, key: str | None, enc: str | None,
                    fingerprint: str | None, port: Any, hash_known_hosts: bool, timeout: int,
                    hash_type: str | None) -> tuple[list[dict[str, Any]], dict[str, str] | None]:
    if key:
        return [{"hostname": hostname, "enc": enc, "key": key}], None
    remote = recv_known_host_entries(ctx, hostname, enc=enc, port=port,
                                     hash_known_hosts=hash_known_hosts, timeout=timeout,
                                     fingerprint_hash_type=hash_type)
    if not remote:
        return [], {"status": "error", "error": "Unable to receive remote host keys"}
    if fingerprint and fingerprint not in [e["fingerprint"] for e in remote]:
        return [], {"status": "error", "error": "Remote host public keys found but none of "
                                                 "their fingerprints match the one you have "
                                                 "provided"}
    return remote, None


def _write(ctx: Context, full: str, user: str | None, lines: list[str],
           mode: int | None) -> None:
    folder = os.path.dirname(full)
    if not os.path.isdir(folder):
        os.makedirs(folder)
        if user:
            _chown(ctx, folder, user)
            os.chmod(folder, 0o700)
    with open(full, "a", encoding="utf-8") as handle:
        handle.writelines(lines)
    _chown(ctx, full, user)
    os.chmod(full, mode if mode is not None else 0o600)


def set_known_host(ctx: Context, user: str | None = None, hostname: str | None = None,
                   fingerprint: str | None = None, key: str | None = None, port: Any = None,
                   enc: str | None = None, config: str | None = None,
                   hash_known_hosts: bool = True, timeout: int = 5,
                   fingerprint_hash_type: str | None = None) -> dict[str, Any]:
    """Add (or replace) a host's key in a known_hosts file.

    Without `key`, the keys are fetched with ssh-keyscan (and checked
    against `fingerprint` when given).

    CLI Example:

        master run '*' ssh.set_known_host root github.com enc=ssh-ed25519 key='AAAA...'
    """
    if not hostname:
        return {"status": "error", "error": "hostname argument required"}
    if port is not None and int(port) != DEFAULT_PORT and hash_known_hosts:
        return {"status": "error", "error": "argument port can not be used in conjunction "
                                            "with argument hash_known_hosts"}
    stored = get_known_host_entries(ctx, user, hostname, config=config, port=port,
                                    fingerprint_hash_type=fingerprint_hash_type)
    if isinstance(stored, dict):
        return stored
    keys = [e["key"] for e in stored or [] if enc is None or e["enc"] == enc]
    fingerprints = [e["fingerprint"] for e in stored or []]
    update = (not stored or bool(fingerprint and fingerprint not in fingerprints)
              or bool(key and key not in keys))
    if not update and (key or fingerprint):
        return {"status": "exists", "keys": keys}
    wanted, error = _wanted_entries(ctx, hostname, key, enc, fingerprint, port,
                                    hash_known_hosts, timeout, fingerprint_hash_type)
    if error:
        return error
    if not update and {e["key"] for e in wanted} == set(keys):
        return {"status": "exists", "keys": keys}
    full = known_hosts_file(ctx, config, user)
    if isinstance(full, dict):
        return full
    mode = None
    if os.path.isfile(full):
        mode = os.stat(full).st_mode
        _remove_lines(ctx, full, ssh_hostname(hostname, port), enc)
    lines = []
    for entry in wanted:
        host = entry["hostname"]
        if not (hash_known_hosts or port in (DEFAULT_PORT, None) or ":" in host):
            entry["port"] = port  # Salt reports the port with such an entry
            host = f"[{host}]:{port}"
        lines.append(f"{host} {entry['enc']} {entry['key']}\n")
    _write(ctx, full, user, lines, mode)
    if key and hash_known_hosts:
        hash_known_hosts_(ctx, user, full)
    return {"status": "updated", "old": stored, "new": wanted}


hash_known_hosts_ = hash_known_hosts
