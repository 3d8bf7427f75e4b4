"""README.md's shell blocks, pasted as written, for the tests that run them.

Every block fenced with ```` ```sh ```` is a paste: tests/integration/test_readme.py
runs them in order in one temp dir against real daemons, and
tests/docker/test_readme_docker.py runs the Docker ones. An HTML comment on
the line before a fence says how a block is run:

    <!-- readme-test: docker -->           run only in the Docker tier
    <!-- readme-test: skip (the reason) -->  never run (still checked by `bash -n`)

The ports the README uses are replaced by free ones, so that a test never
meets a daemon the reader left running.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import psutil

from tests.cluster import ROOT, free_port

README = ROOT / "README.md"
MARK = re.compile(r"<!--\s*readme-test:\s*(\w+)\s*(.*?)\s*-->")
# The ports of the README's master configs (the demo master; the image builder).
README_PORTS = (4505, 4506, 4515, 4516)
# Set in the environment of every process a block starts, to find them afterwards.
TAG_VAR = "SALINE_README_TEST"


@dataclass(frozen=True)
class Block:
    """One ```sh block: where it starts (1-based line), its text and its mark."""

    line: int
    code: str
    mark: str = "run"
    reason: str = ""


def shell_blocks(text: str) -> list[Block]:
    """The ```sh blocks of a Markdown text, in order, with their readme-test marks."""
    blocks: list[Block] = []
    lines = text.splitlines()
    index = 0
    while index < len(lines):
        if lines[index].strip() != "```sh":
            index += 1
            continue
        start = index
        index += 1
        body: list[str] = []
        while index < len(lines) and lines[index].strip() != "```":
            body.append(lines[index])
            index += 1
        before = next((lines[i] for i in range(start - 1, -1, -1) if lines[i].strip()), "")
        mark = MARK.search(before)
        if mark:
            reason = mark.group(2).strip().removeprefix("(").removesuffix(")")
            blocks.append(Block(start + 1, "\n".join(body) + "\n", mark.group(1), reason))
        else:
            blocks.append(Block(start + 1, "\n".join(body) + "\n"))
        index += 1
    return blocks


def free_ports() -> dict[int, int]:
    """A free port for each port the README names."""
    return {port: free_port() for port in README_PORTS}


def localize(code: str, ports: dict[int, int]) -> str:
    """`code` with each README port replaced by its free stand-in."""
    for old, new in ports.items():
        code = re.sub(rf"(?<![\d.]){old}(?!\d)", str(new), code)
    return code


def command_dir(base: Path) -> Path:
    """A bin dir whose `master` and `minion` run this checkout with this Python."""
    bindir = base / "bin"
    bindir.mkdir(exist_ok=True)
    for prog in ("master", "minion"):
        script = bindir / prog
        script.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m {prog} "$@"\n')
        script.chmod(0o755)
    return bindir


def block_env(bindir: Path, tag: str) -> dict[str, str]:
    """The environment a block runs in: our commands first on PATH, no config dir."""
    env = {k: v for k, v in os.environ.items() if k != "SALINE_CONFIG_DIR"}
    env.update({"PATH": f"{bindir}{os.pathsep}{env.get('PATH', '/usr/bin:/bin')}",
                "PYTHONPATH": str(ROOT), "NO_COLOR": "1", TAG_VAR: tag})
    return env


def run_block(block: Block, code: str, cwd: Path, env: dict[str, str],
              timeout: float) -> subprocess.CompletedProcess[str]:
    """Run `code` as bash does a paste, stopping at the first failing command."""
    return subprocess.run(["bash", "-euo", "pipefail", "-c", code], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=timeout,
                          stdin=subprocess.DEVNULL)


def explain(block: Block, proc: subprocess.CompletedProcess[str]) -> str:
    """What a failed block printed, for the assertion message."""
    return (f"README.md block at line {block.line} exited {proc.returncode}:\n{block.code}"
            f"--- stdout:\n{proc.stdout}--- stderr:\n{proc.stderr}")


def tagged(tag: str) -> list[psutil.Process]:
    """The live processes started with `TAG_VAR=tag` in their environment."""
    found = []
    for proc in psutil.process_iter():
        try:
            if proc.environ().get(TAG_VAR) == tag and proc.status() != psutil.STATUS_ZOMBIE:
                found.append(proc)
        except (psutil.Error, OSError):
            continue
    return found


def stop_tagged(tag: str, grace: float = 5.0) -> list[str]:
    """SIGTERM what the blocks left running, SIGKILL what stays; their command lines."""
    left = tagged(tag)
    names = []
    for proc in left:
        try:
            names.append(" ".join(proc.cmdline()[1:]))
            proc.send_signal(signal.SIGTERM)
        except psutil.Error:
            continue
    _, alive = psutil.wait_procs(left, timeout=grace)
    for proc in alive:
        proc.kill()
    psutil.wait_procs(alive, timeout=grace)
    return names


def deadline_left(deadline: float) -> float:
    """Seconds until `deadline` (monotonic), at least one."""
    return max(1.0, deadline - time.monotonic())
