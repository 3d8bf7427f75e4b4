"""Dropping root: the `user` option of both daemons.

Started as root with ``user: saline``, a daemon hands its own directories to
that user and switches to it before it opens any socket or key. Started as
that user already, nothing happens; started as another non-root user, it
refuses, since it cannot switch.
"""

from __future__ import annotations

import os
import pwd
from collections.abc import Iterable
from pathlib import Path

from common.config import ConfigError


def switch_user(user: str | None, own: Iterable[str]) -> None:
    """Become `user`, first giving it the directories in `own` (recursively)."""
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
    for top in dirs:
        _chown_tree(top, pw.pw_uid, pw.pw_gid)
    os.initgroups(pw.pw_name, pw.pw_gid)
    os.setgid(pw.pw_gid)
    os.setuid(pw.pw_uid)
    os.environ.update({"HOME": pw.pw_dir, "USER": pw.pw_name, "LOGNAME": pw.pw_name})
    for top in dirs:
        if not os.access(top, os.W_OK | os.X_OK):
            raise ConfigError(
                f"user: {user!r} cannot reach {top}; check the modes of its parent directories"
            )


def _chown_tree(top: Path, uid: int, gid: int) -> None:
    top.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chown(top, uid, gid)
    for dirpath, dirnames, filenames in os.walk(top):
        for name in dirnames + filenames:
            os.chown(os.path.join(dirpath, name), uid, gid, follow_symlinks=False)


def owned_dirs(opts: dict[str, object]) -> list[str]:
    """The directories a daemon writes to, which its `user` must own."""
    dirs = [opts["pki_dir"], opts["cachedir"], opts["sock_dir"]]
    if opts.get("log_file"):
        dirs.append(str(Path(str(opts["log_file"])).parent))
    return [str(d) for d in dirs]
