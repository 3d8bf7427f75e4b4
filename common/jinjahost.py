"""Salt's jinja filters that look at this host: files, commands, users, MAC addresses.

    {% if '/etc/app.conf' | is_text_file %}   {{ 'nginx' | which }}   {{ 'root' | get_uid }}
"""

from __future__ import annotations

import hashlib
import os
import pwd
import random
import shutil
from collections.abc import Callable
from typing import Any

_TEXT = bytes(range(32, 127)) + b"\n\r\t\f\b"


def looks_binary(data: bytes) -> bool:
    """Salt's guess: a NUL byte, or more than 30 % of the bytes not text."""
    if not data:
        return False
    if b"\0" in data:
        return True
    text = _TEXT
    try:
        data.decode("utf-8")
        text += bytes(range(128, 255))
    except UnicodeDecodeError as exc:
        if exc.reason == "unexpected end of data":
            text += bytes(range(128, 255))
    return len(data.translate(None, text)) / len(data) > 0.30


def _head(path: str, size: int) -> bytes | None:
    try:
        with open(path, "rb") as handle:
            return handle.read(size)
    except OSError:
        return None


def is_text_file(path: str, blocksize: int = 512) -> bool:
    """True if the file's first block looks like text."""
    block = _head(path, blocksize)
    return block is not None and not looks_binary(block)


def is_bin_file(path: str) -> bool:
    """True if the file looks binary (False when it is not a readable file)."""
    if not os.path.isfile(path):
        return False
    block = _head(path, 2048)
    return block is not None and looks_binary(block)


def is_empty(path: str) -> bool:
    """True if the file exists and is empty."""
    try:
        return os.stat(path).st_size == 0
    except OSError:
        return False


def list_files(directory: str) -> list[str]:
    """Every file and directory under `directory` (sorted), or the path of a single file."""
    found: set[str] = set()
    if os.path.isdir(directory):
        for root, dirs, files in os.walk(directory):
            found.add(root)
            found.update(os.path.join(root, name) for name in dirs + files)
    else:
        found.add(directory)
    return sorted(found)


def file_hashsum(path: str, form: str = "sha256", chunk_size: int = 65536) -> str:
    """The hash of a local file's content."""
    if form not in hashlib.algorithms_available:
        raise ValueError(f"Invalid hash type: {form}")
    digest = hashlib.new(form)
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(chunk_size), b""):
            digest.update(chunk)
    return digest.hexdigest()



def get_uid(user: str | None = None) -> int | None:
    """The uid of `user` (of the current user without one); None if there is no such user."""
    if user is None:
        return os.geteuid()
    try:
        return pwd.getpwnam(user).pw_uid
    except KeyError:
        return None


def gen_mac(prefix: str = "AC:DE:48") -> str:
    """A random MAC address with the given prefix."""
    rand = random.SystemRandom()
    return prefix + "".join(f":{rand.randint(0, 255):02X}" for _ in range(3))


FILTERS: dict[str, Callable[..., Any]] = {
    "is_text_file": is_text_file, "is_bin_file": is_bin_file, "is_empty": is_empty,
    "list_files": list_files, "file_hashsum": file_hashsum, "which": shutil.which,
    "get_uid": get_uid, "gen_mac": gen_mac,
}
