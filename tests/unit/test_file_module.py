"""The file execution module, on real files in tmp_path, called through the registry."""

from __future__ import annotations

import grp
import hashlib
import os
import pwd
import re
import shutil
import stat
import tempfile
import time
import tracemalloc
from pathlib import Path
from typing import Any

import pytest

from minion.context import Context
from minion.executor import execute
from minion.loader import CallError, Registry
from minion.modules.file import FileError
from minion.modules.file.common import parse_mode as _parse_mode

ROOT = os.geteuid() == 0


@pytest.fixture
def ctx() -> Context:
    registry = Registry.load({}, {})
    return Context({}, {}, {}, registry)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _leftovers(directory: Path) -> list[str]:
    return [p.name for p in directory.iterdir() if "saline-tmp" in p.name]


# --- common rules ----------------------------------------------------------------------------

RELATIVE_CALLS: list[tuple[str, tuple[Any, ...]]] = [
    ("file.file_exists", ("etc/hosts",)),
    ("file.directory_exists", ("etc",)),
    ("file.is_link", ("x",)),
    ("file.access", ("x", "f")),
    ("file.read", ("etc/hostname",)),
    ("file.seek_read", ("x", 1, 0)),
    ("file.line_count", ("x",)),
    ("file.contains", ("x", "a")),
    ("file.contains_regex", ("x", "a")),
    ("file.get_hash", ("x",)),
    ("file.stats", ("x",)),
    ("file.lstat", ("x",)),
    ("file.get_mode", ("x",)),
    ("file.set_mode", ("x", "0644")),
    ("file.get_user", ("x",)),
    ("file.get_group", ("x",)),
    ("file.get_uid", ("x",)),
    ("file.get_gid", ("x",)),
    ("file.chown", ("x", None, None)),
    ("file.mkdir", ("x",)),
    ("file.makedirs", ("x/",)),
    ("file.write", ("x", "a")),
    ("file.append", ("x", "a")),
    ("file.prepend", ("x", "a")),
    ("file.touch", ("x",)),
    ("file.replace", ("x", "a", "b")),
    ("file.search", ("x", "a")),
    ("file.readlink", ("x",)),
    ("file.symlink", ("/etc/hosts", "x")),
    ("file.rename", ("x", "/tmp/y")),
    ("file.copy", ("x", "/tmp/y")),
    ("file.remove", ("x",)),
    ("file.find", ("x",)),
]


@pytest.mark.parametrize(("fun", "args"), RELATIVE_CALLS, ids=[c[0] for c in RELATIVE_CALLS])
def test_relative_paths_are_refused(ctx: Context, fun: str, args: tuple[Any, ...]) -> None:
    with pytest.raises(FileError, match="must be absolute"):
        ctx.call(fun, *args)


def test_every_function_is_registered(ctx: Context) -> None:
    import minion.modules.file as module

    names = {n for n in ctx.registry.functions if n.startswith("file.")}
    assert names == {f"file.{name}" for name in module.__all__}
    assert "file._abs" not in ctx.registry.functions


def test_errors_reach_the_master_as_one_line(ctx: Context, tmp_path: Path) -> None:
    missing = tmp_path / "nope"
    reply = execute(ctx, "file.read", [str(missing)], {})
    assert reply["success"] is False
    assert reply["return"] == f"ERROR: file.read: FileError: {missing}: No such file or directory"
    assert "\n" not in reply["return"]
    with pytest.raises(CallError, match="nope"):
        ctx.call("file.read", str(missing), nope=1)


# --- existence, read, simple answers ---------------------------------------------------------


def test_exists_and_links(ctx: Context, tmp_path: Path) -> None:
    f = tmp_path / "f"
    f.write_text("x")
    link = tmp_path / "link"
    link.symlink_to(f)
    broken = tmp_path / "broken"
    broken.symlink_to(tmp_path / "gone")
    assert ctx.call("file.file_exists", str(f)) is True
    assert ctx.call("file.file_exists", str(tmp_path)) is False
    assert ctx.call("file.directory_exists", str(tmp_path)) is True
    assert ctx.call("file.directory_exists", str(f)) is False
    assert ctx.call("file.is_link", str(link)) is True
    assert ctx.call("file.is_link", str(broken)) is True
    assert ctx.call("file.is_link", str(f)) is False


@pytest.mark.parametrize(("mode", "expected"), [("f", True), ("r", True), ("w", True),
                                                ("x", False), (os.R_OK, True)])
def test_access(ctx: Context, tmp_path: Path, mode: str | int, expected: bool) -> None:
    f = tmp_path / "f"
    f.write_text("x")
    f.chmod(0o644)
    assert ctx.call("file.access", str(f), mode) is expected


def test_access_bad_mode(ctx: Context, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="invalid access mode 'q'"):
        ctx.call("file.access", str(tmp_path), "q")
    assert ctx.call("file.access", str(tmp_path / "nope"), "f") is False


def test_read(ctx: Context, tmp_path: Path) -> None:
    f = tmp_path / "f"
    f.write_bytes("héllo\n".encode() + b"\xff")
    assert ctx.call("file.read", str(f)) == "héllo\n\ufffd"
    assert ctx.call("file.read", str(f), binary=True) == "héllo\n".encode() + b"\xff"
    with pytest.raises(FileError, match=f"{tmp_path}: Is a directory"):
        ctx.call("file.read", str(tmp_path))


@pytest.mark.skipif(ROOT, reason="root reads anything")
def test_read_permission_denied(ctx: Context, tmp_path: Path) -> None:
    f = tmp_path / "secret"
    f.write_text("x")
    f.chmod(0)
    with pytest.raises(FileError, match=f"^{f}: Permission denied$"):
        ctx.call("file.read", str(f))


def test_seek_read(ctx: Context, tmp_path: Path) -> None:
    f = tmp_path / "f"
    f.write_bytes(b"0123456789")
    assert ctx.call("file.seek_read", str(f), 4, 3) == b"3456"
    assert ctx.call("file.seek_read", str(f), 100, 8) == b"89"


@pytest.mark.parametrize(("content", "lines"), [
    (b"", 0), (b"a", 1), (b"a\n", 1), (b"a\nb", 2), (b"a\nb\n", 2), (b"\n\n", 2),
    (b"x\n" * 100_000, 100_000),
])
def test_line_count(ctx: Context, tmp_path: Path, content: bytes, lines: int) -> None:
    f = tmp_path / "f"
    f.write_bytes(content)
    assert ctx.call("file.line_count", str(f)) == lines


def test_contains(ctx: Context, tmp_path: Path) -> None:
    f = tmp_path / "f"
    # The needle straddles the 64 KiB chunk boundary.
    f.write_bytes(b"a" * (65536 - 3) + b"needle" + b"b" * 10)
    assert ctx.call("file.contains", str(f), "  needle ") is True
    assert ctx.call("file.contains", str(f), "haystack") is False
    assert ctx.call("file.contains", str(tmp_path / "nope"), "x") is False


def test_contains_regex(ctx: Context, tmp_path: Path) -> None:
    f = tmp_path / "f"
    f.write_text("# comment\n  PermitRootLogin no\n")
    assert ctx.call("file.contains_regex", str(f), r"^PermitRootLogin\s+no") is False
    assert ctx.call("file.contains_regex", str(f), r"^PermitRootLogin\s+no", lchar=" ") is True
    assert ctx.call("file.contains_regex", str(tmp_path / "nope"), "x") is False
    with pytest.raises(ValueError, match="invalid regular expression"):
        ctx.call("file.contains_regex", str(f), "(")


# --- hashes and stats ------------------------------------------------------------------------


@pytest.mark.parametrize("form", ["md5", "sha1", "sha224", "sha256", "sha384", "sha512"])
def test_get_hash_forms(ctx: Context, tmp_path: Path, form: str) -> None:
    f = tmp_path / "f"
    f.write_bytes(b"saline\n")
    assert ctx.call("file.get_hash", str(f), form) == hashlib.new(form, b"saline\n").hexdigest()


def test_get_hash_streams_a_large_file(ctx: Context, tmp_path: Path) -> None:
    f = tmp_path / "big"
    block = os.urandom(1 << 20)
    with f.open("wb") as handle:
        for _ in range(8):
            handle.write(block)
    expected = hashlib.sha256(block * 8).hexdigest()
    tracemalloc.start()
    try:
        got = ctx.call("file.get_hash", str(f), chunk_size=65536)
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert got == expected
    assert peak < 1 << 20, f"peak {peak} bytes: the 8 MiB file was not streamed"
    assert ctx.call("file.get_hash", str(f), "md5", 1000) == hashlib.md5(block * 8).hexdigest()


def test_get_hash_errors(ctx: Context, tmp_path: Path) -> None:
    f = tmp_path / "f"
    f.write_text("x")
    with pytest.raises(ValueError, match="unsupported hash type 'crc32'"):
        ctx.call("file.get_hash", str(f), "crc32")
    with pytest.raises(ValueError, match="chunk_size"):
        ctx.call("file.get_hash", str(f), "sha256", 0)
    with pytest.raises(FileError, match="No such file"):
        ctx.call("file.get_hash", str(tmp_path / "nope"))


STATS_KEYS = {"inode", "uid", "gid", "user", "group", "atime", "mtime", "ctime", "size", "mode",
              "type", "target"}


def test_stats(ctx: Context, tmp_path: Path) -> None:
    f = tmp_path / "f"
    f.write_bytes(b"12345")
    f.chmod(0o640)
    link = tmp_path / "link"
    link.symlink_to(f)
    result = ctx.call("file.stats", str(f))
    assert set(result) == STATS_KEYS
    assert result["size"] == 5
    assert result["mode"] == "0640"
    assert result["type"] == "file"
    assert result["inode"] == f.stat().st_ino
    assert result["uid"] == os.getuid() and result["user"] == pwd.getpwuid(os.getuid()).pw_name
    assert result["group"] == grp.getgrgid(f.stat().st_gid).gr_name
    assert result["target"] == str(f)
    assert ctx.call("file.stats", str(tmp_path))["type"] == "dir"
    assert ctx.call("file.stats", str(link))["type"] == "file"
    assert ctx.call("file.stats", str(link))["target"] == str(f)
    assert ctx.call("file.stats", str(link), follow_symlinks=False)["type"] == "link"
    with_sum = ctx.call("file.stats", str(f), hash_type="md5")
    assert with_sum["sum"] == hashlib.md5(b"12345").hexdigest()


def test_stats_broken_link_and_missing(ctx: Context, tmp_path: Path) -> None:
    broken = tmp_path / "broken"
    broken.symlink_to(tmp_path / "gone")
    assert ctx.call("file.stats", str(broken))["type"] == "link"
    with pytest.raises(FileError, match=f"{tmp_path}/nope: path not found"):
        ctx.call("file.stats", str(tmp_path / "nope"))


def test_lstat(ctx: Context, tmp_path: Path) -> None:
    link = tmp_path / "link"
    link.symlink_to("/etc/hosts")
    result = ctx.call("file.lstat", str(link))
    assert set(result) == {"st_atime", "st_ctime", "st_gid", "st_mode", "st_mtime", "st_nlink",
                           "st_size", "st_uid"}
    assert stat.S_ISLNK(result["st_mode"])
    assert ctx.call("file.lstat", str(tmp_path / "nope")) == {}


def test_owner_getters(ctx: Context, tmp_path: Path) -> None:
    f = tmp_path / "f"
    f.write_text("x")
    info = f.stat()
    assert ctx.call("file.get_uid", str(f)) == info.st_uid
    assert ctx.call("file.get_gid", str(f)) == info.st_gid
    assert ctx.call("file.get_user", str(f)) == pwd.getpwuid(info.st_uid).pw_name
    assert ctx.call("file.get_group", str(f)) == grp.getgrgid(info.st_gid).gr_name
    with pytest.raises(FileError, match="path not found"):
        ctx.call("file.get_user", str(tmp_path / "nope"))


# --- modes and owners ------------------------------------------------------------------------


@pytest.mark.parametrize(("given", "bits"), [
    ("0644", 0o644), ("644", 0o644), (644, 0o644), ("0o755", 0o755), ("2775", 0o2775),
    (0, 0), ("0", 0), ("'0600'", 0o600),
])
def test_parse_mode_reads_digits_as_octal_like_salt(given: Any, bits: int) -> None:
    assert _parse_mode(given) == bits


@pytest.mark.parametrize("bad", ["999", "abc", "12345", "-1", 493])
def test_bad_modes_are_refused(ctx: Context, tmp_path: Path, bad: Any) -> None:
    f = tmp_path / "f"
    f.write_text("x")
    with pytest.raises(ValueError, match="invalid mode"):
        ctx.call("file.set_mode", str(f), bad)


def test_get_and_set_mode(ctx: Context, tmp_path: Path) -> None:
    f = tmp_path / "f"
    f.write_text("x")
    assert ctx.call("file.set_mode", str(f), "0640") == "0640"
    assert stat.S_IMODE(f.stat().st_mode) == 0o640
    assert ctx.call("file.get_mode", str(f)) == "0640"
    assert ctx.call("file.set_mode", str(tmp_path), 1777) == "1777"
    with pytest.raises(FileError, match="file not found"):
        ctx.call("file.set_mode", str(tmp_path / "nope"), "0644")


def test_chown(ctx: Context, tmp_path: Path) -> None:
    f = tmp_path / "f"
    f.write_text("x")
    me, mine = pwd.getpwuid(os.getuid()).pw_name, grp.getgrgid(os.getgid()).gr_name
    assert ctx.call("file.chown", str(f), me, mine) is None
    assert ctx.call("file.chown", str(f), os.getuid(), None) is None
    assert (f.stat().st_uid, f.stat().st_gid) == (os.getuid(), os.getgid())
    with pytest.raises(ValueError, match="no such user 'no-such-user-x'"):
        ctx.call("file.chown", str(f), "no-such-user-x", None)
    with pytest.raises(ValueError, match="no such group"):
        ctx.call("file.chown", str(f), None, "no-such-group-x")
    with pytest.raises(FileError, match="file not found"):
        ctx.call("file.chown", str(tmp_path / "nope"), me, mine)


# --- directories -----------------------------------------------------------------------------


def test_mkdir_creates_parents_with_mode(ctx: Context, tmp_path: Path) -> None:
    target = tmp_path / "a" / "b" / "c"
    assert ctx.call("file.mkdir", str(target), mode="0750") is True
    for directory in (tmp_path / "a", tmp_path / "a" / "b", target):
        assert stat.S_IMODE(directory.stat().st_mode) == 0o750
    target.chmod(0o700)
    assert ctx.call("file.mkdir", str(target), mode="0755") is True  # existing: left alone
    assert stat.S_IMODE(target.stat().st_mode) == 0o700


def test_mkdir_errors(ctx: Context, tmp_path: Path) -> None:
    f = tmp_path / "f"
    f.write_text("x")
    with pytest.raises(FileError, match=f"{f}: exists and is not a directory"):
        ctx.call("file.mkdir", str(f / "sub"))
    with pytest.raises(ValueError, match="invalid mode"):
        ctx.call("file.mkdir", str(tmp_path / "new"), mode="888")
    assert not (tmp_path / "new").exists()


def test_makedirs_creates_the_parent_unless_trailing_slash(ctx: Context, tmp_path: Path) -> None:
    assert ctx.call("file.makedirs", str(tmp_path / "a" / "b" / "file.txt")) is None
    assert (tmp_path / "a" / "b").is_dir()
    assert not (tmp_path / "a" / "b" / "file.txt").exists()
    assert ctx.call("file.makedirs", str(tmp_path / "x" / "y") + "/", mode=700) is None
    assert stat.S_IMODE((tmp_path / "x" / "y").stat().st_mode) == 0o700
    again = ctx.call("file.makedirs", str(tmp_path / "a" / "b" / "other"))
    assert again == f"Directory '{tmp_path / 'a' / 'b'}' already exists"


# --- writing ---------------------------------------------------------------------------------


def test_write_joins_lines_atomically_keeping_mode(ctx: Context, tmp_path: Path) -> None:
    f = tmp_path / "motd"
    f.write_text("old\n")
    f.chmod(0o600)
    inode = f.stat().st_ino
    assert ctx.call("file.write", str(f), "one", "two", 3) == f'Wrote 3 lines to "{f}"'
    assert f.read_text() == "one\ntwo\n3\n"
    assert f.stat().st_ino != inode  # replaced, not rewritten in place
    assert stat.S_IMODE(f.stat().st_mode) == 0o600
    assert _leftovers(tmp_path) == []


def test_write_new_file_gets_umask_mode(ctx: Context, tmp_path: Path) -> None:
    f = tmp_path / "new"
    ctx.call("file.write", str(f), args="key=value")
    assert f.read_text() == "key=value\n"
    assert stat.S_IMODE(f.stat().st_mode) == 0o666 & ~_umask()
    ctx.call("file.write", str(f), args=["a", "b"])
    assert f.read_text() == "a\nb\n"


def test_write_through_symlink_and_hard_link(ctx: Context, tmp_path: Path) -> None:
    target = tmp_path / "target"
    target.write_text("old\n")
    link = tmp_path / "link"
    link.symlink_to(target)
    ctx.call("file.write", str(link), "new")
    assert link.is_symlink() and target.read_text() == "new\n"
    hard = tmp_path / "hard"
    os.link(target, hard)
    ctx.call("file.write", str(target), "shared")
    assert hard.read_text() == "shared\n"  # written in place: the hard link still shares it


@pytest.mark.skipif(not ROOT, reason="needs root to act as another user")
def test_unprivileged_writes_fall_back_to_in_place(ctx: Context) -> None:
    # tmp_path is private to root, so use a world-traversable directory.
    base = Path(tempfile.mkdtemp())
    try:
        base.chmod(0o755)
        locked, shared = base / "locked", base / "shared"
        locked.mkdir(mode=0o755)
        shared.mkdir()
        shared.chmod(0o777)
        mine = locked / "mine"  # nobody's file in a directory nobody cannot write
        mine.write_text("old\n")
        os.chown(mine, 65534, 65534)
        roots = shared / "roots"  # root's world-writable file: the owner must stay root
        roots.write_text("old\n")
        roots.chmod(0o666)
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the child reports through its exit code
            code = 1
            try:
                os.setgid(65534)
                os.setuid(65534)
                ctx.call("file.write", str(mine), "new")
                ctx.call("file.replace", str(roots), "old", "new", backup=False)
                code = 0
            finally:
                os._exit(code)
        assert os.waitpid(pid, 0)[1] == 0
        assert mine.read_text() == "new\n" and roots.read_text() == "new\n"
        assert (roots.stat().st_uid, mine.stat().st_uid) == (0, 65534)
        assert _leftovers(locked) == [] and _leftovers(shared) == []
    finally:
        shutil.rmtree(base)


def test_write_errors(ctx: Context, tmp_path: Path) -> None:
    with pytest.raises(FileError, match="is a directory"):
        ctx.call("file.write", str(tmp_path), "x")
    with pytest.raises(FileError, match="No such file or directory"):
        ctx.call("file.write", str(tmp_path / "no" / "dir"), "x")


@pytest.mark.parametrize(("before", "after"), [
    ("", "a\nb\n"), ("x\n", "x\na\nb\n"), ("x", "x\na\nb\n"),
])
def test_append_adds_a_missing_newline(
    ctx: Context, tmp_path: Path, before: str, after: str
) -> None:
    f = tmp_path / "f"
    f.write_text(before)
    assert ctx.call("file.append", str(f), "a", "b") == f'Wrote 2 lines to "{f}"'
    assert f.read_text() == after


def test_append_needs_an_existing_file(ctx: Context, tmp_path: Path) -> None:
    with pytest.raises(FileError, match="No such file or directory"):
        ctx.call("file.append", str(tmp_path / "nope"), "a")


def test_prepend(ctx: Context, tmp_path: Path) -> None:
    f = tmp_path / "f"
    f.write_text("body\n")
    f.chmod(0o640)
    assert ctx.call("file.prepend", str(f), "head") == f'Prepended 1 lines to "{f}"'
    assert f.read_text() == "head\nbody\n"
    assert stat.S_IMODE(f.stat().st_mode) == 0o640
    fresh = tmp_path / "fresh"
    ctx.call("file.prepend", str(fresh), "a", "b")
    assert fresh.read_text() == "a\nb\n"


def test_touch(ctx: Context, tmp_path: Path) -> None:
    f = tmp_path / "f"
    assert ctx.call("file.touch", str(f)) is True
    assert f.read_bytes() == b""
    assert ctx.call("file.touch", str(f), atime=1000, mtime="2000") is True
    assert (f.stat().st_atime, f.stat().st_mtime) == (1000, 2000)
    before = time.time() - 5
    ctx.call("file.touch", str(f), mtime=0)
    assert f.stat().st_mtime == 0 and f.stat().st_atime >= before
    with pytest.raises(ValueError, match="must be integers"):
        ctx.call("file.touch", str(f), atime="yesterday")
    with pytest.raises(FileError, match="No such file"):
        ctx.call("file.touch", str(tmp_path / "no" / "f"))


# --- replace and search ----------------------------------------------------------------------

REPLACE_CASES: list[tuple[str, str, dict[str, Any], str]] = [
    # (id, original, kwargs, expected content)
    ("all", "a=1\na=2\n", {"pattern": "a", "repl": "b"}, "b=1\nb=2\n"),
    ("count", "a=1\na=2\n", {"pattern": "a", "repl": "b", "count": 1}, "b=1\na=2\n"),
    ("multiline default", "x a\na y\n", {"pattern": "^a", "repl": "b"}, "x a\nb y\n"),
    ("flags int 0", "x\na\n", {"pattern": "^a", "repl": "b", "flags": 0}, "x\na\n"),
    ("flags list", "A\n", {"pattern": "^a", "repl": "b", "flags": ["IGNORECASE", "MULTILINE"]},
     "b\n"),
    ("flags name", "A\n", {"pattern": "a", "repl": "b", "flags": "ignorecase"}, "b\n"),
    ("flags int", "x\nA\n", {"pattern": "^a", "repl": "b", "flags": re.I | re.M}, "x\nb\n"),
    ("groups", "port = 80\n", {"pattern": r"port = (\d+)", "repl": r"port = \1\1"},
     "port = 8080\n"),
    ("dotall", "a\nb\n", {"pattern": "a.b", "repl": "x", "flags": ["DOTALL"]}, "x\n"),
    ("append", "x\n", {"pattern": "^k=.*", "repl": "k=1", "append_if_not_found": True},
     "x\nk=1\n"),
    ("append no newline", "x", {"pattern": "^k=.*", "repl": "k=1", "append_if_not_found": True},
     "x\nk=1\n"),
    ("append empty", "", {"pattern": "^k=.*", "repl": "k=1", "append_if_not_found": True},
     "k=1\n"),
    ("append match replaces", "k=0\n",
     {"pattern": "^k=.*", "repl": "k=1", "append_if_not_found": True}, "k=1\n"),
    ("append already there", "k=1 \n",
     {"pattern": "^k=2", "repl": "k=1 ", "append_if_not_found": True}, "k=1 \n"),
    ("prepend", "x\n", {"pattern": "^k=.*", "repl": "k=1", "prepend_if_not_found": True},
     "k=1\nx\n"),
    ("not_found_content", "x\n",
     {"pattern": r"^(k)=.*", "repl": r"\1=1", "append_if_not_found": True,
      "not_found_content": "k=1"}, "x\nk=1\n"),
    ("backslash_literal", "a\n", {"pattern": "a", "repl": r"C:\new", "backslash_literal": True},
     "C:\\new\n"),
    ("no match", "a\n", {"pattern": "zzz", "repl": "b"}, "a\n"),
]


@pytest.mark.parametrize(("original", "kwargs", "expected"), [c[1:] for c in REPLACE_CASES],
                         ids=[c[0] for c in REPLACE_CASES])
def test_replace_cases(
    ctx: Context, tmp_path: Path, original: str, kwargs: dict[str, Any], expected: str
) -> None:
    f = tmp_path / "f"
    f.write_text(original)
    diff = ctx.call("file.replace", str(f), **kwargs)
    assert f.read_text() == expected
    assert (diff != "") == (expected != original)
    assert (tmp_path / "f.bak").exists() == (expected != original)


def test_replace_returns_a_unified_diff(ctx: Context, tmp_path: Path) -> None:
    f = tmp_path / "sshd_config"
    f.write_text("Port 22\nPermitRootLogin yes\nX11Forwarding no\n")
    diff = ctx.call("file.replace", str(f), "^PermitRootLogin .*", "PermitRootLogin no")
    assert diff == (
        "--- \n+++ \n@@ -1,3 +1,3 @@\n Port 22\n-PermitRootLogin yes\n"
        "+PermitRootLogin no\n X11Forwarding no\n"
    )
    assert (tmp_path / "sshd_config.bak").read_text().startswith("Port 22\nPermitRootLogin yes")


def test_replace_dry_run_and_show_changes(ctx: Context, tmp_path: Path) -> None:
    f = tmp_path / "f"
    f.write_text("a\n")
    mtime = f.stat().st_mtime_ns
    diff = ctx.call("file.replace", str(f), "a", "b", dry_run=True)
    assert "-a\n+b\n" in diff
    assert f.read_text() == "a\n" and f.stat().st_mtime_ns == mtime
    assert not (tmp_path / "f.bak").exists()
    assert ctx.call("file.replace", str(f), "a", "b", dry_run=True, show_changes=False) is True
    assert ctx.call("file.replace", str(f), "zz", "b", show_changes=False) is False
    assert ctx.call("file.replace", str(f), "a", "b", show_changes=False, backup=False) is True
    assert f.read_text() == "b\n" and not (tmp_path / "f.bak").exists()
    assert ctx.call("file.replace", str(f), "b", "b") == ""  # matched, unchanged
    assert f.stat().st_mtime_ns != mtime


def test_replace_keeps_mode_and_edits_a_symlinks_target(ctx: Context, tmp_path: Path) -> None:
    target = tmp_path / "target"
    target.write_text("a\n")
    target.chmod(0o604)
    link = tmp_path / "link"
    link.symlink_to(target)
    ctx.call("file.replace", str(link), "a", "b", backup=".orig")
    assert link.is_symlink() and target.read_text() == "b\n"
    assert stat.S_IMODE(target.stat().st_mode) == 0o604
    assert (tmp_path / "target.orig").read_text() == "a\n"
    assert _leftovers(tmp_path) == []


def test_replace_hard_links(ctx: Context, tmp_path: Path) -> None:
    f = tmp_path / "f"
    f.write_text("a\n")
    other = tmp_path / "other"
    os.link(f, other)
    ctx.call("file.replace", str(f), "a", "b")
    assert other.read_text() == "b\n"  # preserve_inode (default) kept the link
    ctx.call("file.replace", str(f), "b", "c", preserve_inode=False)
    assert f.read_text() == "c\n" and other.read_text() == "b\n"


def test_replace_errors(ctx: Context, tmp_path: Path) -> None:
    f = tmp_path / "f"
    f.write_text("a\n")
    missing = str(tmp_path / "nope")
    with pytest.raises(FileError, match=f"{missing}: file not found"):
        ctx.call("file.replace", missing, "a", "b")
    assert ctx.call("file.replace", missing, "a", "b", ignore_if_missing=True) is False
    with pytest.raises(ValueError, match="only one of"):
        ctx.call("file.replace", str(f), "a", "b", append_if_not_found=True,
                 prepend_if_not_found=True)
    with pytest.raises(ValueError, match="search_only"):
        ctx.call("file.replace", str(f), "a", "b", search_only=True, append_if_not_found=True)
    with pytest.raises(ValueError, match="invalid regular expression"):
        ctx.call("file.replace", str(f), "(", "b")
    with pytest.raises(ValueError, match="invalid regular expression flag 'NOPE'"):
        ctx.call("file.replace", str(f), "a", "b", flags=["NOPE"])
    with pytest.raises(ValueError, match="invalid replacement"):
        ctx.call("file.replace", str(f), "a", r"\9")
    binary = tmp_path / "bin"
    binary.write_bytes(b"\x00\x01a")
    with pytest.raises(FileError, match="binary file"):
        ctx.call("file.replace", str(binary), "a", "b")
    assert f.read_text() == "a\n"


def test_search(ctx: Context, tmp_path: Path) -> None:
    f = tmp_path / "crontab"
    f.write_text("0 * * * * root backup.sh\n")
    assert ctx.call("file.search", str(f), r"backup\.sh") is True
    assert ctx.call("file.search", str(f), "^root") is False
    assert ctx.call("file.search", str(f), "^0 ", flags=0, multiline=True) is True
    assert ctx.call("file.search", str(f), "ROOT", flags=["IGNORECASE"]) is True
    assert ctx.call("file.search", str(tmp_path / "nope"), "x", ignore_if_missing=True) is False
    with pytest.raises(FileError, match="file not found"):
        ctx.call("file.search", str(tmp_path / "nope"), "x")


# --- links, copies, moves, removal -----------------------------------------------------------


def test_symlink(ctx: Context, tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    a.write_text("a")
    b.write_text("b")
    link = tmp_path / "link"
    assert ctx.call("file.symlink", str(a), str(link)) is True
    assert os.readlink(link) == str(a)
    assert ctx.call("file.symlink", str(a), str(link)) is True  # already right
    with pytest.raises(FileError, match=f"{link}: found existing symlink"):
        ctx.call("file.symlink", str(b), str(link))
    assert ctx.call("file.symlink", str(b), str(link), force=True) is True
    assert os.readlink(link) == str(b) and a.read_text() == "a"
    assert ctx.call("file.symlink", str(a), str(link), atomic=True) is True
    assert os.readlink(link) == str(a)
    assert ctx.call("file.symlink", "a", str(tmp_path / "rel")) is True  # relative src is fine
    assert (tmp_path / "rel").read_text() == "a"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a", "b", "link", "rel"]


def test_symlink_over_files_and_directories(ctx: Context, tmp_path: Path) -> None:
    f = tmp_path / "f"
    f.write_text("x")
    with pytest.raises(FileError, match=f"{f}: existing path is not a symlink"):
        ctx.call("file.symlink", "/etc/hosts", str(f))
    assert ctx.call("file.symlink", "/etc/hosts", str(f), force=True) is True
    assert os.readlink(f) == "/etc/hosts"
    d = tmp_path / "d"
    d.mkdir()
    with pytest.raises(FileError, match=f"{d}: is a directory"):
        ctx.call("file.symlink", "/etc", str(d), force=True)
    broken = tmp_path / "broken"
    broken.symlink_to(tmp_path / "gone")
    with pytest.raises(FileError, match="found existing symlink"):
        ctx.call("file.symlink", "/etc/hosts", str(broken))


def test_readlink(ctx: Context, tmp_path: Path) -> None:
    real = tmp_path / "real"
    real.write_text("x")
    first = tmp_path / "first"
    first.symlink_to("real")
    second = tmp_path / "second"
    second.symlink_to(first)
    assert ctx.call("file.readlink", str(first)) == "real"
    assert ctx.call("file.readlink", str(second)) == str(first)
    assert ctx.call("file.readlink", str(second), canonicalize=True) == str(real)
    with pytest.raises(FileError, match=f"{real}: not a symbolic link"):
        ctx.call("file.readlink", str(real))


def test_rename(ctx: Context, tmp_path: Path) -> None:
    src, dst = tmp_path / "src", tmp_path / "dst"
    src.write_text("x")
    assert ctx.call("file.rename", str(src), str(dst)) is True
    assert dst.read_text() == "x" and not src.exists()
    with pytest.raises(FileError, match=f"{src} -> {dst}: No such file or directory"):
        ctx.call("file.rename", str(src), str(dst))


def test_copy_file(ctx: Context, tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.write_text("data")
    src.chmod(0o751)
    dst = tmp_path / "dst"
    assert ctx.call("file.copy", str(src), str(dst)) is True
    assert dst.read_text() == "data" and stat.S_IMODE(dst.stat().st_mode) == 0o751
    folder = tmp_path / "folder"
    folder.mkdir()
    with pytest.raises(FileError, match="without recurse=True"):
        ctx.call("file.copy", str(src), str(folder))
    assert ctx.call("file.copy", str(src), str(folder), recurse=True) is True
    assert (folder / "src").read_text() == "data"
    with pytest.raises(FileError, match=f"{tmp_path / 'nope'}: no such file or directory"):
        ctx.call("file.copy", str(tmp_path / "nope"), str(dst))


def test_copy_tree_merges_or_replaces(ctx: Context, tmp_path: Path) -> None:
    src = tmp_path / "src"
    (src / "sub").mkdir(parents=True)
    (src / "sub" / "a").write_text("new a")
    (src / "link").symlink_to("/etc/hosts")
    dst = tmp_path / "dst"
    (dst / "sub").mkdir(parents=True)
    (dst / "sub" / "a").write_text("old a")
    (dst / "keep").write_text("keep")
    with pytest.raises(FileError, match="without recurse=True"):
        ctx.call("file.copy", str(src), str(dst))
    assert ctx.call("file.copy", str(src), str(dst), recurse=True) is True
    assert (dst / "sub" / "a").read_text() == "new a" and (dst / "keep").exists()
    assert os.readlink(dst / "link") == "/etc/hosts"
    assert ctx.call("file.copy", str(src), str(dst), recurse=True, remove_existing=True) is True
    assert not (dst / "keep").exists() and (dst / "sub" / "a").read_text() == "new a"


def test_remove_file_link_and_missing(ctx: Context, tmp_path: Path) -> None:
    f = tmp_path / "f"
    f.write_text("x")
    link = tmp_path / "link"
    link.symlink_to(f)
    assert ctx.call("file.remove", str(link)) is True
    assert f.exists() and not link.is_symlink()
    assert ctx.call("file.remove", str(f)) is True
    assert not f.exists()
    assert ctx.call("file.remove", str(f)) is False


def test_remove_tree_never_follows_symlinks_out(ctx: Context, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "precious").write_text("keep me")
    outside_file = tmp_path / "outside.txt"
    outside_file.write_text("keep me too")
    tree = tmp_path / "tree"
    (tree / "sub").mkdir(parents=True)
    (tree / "sub" / "file").write_text("x")
    (tree / "sub" / "to_dir").symlink_to(outside)
    (tree / "to_file").symlink_to(outside_file)
    assert ctx.call("file.remove", str(tree)) is True
    assert not tree.exists()
    assert (outside / "precious").read_text() == "keep me"
    assert outside_file.read_text() == "keep me too"


def test_remove_a_symlink_to_a_directory_keeps_the_directory(
    ctx: Context, tmp_path: Path
) -> None:
    real = tmp_path / "real"
    real.mkdir()
    (real / "f").write_text("x")
    link = tmp_path / "link"
    link.symlink_to(real)
    assert ctx.call("file.remove", str(link)) is True
    assert (real / "f").exists()


# --- find ------------------------------------------------------------------------------------


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "root"
    (root / "etc" / "app").mkdir(parents=True)
    (root / "etc" / "app" / "app.conf").write_text("port = 80\n")
    (root / "etc" / "app" / "App.CONF").write_text("x" * 2048)
    (root / "etc" / "hosts").write_text("127.0.0.1 localhost\n")
    (root / "old.log").write_text("")
    os.utime(root / "old.log", (time.time() - 40 * 86400,) * 2)
    (root / "link").symlink_to(tmp_path / "elsewhere")
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "hidden.conf").write_text("")
    return root


def _rel(root: Path, paths: list[str]) -> list[str]:
    return [os.path.relpath(p, root) for p in paths]


FIND_CASES: list[tuple[str, dict[str, Any], list[str]]] = [
    ("name", {"name": "*.conf"}, ["etc/app/app.conf"]),
    ("iname", {"iname": "*.conf"}, ["etc/app/App.CONF", "etc/app/app.conf"]),
    ("regex", {"regex": r"app\."}, ["etc/app/app.conf"]),
    ("iregex", {"iregex": r"app\.conf$"}, ["etc/app/App.CONF", "etc/app/app.conf"]),
    ("type d", {"type": "d"}, [".", "etc", "etc/app"]),
    ("type l", {"type": "l"}, ["link"]),
    ("type fl", {"type": "f,l", "maxdepth": 1}, ["link", "old.log"]),
    ("maxdepth", {"maxdepth": 1}, [".", "etc", "link", "old.log"]),
    ("mindepth", {"mindepth": 2, "type": "f"},
     ["etc/app/App.CONF", "etc/app/app.conf", "etc/hosts"]),
    ("size +", {"size": "+1k", "type": "f"}, ["etc/app/App.CONF"]),
    ("size -", {"size": "-10", "type": "f"}, ["etc/app/app.conf", "old.log"]),
    ("size exact", {"size": "2k"}, ["etc/app/App.CONF"]),
    ("mtime older", {"mtime": "30d", "type": "f"}, ["old.log"]),
    ("mtime newer", {"mtime": "-1d", "type": "f"},
     ["etc/app/App.CONF", "etc/app/app.conf", "etc/hosts"]),
    ("grep", {"grep": r"port\s*="}, ["etc/app/app.conf"]),
    ("user", {"user": str(os.getuid()), "name": "hosts"}, ["etc/hosts"]),
]


@pytest.mark.parametrize(("options", "expected"), [c[1:] for c in FIND_CASES],
                         ids=[c[0] for c in FIND_CASES])
def test_find(ctx: Context, tree: Path, options: dict[str, Any], expected: list[str]) -> None:
    assert _rel(tree, ctx.call("file.find", str(tree), **options)) == expected


def test_find_print_and_glob(ctx: Context, tree: Path) -> None:
    assert ctx.call("file.find", str(tree), name="hosts", print="name") == ["hosts"]
    hosts = tree / "etc" / "hosts"
    assert ctx.call("file.find", str(tree), name="hosts", print="path,size,type,md5") == [
        [str(hosts), hosts.stat().st_size, "f", hashlib.md5(hosts.read_bytes()).hexdigest()]
    ]
    assert ctx.call("file.find", str(tree / "e*"), maxdepth=0) == [str(tree / "etc")]
    assert ctx.call("file.find", str(tree / "missing")) == []


@pytest.mark.parametrize(("options", "message"), [
    ({"type": "z"}, "invalid file type"),
    ({"size": "big"}, "invalid size"),
    ({"mtime": "soon"}, "invalid interval"),
    ({"mtime": "30"}, "invalid interval"),
    ({"print": "colour"}, "unknown field 'colour'"),
    ({"regex": "("}, "invalid regular expression"),
    ({"user": "no-such-user-x"}, "no such user"),
])
def test_find_bad_options(
    ctx: Context, tree: Path, options: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        ctx.call("file.find", str(tree), **options)


# --- pure path helpers -----------------------------------------------------------------------


@pytest.mark.parametrize(("fun", "args", "expected"), [
    ("file.basename", ("/etc/hosts",), "hosts"),
    ("file.basename", ("/etc/",), ""),
    ("file.basename", ("rel/x",), "x"),
    ("file.dirname", ("/etc/hosts",), "/etc"),
    ("file.dirname", ("hosts",), ""),
    ("file.join", ("/etc", "app", "conf.d"), "/etc/app/conf.d"),
    ("file.join", ("/etc", "/var", "log"), "/var/log"),
    ("file.join", (), ""),
])
def test_path_helpers(ctx: Context, fun: str, args: tuple[str, ...], expected: str) -> None:
    assert ctx.call(fun, *args) == expected
