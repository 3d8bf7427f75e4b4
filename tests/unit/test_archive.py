"""archive module (listing, fetching, safe extraction) and archive.extracted, on temp dirs."""

from __future__ import annotations

import hashlib
import io
import os
import tarfile
import zipfile
from pathlib import Path
from typing import Any

import pytest

from minion.context import Context
from minion.loader import Registry
from minion.modules import archive
from minion.states import STATE_MODULES

STATES = Registry.load({}, {}, modules={"archive": STATE_MODULES["archive"]}, kind="states")


def make_tar(path: Path, members: list[tuple[str, str, str]], mode: str = "w:gz") -> Path:
    """A tarball of (name, kind d|f|l|h, data or link target)."""
    with tarfile.open(path, mode) as tar:  # type: ignore[call-overload]
        for name, kind, data in members:
            info = tarfile.TarInfo(name)
            if kind == "d":
                info.type, info.mode = tarfile.DIRTYPE, 0o755
                tar.addfile(info)
            elif kind in "lh":
                info.type = tarfile.SYMTYPE if kind == "l" else tarfile.LNKTYPE
                info.linkname = data
                tar.addfile(info)
            else:
                raw = data.encode()
                info.size, info.mode = len(raw), 0o640
                tar.addfile(info, io.BytesIO(raw))
    return path


APP = [("app", "d", ""), ("app/a.txt", "f", "a\n"), ("app/sub", "d", ""),
       ("app/sub/b.txt", "f", "b\n"), ("app/l", "l", "a.txt")]


def ctx(tmp_path: Path, test: bool = False) -> Context:
    return Context({"cachedir": str(tmp_path / "cache")}, {}, {}, Registry.load({}, {}),
                   test=test)


def extracted(c: Context, **kwargs: Any) -> dict[str, Any]:
    ret: dict[str, Any] = STATES.call(c, "archive.extracted", [], kwargs)
    return ret


def test_listing_is_salts_verbose_shape(tmp_path: Path) -> None:
    src = make_tar(tmp_path / "app.tar.gz", APP)
    got = ctx(tmp_path).call("archive.list", str(src), verbose=True)
    assert got == {"dirs": ["app/", "app/sub/"], "files": ["app/a.txt", "app/sub/b.txt"],
                   "links": ["app/l"], "top_level_dirs": ["app/"], "top_level_files": [],
                   "top_level_links": []}
    assert ctx(tmp_path).call("archive.list", str(src), strip_components=1) == [
        "a.txt", "l", "sub/", "sub/b.txt"]
    # Members under one directory that has no entry of its own.
    bare = make_tar(tmp_path / "bare.tar", [("top/x", "f", "x")], "w")
    assert archive.contents(str(bare), "tar")["top_level_dirs"] == ["top/"]


@pytest.mark.parametrize("members", [
    [("../evil", "f", "x")],
    [("/abs/evil", "f", "x")],
    [("ok", "d", ""), ("ok/../../evil", "f", "x")],
    [("up", "l", "../../outside")],
    [("abs", "l", "/etc/passwd")],
    [("hard", "h", "../outside")],
    # A symlink to a directory outside, then a file written through it.
    [("d", "l", "."), ("x", "d", ""), ("x/esc", "l", "../.."), ("x/esc/evil", "f", "x")],
])
def test_unsafe_members_are_refused(tmp_path: Path, members: list[tuple[str, str, str]]) -> None:
    src = make_tar(tmp_path / "bad.tar", members, "w")
    dest = tmp_path / "dest"
    dest.mkdir()
    with pytest.raises(archive.ArchiveError, match="Refusing to extract"):
        ctx(tmp_path).call("archive.extract", str(src), str(dest))
    assert not (tmp_path / "evil").exists() and not (tmp_path / "outside").exists()


def test_zip_symlink_outside_is_refused(tmp_path: Path) -> None:
    src = tmp_path / "bad.zip"
    with zipfile.ZipFile(src, "w") as zf:
        info = zipfile.ZipInfo("esc")
        info.external_attr = (0o120777 << 16)
        zf.writestr(info, "../../etc")
    dest = tmp_path / "dest"
    dest.mkdir()
    with pytest.raises(archive.ArchiveError, match="link points outside"):
        ctx(tmp_path).call("archive.extract", str(src), str(dest))


def test_extracted_then_nothing_to_do(tmp_path: Path) -> None:
    src = make_tar(tmp_path / "app.tar.gz", APP)
    dest = tmp_path / "work" / "opt"
    ret = extracted(ctx(tmp_path, test=True), name=str(dest), source=str(src))
    assert ret["result"] is None and not dest.exists()
    assert ret["comment"] == (f"Archive {src} would be extracted to {dest}/, due to absence of "
                              "one or more files/dirs")
    ret = extracted(ctx(tmp_path), name=str(dest), source=str(src))
    assert ret["result"] is True
    assert ret["changes"] == {"directories_created": [f"{dest}/"],
                              "extracted_files": ["app", "app/a.txt", "app/sub",
                                                  "app/sub/b.txt", "app/l"]}
    assert (dest / "app/sub/b.txt").read_text() == "b\n"
    assert os.readlink(dest / "app/l") == "a.txt"
    again = extracted(ctx(tmp_path), name=str(dest), source=str(src))
    assert (again["result"], again["changes"]) == (True, {})
    assert again["comment"] == "All files in archive are already present"


def test_source_hash_and_http(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    src = make_tar(tmp_path / "app.tgz", APP)
    digest = hashlib.sha256(src.read_bytes()).hexdigest()
    bad = extracted(ctx(tmp_path), name=str(tmp_path / "x"), source=str(src),
                    source_hash="sha256=" + "0" * 64)
    assert bad["result"] is False and "does not match the desired source_hash" in bad["comment"]
    opened: list[str] = []

    def urlopen(url: str, timeout: float) -> Any:
        opened.append(url)
        return io.BytesIO(src.read_bytes())

    monkeypatch.setattr(archive.urllib.request, "urlopen", urlopen)
    url = "https://example.invalid/dl/app.tgz"
    ret = extracted(ctx(tmp_path, test=True), name=str(tmp_path / "y"), source=url)
    assert ret["comment"] == (f"Archive {url} would be cached (if necessary) and checked to "
                              "discover if extraction is needed")
    ret = extracted(ctx(tmp_path), name=str(tmp_path / "y"), source=url)
    assert ret["result"] is False and "please set source_hash" in ret["comment"]
    ret = extracted(ctx(tmp_path), name=str(tmp_path / "y"), source=url,
                    source_hash=digest)
    assert ret["result"] is True
    assert ret["comment"] == (f"{url} extracted to {tmp_path}/y/, due to absence of one or "
                              "more files/dirs")
    assert (tmp_path / "cache/extrn_files/base/example.invalid/dl/app.tgz").is_file()
    # The cached copy matches: not downloaded again.
    extracted(ctx(tmp_path), name=str(tmp_path / "y"), source=url, source_hash=digest)
    assert opened == [url]


def test_toplevel_wrong_type_and_force(tmp_path: Path) -> None:
    bomb = make_tar(tmp_path / "bomb.tar", [("a", "f", "a"), ("b", "d", "")], "w")
    ret = extracted(ctx(tmp_path), name=str(tmp_path / "w"), source=str(bomb))
    assert ret["result"] is False and ret["comment"].startswith(
        "Archive does not have a single top-level directory.")
    src = make_tar(tmp_path / "app.tar.gz", APP)
    dest = tmp_path / "d"
    (dest / "app").mkdir(parents=True)
    (dest / "app" / "sub").write_text("a file where a dir belongs")
    ret = extracted(ctx(tmp_path), name=str(dest), source=str(src))
    assert ret["result"] is False and "set 'force' to True" in ret["comment"]
    ret = extracted(ctx(tmp_path), name=str(dest), source=str(src), force=True)
    assert ret["result"] is True and ret["changes"]["removed"] == [f"{dest}/app/sub/"]
    assert (dest / "app/sub/b.txt").is_file()


def test_ownership_reports_changes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    src = make_tar(tmp_path / "app.tar.gz", APP)
    dest = tmp_path / "o"
    calls: list[tuple[str, int, int]] = []
    monkeypatch.setattr(archive.os, "lchown", lambda p, u, g: calls.append((p, u, g)))
    uid = os.getuid() + 1
    ret = extracted(ctx(tmp_path), name=str(dest), source=str(src), user=str(uid))
    assert ret["changes"]["updated ownership"] is True
    assert {p for p, _, _ in calls} >= {f"{dest}/app", f"{dest}/app/l"}
    assert {(u, g) for p, u, g in calls if p == f"{dest}/app/a.txt"} == {(uid, -1)}
