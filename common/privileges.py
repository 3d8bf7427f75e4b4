"""Dropping root: the `user` option of both daemons.

Started as root with ``user: saline``, a daemon creates the directories and
log file it needs, hands to that user exactly what it created, and switches
to it before it opens any socket or key. It then checks that the user can
still read the Python it runs on (a Python under ``/root`` is closed to
``nobody``; the daemon imports more modules later), and says so in one line
instead of failing on its next import. What already existed is never
changed: not a parent directory (``log_file: /var/log/saline.log`` leaves
``/var/log`` alone), not the contents of an existing directory. An existing
path the user cannot use is one clear error naming it. Started as that user
already, nothing happens; started as another non-root user, it refuses,
since it cannot switch.
"""

from __future__ import annotations

import errno
import importlib.util
import os
import pwd
import sys
from collections.abc import Iterable
from pathlib import Path

from common.config import ConfigError


def switch_user(user: str | None, own: Iterable[str], files: Iterable[str] = (),
                check_python: bool = True) -> None:
    """Become `user`, first creating the directories in `own` and the `files`
    that are missing and giving it what was created; then refuse if it cannot
    read this Python's modules (`check_python=False`: a caller that imports
    nothing more does not need them)."""
    if not user:
        return
    try:
        pw = pwd.getpwnam(user)
    except KeyError:
        raise ConfigError(f"user: no such user {user!r}") from None
    if os.getuid() == pw.pw_uid:
        return
    if os.getuid() != 0:
        raise ConfigError(f"user: cannot switch to {user!r} when not started as root")
    dirs = [Path(top) for top in own]
    paths = [Path(f) for f in files]
    roots = python_roots() if check_python else []  # as root: the user may not see them
    for top in dirs:
        for made in make_dirs(top):
            os.chown(made, pw.pw_uid, pw.pw_gid, follow_symlinks=False)
    for path in paths:
        for made in make_dirs(path.parent, leaf_mode=0o755):
            os.chown(made, pw.pw_uid, pw.pw_gid, follow_symlinks=False)
        _create_file(path, pw.pw_uid, pw.pw_gid)
    os.initgroups(pw.pw_name, pw.pw_gid)
    os.setgid(pw.pw_gid)
    os.setuid(pw.pw_uid)
    os.environ.update({"HOME": pw.pw_dir, "USER": pw.pw_name, "LOGNAME": pw.pw_name})
    _check_python_readable(user, roots)
    for top in dirs:
        if not os.access(top, os.W_OK | os.X_OK):
            raise ConfigError(
                f"user: {user!r} cannot use {top}; check the modes of its parent directories "
                f"(an existing directory is not handed over: chown it to {user!r} if it is "
                "saline's own)"
            )
    for path in paths:
        if not os.access(path, os.W_OK):
            raise ConfigError(f"user: {user!r} cannot write {path}; it existed before, so it "
                              f"is not handed over: chown it to {user!r}")


# What the daemons import only after they have dropped root (psutil for the
# grains, the rest as jobs and requests come); the stdlib comes with `os`.
LATER_IMPORTS = ("zmq", "nacl", "msgpack", "jinja2", "markupsafe", "yaml", "psutil")


def python_roots() -> list[Path]:
    """The existing directories this Python loads modules from: where each loaded
    module and each of the daemons' later imports lives (a sys.path entry, a
    venv's site-packages, the standard library)."""
    found: dict[Path, None] = {}
    specs = [getattr(mod, "__spec__", None) for mod in list(sys.modules.values())]
    for name in LATER_IMPORTS:
        try:
            specs.append(importlib.util.find_spec(name))
        except (ImportError, ValueError):
            continue
    for spec in specs:
        root = _spec_root(spec)
        if root is not None and root.is_dir():  # zip archives left out
            found[root] = None
    return list(found)


def _spec_root(spec: object) -> Path | None:
    # The root of `a.b.c` (.../a/b/c.py) and of the package `a.b`
    # (.../a/b/__init__.py) is the third directory up from the file.
    name, origin = getattr(spec, "name", None), getattr(spec, "origin", None)
    if not name or not origin or not getattr(spec, "has_location", False):
        return None
    depth = name.count(".") + (getattr(spec, "submodule_search_locations", None) is not None)
    try:
        return Path(os.path.abspath(origin)).parents[depth]
    except IndexError:
        return None


def _check_python_readable(user: str, roots: Iterable[Path]) -> None:
    """Refuse in one line when `user` (now this process) cannot read a root."""
    for root in roots:
        if not os.access(root, os.R_OK | os.X_OK):
            closed = next((p for p in reversed(root.parents) if not os.access(p, os.X_OK)),
                          root)
            raise ConfigError(
                f"user: cannot run as {user!r}: it cannot read the Python installation at "
                f"{root} ({closed} is closed to it): give it read access, or install Python "
                f"and saline where {user!r} can read them"
            )


def make_dirs(path: Path, leaf_mode: int = 0o700) -> list[Path]:
    """Create `path` and its missing parents; return the directories created, top first.

    Parents get 0755 (the user must reach through them), `path` `leaf_mode`.
    A directory made by someone else at the same moment counts as existing.
    """
    missing: list[Path] = []
    here = Path(os.path.abspath(path))
    while not os.path.lexists(here):
        missing.append(here)
        here = here.parent
    made: list[Path] = []
    for directory in reversed(missing):
        try:
            os.mkdir(directory, leaf_mode if directory == missing[0] else 0o755)
        except FileExistsError:
            continue
        made.append(directory)
    return made


def _create_file(path: Path, uid: int, gid: int) -> None:
    # O_EXCL: only a file made here is handed over; O_NOFOLLOW: a symlink
    # planted at the path is never followed (it counts as existing).
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    except FileExistsError:
        return
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return
        raise
    try:
        os.fchown(fd, uid, gid)
    finally:
        os.close(fd)


def owned_dirs(opts: dict[str, object]) -> list[str]:
    """The directories a daemon writes to, which its `user` must be able to use."""
    return [str(opts[key]) for key in ("pki_dir", "cachedir", "sock_dir")]


def owned_files(opts: dict[str, object]) -> list[str]:
    """The files a daemon writes outside its directories (its `log_file`)."""
    return [str(opts["log_file"])] if opts.get("log_file") else []
