"""SLS gathering: top files, includes, extend, exclude and body spellings into high data.

Real SLS files live in tmp_path and are read through `LocalFileClient`, as a
masterless minion reads them.
"""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

from minion.context import Context
from minion.fileclient import LocalFileClient
from minion.loader import Registry
from minion.sls.gather import Gatherer

REGISTRY = Registry.load({}, {})
GRAINS = {"id": "web1", "os": "Debian", "roles": ["web"]}


def write(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))


def make_ctx(roots: dict[str, Path], minion_id: str = "web1",
             grains: dict[str, Any] | None = None) -> Context:
    ctx = Context({"id": minion_id}, dict(grains or GRAINS), {"role": "front"}, REGISTRY)
    ctx.files = LocalFileClient({env: [str(path)] for env, path in roots.items()})
    return ctx


def gather(root: Path, files: dict[str, str], *names: str, env: str = "base"
           ) -> tuple[dict[str, Any], list[str]]:
    write(root, files)
    gatherer = Gatherer(make_ctx({"base": root}), env)
    for name in names:
        gatherer.add(env, name)
    return gatherer.finish()


def test_own_ids_first_included_ids_ordered_first_and_marked(tmp_path: Path) -> None:
    high, errors = gather(tmp_path, {
        "main.sls": "include: [lib]\nmine: {test.nop: []}\n",
        "lib.sls": "theirs:\n  test.succeed_without_changes:\n    - comment: x\n"}, "main")
    assert errors == []
    assert list(high) == ["mine", "theirs"]
    assert high["theirs"] == {"test": [{"comment": "x"}, "succeed_without_changes",
                                       {"order": 10000}], "__sls__": "lib", "__env__": "base",
                              "__sls_included_from__": ["main"]}
    assert high["mine"]["test"] == ["nop", {"order": 10001}]


def test_include_globs_and_extend_kept_aside(tmp_path: Path) -> None:
    high, errors = gather(tmp_path, {
        "main.sls": "include: ['roles.*']\nextend:\n  ra:\n    test.nop: []\n",
        "roles/a.sls": "ra: test.nop\n", "roles/b/init.sls": "rb: test.nop\n"}, "main")
    assert errors == []
    assert [k for k in high if not k.startswith("__")] == ["ra", "rb"]
    assert high["__extend__"] == [{"ra": {"test": ["nop"], "__sls__": "main",
                                          "__env__": "base"}}]


def test_missing_sls_and_relative_include_errors(tmp_path: Path) -> None:
    _, errors = gather(tmp_path, {"a.sls": "include: ['...x']\n"}, "a", "nothere")
    assert errors == [
        "Attempted relative include of '...x' within SLS 'base:a' goes beyond top level "
        "package ",
        "No matching sls found for 'nothere' in env 'base'"]


def test_top_lists_an_sls_once_per_matching_target(tmp_path: Path) -> None:
    write(tmp_path, {"top.sls": "base:\n  '*': [web]\n  'web1': [web, db]\n  'x': [no]\n"})
    assert Gatherer(make_ctx({"base": tmp_path}), "base").top(True) == \
        {"base": ["web", "web", "db"]}
