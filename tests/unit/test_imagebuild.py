"""`master image build` refuses a formula the master cannot serve before any container starts."""

from __future__ import annotations

from pathlib import Path

import pytest

from master.cli import main
from master.imagebuild import check_formula


def test_a_formula_is_found_as_file_or_dir(tmp_path: Path) -> None:
    (tmp_path / "web").mkdir()
    (tmp_path / "web" / "init.sls").write_text("{}\n")
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "b.sls").write_text("{}\n")
    check_formula([str(tmp_path / "none"), str(tmp_path)], "base", "web")
    check_formula([str(tmp_path)], "base", "a.b")
    with pytest.raises(ValueError, match=r"no formula 'a' in the master's file_roots \(base: "):
        check_formula([str(tmp_path)], "base", "a")


def test_build_without_the_formula_is_one_line_at_once(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # The README's first example named `web` with the demo master's empty roots:
    # the container started and the state run failed with "No matching sls".
    (tmp_path / "master").write_text("interface: 0.0.0.0\n")
    code = main(["-c", str(tmp_path), "image", "build", "--from", "saline/minion",
                 "--apply", "web", "--tag", "mysite:1"])
    err = capsys.readouterr().err
    assert code == 2
    assert err == (f"master: error: image build: no formula 'web' in the master's file_roots "
                   f"(base: {tmp_path / 'formulas'}): neither web.sls nor web/init.sls; point "
                   "file_roots at your formulas (the repository's examples are in its "
                   "formulas/ directory)\n")
