"""Extract tar and zip archives into a directory, like Salt's ``archive.extracted``.

.. code-block:: yaml

    /opt/app:
      archive.extracted:
        - source: salt://app/app-1.2.tar.gz      # or a path, or http(s) with source_hash
        - user: app
        - group: app

The archive is listed first; extraction happens only when one of its members
is missing from the target (or ``overwrite`` is set). Members are checked so
that nothing lands outside the target. As in Salt, a ``salt://`` or remote
source in test mode is not fetched: the state says the archive would be
cached and checked.
"""

from __future__ import annotations

import os
import stat
import urllib.parse
from typing import Any

from minion.context import Context
from minion.states import result

__all__ = ["extracted"]

FORMATS = ("tar", "rar", "zip")


def _problem(name: str, source: Any, if_missing: str | None) -> str | None:
    if not name or not os.path.isabs(name):
        return f"{name} is not an absolute path"
    if os.path.isfile(name.rstrip(os.sep)):
        return f"{name.rstrip(os.sep)} exists and is not a directory"
    if if_missing is not None and not os.path.isabs(if_missing):
        return "Value for 'if_missing' is not an absolute path"
    if not source or not isinstance(source, str):
        return f'Invalid source "{source}"'
    return None


def _format(source: str, archive_format: str | None) -> tuple[str | None, str | None]:
    """The archive format, or an error comment."""
    if not archive_format:
        parsed = urllib.parse.urlparse(source)
        fmt = _guess(os.path.join(parsed.netloc, parsed.path).rstrip("/"))
        if fmt is None:
            return None, ("Could not guess archive_format from the value of the 'source' "
                          "argument. Please set this archive_format to one of the following: "
                          + ", ".join(FORMATS))
        return fmt, None
    fmt = str(archive_format).lower()
    if fmt not in FORMATS:
        return None, (f"Invalid archive_format '{archive_format}'. Either set it to a supported "
                      f"value ({', '.join(FORMATS)}) or remove this argument and the archive "
                      "format will be guessed based on file extension.")
    return fmt, None


def _guess(name: str) -> str | None:
    low = name.lower()
    tars = ("tar", "tar.gz", "tgz", "tar.bz2", "tbz2", "tbz", "tar.xz", "txz", "tar.lzma", "tlz")
    if any(low.endswith("." + e) for e in tars):
        return "tar"
    return next((e for e in ("zip", "rar") if low.endswith("." + e)), None)


def _missing_or_wrong(name: str, listing: dict[str, list[str]]) -> tuple[bool, list[str]]:
    """(some member is missing, members of the wrong type)."""
    missing, wrong = False, []
    checks = ((listing["dirs"], stat.S_ISDIR),
              (listing["files"], lambda m: not stat.S_ISLNK(m) and not stat.S_ISDIR(m)),
              (listing["links"], stat.S_ISLNK))
    for paths, ok in checks:
        for path in paths:
            try:
                mode = os.lstat(os.path.join(name, path).rstrip(os.sep)).st_mode
            except FileNotFoundError:
                missing = True
                continue
            except NotADirectoryError:
                continue
            if not ok(mode):
                wrong.append(path)
    return missing, wrong


def _toplevel_error(fmt: str, name: str) -> str:
    return ("Archive does not have a single top-level directory. To allow this archive to be "
            "extracted, set 'enforce_toplevel' to False. To avoid a "
            f"'{fmt}-bomb' it may also be advisable to set a top-level directory by adding it "
            f"to the 'name' value (for example, setting 'name' to "
            f"{os.path.join(name, 'some_dir')} instead of {name}).")


def _remove(ctx: Context, paths: list[str]) -> list[str]:
    for path in paths:
        ctx.call("file.remove", path.rstrip(os.sep))
    return paths


def _ownership(ctx: Context, ret: dict[str, Any], name: str, listing: dict[str, list[str]],
               user: Any, group: Any, enforce_on: str | None) -> list[str]:
    """Give the extracted top-level paths to user/group; return the missing ones."""
    if enforce_on:
        tops = [enforce_on]
    else:
        tops = [os.path.join(name, p) for p in listing["top_level_dirs"]
                + listing["top_level_files"] + listing["top_level_links"]]
    missing = []
    for path in tops:
        if not os.path.lexists(path.rstrip(os.sep)):
            if not ctx.test:
                missing.append(path)
            continue
        if ctx.call("archive.chown_tree", path.rstrip(os.sep), user, group, test=ctx.test):
            ret["changes"]["updated ownership"] = True
    return missing


def _check_local_hash(ctx: Context, ret: dict[str, Any], path: str, source: str,
                      source_hash: str) -> dict[str, Any] | None:
    try:
        ok = ctx.call("archive.check_hash", path, source_hash)
    except Exception as exc:
        return result.fail(ret, str(exc))
    if not ok:
        digest = str(source_hash).rpartition("=")[2]
        return result.fail(ret, f"{source} does not match the desired source_hash {digest}")
    return None


def extracted(
    ctx: Context,
    name: str,
    source: str,
    source_hash: str | None = None,
    skip_verify: bool = False,
    options: str | None = None,
    force: bool = False,
    overwrite: bool = False,
    clean: bool = False,
    clean_parent: bool = False,
    user: str | int | None = None,
    group: str | int | None = None,
    if_missing: str | None = None,
    trim_output: bool | int = False,
    enforce_toplevel: bool = True,
    enforce_ownership_on: str | None = None,
    archive_format: str | None = None,
    saltenv: str = "base",
) -> dict[str, Any]:
    """Make sure an archive's contents are extracted into the directory `name`.

    name
        The directory to extract into (created when missing).
    source
        The archive: ``salt://``, an absolute path, or ``http(s)://``/``ftp://``
        (which needs ``source_hash`` unless ``skip_verify``).
    source_hash
        ``sha256=<hex>``, a bare digest, or a hash file's URL.
    skip_verify
        Do not check the hash.
    options
        tar options (runs the ``tar`` command, e.g. ``--strip-components=1``).
    overwrite
        Extract even when every member is already there.
    clean, clean_parent
        Remove the archive's top-level paths (or the whole target) before extracting.
    force
        Replace members whose type differs (a file where a directory should be).
    user, group
        Owner of the extracted top-level paths, recursively.
    if_missing
        Do nothing when this path exists.
    trim_output
        Report at most this many extracted names (True: 100).
    enforce_toplevel
        Refuse archives without a single top-level directory (default True).
    enforce_ownership_on
        Enforce user/group on this path only.
    archive_format
        ``tar`` or ``zip``; guessed from the source's extension by default.

    CLI Example:

        minion call --local state.single archive.extracted /opt/app source=salt://app.tar.gz
    """
    ret = {**result.new(name), "result": False}
    error = _problem(name, source, if_missing)
    if error:
        return result.fail(ret, error)
    name = name.rstrip(os.sep) + os.sep
    if enforce_ownership_on is not None and os.path.relpath(
            enforce_ownership_on, name).startswith(".." + os.sep):
        return result.fail(ret, f"Value for 'enforce_ownership_on' must be within {name}")
    if if_missing is not None and os.path.exists(if_missing):
        return result.done(ret, f"Path {if_missing} exists")
    for kind, value, fun in (("User", user, "user.info"), ("Group", group, "group.info")):
        if value not in (None, "") and not str(value).isdigit() and not ctx.call(fun, value):
            return result.fail(ret, f"{kind} {value} does not exist")
    parsed = urllib.parse.urlparse(source)
    is_local = parsed.scheme in ("", "file")
    local_path = os.path.realpath(os.path.join(parsed.netloc, parsed.path)) if is_local else ""
    if is_local and not os.path.isfile(local_path):
        return result.fail(ret, f"Source file '{local_path}' does not exist")
    fmt, error = _format(source, archive_format)
    if error or fmt is None:
        return result.fail(ret, error or "")
    if fmt == "rar":
        return result.fail(ret, "archive.unrar function not available, rar/unrar might not be "
                                "installed on minion")
    if options is not None and not isinstance(options, str):
        options = str(options)
    if trim_output is True:
        trim_output = 100
    if clean and clean_parent:
        return result.fail(ret, "Only one of 'clean' and 'clean_parent' can be set to True")
    if is_local:
        cached = local_path
    else:
        if ctx.test:
            return result.done(ret, f"Archive {source} would be cached (if necessary) and "
                                    "checked to discover if extraction is needed", None)
        try:
            cached = ctx.call("archive.cache_source", source, source_hash=source_hash,
                              skip_verify=skip_verify, saltenv=saltenv)
        except Exception as exc:
            return result.fail(ret, f"Failed to cache {source}: {exc}")
    strip = _strip_components(options) if fmt == "tar" else None
    try:
        listing = ctx.call("archive.list", cached, archive_format=fmt, strip_components=strip,
                           verbose=True)
    except Exception as exc:
        return result.fail(ret, f"{exc}\n\nThe following workarounds must be used for this "
                                f"state to proceed (assuming the source file is a valid {fmt} "
                                "archive):\n\n- 'if_missing' must be set")
    if enforce_toplevel and (len(listing["top_level_dirs"]) > 1 or listing["top_level_files"]):
        return result.fail(ret, _toplevel_error(fmt, name))
    missing, wrong = _missing_or_wrong(name, listing)
    needed = bool(overwrite) or missing
    if wrong:
        lines = "\n\n" + "\n".join(f"- {p}" for p in wrong)
        comment = (f"The below paths (relative to {name}) exist, but are the incorrect type "
                   "(file instead of directory, symlink instead of file, etc.).")
        if ctx.test and clean:
            return result.done(ret, comment + " Since the 'clean' option is enabled, the "
                               "destination paths would be cleared and the archive would be "
                               f"extracted.{lines}", None)
        if ctx.test and clean_parent:
            return result.done(ret, comment + " Since the 'clean_parent' option is enabled, "
                               "the destination parent directory would be removed first and "
                               "then re-created and the archive would be extracted", None)
        if not clean:
            if not force:
                return result.fail(ret, comment + " To proceed with extraction, set 'force' to "
                                   "True. Note that this will remove these paths before "
                                   f"extracting.{lines}")
            ret["changes"]["removed"] = _remove(ctx, [os.path.join(name, p) for p in wrong])
            needed = True
    created = False
    files: list[str] = []
    if needed:
        if is_local and source_hash and not skip_verify:
            failed = _check_local_hash(ctx, ret, cached, source, source_hash)
            if failed:
                return failed
        if ctx.test:
            comment = f"Archive {source} would be extracted to {name}"
            if clean:
                comment += ", after cleaning destination path(s)"
            if missing:
                comment += ", due to absence of one or more files/dirs"
            return result.done(ret, comment, None)
        if clean_parent and os.path.isdir(name):
            _remove(ctx, [name])
            ret["changes"]["removed"] = f"Directory {name} was removed prior to the extraction"
        if clean:
            tops = listing["top_level_dirs"] + listing["top_level_files"]
            gone = [os.path.join(name, p) for p in tops
                    if os.path.lexists(os.path.join(name, p).rstrip(os.sep))]
            if gone:
                ret["changes"]["removed"] = _remove(ctx, gone)
        if not os.path.isdir(name):
            ctx.call("file.makedirs", name, user=user)
            created = True
        try:
            files = ctx.call("archive.extract", cached, name, archive_format=fmt,
                             options=options, trim_output=trim_output)
        except Exception as exc:
            if created:
                ctx.call("file.remove", name.rstrip(os.sep))
            return result.fail(ret, str(exc))
    enforce_missing: list[str] = []
    if user not in (None, "") or group not in (None, ""):
        try:
            enforce_missing = _ownership(ctx, ret, name, listing, user, group,
                                         enforce_ownership_on)
        except Exception as exc:
            return result.fail(ret, f"Failed to enforce user/group ownership: {exc}")
    if needed:
        if not files:
            return result.fail(ret, f"No files were extracted from {source}")
        if created:
            ret["changes"]["directories_created"] = [name]
        ret["changes"]["extracted_files"] = files
        comment = f"{source} extracted to {name}"
        if missing:
            comment += ", due to absence of one or more files/dirs"
        if trim_output:
            comment += f". Output was trimmed to {trim_output} number of lines"
        result.done(ret, comment)
    else:
        result.done(ret, "All files in archive are already present")
        if ctx.test and ret["changes"].get("updated ownership"):
            ret["result"] = None
            ret["comment"] += ". Ownership would be updated on one or more files/directories."
    if enforce_missing:
        if not if_missing:
            ret["result"] = False
        ret["comment"] += ("\n\nWhile trying to enforce user/group ownership, the following "
                           "paths were missing:\n" + "".join(f"\n- {p}" for p in enforce_missing))
    return ret


def _strip_components(options: str | None) -> int | None:
    import re

    if not options:
        return None
    match = re.search(r"""--strip(?:-components)?(?:\s+|=)["']?(\d+)["']?""", options)
    return int(match.group(1)) if match else None
