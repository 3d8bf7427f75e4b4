"""The file state module on real files in tmp_path, called through the state registry.

Most functions are covered by one table: each case runs once (exact
changes), again (no changes), and in test mode on a fresh tree (result None,
the same changes, nothing on disk touched).
"""

from __future__ import annotations

import difflib
import json
import os
import stat
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from minion.context import Context
from minion.fileclient import LocalFileClient
from minion.loader import Registry
from minion.states import STATE_MODULES
from minion.states.jinjactx import template_context

ROOT = os.geteuid() == 0


class Env:
    """A minion context with local file roots, and the file states to call."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.work = tmp / "work"
        self.roots = tmp / "roots"
        self.work.mkdir()
        opts = {"cachedir": str(tmp / "cache"), "file_roots": {"base": [str(self.roots)]}}
        grains = {"id": "m1", "os": "Debian"}
        self.ctx = Context(opts, grains, {"motd": "from pillar", "app": {"port": 8080}},
                           Registry.load(opts, grains))
        self.ctx.files = LocalFileClient({"base": [str(self.roots)]})
        self.states = Registry.load(opts, grains, modules={"file": STATE_MODULES["file"]},
                                    kind="states")

    def run(self, fun: str, **kwargs: Any) -> dict[str, Any]:
        ret: dict[str, Any] = self.states.call(self.ctx, fun, [], kwargs)
        assert set(ret) == {"name", "result", "changes", "comment"}
        return ret

    def run_test(self, fun: str, **kwargs: Any) -> dict[str, Any]:
        self.ctx.test = True
        try:
            return self.run(fun, **kwargs)
        finally:
            self.ctx.test = False


def _write(path: Path, text: str, mode: int = 0o644) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(mode)
    return path


@pytest.fixture
def env(tmp_path: Path) -> Iterator[Env]:
    old = os.umask(0o022)
    roots = tmp_path / "roots"
    _write(roots / "motd", "hello\n")
    _write(roots / "tpl", "id={{ grains.id }} motd={{ pillar.motd }} who={{ who }} "
                          "echo={{ salt['test.echo']('x') }} env={{ saltenv }}\n")
    _write(roots / "tree" / "a.conf", "a\n")
    _write(roots / "tree" / "sub" / "b.conf", "b={{ grains.id }}\n")
    (roots / "tree" / "empty").mkdir()
    try:
        yield Env(tmp_path)
    finally:
        os.umask(old)


def _snapshot(top: Path) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for path in sorted(top.rglob("*")):
        info = path.lstat()
        if path.is_symlink():
            kind: Any = ("link", os.readlink(path))
        elif path.is_dir():
            kind = ("dir",)
        else:
            kind = ("file", path.read_bytes())
        found[str(path.relative_to(top))] = (*kind, stat.S_IMODE(info.st_mode), info.st_uid,
                                             info.st_mtime_ns)
    return found


# --- the table: (fun, kwargs, changes of the first run, files afterwards) -------------------

# An optional fifth item is what test mode reports when it differs from the real run
# (Salt's test run of file.managed names a new file only: ``{"newfile": path}``).
Case = tuple[Any, ...]
CASES: dict[str, Callable[[Env], Case]] = {}


def case(func: Callable[[Env], Case]) -> Callable[[Env], Case]:
    CASES[func.__name__] = func
    return func


def _diff(old: str, new: str) -> str:
    """Salt's diff: a unified diff without file names, every line ending in a newline."""
    lines = difflib.unified_diff(old.splitlines(True), new.splitlines(True))
    return "".join(line if line.endswith("\n") else line + "\n" for line in lines)


@case
def managed_new_from_salt_source(e: Env) -> Case:
    return ("file.managed", {"name": str(e.work / "motd"), "source": "salt://motd"},
            {"diff": "New file", "mode": "0644"}, {"motd": "hello\n"},
            {"newfile": str(e.work / 'motd')})


@case
def managed_first_existing_source_and_mode(e: Env) -> Case:
    return ("file.managed", {"name": str(e.work / "motd"), "mode": 640,
                             "source": ["salt://nope", "salt://motd?saltenv=base"]},
            {"diff": "New file", "mode": "0640"}, {"motd": "hello\n"},
            {"newfile": str(e.work / 'motd')})


@case
def managed_local_source(e: Env) -> Case:
    src = _write(e.tmp / "local.txt", "local\n")
    return ("file.managed", {"name": str(e.work / "f"), "source": str(src), "mode": "0o600"},
            {"diff": "New file"}, {"f": "local\n"},
            {"newfile": str(e.work / 'f')})


@case
def managed_contents_lines_makedirs(e: Env) -> Case:
    return ("file.managed", {"name": str(e.work / "a" / "b" / "f"), "contents": ["x", "y"],
                             "makedirs": True, "dir_mode": "0750"},
            {"diff": "New file"}, {"a/b/f": "x\ny\n"},
            {"newfile": str(e.work / 'a/b/f')})


@case
def managed_contents_pillar(e: Env) -> Case:
    return ("file.managed", {"name": str(e.work / "f"), "contents_pillar": "motd"},
            {"diff": "New file"}, {"f": "from pillar\n"},
            {"newfile": str(e.work / 'f')})


@case
def managed_contents_grains(e: Env) -> Case:
    return ("file.managed", {"name": str(e.work / "f"), "contents_grains": "os",
                             "contents_newline": False},
            {"diff": "New file"}, {"f": "Debian"},
            {"newfile": str(e.work / 'f')})


@case
def managed_jinja_template(e: Env) -> Case:
    text = "id=m1 motd=from pillar who=ctx echo=x env=base\n"
    return ("file.managed", {"name": str(e.work / "f"), "source": "salt://tpl",
                             "template": "jinja", "defaults": {"who": "default"},
                             "context": {"who": "ctx"}},
            {"diff": "New file", "mode": "0644"}, {"f": text},
            {"newfile": str(e.work / 'f')})


@case
def managed_existing_content_diff(e: Env) -> Case:
    _write(e.work / "f", "old\nsame\n")
    return ("file.managed", {"name": str(e.work / "f"), "contents": "new\nsame"},
            {"diff": _diff("old\nsame\n", "new\nsame\n")}, {"f": "new\nsame\n"})


@case
def managed_mode_only(e: Env) -> Case:
    _write(e.work / "f", "x\n", 0o600)
    return ("file.managed", {"name": str(e.work / "f"), "contents": "x", "mode": "0644"},
            {"mode": "0644"}, {"f": "x\n"})


@case
def managed_show_changes_false(e: Env) -> Case:
    _write(e.work / "f", "secret\n")
    return ("file.managed", {"name": str(e.work / "f"), "contents": "other",
                             "show_changes": False},
            {"diff": "<show_changes=False>"}, {"f": "other\n"})


@case
def managed_no_content_creates_empty(e: Env) -> Case:
    return ("file.managed", {"name": str(e.work / "f")},
            {"new": f"file {e.work / 'f'} created"}, {"f": ""},
            {"newfile": str(e.work / 'f')})


@case
def managed_replace_false_fixes_mode_only(e: Env) -> Case:
    _write(e.work / "f", "keep\n", 0o600)
    return ("file.managed", {"name": str(e.work / "f"), "contents": "new", "replace": False,
                             "mode": "0644"}, {"mode": "0644"}, {"f": "keep\n"})


@case
def directory_new(e: Env) -> Case:
    return ("file.directory", {"name": str(e.work / "d"), "mode": "0750"},
            {str(e.work / "d"): {"directory": "new"}}, {})


@case
def directory_makedirs(e: Env) -> Case:
    return ("file.directory", {"name": str(e.work / "a" / "b"), "makedirs": True},
            {str(e.work / "a" / "b"): {"directory": "new"}}, {})


@case
def directory_mode(e: Env) -> Case:
    (e.work / "d").mkdir(mode=0o755)
    # Salt reports the path's entry of the check and the top-level key it fixed.
    return ("file.directory", {"name": str(e.work / "d"), "dir_mode": 700},
            {str(e.work / "d"): {"mode": "0700"}, "mode": "0700"}, {}, {
                str(e.work / "d"): {"mode": "0700"}})


@case
def directory_recurse_modes(e: Env) -> Case:
    _write(e.work / "d" / "f", "x\n", 0o600)
    (e.work / "d" / "s").mkdir(mode=0o700)
    (e.work / "d").chmod(0o755)
    return ("file.directory", {"name": str(e.work / "d"), "dir_mode": "0755",
                               "file_mode": "0644", "recurse": ["mode"]},
            {str(e.work / "d" / "s"): {"mode": "0755"}, str(e.work / "d" / "f"): {"mode": "0644"},
             "mode": "0755"},
            {"d/f": "x\n"},
            {str(e.work / "d" / "s"): {"mode": "0755"}, str(e.work / "d" / "f"): {"mode": "0644"}})


@case
def directory_clean(e: Env) -> Case:
    for rel in ("d/keep.txt", "d/junk", "d/sub/junk", "d/keepdir/inner"):
        _write(e.work / rel, "x\n")
    (e.work / "d").chmod(0o755)
    return ("file.directory", {"name": str(e.work / "d"), "clean": True,
                               "exclude_pat": "keep*"},
            {**_cleaned(e, "d/junk", "d/sub", "d/sub/junk"),
             "removed": [str(e.work / "d" / "junk"), str(e.work / "d" / "sub")]},
            {"d/keep.txt": "x\n", "d/keepdir/inner": "x\n", "d/junk": None, "d/sub": None},
            _cleaned(e, "d/junk", "d/sub", "d/sub/junk"))


def _cleaned(e: Env, *rels: str) -> dict[str, Any]:
    return {str(e.work / rel): {"removed": "Removed due to clean"} for rel in rels}


@case
def recurse_new_tree(e: Env) -> Case:
    t = e.work / "t"
    return ("file.recurse", {"name": str(t), "source": "salt://tree", "template": "jinja",
                             "include_empty": True, "file_mode": "0640"},
            # A real run creates the top directory first, so it is not a change of its own.
            {str(t / "empty"): {str(t / "empty"): {"directory": "new"}},
             str(t / "sub"): {str(t / "sub"): {"directory": "new"}},
             str(t / "a.conf"): {"diff": "New file", "mode": "0640"},
             str(t / "sub" / "b.conf"): {"diff": "New file", "mode": "0640"}},
            {"t/a.conf": "a\n", "t/sub/b.conf": "b=m1\n"},
            {str(t): {str(t): {"directory": "new"}},
             str(t / "empty"): {str(t / "empty"): {"directory": "new"}},
             str(t / "sub"): {str(t / "sub"): {"directory": "new"}},
             str(t / "a.conf"): {"newfile": str(t / "a.conf")},
             str(t / "sub" / "b.conf"): {"newfile": str(t / "sub" / "b.conf")}})


@case
def recurse_update_and_clean(e: Env) -> Case:
    t = e.work / "t"
    _write(t / "a.conf", "old\n")
    _write(t / "sub" / "b.conf", "b={{ grains.id }}\n")
    _write(t / "stale", "x\n")
    _write(t / "keep.local", "x\n")
    return ("file.recurse", {"name": str(t), "source": "salt://tree", "clean": True,
                             "exclude_pat": "*.local"},
            {str(t / "a.conf"): {"diff": _diff("old\n", "a\n")},
             "removed": [str(t / "stale")]},
            {"t/a.conf": "a\n", "t/stale": None, "t/keep.local": "x\n"},
            # Test mode names what clean would remove in the comment only.
            {str(t / "a.conf"): {"diff": _diff("old\n", "a\n")}})


@case
def absent_file(e: Env) -> Case:
    _write(e.work / "f", "x\n")
    return ("file.absent", {"name": str(e.work / "f")}, {"removed": str(e.work / "f")},
            {"f": None})


@case
def absent_tree(e: Env) -> Case:
    _write(e.work / "d" / "s" / "f", "x\n")
    return ("file.absent", {"name": str(e.work / "d")}, {"removed": str(e.work / "d")},
            {"d": None})


@case
def symlink_new(e: Env) -> Case:
    return ("file.symlink", {"name": str(e.work / "l"), "target": "/etc/hostname"},
            {"new": str(e.work / "l")}, {})


@case
def symlink_change(e: Env) -> Case:
    (e.work / "l").symlink_to("/elsewhere")
    return ("file.symlink", {"name": str(e.work / "l"), "target": "/etc/hostname"},
            {"new": str(e.work / "l")}, {}, {"change": str(e.work / "l")})


@case
def symlink_force_over_file(e: Env) -> Case:
    _write(e.work / "l", "x\n")
    return ("file.symlink", {"name": str(e.work / "l"), "target": "/etc", "force": True},
            {"new": str(e.work / "l")}, {}, {})


@case
def copy_new(e: Env) -> Case:
    src = _write(e.tmp / "src", "data\n", 0o640)
    return ("file.copy", {"name": str(e.work / "c"), "source": str(src)},
            {str(e.work / "c"): str(src)}, {"c": "data\n"}, {})  # Salt predicts no changes


@case
def copy_with_mode(e: Env) -> Case:
    # (With force, Salt copies on every run; the oracle case file/copy covers that.)
    src = _write(e.tmp / "src", "data\n", 0o644)
    return ("file.copy", {"name": str(e.work / "c"), "source": str(src), "mode": "0600"},
            {str(e.work / "c"): str(src), "mode": "0600"}, {"c": "data\n"}, {})


@case
def append_missing_lines(e: Env) -> Case:
    _write(e.work / "f", "one\ntwo  three")
    return ("file.append", {"name": str(e.work / "f"), "text": ["two three", "four\nfive"]},
            {"diff": _line_diff("one\ntwo  three", "one\ntwo  three\nfour\nfive\n")},
            {"f": "one\ntwo  three\nfour\nfive\n"})


@case
def append_creates_file(e: Env) -> Case:
    return ("file.append", {"name": str(e.work / "n"), "text": "hi"},
            {"diff": _line_diff("", "hi\n")}, {"n": "hi\n"}, {"new": str(e.work / "n")})


def _line_diff(old: str, new: str) -> str:
    """Salt's append diff: of the lines without their ends, joined by newlines."""
    return "\n".join(difflib.unified_diff(old.splitlines(), new.splitlines()))


@case
def prepend_lines(e: Env) -> Case:
    _write(e.work / "f", "body\n")
    return ("file.prepend", {"name": str(e.work / "f"), "text": "# header"},
            {"diff": _diff("body\n", "# header\nbody\n")}, {"f": "# header\nbody\n"})


@case
def replace_pattern(e: Env) -> Case:
    _write(e.work / "f", "PermitRootLogin yes\nPort 22\n")
    return ("file.replace", {"name": str(e.work / "f"), "pattern": "^PermitRootLogin .*",
                             "repl": "PermitRootLogin no", "backup": False},
            {"diff": _diff("PermitRootLogin yes\nPort 22\n", "PermitRootLogin no\nPort 22\n")},
            {"f": "PermitRootLogin no\nPort 22\n"})


@case
def replace_append_if_not_found(e: Env) -> Case:
    _write(e.work / "f", "a\n")
    return ("file.replace", {"name": str(e.work / "f"), "pattern": "^b=.*", "repl": "b=1",
                             "append_if_not_found": True},
            {"diff": _diff("a\n", "a\nb=1\n")}, {"f": "a\nb=1\n", "f.bak": "a\n"})


LINE_FILE = "[main]\n  key = 1\n# end\n"
LINE_CASES: list[tuple[str, dict[str, Any], str]] = [
    ("replace", {"match": "key =", "content": "key = 2"}, "[main]\n  key = 2\n# end\n"),
    ("delete", {"match": "^#"}, "[main]\n  key = 1\n"),
    ("insert", {"content": "new = 3", "after": "key ="}, "[main]\n  key = 1\n  new = 3\n# end\n"),
    ("insert", {"content": "top", "before": r"^\[main\]"}, "top\n" + LINE_FILE),
    ("ensure", {"content": "x = 0", "after": r"\[main\]", "before": "key ="},
     "[main]\nx = 0\n  key = 1\n# end\n"),
    ("ensure", {"content": "k = 9", "after": r"\[main\]", "before": "^# end"},
     "[main]\nk = 9\n# end\n"),
]
for _i, (_mode, _kw, _want) in enumerate(LINE_CASES):
    def _line_case(e: Env, mode: str = _mode, kw: dict[str, Any] = _kw,
                   want: str = _want) -> Case:
        _write(e.work / "f", LINE_FILE)
        return ("file.line", {"name": str(e.work / "f"), "mode": mode, **kw},
                {"diff": _diff(LINE_FILE, want)}, {"f": want})
    CASES[f"line_{_mode}_{_i}"] = _line_case


BLOCK = "a\n# -- start managed zone --\nold\n# -- end managed zone --\nz\n"


@case
def blockreplace_between_markers(e: Env) -> Case:
    _write(e.work / "f", BLOCK)
    new = BLOCK.replace("old\n", "new 1\nnew 2\n")
    return ("file.blockreplace", {"name": str(e.work / "f"), "content": "new 1\nnew 2",
                                  "backup": False},
            {"diff": _diff(BLOCK, new)}, {"f": new})


@case
def blockreplace_append_if_not_found(e: Env) -> Case:
    _write(e.work / "f", "a")
    new = "a\n#BEGIN\nx\n#END\n"
    return ("file.blockreplace", {"name": str(e.work / "f"), "marker_start": "#BEGIN",
                                  "marker_end": "#END", "content": "x",
                                  "append_if_not_found": True},
            {"diff": _diff("a", new)},
            {"f": new, "f.bak": "a"})


@case
def comment_lines(e: Env) -> Case:
    _write(e.work / "f", "foo=1\nbar=2\n")
    return ("file.comment", {"name": str(e.work / "f"), "regex": "^foo"},
            {"diff": _diff("foo=1\nbar=2\n", "#foo=1\nbar=2\n")},
            {"f": "#foo=1\nbar=2\n", "f.bak": "foo=1\nbar=2\n"}, {str(e.work / "f"): "updated"})


@case
def uncomment_lines(e: Env) -> Case:
    _write(e.work / "f", "#EXTRA=1\n#other\n")
    return ("file.uncomment", {"name": str(e.work / "f"), "regex": "EXTRA", "backup": False},
            {"diff": _diff("#EXTRA=1\n#other\n", "EXTRA=1\n#other\n")},
            {"f": "EXTRA=1\n#other\n"}, {str(e.work / "f"): "updated"})


@case
def serialize_json(e: Env) -> Case:
    text = json.dumps({"b": [1, 2], "a": {"x": True}}, indent=2, sort_keys=True) + "\n"
    return ("file.serialize", {"name": str(e.work / "j.json"), "formatter": "json",
                               "dataset": {"b": [1, 2], "a": {"x": True}}},
            {"diff": "New file"}, {"j.json": text}, {"newfile": str(e.work / "j.json")})


@case
def serialize_yaml_merge(e: Env) -> Case:
    _write(e.work / "c.yml", "a:\n  x: 1\n  y: 2\nkeep: true\n")
    new = "a:\n  x: 5\n  y: 2\nkeep: true\n"
    return ("file.serialize", {"name": str(e.work / "c.yml"), "dataset": {"a": {"x": 5}},
                               "merge_if_exists": True},
            {"diff": {"a": {"x": {"new": 5, "old": 1}}}}, {"c.yml": new})


@pytest.mark.parametrize("name", sorted(CASES))
def test_first_run_changes_then_nothing(env: Env, name: str) -> None:
    fun, kwargs, changes, files = CASES[name](env)[:4]
    first = env.run(fun, **kwargs)
    assert (first["result"], first["changes"]) == (True, changes), first
    # Salt leaves the comment empty when replace: False only fixed the owner or mode,
    # and when file.directory created the directory.
    assert first["comment"] or kwargs.get("replace") is False or fun == "file.directory"
    for rel, text in files.items():
        path = env.work / rel
        if text is None:
            assert not os.path.lexists(path), rel
        else:
            assert path.read_text() == text, rel
    again = env.run(fun, **kwargs)
    assert (again["result"], again["changes"]) == (True, {}), again
    assert not [p for p in env.work.rglob("*") if "saline-tmp" in p.name]


@pytest.mark.parametrize("name", sorted(CASES))
def test_test_mode_reports_and_touches_nothing(env: Env, name: str) -> None:
    fun, kwargs, changes, _files, *predicted = CASES[name](env)
    changes = predicted[0] if predicted else changes
    before = _snapshot(env.tmp)
    ret = env.run_test(fun, **kwargs)
    assert (ret["result"], ret["changes"]) == (None, changes), ret
    assert _snapshot(env.tmp) == before


# --- errors: result False, a one-line comment naming what is wrong ----------------------------

ERRORS: list[tuple[str, dict[str, Any], str]] = [
    ("file.managed", {"name": "rel/f", "contents": "x"}, "rel/f is not an absolute path"),
    ("file.directory", {"name": "rel/d"}, "rel/d is not an absolute path"),
    ("file.recurse", {"name": "rel/d", "source": "salt://tree"}, "rel/d is not an absolute"),
    ("file.absent", {"name": "rel/f"}, "rel/f is not an absolute path"),
    ("file.exists", {"name": "rel/f"}, "rel/f is not an absolute path"),
    ("file.missing", {"name": "rel/f"}, "rel/f is not an absolute path"),
    ("file.touch", {"name": "rel/f"}, "rel/f is not an absolute path"),
    ("file.symlink", {"name": "rel/l", "target": "/etc"}, "rel/l is not an absolute path"),
    ("file.copy", {"name": "rel/c", "source": "/etc/hostname"}, "rel/c is not an absolute"),
    ("file.append", {"name": "rel/f", "text": "x"}, "rel/f is not an absolute path"),
    ("file.prepend", {"name": "rel/f", "text": "x"}, "rel/f is not an absolute path"),
    ("file.replace", {"name": "rel/f", "pattern": "a", "repl": "b"}, "rel/f is not an absolute"),
    ("file.line", {"name": "rel/f", "content": "x", "mode": "delete"}, "rel/f is not an absol"),
    ("file.blockreplace", {"name": "rel/f", "content": "x"}, "rel/f is not an absolute path"),
    ("file.comment", {"name": "rel/f", "regex": "x"}, "rel/f is not an absolute path"),
    ("file.uncomment", {"name": "rel/f", "regex": "x"}, "rel/f is not an absolute path"),
    ("file.serialize", {"name": "rel/f", "dataset": {}}, "rel/f is not an absolute path"),
    ("file.managed", {"name": "{w}/f", "source": "salt://nope"},
     "Source file salt://nope not found in saltenv 'base'"),
    ("file.managed", {"name": "{w}/f", "source": ["salt://no1", "/no/such"]},
     "None of the sources were found"),
    ("file.managed", {"name": "{w}/f", "source": "http://example.com/x"}, "Unsupported source"),
    ("file.managed", {"name": "{w}/f", "source": "salt://motd", "contents": "x"},
     "'source' cannot be used in combination with 'contents'"),
    ("file.managed", {"name": "{w}", "contents": "x"}, "is a directory"),
    ("file.managed", {"name": "{w}/f", "contents": "x", "mode": "rw-r--r--"}, "Invalid mode"),
    ("file.managed", {"name": "{w}/f", "contents": "x", "user": "no-such-user-x"},
     "User no-such-user-x is not available"),
    ("file.managed", {"name": "{w}/no/f", "contents": "x"}, "Parent directory not present"),
    ("file.managed", {"name": "{w}/f", "contents": "{{ x", "template": "jinja"},
     "Jinja syntax error"),
    ("file.managed", {"name": "{w}/f", "contents": "x", "template": "mako"},
     "template format mako is not supported"),
    ("file.managed", {"name": "{w}/f", "contents_pillar": "nope"}, "Pillar nope does not exist"),
    ("file.managed", {"name": "{w}/f", "source": "{t}/roots/motd", "source_hash": "md5=00"},
     "Invalid source_hash"),
    ("file.managed", {"name": "{w}/f", "source": "{t}/roots/motd",
                      "source_hash": "sha256=" + "0" * 64}, "does not match actual checksum"),
    ("file.directory", {"name": "{t}/roots/motd"}, "exists and is a file"),
    ("file.directory", {"name": "{w}/a/b"}, "No directory to create"),
    ("file.directory", {"name": "{w}/d", "recurse": ["owner"]}, 'Types for "recurse"'),
    ("file.recurse", {"name": "{w}/d", "source": "/srv/tree"}, "must be a salt:// URI"),
    ("file.recurse", {"name": "{w}/d", "source": "salt://nope"},
     "Recurse failed: none of the specified sources were found"),
    ("file.absent", {"name": "/"}, 'Refusing to make "/" absent'),
    ("file.exists", {"name": "{w}/nope"}, "Specified path {w}/nope does not exist"),
    ("file.missing", {"name": "{t}/roots"}, "Specified path {t}/roots exists"),
    ("file.touch", {"name": "{w}/no/f"}, "Directory not present to touch file"),
    ("file.symlink", {"name": "{t}/roots/motd", "target": "/etc"},
     "exists where the symlink {t}/roots/motd should be"),
    ("file.symlink", {"name": "{w}/no/l", "target": "/etc"}, "for symlink is not present"),
    ("file.copy", {"name": "{w}/c", "source": "{w}/nope"}, 'Source file "{w}/nope" is not'),
    ("file.copy", {"name": "{w}/c", "source": "rel"}, 'Source file "rel" is not present'),
    ("file.replace", {"name": "{w}/nope", "pattern": "a", "repl": "b"}, "file not found"),
    ("file.replace", {"name": "{t}/roots/motd", "pattern": "(", "repl": "b"},
     "invalid regular expression"),
    ("file.line", {"name": "{w}/nope", "content": "x", "mode": "ensure"}, "file not found"),
    ("file.line", {"name": "{t}/roots/motd", "content": "x", "mode": "upsert"},
     "Mode 'upsert' is not supported"),
    ("file.line", {"name": "{t}/roots/motd", "content": "x", "mode": "ensure"},
     "Unable to ensure line"),
    ("file.line", {"name": "{t}/roots/motd", "content": "x", "mode": "insert", "after": "zz"},
     'Found no occurrences of "after"'),
    ("file.blockreplace", {"name": "{t}/roots/motd", "content": "x"},
     "Markers were not found in file"),
    ("file.comment", {"name": "{t}/roots/motd", "regex": "^nothing"}, "Pattern not found"),
    ("file.uncomment", {"name": "{t}/roots/motd", "regex": "nothing"}, "Pattern not found"),
    ("file.serialize", {"name": "{w}/s", "dataset": {}, "formatter": "toml"},
     "Serializer 'toml' is not supported"),
    ("file.serialize", {"name": "{w}/s"}, "Neither 'dataset' nor 'dataset_pillar'"),
]


# Salt's test run does not check these: it reports the missing file as new.
PENDING_IN_TEST = ("Parent directory not present", "not available", "No directory to create",
                   "for symlink is not present", "Invalid source_hash",
                   "does not match actual checksum", "Directory not present to touch")


@pytest.mark.parametrize(("fun", "kwargs", "comment"), ERRORS,
                         ids=[f"{f}-{i}" for i, (f, _, _) in enumerate(ERRORS)])
@pytest.mark.parametrize("test_mode", [False, True], ids=["run", "test"])
def test_errors_fail_with_a_clear_comment(env: Env, fun: str, kwargs: dict[str, Any],
                                          comment: str, test_mode: bool) -> None:
    def fill(value: Any) -> Any:
        return value.format(w=env.work, t=env.tmp) if isinstance(value, str) and \
            "{{" not in value else value

    before = _snapshot(env.tmp)
    kwargs = {k: fill(v) for k, v in kwargs.items()}
    ret = env.run_test(fun, **kwargs) if test_mode else env.run(fun, **kwargs)
    if test_mode and any(text in comment for text in PENDING_IN_TEST):
        # Salt's test mode assumes an earlier state may create the directory, user or group.
        assert ret["result"] is None and ret["changes"], ret
        assert _snapshot(env.tmp) == before
        return
    assert ret["result"] is False, ret
    assert fill(comment) in ret["comment"], ret["comment"]
    assert "\n" not in ret["comment"]
    if "No directory to create" not in comment:  # Salt keeps the predicted changes there
        assert ret["changes"] == {}
    assert _snapshot(env.tmp) == before


# --- behaviour outside the table -------------------------------------------------------------


def test_touch_creates_then_always_updates_times(env: Env) -> None:
    path = str(env.work / "t")
    assert env.run_test("file.touch", name=path)["changes"] == {"new": path}
    assert not os.path.exists(path)
    first = env.run("file.touch", name=path)
    assert (first["changes"], first["comment"]) == ({"new": path}, f"Created empty file {path}")
    os.utime(path, (1, 1))
    again = env.run("file.touch", name=path)  # like Salt, touch always reports
    assert again["changes"] == {"touched": path}
    assert os.stat(path).st_mtime > 1
    os.utime(path, (1, 1))
    test = env.run_test("file.touch", name=path)  # Salt: nothing to do unless times are given
    assert (test["result"], test["changes"]) == (True, {"new": path})
    test = env.run_test("file.touch", name=path, mtime=5)
    assert (test["result"], test["changes"]) == (None, {"touched": path})
    assert os.stat(path).st_mtime == 1


@pytest.mark.parametrize(("location", "want"), [("start", "first\nfirst\nbody\n"),
                                                ("end", "body\nfirst\nfirst\n")])
def test_line_insert_at_a_location_inserts_every_time(env: Env, location: str,
                                                      want: str) -> None:
    path = _write(env.work / "f", "body\n")
    for _ in range(2):  # as Salt does: insert at a location is not idempotent
        ret = env.run("file.line", name=str(path), mode="insert", content="first",
                      location=location)
        assert ret["result"] is True and ret["changes"]
    assert path.read_text() == want


@pytest.mark.parametrize("test_mode", [False, True])
def test_exists_and_missing_change_nothing(env: Env, test_mode: bool) -> None:
    run = env.run_test if test_mode else env.run
    ok = run("file.exists", name=str(env.tmp / "roots"))
    assert (ok["result"], ok["changes"], ok["comment"]) == (
        True, {}, f"Path {env.tmp / 'roots'} exists")
    gone = run("file.missing", name=str(env.work / "nope"))
    assert (gone["result"], gone["comment"]) == (True, f"Path {env.work / 'nope'} is missing")


def test_managed_writes_atomically_and_keeps_a_minion_backup(env: Env) -> None:
    path = _write(env.work / "f", "old\n", 0o640)
    inode = path.stat().st_ino
    ret = env.run("file.managed", name=str(path), contents="new", backup="minion")
    assert ret["changes"] == {"diff": _diff("old\n", "new\n")}
    assert path.stat().st_ino != inode  # replaced by a rename, not rewritten in place
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    backups = list((env.tmp / "cache" / "file_backup").rglob("f_*"))
    assert len(backups) == 1 and backups[0].read_text() == "old\n"
    assert backups[0].parent == env.tmp / "cache" / "file_backup" / str(env.work).lstrip("/")


def test_managed_follows_symlinks_or_replaces_them(env: Env) -> None:
    target = _write(env.work / "target", "old\n")
    link = env.work / "link"
    link.symlink_to(target)
    env.run("file.managed", name=str(link), contents="via link")
    assert link.is_symlink() and target.read_text() == "via link\n"
    ret = env.run("file.managed", name=str(link), contents="own", follow_symlinks=False)
    assert ret["result"] is True and not link.is_symlink()
    assert (link.read_text(), target.read_text()) == ("own\n", "via link\n")


def test_managed_create_false_and_replace_false(env: Env) -> None:
    path = env.work / "f"
    ret = env.run("file.managed", name=str(path), contents="x", create=False)
    assert (ret["result"], ret["changes"]) == (True, {}) and not path.exists()
    _write(path, "mine\n")
    ret = env.run("file.managed", name=str(path), contents="x", replace=False)
    assert ret["comment"] == f"File {path} exists with proper permissions. No changes made."
    assert path.read_text() == "mine\n"


def test_managed_source_hash_of_a_local_source(env: Env) -> None:
    import hashlib

    src = env.tmp / "roots" / "motd"
    digest = hashlib.sha256(src.read_bytes()).hexdigest()
    for source_hash in (f"sha256={digest}", digest):
        path = env.work / f"f{len(source_hash)}"
        ret = env.run("file.managed", name=str(path), source=str(src), source_hash=source_hash)
        assert ret["result"] is True and path.read_text() == "hello\n"
    hash_file = _write(env.tmp / "SUMS", f"{digest}  motd\n{'1' * 64}  other\n")
    ret = env.run("file.managed", name=str(env.work / "g"), source=str(src),
                  source_hash=str(hash_file))
    assert ret["result"] is True, ret


@pytest.mark.skipif(not ROOT, reason="changing owners needs root")
def test_owner_changes_report_user_and_group(env: Env) -> None:
    path = _write(env.work / "f", "x\n")
    ret = env.run("file.managed", name=str(path), contents="x", user="nobody", group="nogroup")
    assert ret["changes"] == {"user": "nobody", "group": "nogroup"}
    assert (path.stat().st_uid, path.stat().st_gid) == (65534, 65534)
    assert env.run("file.managed", name=str(path), contents="x", user=65534)["changes"] == {}
    _write(env.work / "d" / "inner", "x\n")
    ret = env.run("file.directory", name=str(env.work / "d"), user="nobody",
                  recurse=["user", "ignore_dirs"])
    assert ret["changes"] == {"user": "nobody", str(env.work / "d"): {"user": "nobody"},
                              str(env.work / "d" / "inner"): {"user": "nobody"}}
    link = env.work / "l"
    ret = env.run("file.symlink", name=str(link), target="/etc", user="nobody")
    assert ret["changes"] == {"new": str(link)}
    assert link.lstat().st_uid == 65534
    os.lchown(link, 0, 0)
    ret = env.run("file.symlink", name=str(link), target="/etc", user="nobody")
    assert (ret["changes"], ret["comment"]) == (
        {"ownership": "nobody:nogroup"}, f"Set ownership of symlink {link} to nobody:nogroup")
    assert env.run("file.symlink", name=str(link), target="/etc", user="nobody")["changes"] == {}


def test_comment_and_uncomment_know_when_they_are_done(env: Env) -> None:
    path = _write(env.work / "f", "#foo=1\n")
    ret = env.run("file.comment", name=str(path), regex="^foo")
    assert (ret["result"], ret["comment"], ret["changes"]) == (
        True, "Pattern already commented", {})
    ret = env.run("file.uncomment", name=str(path), regex="bar|foo")
    assert (ret["comment"], path.read_text()) == ("Uncommented lines successfully", "foo=1\n")
    ret = env.run("file.uncomment", name=str(path), regex="foo")
    assert ret["comment"] == "Pattern already uncommented"


def test_replace_ignore_if_missing_and_show_changes(env: Env) -> None:
    ret = env.run("file.replace", name=str(env.work / "nope"), pattern="a", repl="b",
                  ignore_if_missing=True)
    assert (ret["result"], ret["comment"]) == (True, "No changes needed to be made")
    path = _write(env.work / "f", "a\n")
    ret = env.run("file.replace", name=str(path), pattern="a", repl="b", show_changes=False)
    assert (ret["changes"], path.read_text()) == ({"diff": True}, "b\n")


def test_serialize_from_pillar(env: Env) -> None:
    path = env.work / "app.yaml"
    ret = env.run("file.serialize", name=str(path), dataset_pillar="app")
    assert ret["result"] is True
    assert yaml.safe_load(path.read_text()) == {"port": 8080}


def test_template_context_offers_salt_grains_pillar_opts(env: Env) -> None:
    names = template_context(env.ctx, "dev", {"extra": 1})
    assert names["saltenv"] == "dev" and names["extra"] == 1
    assert names["grains"]["id"] == "m1" and names["pillar"]["motd"] == "from pillar"
    assert names["opts"]["cachedir"] == str(env.tmp / "cache")
    salt = names["salt"]
    assert salt["test.echo"]("hi") == "hi" and salt.test.echo("ho") == "ho"
    assert "test.echo" in salt and "nope.nope" not in salt
    assert "file.managed" not in salt  # states are not execution functions


def test_accumulated_text_reaches_the_state_it_names(env: Env) -> None:
    path = _write(env.work / "hosts", "top\n")
    table: dict[str, Any] = {}
    for owner, text in (("block", "a"), ("other", "b")):
        ret = env.run("file.accumulated", name=f"acc-{owner}", filename=str(path), text=text,
                      accumulators=table,
                      chunk={"__id__": f"acc-{owner}", "require_in": [{"file": owner}]})
        assert ret["comment"] == f"Accumulator acc-{owner} for file {path} was charged by text"
    ret = env.run("file.blockreplace", name=str(path), marker_start="#S", marker_end="#E",
                  content="base", append_if_not_found=True, accumulators=table,
                  chunk={"__id__": "block"})
    assert ret["result"] is True
    assert path.read_text() == "top\n#S\nbase\na\n#E\n"  # only the text declared for it
    orphan = env.run("file.accumulated", name="x", filename=str(path), text="t",
                     accumulators=table, chunk={"__id__": "x", "__sls__": "main"})
    assert (orphan["result"], orphan["comment"]) == (False, "Orphaned accumulator x in main:x")
