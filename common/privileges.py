"""Dropping root: the `user` option of both daemons.

Started as root with ``user: saline``, a daemon creates the directories and
log file it needs, hands to that user exactly what it created, and switches
to it before it opens any socket or key. What already existed is never
changed: not a parent directory (``log_file: /var/log/saline.log`` leaves
``/var/log`` alone), not the contents of an existing directory. An existing
path the user cannot use is one clear error naming it. Started as that user
already, nothing happens; started as another non-root user, it refuses,
since it cannot switch.
"""

from __future__ import annotations

import errno
import os
import pwd
from collections.abc import Iterable
from pathlib import Path

from common.config import ConfigError


def switch_user(user: str | None, own: Iterable[str], files: Iterable[str] = ()) -> None:
    """Become `user`, first creating the directories in `own` and the `files`
    that are missing and giving it what was created."""
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
