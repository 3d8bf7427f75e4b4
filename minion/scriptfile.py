"""Staging a script from the file server so it can be run (cmd.script, both kinds)."""

from __future__ import annotations

import contextlib
import os
import pwd
import shlex
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from common.fileroots import split_url
from minion.context import Context


@contextlib.contextmanager
def staged_script(ctx: Context, source: str, saltenv: str, runas: str | None,
                  args: str | list[Any] | None) -> Iterator[tuple[str, Path]]:
    """Copy a salt:// (or absolute local) script into a private temp dir, executable
    and owned by `runas`; yield (command line, work dir) and clean up after."""
    workdir = Path(tempfile.mkdtemp(prefix="saline-script-"))
    try:
        if source.startswith("salt://"):
            rel, env = split_url(source, saltenv)
            origin = ctx.fileclient().cache_file(env, rel)
        elif os.path.isabs(source):
            origin = Path(source)
        else:
            raise ValueError(f"source must be a salt:// URL or an absolute path, not {source!r}")
        target = workdir / (origin.name or "script")
        shutil.copyfile(origin, target)
        target.chmod(0o700)
        if runas:
            try:
                entry = pwd.getpwnam(runas)
            except KeyError:
                raise ValueError(f"runas: no such user {runas!r}") from None
            for path in (workdir, target):
                os.chown(path, entry.pw_uid, entry.pw_gid)
        extra = shlex.join(str(a) for a in args) if isinstance(args, list) else args or ""
        yield f"{shlex.quote(str(target))} {extra}".rstrip(), workdir
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
