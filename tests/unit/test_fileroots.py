"""Tests for common.fileroots: listing a tree that holds broken symlinks."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest

from common.fileroots import FileRoots


def test_symlink_loop_is_skipped_and_logged_once(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    root = tmp_path / "roots"
    (root / "web").mkdir(parents=True)
    (root / "web" / "init.sls").write_text("a: b\n")
    os.symlink("loop-b", root / "loop-a")
    os.symlink("loop-a", root / "loop-b")
    os.symlink("self", root / "web" / "self")
    os.symlink("..", root / "web" / "up")  # a directory link inside the root
    roots = FileRoots({"base": [str(root)]})
    with caplog.at_level(logging.WARNING, logger="common.fileroots"):
        for _ in range(3):  # every minion lists: the roots stay usable
            assert roots.list("base") == ["web/init.sls"]
            assert roots.list("base", dirs=True) == ["web", "web/up"]
            assert set(roots.stat_tree("base")) == {"web/init.sls"}
    skipped = [r.getMessage() for r in caplog.records if "skipping" in r.getMessage()]
    assert len(skipped) == 3, skipped  # each loop once, not once per listing
    assert any(str(root / "web" / "self") in m for m in skipped)
    assert roots.find("base", "web/init.sls") == (root / "web" / "init.sls").resolve()
