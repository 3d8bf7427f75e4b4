"""Users' authorized_keys files, like the authorized-keys half of Salt's ``ssh`` module.

A key line is ``[options] ENC KEY [comment]``; keys are told apart by their
base64 part. The file is the user's ``.ssh/authorized_keys`` unless
``config`` names another (relative to the home directory; ``%u`` and ``%h``
stand for the user and the home directory, as in sshd_config). A new file is
0600 and a new directory 0700, both owned by the user. Salt's return words
(``new``, ``replace``, ``no change``, ``Key removed`` ...) are kept: the
``ssh_auth`` states read them. Known-hosts functions live in ``ssh_hosts``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import re
from pathlib import Path
from typing import Any

from common.atomic import write_atomic
from minion.context import Context
from minion.modules.ssh_hosts import (
    check_known_host,
    get_known_host_entries,
    hash_known_hosts,
    recv_known_host_entries,
    rm_known_host,
    set_known_host,
)

# The *_known_host* functions live in minion/modules/ssh_hosts.py.
__all__ = ["auth_keys", "check_key", "check_key_file", "check_known_host",
           "get_known_host_entries", "hash_known_hosts", "recv_known_host_entries",
           "rm_auth_key", "rm_auth_key_from_file", "rm_known_host", "set_auth_key",
           "set_auth_key_from_file", "set_known_host"]

AUTH_KEYS = ".ssh/authorized_keys"
KEY_LINE = re.compile(r"^(.*?)\s?((?:sk-)?(?:ssh\-|ecds)[\w@.-]+\s.+)$")

_ALIASES = {"r": "ssh-rsa", "rsa": "ssh-rsa", "ssh-rsa": "ssh-rsa", "d": "ssh-dss",
            "dsa": "ssh-dss", "dss": "ssh-dss", "ssh-dss": "ssh-dss",
            "e": "ecdsa-sha2-nistp256", "ecdsa": "ecdsa-sha2-nistp256",
            "ed25519": "ssh-ed25519", "ssh-ed25519": "ssh-ed25519"}
_ALSO = {"ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521",
         "rsa-sha2-512", "rsa-sha2-256", "rsa-sha2-512-cert-v01@openssh.com",
         "rsa-sha2-256-cert-v01@openssh.com", "ssh-rsa-cert-v01@openssh.com",
         "ecdsa-sha2-nistp256-cert-v01@openssh.com", "ecdsa-sha2-nistp384-cert-v01@openssh.com",
         "ecdsa-sha2-nistp521-cert-v01@openssh.com", "sk-ecdsa-sha2-nistp256@openssh.com",
         "sk-ecdsa-sha2-nistp256-cert-v01@openssh.com", "ssh-ed25519-cert-v01@openssh.com",
         "sk-ssh-ed25519@openssh.com", "sk-ssh-ed25519-cert-v01@openssh.com"}


class SshError(Exception):
    """A key file or key type the functions cannot work with (the message says why)."""


# --- pure: key lines ---------------------------------------------------------------------


def refine_enc(enc: str) -> str:
    """The full key type for a short name (``rsa`` -> ``ssh-rsa``); SshError if unknown."""
    if enc in _ALIASES:
        return _ALIASES[enc]
    if enc in _ALSO:
        return enc
    raise SshError(f"Incorrect encryption key type '{enc}'.")


def fingerprint(key: str, hash_type: str | None = None) -> str | None:
    """The key's ``aa:bb:..`` fingerprint; None when it is not base64."""
    name = (hash_type or "sha256").lower()
    if name not in hashlib.algorithms_available:
        raise SshError(f"The fingerprint_hash_type {name} is not supported.")
    try:
        raw = base64.b64decode(key, validate=True)
    except (binascii.Error, ValueError):
        return None
    digest = hashlib.new(name, raw).hexdigest()
    return ":".join(digest[i:i + 2] for i in range(0, len(digest), 2))


def auth_line(key: str, enc: str, comment: str, options: list[str] | None) -> str:
    head = f"{','.join(options)} " if options else ""
    return f"{head}{enc} {key} {comment}\n"


def parse_keys(text: str, hash_type: str | None = None) -> dict[str, dict[str, Any]]:
    """The keys of an authorized_keys text: ``{key: {enc, comment, options, fingerprint}}``."""
    found: dict[str, dict[str, Any]] = {}
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        match = KEY_LINE.search(line)
        if not match:
            continue
        comps = match.group(2).split()
        if len(comps) < 2:
            continue
        print_ = fingerprint(comps[1], hash_type)
        if print_ is None:
            continue
        found[comps[1]] = {"enc": comps[0], "comment": " ".join(comps[2:]),
                           "options": match.group(1).split(",") if match.group(1) else [],
                           "fingerprint": print_}
    return found


def split_key_line(name: str) -> dict[str, Any]:
    """A state's ``name``: a whole line (options, enc, key, comment) or ``KEY [comment]``."""
    match = KEY_LINE.search(name)
    if not match:
        parts = name.split(None, 1)
        return {"key": parts[0] if parts else name,
                **({"comment": parts[1]} if len(parts) == 2 else {})}
    comps = match.group(2).split(None, 2)
    out: dict[str, Any] = {"enc": comps[0], "key": comps[1]}
    if match.group(1):
        out["options"] = match.group(1).split(",")
    if len(comps) == 3:
        out["comment"] = comps[2]
    return out


def _expand(path: str, user: str, home: str) -> str:
    out, escape = [], False
    for char in path:
        if escape:
            escape = False
            tokens = {"%": "%", "u": user, "h": home}
            if char not in tokens:
                raise SshError(f'AuthorizedKeysFile path: unknown token character "%{char}"')
            out.append(tokens[char])
        elif char == "%":
            escape = True
        else:
            out.append(char)
    if escape:
        raise SshError("AuthorizedKeysFile path: Last character can't be escape character")
    return "".join(out)


# --- thin I/O ----------------------------------------------------------------------------


def _user(ctx: Context, user: str) -> dict[str, Any]:
    info = ctx.call("user.info", user) if user and "\0" not in user else {}
    if not info:
        raise SshError(f"User '{user}' does not exist")
    return dict(info)


def config_file(ctx: Context, user: str, config: str = AUTH_KEYS) -> str:
    """The authorized_keys path for `user` (SshError when the user does not exist)."""
    home = _user(ctx, user)["home"]
    path = _expand(config, user, home)
    return path if os.path.isabs(path) else os.path.join(home, path)


def _read_keys(ctx: Context, user: str, config: str, hash_type: str | None) -> dict[str, Any]:
    try:
        path = config_file(ctx, user, config)
    except SshError:
        return {}
    if not os.path.isfile(path):
        return {}
    return parse_keys(Path(path).read_text(errors="replace"), hash_type)


def _rewrite(path: str, lines: list[str]) -> None:
    write_atomic(path, "".join(lines).encode(), 0o600)


def _kept_lines(path: str) -> list[str]:
    """The file's non-blank lines, stripped, each ending in a newline."""
    return [line.strip() + "\n" for line in Path(path).read_text(errors="replace").splitlines()
            if line.strip()]


def _append(ctx: Context, user: str, info: dict[str, Any], path: str, line: str) -> None:
    folder = os.path.dirname(path)
    is_root = os.geteuid() == 0
    if not os.path.isdir(folder):
        os.makedirs(folder)
        if is_root:
            os.chown(folder, info["uid"], info["gid"])
        os.chmod(folder, 0o700)
    new = not os.path.isfile(path)
    with open(path, "ab+") as handle:
        if not new and handle.tell() > 0:
            handle.seek(-1, os.SEEK_END)
            if handle.read(1) != b"\n":
                handle.write(b"\n")
        handle.write(line.encode())
    if new:
        if is_root:
            os.chown(path, info["uid"], info["gid"])
        os.chmod(path, 0o600)


# --- execution functions -----------------------------------------------------------------


def auth_keys(ctx: Context, user: str, config: str = AUTH_KEYS,
              fingerprint_hash_type: str | None = None) -> dict[str, Any]:
    """Return a user's authorized keys: ``{key: {enc, comment, options, fingerprint}}``.

    CLI Example:

        master run '*' ssh.auth_keys root
    """
    return _read_keys(ctx, user, config, fingerprint_hash_type)


def check_key(ctx: Context, user: str, key: str, enc: str, comment: str,
              options: list[str] | None, config: str = AUTH_KEYS,
              fingerprint_hash_type: str | None = None) -> str:
    """Tell what setting a key would do: ``add``, ``update`` or ``exists``.

    CLI Example:

        master run '*' ssh.check_key root AAAAB3Nza... ssh-rsa me@host '[]'
    """
    enc = refine_enc(enc)
    current = _read_keys(ctx, user, config, fingerprint_hash_type)
    if key not in current:
        return "add"
    have = current[key]
    same = auth_line(key, have["enc"], have["comment"], have["options"]) == auth_line(
        key, enc, comment, options or [])
    return "exists" if same else "update"


def set_auth_key(ctx: Context, user: str, key: str, enc: str = "ssh-rsa", comment: str = "",
                 options: list[str] | None = None, config: str = AUTH_KEYS,
                 fingerprint_hash_type: str | None = None) -> str:
    """Add or update a key; return ``new``, ``replace``, ``no change``, ``fail`` or ``invalid``.

    CLI Example:

        master run '*' ssh.set_auth_key deploy AAAAC3Nza... enc=ed25519 comment=ci
    """
    if len(key.split()) > 1:
        return "invalid"
    enc = refine_enc(enc)
    info = ctx.call("user.info", user)
    if not info:
        return "fail"
    if fingerprint(key, fingerprint_hash_type) is None:
        return "Invalid public key"
    status = check_key(ctx, user, key, enc, comment, options, config, fingerprint_hash_type)
    if status == "exists":
        return "no change"
    path = config_file(ctx, user, config)
    line = auth_line(key, enc, comment, options or [])
    if status == "update":
        lines = []
        for old in _kept_lines(path):
            current = parse_keys(old, fingerprint_hash_type)
            lines.append(line if not old.startswith("#") and key in current else old)
        _rewrite(path, lines)
        return "replace"
    home = str(info.get("home", ""))
    if path.startswith(home) and not os.path.isdir(home):
        return "fail"
    _append(ctx, user, dict(info), path, line)
    return "new"


def rm_auth_key(ctx: Context, user: str, key: str, config: str = AUTH_KEYS,
                fingerprint_hash_type: str | None = None) -> str:
    """Remove a key; return ``Key removed``, ``Key not present`` or ``Key not removed``.

    CLI Example:

        master run '*' ssh.rm_auth_key deploy AAAAC3Nza...
    """
    if key not in _read_keys(ctx, user, config, fingerprint_hash_type):
        return "Key not present"
    path = config_file(ctx, user, config)
    lines = []
    for line in _kept_lines(path):
        if line.startswith("#"):
            lines.append(line)
            continue
        match = KEY_LINE.search(line)
        if not match:
            continue
        comps = match.group(2).split()
        if len(comps) >= 2 and comps[1] == key:
            continue
        lines.append(line)
    try:
        _rewrite(path, lines)
    except OSError:
        return "Key not removed"
    return "Key removed"


def _source_keys(ctx: Context, source: str, saltenv: str,
                 hash_type: str | None) -> dict[str, Any] | None:
    """The keys in a salt:// (or local) file; None when the file is missing."""
    local = ctx.call("cp.cache_file", source, saltenv) if "://" in source else source
    if not local or not os.path.isfile(local):
        return None
    return parse_keys(Path(local).read_text(errors="replace"), hash_type)


def check_key_file(ctx: Context, user: str, source: str, config: str = AUTH_KEYS,
                   saltenv: str = "base",
                   fingerprint_hash_type: str | None = None) -> dict[str, str]:
    """Return ``{key: add|update|exists}`` for every key in the file `source`.

    CLI Example:

        master run '*' ssh.check_key_file deploy salt://keys/deploy.pub
    """
    keys = _source_keys(ctx, source, saltenv, fingerprint_hash_type) or {}
    return {key: check_key(ctx, user, key, k["enc"], k["comment"], k["options"], config,
                           fingerprint_hash_type) for key, k in keys.items()}


def set_auth_key_from_file(ctx: Context, user: str, source: str, config: str = AUTH_KEYS,
                           saltenv: str = "base", fingerprint_hash_type: str | None = None,
                           options: list[str] | None = None) -> str:
    """Add every key of the file `source`; return ``new``, ``replace``, ``no change`` or ``fail``.

    CLI Example:

        master run '*' ssh.set_auth_key_from_file deploy salt://keys/deploy.pub
    """
    keys = _source_keys(ctx, source, saltenv, fingerprint_hash_type)
    if not keys:
        return "fail"
    words = [set_auth_key(ctx, user, key, k["enc"], k["comment"], options or k["options"],
                          config, fingerprint_hash_type) for key, k in keys.items()]
    for word in ("fail", "replace", "new"):
        if word in words:
            return word
    return "no change"


def rm_auth_key_from_file(ctx: Context, user: str, source: str, config: str = AUTH_KEYS,
                          saltenv: str = "base",
                          fingerprint_hash_type: str | None = None) -> str:
    """Remove every key of the file `source`; Salt's ``Key removed`` words.

    CLI Example:

        master run '*' ssh.rm_auth_key_from_file deploy salt://keys/old.pub
    """
    keys = _source_keys(ctx, source, saltenv, fingerprint_hash_type)
    if not keys:
        return "fail"
    words = [rm_auth_key(ctx, user, key, config, fingerprint_hash_type) for key in keys]
    for word in ("Key not removed", "Key removed"):
        if word in words:
            return word
    return "Key not present"
