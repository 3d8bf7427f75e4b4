"""README.md's Docker blocks pasted as written: `master image build` of the
repository's web formula, then the image run and its page fetched.

The blocks run in a temp dir holding a `formulas` link to the repository's,
as from the root of a clone; the session's minion image stands in for
`saline/minion`, and the image, container and ports get names of their own.
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

TOTAL_SECONDS = 600  # the build installs a package; about 15 s with the base cached


def docker_names(code: str, image: str, tag: str, name: str, port: int) -> str:
    """`code` with the session's minion image and our own tag, container and host port."""
    code = code.replace("saline/minion", image)
    code = re.sub(r"\bmysite:1\b", tag, code)
    code = re.sub(r"\bmysite\b", name, code)
    return code.replace("-p 8080:8080", f"-p 127.0.0.1:{port}:8080").replace(
        "127.0.0.1:8080/", f"127.0.0.1:{port}/")


def test_readme_image_build_as_written(tmp_path: Path, minion_image: str) -> None:
    blocks = [b for b in shell_blocks(README.read_text()) if b.mark == "docker"]
    assert blocks, "README.md has no block marked <!-- readme-test: docker -->"
    work = tmp_path / "work"
    work.mkdir()
    (work / "formulas").symlink_to(ROOT / "formulas")
    tag = f"saline-test/readme:{uuid.uuid4().hex[:8]}"
    name = f"saline-readme-{uuid.uuid4().hex[:8]}"
    run_tag = uuid.uuid4().hex
    env = block_env(command_dir(tmp_path), run_tag)
    ports, host_port = free_ports(), free_port()
    deadline = time.monotonic() + TOTAL_SECONDS
    printed = ""
    try:
        for block in blocks:
            code = docker_names(localize(block.code, ports), minion_image, tag, name, host_port)
            try:
                proc = run_block(block, code, work, env, deadline_left(deadline))
            except subprocess.TimeoutExpired:
                pytest.fail(f"README.md block at line {block.line} ran over {TOTAL_SECONDS} s")
            printed += proc.stdout + proc.stderr
            assert proc.returncode == 0, explain(block, proc)
        assert "<h1>Hello</h1>" in printed, printed
        assert f"tag: {tag}" in printed, printed
    finally:
        left = stop_tagged(run_tag)
        docker("rm", "--force", name, timeout=120)
        for kept in set(re.findall(r"saline-build-[0-9a-f]+", printed)):
            docker("rm", "--force", kept, timeout=120)
        docker("rmi", "--force", tag, timeout=120)
    assert not left, f"still running after the README's Docker blocks: {left}"
