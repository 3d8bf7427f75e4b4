"""file.*: existence checks and reading files."""

from __future__ import annotations

import os

from minion.context import Context
from minion.modules.file.common import (
    absolute,
    compile_text,
    os_errors,
    read_bytes,
)

# --- existence and simple reads --------------------------------------------------------------


def file_exists(ctx: Context, path: str) -> bool:
    """Tell whether a path is a regular file (following symlinks).

    path
        Absolute path to check.

    CLI Example:

        master run '*' file.file_exists /etc/passwd
    """
    return os.path.isfile(absolute(path))


def directory_exists(ctx: Context, path: str) -> bool:
    """Tell whether a path is a directory (following symlinks).

    path
        Absolute path to check.

    CLI Example:

        master run '*' file.directory_exists /etc
    """
    return os.path.isdir(absolute(path))


def is_link(ctx: Context, path: str) -> bool:
    """Tell whether a path is a symbolic link (even a broken one).

    path
        Absolute path to check.

    CLI Example:

        master run '*' file.is_link /etc/localtime
    """
    return os.path.islink(absolute(path))


def access(ctx: Context, path: str, mode: str | int) -> bool:
    """Tell whether the minion process may access a path in the given way.

    path
        Absolute path to check.
    mode
        ``f`` (exists), ``r`` (readable), ``w`` (writable) or ``x``
        (executable); an ``os.F_OK``-style integer is accepted too.

    CLI Example:

        master run '*' file.access /etc/shadow r
    """
    modes = {"f": os.F_OK, "r": os.R_OK, "w": os.W_OK, "x": os.X_OK}
    if mode in modes:
        return os.access(absolute(path), modes[str(mode)])
    if mode in modes.values():
        return os.access(absolute(path), int(mode))
    raise ValueError(f"mode: invalid access mode {mode!r}; use one of f, r, w, x")


def read(ctx: Context, path: str, binary: bool = False) -> str | bytes:
    """Return the content of a file.

    Text is decoded as UTF-8; bytes that are not valid UTF-8 become U+FFFD.

    path
        Absolute path of the file.
    binary
        Return the raw bytes instead of text.

    CLI Example:

        master run '*' file.read /etc/hostname
    """
    data = read_bytes(absolute(path))
    return data if binary else data.decode("utf-8", "replace")


def seek_read(ctx: Context, path: str, size: int, offset: int) -> bytes:
    """Return up to `size` bytes of a file, starting at byte `offset`.

    path
        Absolute path of the file.
    size
        How many bytes to read at most.
    offset
        Where to start reading.

    CLI Example:

        master run '*' file.seek_read /var/log/syslog 4096 0
    """
    path = absolute(path)
    with os_errors(path), open(path, "rb") as handle:
        handle.seek(int(offset))
        return handle.read(int(size))


def line_count(ctx: Context, path: str) -> int:
    """Return the number of lines in a file (saline's own; Salt has none).

    A last line without a trailing newline counts, so ``a\\nb`` has two lines
    (``wc -l`` would say one). The file is read in chunks, never whole.

    path
        Absolute path of the file.

    CLI Example:

        master run '*' file.line_count /etc/passwd
    """
    path = absolute(path)
    count, last = 0, b"\n"
    with os_errors(path), open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 16), b""):
            count += chunk.count(b"\n")
            last = chunk[-1:]
    return count + (last != b"\n")


def contains(ctx: Context, path: str, text: str) -> bool:
    """Tell whether a file contains a piece of text (surrounding spaces ignored).

    A missing file gives False, as in Salt; a file that cannot be read is an
    error. The file is read in chunks, and a match across chunks is found.

    path
        Absolute path of the file.
    text
        Text to look for.

    CLI Example:

        master run '*' file.contains /etc/crontab mymaintenance.sh
    """
    path = absolute(path)
    needle = str(text).strip().encode()
    if not os.path.exists(path):
        return False
    tail = b""
    with os_errors(path), open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 16), b""):
            window = tail + chunk
            if needle in window:
                return True
            tail = window[-len(needle) + 1:] if len(needle) > 1 else b""
    return False


def contains_regex(ctx: Context, path: str, regex: str, lchar: str = "") -> bool:
    """Tell whether a regular expression matches any line of a file.

    A missing file gives False, as in Salt; a file that cannot be read is an
    error.

    path
        Absolute path of the file.
    regex
        Python regular expression, searched for in each line.
    lchar
        Characters to strip from the start of each line before matching.

    CLI Example:

        master run '*' file.contains_regex /etc/ssh/sshd_config '^PermitRootLogin\\s+no'
    """
    path = absolute(path)
    if not os.path.exists(path):
        return False
    pattern = compile_text(regex)
    with os_errors(path), open(path, encoding="utf-8", errors="replace") as handle:
        for line in handle:
            if pattern.search(line.lstrip(lchar) if lchar else line):
                return True
    return False
