"""README.md pasted as written: its shell blocks run in order against real daemons.

The blocks of the hand-run sections (a master and three minions, formulas,
join tokens, stopping them) run one after the other in one temp dir, each as
``bash -euo pipefail``, so any command that fails fails the test; the ports
are free ones instead of 4505/4506. Docker blocks run in
tests/docker/test_readme_docker.py. See tests/readme.py for the marks.
"""

from __future__ import annotations

import re
import subprocess
import time
import uuid
from pathlib import Path

import pytest

from tests.cluster import wait_for
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
    tagged,
)

TOTAL_SECONDS = 150  # the whole walk; it takes about 15 s
MARKS = {"run", "docker", "skip"}

# What the reader is told to expect: for the block that holds the command on
# the left, patterns its output must show.
EXPECTED: dict[str, list[str]] = {
    "key list --wait": [r"Unaccepted Keys:\nm1\nm2\nm3\n"],
    "run '*' test.ping": [rf"(?m)^{m}:\n    True$" for m in ("m1", "m2", "m3")],
    "run 'm*' state.apply hello": [r"Succeeded: 3 \(changed=3\)", r"Failed:\s+0\n"],
    "call --local state.apply hello": [r"Failed:\s+0\n"],
    "key token create": [r"(?m)^web1:\n    True$"],
}


def test_every_block_parses_and_is_marked_known() -> None:
    blocks = shell_blocks(README.read_text())
    assert len([b for b in blocks if b.mark == "run"]) >= 4
    for block in blocks:
        assert block.mark in MARKS, f"README.md line {block.line}: unknown mark {block.mark!r}"
        assert block.mark != "skip" or block.reason, f"line {block.line}: skip needs a reason"
        proc = subprocess.run(["bash", "-n"], input=block.code, capture_output=True, text=True,
                              timeout=30)
        assert proc.returncode == 0, f"README.md line {block.line}: {proc.stderr}"


def test_localize_replaces_only_whole_ports() -> None:
    code = "publish_port: 4505\nret_port: 4506\nversion 1.4505 x45050 4505"
    assert localize(code, {4505: 40001, 4506: 40002}) == (
        "publish_port: 40001\nret_port: 40002\nversion 1.4505 x45050 40001")


@pytest.mark.timeout(TOTAL_SECONDS + 60)
def test_readme_hand_run_sections_as_written(tmp_path: Path) -> None:
    blocks = [b for b in shell_blocks(README.read_text()) if b.mark == "run"]
    work = tmp_path / "work"
    work.mkdir()
    tag = uuid.uuid4().hex
    env = block_env(command_dir(tmp_path), tag)
    ports = free_ports()
    deadline = time.monotonic() + TOTAL_SECONDS
    stdout: dict[int, str] = {}
    try:
        for block in blocks:
            try:
                proc = run_block(block, localize(block.code, ports), work, env,
                                 deadline_left(deadline))
            except subprocess.TimeoutExpired as exc:
                pytest.fail(f"README.md block at line {block.line} still ran after "
                            f"{TOTAL_SECONDS} s in all:\n{block.code}\n{exc.stdout!r}")
            assert proc.returncode == 0, explain(block, proc)
            stdout[block.line] = proc.stdout
        # The README's own stop commands end every daemon it started.
        wait_for(lambda: not tagged(tag), 15, 0.2, "the README's daemons to stop")
    finally:
        left = stop_tagged(tag)
    assert not left, f"still running after the README's blocks: {left}"
    for needle, patterns in EXPECTED.items():
        holders = [b for b in blocks if needle in b.code]
        assert len(holders) == 1, f"{needle!r} is in {len(holders)} README blocks, not 1"
        for pattern in patterns:
            assert re.search(pattern, stdout[holders[0].line]), (
                f"README.md block at line {holders[0].line}: no {pattern!r} in its output:\n"
                f"{stdout[holders[0].line]}")
