"""List, fetch and safely extract tar and zip archives, like Salt's ``archive`` module.

Extraction never writes outside the destination: a member with an absolute
path, a ``..`` component, a link pointing outside, a device node, or a path
that would pass through a symlink out of the destination is refused before
anything is written.
"""

from __future__ import annotations

import hashlib
import os
import re
import shlex
import stat
import tarfile
import urllib.parse
import urllib.request
import zipfile
from pathlib import Path
from typing import Any

from common.fileroots import split_url
from minion.context import Context

__all__ = ["cache_source", "check_hash", "chown_tree", "extract", "list_"]

_HASH_BY_LENGTH = {32: "md5", 40: "sha1", 56: "sha224", 64: "sha256", 96: "sha384", 128: "sha512"}
_HEX = re.compile(r"\b[0-9a-fA-F]{32,128}\b")
REMOTE = ("http", "https", "ftp")
MAX_DOWNLOAD = 4 << 30


class ArchiveError(Exception):
    """An archive that cannot be fetched, read or extracted safely (one clear line)."""


def guess_format(name: str) -> str | None:
    """``tar``, ``zip`` or ``rar`` from a file name's extension, else None."""
    low = name.lower()
    tars = ("tar", "tar.gz", "tgz", "tar.bz2", "tbz2", "tbz", "tar.xz", "txz", "tar.lzma", "tlz")
    if any(low.endswith("." + e) for e in tars):
        return "tar"
    for ending in ("zip", "rar"):
        if low.endswith("." + ending):
            return ending
    return None


# --- fetching ---------------------------------------------------------------------------------


def _is_remote(source: str) -> bool:
    return urllib.parse.urlparse(source).scheme in REMOTE


def _expected(ctx: Context, source: str, source_hash: str, saltenv: str) -> tuple[str, str]:
    """``(algorithm, hex digest)`` from Salt's source_hash forms (``algo=hex``, hex, a file)."""
    text = str(source_hash).strip()
    if text.startswith(("salt://", "file://", "/", "http://", "https://", "ftp://")):
        text = _hash_from_file(ctx, text, source, saltenv)
    algo, _, digest = text.rpartition("=") if "=" in text else ("", "", text)
    algo = algo.lower() or _HASH_BY_LENGTH.get(len(digest), "")
    if algo not in hashlib.algorithms_guaranteed or not _HEX.fullmatch(digest):
        raise ArchiveError(f"Invalid source_hash {source_hash!r}: use e.g. sha256=<hex digest>")
    return algo, digest.lower()


def _hash_from_file(ctx: Context, hash_url: str, source: str, saltenv: str) -> str:
    lines = Path(cache_source(ctx, hash_url, skip_verify=True, saltenv=saltenv)).read_text(
        encoding="utf-8", errors="replace").splitlines()
    base = os.path.basename(urllib.parse.urlparse(source).path)
    for line in lines:
        match = _HEX.search(line)
        if match and base and base in line:
            return match.group(0)
    found = [m.group(0) for line in lines if (m := _HEX.search(line))]
    if len(found) == 1:
        return found[0]
    raise ArchiveError(f"No hash for {base} in source_hash file {hash_url}")


def _digest(path: str | Path, algo: str) -> str:
    h = hashlib.new(algo)
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def check_hash(ctx: Context, path: str, source_hash: str, saltenv: str = "base") -> bool:
    """Tell whether the local file `path` matches `source_hash` (``sha256=<hex>`` or hex).

    CLI Example:

        master run '*' archive.check_hash /tmp/app.tar.gz sha256=9f86d08...
    """
    algo, digest = _expected(ctx, path, source_hash, saltenv)
    return _digest(path, algo) == digest


def _download(url: str, dest: Path) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(dest.name + ".part")
    size = 0
    try:
        with urllib.request.urlopen(url, timeout=60) as resp, open(tmp, "wb") as out:
            for block in iter(lambda: resp.read(1 << 20), b""):
                size += len(block)
                if size > MAX_DOWNLOAD:
                    raise ArchiveError(f"{url} is larger than {MAX_DOWNLOAD} bytes")
                out.write(block)
        os.replace(tmp, dest)
    except OSError as exc:
        raise ArchiveError(f"Failed to download {url}: {exc}") from None
    finally:
        tmp.unlink(missing_ok=True)


def _remote_cache_path(ctx: Context, url: str, saltenv: str) -> Path:
    parsed = urllib.parse.urlparse(url)
    parts = [p for p in parsed.path.split("/") if p not in ("", ".", "..")]
    if not parsed.netloc or not parts:
        raise ArchiveError(f"Invalid source {url}")
    base = Path(str(ctx.opts.get("cachedir") or "/var/cache/saline"), "extrn_files", saltenv)
    return base.joinpath(parsed.netloc.replace("/", "_"), *parts)


def cache_source(ctx: Context, source: str, source_hash: str | None = None,
                 skip_verify: bool = False, saltenv: str = "base") -> str:
    """Fetch a file (salt://, http(s)://, ftp://, file:// or a local path); return its path.

    source
        Where the file is.
    source_hash
        Required for http/ftp unless skip_verify: ``sha256=<hex>``, a bare hex
        digest, or the URL of a hash file. A cached copy that matches is reused.
    skip_verify
        Do not check the hash.

    CLI Example:

        master run '*' archive.cache_source https://example.com/app.tgz sha256=9f86d08...
    """
    if source.startswith("salt://"):
        rel, env = split_url(source, saltenv)
        try:
            return str(ctx.fileclient().cache_file(env, rel))
        except (FileNotFoundError, OSError) as exc:
            raise ArchiveError(f"Source file {source} not found in saltenv '{env}'") from exc
        except Exception as exc:
            raise ArchiveError(f"Unable to fetch {source}: {exc}") from None
    if _is_remote(source):
        if not source_hash and not skip_verify:
            raise ArchiveError(f"Unable to verify upstream hash of source file {source}, "
                               "please set source_hash or set skip_verify to True")
        dest = _remote_cache_path(ctx, source, saltenv)
        expected = None if skip_verify else _expected(ctx, source, str(source_hash), saltenv)
        if dest.is_file() and (expected is None or _digest(dest, expected[0]) == expected[1]):
            return str(dest)
        _download(source, dest)
        if expected and _digest(dest, expected[0]) != expected[1]:
            actual = _digest(dest, expected[0])
            dest.unlink(missing_ok=True)
            raise ArchiveError(f"Specified {expected[0]} checksum for {source} ({expected[1]}) "
                               f"does not match actual checksum ({actual})")
        return str(dest)
    local = source[len("file://"):] if source.startswith("file://") else source
    if not os.path.isabs(local):
        raise ArchiveError(f"Invalid source {source}: use salt://, http(s)://, ftp:// or an "
                           "absolute path")
    if not os.path.isfile(local):
        raise ArchiveError(f"Source file '{local}' does not exist")
    return local


# --- listing ----------------------------------------------------------------------------------


def _members(path: str, fmt: str) -> tuple[list[str], list[str], list[str]]:
    """(dirs with a trailing slash, files, links) of an archive, as stored."""
    dirs: list[str] = []
    files: list[str] = []
    links: list[str] = []
    if fmt == "zip":
        try:
            with zipfile.ZipFile(path) as zf:
                for info in zf.infolist():
                    mode = info.external_attr >> 16
                    if stat.S_ISLNK(mode):
                        links.append(info.filename)
                    elif info.is_dir():
                        dirs.append(info.filename)
                    else:
                        files.append(info.filename)
        except (zipfile.BadZipFile, OSError) as exc:
            raise ArchiveError(f"{path} is not a ZIP file: {exc}") from None
        # Zip files may lack entries for their directories.
        for name in files + links:
            parent = name.rpartition("/")[0]
            while parent and parent + "/" not in dirs:
                dirs.append(parent + "/")
                parent = parent.rpartition("/")[0]
        return dirs, files, links
    if fmt != "tar":
        raise ArchiveError(f"Unsupported archive format '{fmt}'")
    try:
        with tarfile.open(path, "r") as tar:
            for member in tar.getmembers():
                if member.issym():
                    links.append(member.name)
                elif member.isdir():
                    dirs.append(member.name.rstrip("/") + "/")
                else:
                    files.append(member.name)
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise ArchiveError(f"Unable to list contents of {path}: {exc}") from None
    return dirs, files, links


def _strip(items: list[str], count: int) -> list[str]:
    out = []
    for item in items:
        parts = item.split("/", count)
        if len(parts) > count and parts[count]:
            out.append(parts[count])
    return sorted(out)


def contents(path: str, fmt: str, strip_components: int | None = None) -> dict[str, list[str]]:
    """Salt's verbose listing: dirs, files, links and the top-level ones of each."""
    dirs, files, links = _members(path, fmt)
    if strip_components:
        dirs, files, links = (_strip(x, strip_components) for x in (dirs, files, links))
    ret = {"dirs": sorted(set(dirs)), "files": sorted(files), "links": sorted(links)}
    top_dirs = [d for d in ret["dirs"] if d.count("/") == 1]
    everything = ret["dirs"] + ret["files"] + ret["links"]
    firsts = {p.split("/")[0] for p in everything}
    # Every member under one directory, even when it has no entry of its own.
    if len(firsts) == 1 and all("/" in p for p in everything):
        prefix = firsts.pop() + "/"
        if prefix not in top_dirs:
            top_dirs.append(prefix)
    ret["top_level_dirs"] = top_dirs
    ret["top_level_files"] = [f for f in ret["files"] if "/" not in f]
    ret["top_level_links"] = [f for f in ret["links"] if "/" not in f]
    return ret


def list_(ctx: Context, name: str, archive_format: str | None = None,
          strip_components: int | None = None, verbose: bool = False,
          saltenv: str = "base", source_hash: str | None = None) -> Any:
    """List the members of a tar or zip archive (local path, salt:// or http(s) URL).

    name
        The archive.
    archive_format
        ``tar`` or ``zip``; guessed from the extension when not given.
    strip_components
        Drop this many leading path components, as tar's option does.
    verbose
        Return ``{dirs, files, links, top_level_dirs, top_level_files, top_level_links}``.

    CLI Example:

        master run '*' archive.list /tmp/app.tar.gz verbose=True
    """
    fmt = (archive_format or guess_format(urllib.parse.urlparse(name).path or name) or "").lower()
    if not fmt:
        raise ArchiveError("Unable to guess archive format, please pass an 'archive_format' "
                           "argument.")
    path = cache_source(ctx, name, source_hash=source_hash, skip_verify=source_hash is None,
                        saltenv=saltenv)
    listing = contents(path, fmt, int(strip_components) if strip_components else None)
    if verbose:
        return listing
    return sorted(listing["dirs"] + listing["files"] + listing["links"])


# --- ownership --------------------------------------------------------------------------------


def _ids(user: str | int | None, group: str | int | None) -> tuple[int, int]:
    import grp
    import pwd

    uid = gid = -1
    try:
        if user not in (None, ""):
            uid = int(user) if str(user).isdigit() else pwd.getpwnam(str(user)).pw_uid
        if group not in (None, ""):
            gid = int(group) if str(group).isdigit() else grp.getgrnam(str(group)).gr_gid
    except KeyError as exc:
        raise ArchiveError(f"No such user or group: {exc}") from None
    return uid, gid


def chown_tree(ctx: Context, path: str, user: str | int | None = None,
               group: str | int | None = None, test: bool = False) -> list[str]:
    """Give `path` and everything under it (links themselves) to user/group; return what changed.

    path
        A file or directory.
    user, group
        Names or ids; an unset one is left alone.
    test
        Only report what would change.

    CLI Example:

        master run '*' archive.chown_tree /opt/app www-data www-data
    """
    uid, gid = _ids(user, group)
    todo = [path]
    if os.path.isdir(path) and not os.path.islink(path):
        for top, dirs, files in os.walk(path):
            todo.extend(os.path.join(top, n) for n in dirs + files)
    changed = []
    for item in todo:
        st = os.lstat(item)
        if (uid != -1 and st.st_uid != uid) or (gid != -1 and st.st_gid != gid):
            changed.append(item)
            if not test:
                os.lchown(item, uid, gid)
    return changed


# --- safe extraction --------------------------------------------------------------------------


def _inside(root: str, path: str) -> bool:
    return path == root or path.startswith(root + os.sep)


def _check_name(name: str) -> None:
    parts = name.replace("\\", "/").split("/")
    if name.startswith("/") or ".." in parts or "\0" in name:
        raise ArchiveError(f"Refusing to extract {name!r}: it would land outside the target")


def _check_tar_member(root: str, member: tarfile.TarInfo) -> None:
    _check_name(member.name)
    if not (member.isfile() or member.isdir() or member.issym() or member.islnk()):
        raise ArchiveError(f"Refusing to extract {member.name!r}: not a file, dir or link")
    if member.issym():
        target = member.linkname
        resolved = os.path.normpath(os.path.join(root, os.path.dirname(member.name), target))
        if os.path.isabs(target) or not _inside(root, resolved):
            raise ArchiveError(f"Refusing to extract {member.name!r}: its link points outside "
                               "the target")
    if member.islnk():
        _check_name(member.linkname)
        if not _inside(root, os.path.realpath(os.path.join(root, member.linkname))):
            raise ArchiveError(f"Refusing to extract {member.name!r}: its link points outside "
                               "the target")
    # A path through a symlink extracted earlier (or already there) must stay inside.
    parent = os.path.realpath(os.path.join(root, os.path.dirname(member.name)))
    if not _inside(root, parent):
        raise ArchiveError(f"Refusing to extract {member.name!r}: its directory leads outside "
                           "the target")


def _extract_tar(path: str, dest: str) -> list[str]:
    root = os.path.realpath(dest)
    extra: dict[str, Any] = {}
    if hasattr(tarfile, "fully_trusted_filter"):
        # Members are checked above; keep modes and owners as tar itself would.
        extra["filter"] = "fully_trusted"
    names = []
    try:
        with tarfile.open(path, "r") as tar:
            members = tar.getmembers()
            for member in members:
                _check_name(member.name)
            for member in members:
                _check_tar_member(root, member)
                tar.extract(member, root, **extra)  # checked just above
                names.append(member.name)
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise ArchiveError(f"Failed to extract {path}: {exc}") from None
    return names


def _extract_zip(path: str, dest: str) -> list[str]:
    root = os.path.realpath(dest)
    names = []
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
            for info in infos:
                _check_name(info.filename)
            for info in infos:
                parent = os.path.realpath(os.path.join(root, os.path.dirname(info.filename)))
                if not _inside(root, parent):
                    raise ArchiveError(f"Refusing to extract {info.filename!r}: its directory "
                                       "leads outside the target")
                mode = info.external_attr >> 16
                target = os.path.join(root, info.filename)
                if stat.S_ISLNK(mode):
                    link = zf.read(info).decode()
                    if os.path.isabs(link) or not _inside(
                            root, os.path.normpath(os.path.join(os.path.dirname(target), link))):
                        raise ArchiveError(f"Refusing to extract {info.filename!r}: its link "
                                           "points outside the target")
                    os.symlink(link, target)
                else:
                    zf.extract(info, root)
                    if stat.S_IMODE(mode):
                        os.chmod(target, stat.S_IMODE(mode))
                names.append(info.filename)
    except (zipfile.BadZipFile, OSError, UnicodeDecodeError) as exc:
        raise ArchiveError(f"Exception encountered unpacking zipfile: {exc}") from None
    return names


def _tar_command(ctx: Context, path: str, dest: str, options: str) -> list[str]:
    """Run ``tar xv<options> -f path`` in `dest`, as Salt does when options are given."""
    words = [w for w in shlex.split(options) if w not in ("v", "-v", "--verbose")]
    short, longs = "xv", []
    for i, word in enumerate(words):
        if word.startswith("-") or i > 0:
            longs.append(word)
        else:
            short += word.replace("x", "").replace("f", "")
    res = ctx.run(["tar", short, *longs, "-f", path], cwd=dest)
    if res.retcode:
        raise ArchiveError(f"tar failed ({res.retcode}): {res.stderr.strip()}")
    return res.stdout.splitlines()


def extract(ctx: Context, name: str, dest: str, archive_format: str | None = None,
            options: str | None = None, trim_output: int | bool = False) -> list[str]:
    """Extract the local archive `name` into the directory `dest`; return the members.

    name
        A local tar or zip file.
    dest
        An existing directory. No member may land outside it.
    archive_format
        ``tar`` or ``zip``; guessed from the extension when not given.
    options
        Extra tar options (runs the ``tar`` command, e.g. ``--strip-components=1``).
    trim_output
        Return at most this many names (True: 100).

    CLI Example:

        master run '*' archive.extract /tmp/app.tar.gz /opt/app
    """
    fmt = (archive_format or guess_format(name) or "").lower()
    if not os.path.isdir(dest):
        raise ArchiveError(f"{dest} is not a directory")
    if fmt == "tar":
        files = _tar_command(ctx, name, dest, options) if options else _extract_tar(name, dest)
    elif fmt == "zip":
        files = _extract_zip(name, dest)
    else:
        raise ArchiveError(f"Unsupported archive format '{fmt}'")
    if trim_output:
        files = files[:100 if trim_output is True else int(trim_output)]
    return files
