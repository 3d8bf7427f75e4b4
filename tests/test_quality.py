"""Lint, types and the import rules of the layout, as part of the test run."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("common", "master", "minion")


def _run(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", *argv], cwd=ROOT, capture_output=True,
                          text=True, timeout=300)


def test_ruff_is_clean() -> None:
    proc = _run("ruff", "check", ".")
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_mypy_is_clean() -> None:
    proc = _run("mypy")
    assert proc.returncode == 0, proc.stdout + proc.stderr


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def _sources() -> list[Path]:
    return [p for pkg in PACKAGES for p in sorted((ROOT / pkg).rglob("*.py"))]


@pytest.mark.parametrize("path", _sources(), ids=lambda p: str(p.relative_to(ROOT)))
def test_import_rules(path: Path) -> None:
    rel = path.relative_to(ROOT).as_posix()
    top = {name.split(".")[0] for name in _imports(path)}
    if rel.startswith("common/"):
        assert not top & {"master", "minion"}, "common/ must not import master or minion"
    if rel.startswith("master/"):
        assert "minion" not in top, "master and minion never import each other"
    if rel.startswith("minion/"):
        assert "master" not in top, "master and minion never import each other"
    if "nacl" in top:
        assert rel == "common/crypto.py", "only common/crypto.py imports nacl"
    if "zmq" in top:
        assert rel.startswith("common/transport/"), "only common/transport imports zmq"
    if "pickle" in top:
        pytest.fail("no pickle anywhere: msgpack only")
