"""The Docker pastes of README.md and formulas/README.md, run as written:
`master image build` of the repository's web formula (then the image run and
its page fetched), and the example formulas applied masterless in a container.

The blocks run in a temp dir holding `formulas` and `pillar` links to the
repository's, as from the root of a clone; the session's minion image stands
in for `saline/minion`, and images, containers and ports get names of their own.
"""

from __future__ import annotations

import re
import subprocess
import time
import uuid
from pathlib import Path

import pytest

from tests.cluster import ROOT, free_port
from tests.docker.conftest import docker
from tests.readme import (
    README,
    Block,
    block_env,
    command_dir,
    deadline_left,
    explain,
    free_ports,
    localize,
    run_block,
    shell_blocks,
    stop_tagged,
)

TOTAL_SECONDS = 600  # each walk installs a package; about 15 s with the base cached


class Walk:
    """Blocks run in one work dir with our own names; what they left is removed."""

    def __init__(self, base: Path, image: str) -> None:
        self.work = base / "work"
        self.work.mkdir()
        for name in ("formulas", "pillar"):
            (self.work / name).symlink_to(ROOT / name)
        self.tag = uuid.uuid4().hex
        self.env = block_env(command_dir(base), self.tag)
        self.ports = free_ports()
        self.http_port = free_port()
        unique = uuid.uuid4().hex[:8]
        self.names = {"saline/minion": image, "mysite:1": f"saline-test/readme:{unique}",
                      "mysite": f"saline-readme-{unique}",
                      "try-formulas": f"saline-readme-formulas-{unique}"}
        self.printed = ""

    def rename(self, code: str) -> str:
        """`code` with free ports, the session's image and names of our own."""
        code = localize(code, self.ports)
        for old, new in self.names.items():
            code = re.sub(rf"(?<![\w/-]){re.escape(old)}(?![\w:-])", new, code)
        return code.replace("-p 8080:8080", f"-p 127.0.0.1:{self.http_port}:8080").replace(
            "127.0.0.1:8080/", f"127.0.0.1:{self.http_port}/")

    def run(self, blocks: list[Block]) -> str:
        """Run `blocks` in order; fail at the first that fails. Their output, all of it."""
        deadline = time.monotonic() + TOTAL_SECONDS
        for block in blocks:
            try:
                proc = run_block(block, self.rename(block.code), self.work, self.env,
                                 deadline_left(deadline))
            except subprocess.TimeoutExpired:
                pytest.fail(f"block at line {block.line} ran over {TOTAL_SECONDS} s")
            self.printed += proc.stdout + proc.stderr
            assert proc.returncode == 0, explain(block, proc)
        return self.printed

    def clean(self) -> list[str]:
        """Stop what the blocks left running; remove our containers and image."""
        left = stop_tagged(self.tag)
        kept = set(re.findall(r"saline-build-[0-9a-f]+", self.printed))
        for name in [self.names["mysite"], self.names["try-formulas"], *kept]:
            docker("rm", "--force", name, timeout=120)
        docker("rmi", "--force", self.names["mysite:1"], timeout=120)
        return left


def test_rename_touches_names_not_paths() -> None:
    walk = Walk.__new__(Walk)
    walk.ports, walk.http_port = {4515: 40001}, 40002
    walk.names = {"saline/minion": "img:test", "mysite:1": "t:9", "mysite": "c9",
                  "try-formulas": "f9"}
    code = ("--from saline/minion --tag mysite:1 --name mysite mysite:1 -p 8080:8080 "
            "port: 4515 -v $PWD/formulas:/x --name try-formulas docker/saline/minion.x")
    assert walk.rename(code) == ("--from img:test --tag t:9 --name c9 t:9 -p 127.0.0.1:40002:8080 "
                                 "port: 40001 -v $PWD/formulas:/x --name f9 "
                                 "docker/saline/minion.x")


def test_readme_image_build_as_written(tmp_path: Path, minion_image: str) -> None:
    blocks = [b for b in shell_blocks(README.read_text()) if b.mark == "docker"]
    assert blocks, "README.md has no block marked <!-- readme-test: docker -->"
    walk = Walk(tmp_path, minion_image)
    try:
        printed = walk.run(blocks)
    finally:
        left = walk.clean()
    assert "<h1>Hello</h1>" in printed, printed
    assert f"tag: {walk.names['mysite:1']}" in printed, printed
    assert not left, f"still running after the README's Docker blocks: {left}"


def test_formulas_readme_as_written(tmp_path: Path, minion_image: str) -> None:
    blocks = shell_blocks((ROOT / "formulas" / "README.md").read_text())
    assert blocks, "formulas/README.md has no ```sh block"
    walk = Walk(tmp_path, minion_image)
    try:
        printed = walk.run(blocks)
    finally:
        walk.clean()
    summaries = re.findall(r"Succeeded: (\d+)(.*)\nFailed: +(\d+)", printed)
    assert len(summaries) == 3, printed
    assert all(failed == "0" for _, _, failed in summaries), printed
    assert "changed=" in summaries[1][1], "the highstate changed nothing the first time"
    assert "changed=" not in summaries[2][1], "the second highstate changed something"
