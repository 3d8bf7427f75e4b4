"""Work with files and directories on the minion, like Salt's ``file`` module.

Names, arguments and return values follow Salt's execution module. Where they
differ, the function's docstring says so. The rules that hold for all of them:

- Paths must be absolute (``~`` is expanded first); a relative path is refused
  with ``FileError``. Only ``basename``, ``dirname`` and ``join`` take any
  string, as they never touch the file system.
- Errors raise an exception whose message is one line naming the path
  (``/etc/nope: No such file or directory``); the executor turns it into an
  ``ERROR: ...`` reply. Functions keep Salt's ``False`` answers where Salt gives
  one as a real answer (``remove`` of a missing path, ``contains`` on a missing
  file, ``replace`` with ``ignore_if_missing``).
- ``write``, ``prepend`` and ``replace`` are atomic: the new content goes into a
  temporary file in the same directory, which takes the old file's mode and
  owner and then replaces it with ``os.replace``, so readers see the old or the
  new file, never half of one. A symlink is resolved and its target written.
  They write in place instead when the file has other hard links (unless
  ``preserve_inode=False`` for ``replace``) or when the temporary file cannot
  be made or given the old owner, so the owner and hard links are never lost.
- Removing a tree never follows symlinks inside it: links are removed, their
  targets are left alone.
"""


from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from minion.modules.file.common import FileError as FileError
from minion.modules.file.edit import append, prepend, replace, search, touch, write
from minion.modules.file.find import find
from minion.modules.file.meta import (
    get_gid,
    get_group,
    get_hash,
    get_mode,
    get_uid,
    get_user,
    lstat,
    stats,
)
from minion.modules.file.moves import copy, readlink, remove, rename, symlink
from minion.modules.file.paths import basename, dirname, join
from minion.modules.file.perms import chown, makedirs, mkdir, set_mode
from minion.modules.file.reading import (
    access,
    contains,
    contains_regex,
    directory_exists,
    file_exists,
    is_link,
    line_count,
    read,
    seek_read,
)

__all__ = [
    "access",
    "append",
    "basename",
    "chown",
    "contains",
    "contains_regex",
    "copy",
    "directory_exists",
    "dirname",
    "file_exists",
    "find",
    "get_gid",
    "get_group",
    "get_hash",
    "get_mode",
    "get_uid",
    "get_user",
    "is_link",
    "join",
    "line_count",
    "lstat",
    "makedirs",
    "mkdir",
    "prepend",
    "read",
    "readlink",
    "remove",
    "rename",
    "replace",
    "search",
    "seek_read",
    "set_mode",
    "stats",
    "symlink",
    "touch",
    "write",
]


def _unavailable(opts: Mapping[str, Any], grains: Mapping[str, Any]) -> str | None:
    if os.name != "posix":
        return "the file module needs a POSIX system"
    return None

