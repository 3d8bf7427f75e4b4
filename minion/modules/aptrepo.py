"""Read and change APT source entries, like the repo functions of Salt's ``pkg`` on Debian.

Entries are the one-line format in ``/etc/apt/sources.list`` and
``/etc/apt/sources.list.d/*.list`` (a ``# `` in front disables one). Each is
reported as Salt's ``pkg.list_repos`` does: ``{file, type, uri, dist, comps,
architectures, signedby, disabled, line}``. deb822 ``.sources`` files are not
read. Keys for ``signed-by`` keyrings are written where the entry says.
"""

from __future__ import annotations

import base64
import glob
import os
import re
import shutil
from collections.abc import Mapping
from typing import Any

from minion.context import Context

__all__ = ["add_key", "del_repo", "get_repo", "list_repos", "mod_repo", "split_line"]

SOURCES_LIST = "/etc/apt/sources.list"
SOURCES_DIR = "/etc/apt/sources.list.d"
TYPES = ("deb", "deb-src", "rpm", "rpm-src")


class RepoError(Exception):
    """A repository entry that cannot be read or changed (one clear line)."""


def _unavailable(opts: Mapping[str, Any], grains: Mapping[str, Any]) -> str | None:
    if grains.get("os_family", "Debian") != "Debian":
        return "APT repositories need a Debian-family host"
    return None


# --- pure: one source line ----------------------------------------------------------------------


def split_line(ctx: Context, line: str) -> dict[str, Any]:
    """Parse one source line into Salt's repo fields; ``invalid`` is True when it is not one.

    CLI Example:

        master run '*' aptrepo.split_line 'deb http://deb.debian.org/debian bookworm main'
    """
    return parse(line)


def parse(line: str, file: str = SOURCES_LIST) -> dict[str, Any]:
    """Salt's fields of one sources.list line (``invalid`` True when it is not an entry)."""
    text = line.strip()
    disabled = text.startswith("#")
    body = text.lstrip("#").strip() if disabled else text
    body, _, comment = body.partition(" #")
    opts: dict[str, str] = {}
    match = re.match(r"^(\S+)\s+\[([^\]]*)\]\s+(.*)$", body)
    if match:
        kind, raw_opts, rest = match.groups()
        for word in raw_opts.split():
            key, _, value = word.partition("=")
            opts[key] = value
    else:
        kind, _, rest = body.partition(" ")
    words = rest.split()
    return {
        "invalid": kind not in TYPES or len(words) < 2,
        "file": file,
        "type": kind,
        "uri": words[0] if words else "",
        "dist": words[1] if len(words) > 1 else "",
        "comps": words[2:],
        "architectures": [a for a in opts.get("arch", "").split(",") if a],
        "signedby": opts.get("signed-by", ""),
        "disabled": disabled,
        "line": text,
        "comment": comment.strip(),
    }


def _same_source(entry: Mapping[str, Any], want: Mapping[str, Any]) -> bool:
    return (entry["type"] == want["type"] and entry["dist"] == want["dist"]
            and entry["uri"].rstrip("/") == want["uri"].rstrip("/"))


# --- reading ----------------------------------------------------------------------------------


def _files() -> list[str]:
    files = [SOURCES_LIST] if os.path.isfile(SOURCES_LIST) else []
    return files + sorted(glob.glob(os.path.join(SOURCES_DIR, "*.list")))


def _entries() -> list[dict[str, Any]]:
    found = []
    for path in _files():
        with open(path, encoding="utf-8", errors="replace") as f:
            for line in f:
                entry = parse(line, path)
                if not entry["invalid"]:
                    found.append(entry)
    return found


def _public(entry: Mapping[str, Any]) -> dict[str, Any]:
    keys = ("file", "comps", "disabled", "dist", "type", "uri", "line", "architectures",
            "signedby")
    return {k: entry[k] for k in keys}


def list_repos(ctx: Context) -> dict[str, list[dict[str, Any]]]:
    """Return every source entry, grouped by URI.

    CLI Example:

        master run '*' aptrepo.list_repos
    """
    repos: dict[str, list[dict[str, Any]]] = {}
    for entry in _entries():
        repos.setdefault(entry["uri"], []).append(_public(entry))
    return repos


def get_repo(ctx: Context, repo: str) -> dict[str, Any]:
    """Return the entry matching the full source line `repo` (type, URI, dist, a comp), or {}.

    CLI Example:

        master run '*' aptrepo.get_repo 'deb http://deb.debian.org/debian bookworm main'
    """
    want = parse(repo)
    # A line that is no source line matches nothing (Salt answers {} too).
    if want["invalid"]:
        return {}
    for entry in _entries():
        if _same_source(entry, want) and (not want["comps"] or set(want["comps"])
                                          & set(entry["comps"])):
            return _public(entry)
    return {}


# --- writing ----------------------------------------------------------------------------------


def _render(entry: Mapping[str, Any], base: str) -> str:
    """The line for `entry`: the given line, disabled or enabled as asked."""
    line = base.strip().lstrip("#").strip()
    if entry.get("comment"):
        line += f" #{entry['comment']}" if entry["comment"].startswith(" ") else (
            f" # {entry['comment']}")
    return ("# " + line if entry.get("disabled") else line) + "\n"


def _write(path: str, lines: list[str]) -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = f"{path}.saline-tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.writelines(lines)
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)


def _read(path: str) -> list[str]:
    if not os.path.isfile(path):
        return []
    with open(path, encoding="utf-8", errors="replace") as f:
        return f.readlines()


def dearmor(data: bytes) -> bytes:
    """The binary OpenPGP data inside an ASCII-armored block (as ``gpg --dearmor``)."""
    text = data.decode("ascii", errors="replace").strip().splitlines()
    body: list[str] = []
    started = blank_seen = False
    for line in text:
        if line.startswith("-----BEGIN PGP"):
            started = True
            continue
        if line.startswith("-----END PGP"):
            break
        if not started:
            continue
        if not blank_seen:
            # Armor headers ("Version: ...") end at the first blank line.
            if not line.strip():
                blank_seen = True
            elif ":" not in line:
                blank_seen = True
                body.append(line.strip())
            continue
        if line.startswith("="):
            continue
        body.append(line.strip())
    if not body:
        raise RepoError("the key is not an ASCII-armored OpenPGP block")
    return base64.b64decode("".join(body))


def add_key(ctx: Context, source: str, keyfile: str, saltenv: str = "base") -> str:
    """Install a key (salt://, http(s), or a local path) as the keyring `keyfile`; return its path.

    An ASCII-armored key is de-armored unless keyfile ends in ``.asc``. The
    keyring's directory must exist (as apt expects, e.g. /etc/apt/keyrings).

    CLI Example:

        master run '*' aptrepo.add_key salt://keys/repo.asc /etc/apt/keyrings/repo.gpg
    """
    if not os.path.isabs(keyfile):
        raise RepoError(f"signed-by {keyfile} is not an absolute path")
    if not os.path.isdir(os.path.dirname(keyfile)):
        raise RepoError(f"The directory {os.path.dirname(keyfile)} does not exist. Please "
                        "create this directory only writable by root")
    cached = ctx.call("archive.cache_source", source, skip_verify=True, saltenv=saltenv)
    with open(cached, "rb") as f:
        data = f.read()
    if data.lstrip().startswith(b"-----BEGIN PGP") and not keyfile.endswith(".asc"):
        data = dearmor(data)
    tmp = keyfile + ".saline-tmp"
    with open(tmp, "wb") as f:
        f.write(data)
    os.chmod(tmp, 0o644)
    os.replace(tmp, keyfile)
    return keyfile


def mod_repo(ctx: Context, repo: str, file: str | None = None, comps: str | None = None,
             architectures: str | None = None, disabled: bool | None = None,
             comments: str | list[str] | None = None, key_url: str | None = None,
             aptkey: bool = True, refresh: bool = True, clean_file: bool = False,
             saltenv: str = "base", **kwargs: Any) -> dict[str, Any]:
    """Add the source line `repo`, or change the entry it matches; return ``{repo: entry}``.

    repo
        The full line, e.g. ``deb [signed-by=/etc/apt/keyrings/x.gpg] https://x/ stable main``.
    file
        The file for a new entry (default /etc/apt/sources.list).
    comps, architectures
        Comma-separated lists replacing those of the line.
    disabled
        Write the entry commented out.
    key_url
        A key to install first: at the line's ``signed-by`` path, else with apt-key.
    refresh
        Run ``apt-get update`` afterwards (default True; ``refresh_db`` too).
    clean_file
        Empty `file` first.

    CLI Example:

        master run '*' aptrepo.mod_repo 'deb [trusted=yes] file:/srv/repo ./' \\
            file=/etc/apt/sources.list.d/local.list
    """
    refresh = bool(kwargs.get("refresh_db", refresh))
    want = parse(repo)
    if want["invalid"]:
        raise RepoError(f"Name {repo} is not valid. This must be the complete repo entry as "
                        "seen in the sources file")
    if not shutil.which("apt-key"):
        aptkey = False
    if not aptkey and not want["signedby"]:
        raise RepoError("missing 'signedby' option when apt-key is missing")
    if key_url:
        _install_key(ctx, key_url, want["signedby"], saltenv)
    if comps:
        want["comps"] = [c.strip() for c in comps.split(",")]
    if comments:
        want["comment"] = " ".join(comments) if isinstance(comments, list) else str(comments)
    want["disabled"] = bool(disabled)
    if clean_file and file:
        _write(file, [])
    line = _with_comps(repo, want["comps"]) if comps else repo
    entry = _replace(want, line, file)
    if refresh:
        res = ctx.run(["apt-get", "-q", "update"], env={"DEBIAN_FRONTEND": "noninteractive"})
        if res.retcode:
            # As Salt: the command's error output is the message.
            raise RepoError(res.stderr.strip() or f"apt-get update failed ({res.retcode})")
    return {repo: _public(entry)}


def _install_key(ctx: Context, key_url: str, signedby: str, saltenv: str) -> None:
    if signedby:
        add_key(ctx, key_url, signedby, saltenv)
        return
    cached = ctx.call("archive.cache_source", key_url, skip_verify=True, saltenv=saltenv)
    res = ctx.run(["apt-key", "add", cached])
    if not res.stdout.upper().startswith("OK"):
        raise RepoError(f"Error: failed to add key from {key_url}")


def _replace(want: dict[str, Any], line: str, file: str | None) -> dict[str, Any]:
    """Rewrite the first matching entry in place, or append a new one; return the entry."""
    for path in _files():
        lines = _read(path)
        for i, old in enumerate(lines):
            entry = parse(old, path)
            if entry["invalid"] or not _same_source(entry, want):
                continue
            if want["comps"] and entry["comps"] and not set(want["comps"]) & set(
                    entry["comps"]) and entry["architectures"] == want["architectures"]:
                continue
            lines[i] = _render(want, line)
            _write(path, lines)
            return parse(lines[i], path)
    target = file or SOURCES_LIST
    lines = _read(target)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    lines.append(_render(want, line))
    _write(target, lines)
    return parse(lines[-1], target)


def del_repo(ctx: Context, repo: str, refresh: bool = True) -> str:
    """Remove the entry matching the full line `repo` (a .list file left empty is deleted).

    CLI Example:

        master run '*' aptrepo.del_repo 'deb [trusted=yes] file:/srv/repo ./'
    """
    want = parse(repo)
    if want["invalid"]:
        raise RepoError(f"Error: repo '{repo}' not a well formatted definition")
    messages = []
    for path in _files():
        lines = _read(path)
        kept = []
        for old in lines:
            entry = parse(old, path)
            if (not entry["invalid"] and _same_source(entry, want)
                    and entry["architectures"] == want["architectures"]
                    and (set(entry["comps"]) & set(want["comps"])
                         or not (entry["comps"] or want["comps"]))):
                left = [c for c in entry["comps"] if c not in want["comps"]]
                if left:
                    kept.append(_render({**entry, "comps": left},
                                        _with_comps(entry["line"], left)))
                continue
            kept.append(old)
        if kept == lines:
            continue
        if path.startswith(SOURCES_DIR + "/") and not any(
                not parse(k)["invalid"] for k in kept):
            os.remove(path)
            messages.append(f"File {path} containing repo '{repo}' has been removed.")
        else:
            _write(path, kept)
            messages.append(f"Repo '{repo}' has been removed from {path}.\n")
    if not messages:
        raise RepoError(f"Repo {repo} doesn't exist in the sources.list(s)")
    if refresh:
        ctx.run(["apt-get", "-q", "update"], env={"DEBIAN_FRONTEND": "noninteractive"})
    return "".join(messages)


def _with_comps(line: str, comps: list[str]) -> str:
    entry = parse(line)
    words = line.strip().lstrip("#").strip().split(" #")[0].split()
    return " ".join(words[:len(words) - len(entry["comps"])] + comps)
