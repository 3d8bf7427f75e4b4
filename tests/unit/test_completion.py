"""The generated completion scripts, run in a real bash (and zsh when installed).

COMP_WORDS/COMP_CWORD are set as the shell sets them on TAB; the words the
script asks the command for come from a stand-in command that echoes what it
was asked, so each case shows both what is completed and what was asked.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
from pathlib import Path

import pytest

from common.completion import script, walk
from master.cli import COMPLETE_FROM as MASTER_FROM
from master.cli import build_parser as master_parser
from minion.cli import COMPLETE_FROM as MINION_FROM
from minion.cli import build_parser as minion_parser

# Stands in for `master`: `completion KIND` prints words naming the kind and
# the config dir it was given, so a test sees that -c was passed on.
FAKE_COMMAND = """#!/bin/sh
dir=default
if [ "$1" = -c ]; then dir=$2; shift 2; fi
[ "$1" = completion ] || exit 3
case $2 in
  functions) echo "test.ping test.echo cmd.run in-$dir" ;;
  minions) echo "m1 m2 web1" ;;
  tokens) echo "1a2b3c4d" ;;
  jids) echo "20260101000000000001" ;;
esac
"""


def toy_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="toy")
    parser.add_argument("-c", "--config-dir", dest="config_dir")
    sub = parser.add_subparsers(dest="command")
    go = sub.add_parser("go")
    go.add_argument("--speed", choices=["slow", "fast"])
    go.add_argument("-q", action="store_true")
    go.add_argument("where")
    go.add_argument("rest", nargs="*")
    return parser


def test_walk_lists_commands_options_and_positionals() -> None:
    root, go = walk(toy_parser())
    assert root.path == "" and root.subcommands == ["go"]
    assert root.values == {"-c": [], "--config-dir": []}
    assert go.path == "go" and "-q" in go.options and "-q" not in go.values
    assert go.values["--speed"] == ["slow", "fast"]
    assert go.positionals == [("where", False, []), ("rest", True, [])]


def complete(shell: str, source: str, fake: Path, *words: str) -> list[str]:
    """What the script offers for `words` (the last is the word being completed)."""
    name = "_saline_" + words[0]
    prelude = "autoload -U +X compinit && compinit -u\n" if shell == "zsh" else ""
    # zsh's bashcompinit runs the function as `sh` (0-based arrays); do the same.
    emulate = "emulate -L sh; setopt kshglob noshglob braceexpand;" if shell == "zsh" else ""
    code = f"""{prelude}{source}
t() {{ {emulate} COMP_WORDS=("$@"); COMP_WORDS[0]={fake}; COMP_CWORD=$(( $# - 1 ));
      COMPREPLY=(); {name}; printf '%s\\n' "${{COMPREPLY[@]}}"; }}
t "$@"
"""
    argv = ["zsh", "-f", "-c", code, "zsh"] if shell == "zsh" else ["bash", "-c", code, "bash"]
    proc = subprocess.run([*argv, *words], capture_output=True, text=True, timeout=20)
    assert proc.returncode == 0, proc.stderr
    offered = [w for w in proc.stdout.split() if w]
    if shell == "zsh":  # zsh's compgen leaves matching the typed prefix to zsh itself
        offered = [w for w in offered if w.startswith(words[-1])]
    return offered


SHELL_CASES = ["bash", pytest.param("zsh", marks=pytest.mark.skipif(
    shutil.which("zsh") is None, reason="zsh is not installed"))]


@pytest.mark.parametrize("shell", SHELL_CASES)
def test_master_script_completes_commands_options_and_words(shell: str, tmp_path: Path) -> None:
    fake = tmp_path / "master"
    fake.write_text(FAKE_COMMAND)
    fake.chmod(0o755)
    src = script(master_parser(), shell, MASTER_FROM)

    def offered(*words: str) -> list[str]:
        return complete(shell, src, fake, "master", *words)

    assert {"start", "key", "run", "jobs", "completion"} <= set(offered(""))
    assert offered("ru") == ["run"]
    assert offered("key", "tok") == ["token"]
    assert offered("key", "token", "") == ["create", "list", "revoke"]
    assert "--include-rejected" in offered("key", "accept", "--")
    assert offered("run", "--out", "j") == ["json"]
    assert offered("key", "list", "--out", "") == ["nested", "json", "yaml", "txt", "highstate"]
    # Minion ids for the target, then function names, asked with the -c given.
    assert offered("run", "w") == ["web1"]
    assert offered("-c", "/srv/m", "run", "-t", "5", "-L", "m1,m2", "test.") == [
        "test.ping", "test.echo"]
    assert offered("--config-dir", "/x", "run", "*", "i") == ["in-/x"]
    assert offered("run", "*", "") == ["test.ping", "test.echo", "cmd.run", "in-default"]
    assert offered("run", "*", "test.echo", "--st") == ["--state-output", "--state_output",
                                                        "--state-verbose", "--state_verbose",
                                                        "--static"]
    assert offered("key", "accept", "m1", "") == ["m1", "m2", "web1"]
    assert offered("key", "token", "revoke", "") == ["1a2b3c4d"]
    assert offered("jobs", "show", "2026") == ["20260101000000000001"]
    assert offered("completion", "") == ["bash", "zsh", "functions", "minions", "tokens", "jids"]
    assert offered("start", "-l", "w") == ["warning"]
    assert offered("run", "--state-verbose", "") == ["true", "false"]


def test_config_dir_value_completes_directories(tmp_path: Path) -> None:
    (tmp_path / "conf-a").mkdir()
    (tmp_path / "conf-file").write_text("")
    src = f"cd {tmp_path}\n" + script(master_parser(), "bash", MASTER_FROM)
    assert complete("bash", src, Path("/bin/false"), "master", "-c", "conf") == ["conf-a"]
    assert complete("bash", src, Path("/bin/false"), "master", "key", "--config-dir",
                    "conf") == ["conf-a"]


@pytest.mark.parametrize("shell", SHELL_CASES)
def test_minion_script_completes_call_functions(shell: str, tmp_path: Path) -> None:
    fake = tmp_path / "minion"
    fake.write_text(FAKE_COMMAND)
    fake.chmod(0o755)
    src = script(minion_parser(), shell, MINION_FROM)
    assert {"start", "call", "key", "completion"} <= set(complete(shell, src, fake, "minion", ""))
    assert complete(shell, src, fake, "minion", "call", "--local", "cmd") == ["cmd.run"]
    assert complete(shell, src, fake, "minion", "key", "") == ["fingerprint"]


def test_scripts_load_in_a_real_shell() -> None:
    """`source <(master completion bash)` registers the function for the command."""
    src = script(master_parser(), "bash", MASTER_FROM)
    proc = subprocess.run(["bash", "-c", src + "\ncomplete -p master"], capture_output=True,
                          text=True, timeout=20)
    assert proc.stdout.strip() == "complete -F _saline_master master", proc.stderr
    if shutil.which("zsh"):
        src = script(master_parser(), "zsh", MASTER_FROM)
        proc = subprocess.run(["zsh", "-f", "-c", "autoload -U +X compinit && compinit -u\n"
                               + src + "\nprint -r -- $_comps[master]"],
                              capture_output=True, text=True, timeout=20)
        assert proc.stdout.strip() == "_bash_complete -F _saline_master", proc.stderr
