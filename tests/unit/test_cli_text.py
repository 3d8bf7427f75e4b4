"""What the `master` and `minion` commands say: help, versions, token and key lines."""

from __future__ import annotations

import argparse
import re

import pytest

from common.clihelp import version_text
from common.version import __version__
from master.cli import build_parser as master_parser
from master.keycmd import nothing_to_do, why_unchanged
from master.tokens import _span, describe, iso_utc
from minion.cli import build_parser as minion_parser


def every_parser(parser: argparse.ArgumentParser, path: str = ""
                 ) -> list[tuple[str, argparse.ArgumentParser]]:
    found = [(path, parser)]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                found.extend(every_parser(sub, f"{path} {name}".strip()))
    return found


@pytest.mark.parametrize("build", [master_parser, minion_parser])
def test_every_argument_and_subcommand_has_help(build: object) -> None:
    assert callable(build)
    for path, parser in every_parser(build()):
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                helps = {a.dest: a.help for a in action._choices_actions}
                missing = [name for name in action.choices if not helps.get(name)]
                assert not missing, f"{path}: subcommands without help: {missing}"
            else:
                flag = "/".join(action.option_strings) or action.dest
                assert action.help, f"`{path}` {flag} has no help text"


def help_of(build: object, *words: str) -> str:
    assert callable(build)
    parser = build()
    for path, sub in every_parser(parser):
        if path == " ".join(words):
            return " ".join(sub.format_help().split())  # line breaks do not matter here
    raise AssertionError(words)


def test_defaults_are_shown_where_they_matter() -> None:
    assert "seconds to wait for returns (default: the config's timeout, 5)" in help_of(
        master_parser, "run")
    assert "(default: 1h)" in help_of(master_parser, "key", "token", "create")
    assert "(default: nested)" in help_of(master_parser, "key", "list")
    assert "(default: warning)" in help_of(minion_parser, "call")
    # A switch that is off, or an option without a value, shows no default.
    assert "(default: False)" not in help_of(master_parser, "key", "accept")
    assert "(default: None)" not in help_of(master_parser, "run")


def test_minion_call_help_explains_fun_and_args_with_examples() -> None:
    text = help_of(minion_parser, "call")
    assert re.search(r"FUN the function to run, as module\.function", text)
    assert re.search(r"ARG its arguments: values and KEY=VALUE pairs", text)
    assert "minion call cmd.run 'uname -a'" in text


def test_version_text_names_the_program_and_libraries() -> None:
    first, second = version_text("minion").splitlines()
    assert first == f"minion {__version__}"
    assert re.fullmatch(r"Python [\d.]+, pyzmq [\d.]+\S*, libzmq \d+\.\d+\.\d+", second), second


@pytest.mark.parametrize(("seconds", "text"), [
    (0, "0 s"), (42.4, "42 s"), (59.6, "1 min"), (3540, "59 min"), (3599, "1 h"),
    (3600 * 2 + 300, "2 h 5 min"), (86400 * 2, "2 d"), (86400 * 3 + 3600 * 4, "3 d 4 h"),
])
def test_spans_read_like_a_person_would_say_them(seconds: float, text: str) -> None:
    assert _span(seconds) == text


def test_token_lines_show_utc_times_and_what_is_left() -> None:
    expires = 1_796_548_320.0  # 2026-12-06 09:12:00 UTC
    info = {"match": "web*", "expires": expires, "uses": 3, "uses_left": 2}
    assert describe(info, now=expires - 59 * 60) == (
        "ids 'web*', 2 of 3 uses left, expires 2026-12-06 09:12 UTC (in 59 min)")
    info = {"match": "*", "expires": expires, "uses": None, "uses_left": None}
    assert describe(info, now=expires + 7200) == (
        "ids '*', any number of uses, expired 2026-12-06 09:12 UTC (2 h ago)")
    assert iso_utc(expires) == "2026-12-06T09:12:00Z"
    assert iso_utc(None) is None


KEYS = {"accepted": ["a1", "web1"], "pending": ["p1"], "rejected": ["r1", "web2"],
        "denied": ["a1"]}


@pytest.mark.parametrize(("action", "pattern", "line", "fatal"), [
    ("accept", "r1", "master: error: the key for r1 is rejected; to accept it anyway, "
                     "add --include-rejected", True),
    ("reject", "web1", "master: error: the key for web1 is accepted; to reject it anyway, "
                       "add --include-accepted", True),
    ("reject", "r1", "The key for r1 is already rejected: nothing to do.", False),
    ("accept", "nope", "master: error: no minion key matches 'nope' (`master key list` shows "
                       "the known ids)", True),
    ("accept", "web*", "master: error: a key matching 'web*' is rejected; to accept it "
                       "anyway, add --include-rejected", True),
])
def test_why_a_named_key_was_not_changed(action: str, pattern: str, line: str,
                                         fatal: bool) -> None:
    assert why_unchanged(action, pattern, KEYS) == (line, fatal)


def test_a_denied_key_says_how_to_look_and_clean_up() -> None:
    line, fatal = why_unchanged("accept", "a1", {**KEYS, "accepted": ["web1"]})
    assert fatal and "the key for a1 is denied" in line
    assert "master key fingerprint a1" in line and "master key delete a1" in line


def test_nothing_to_do_with_all() -> None:
    assert nothing_to_do("accept", ("pending",)) == "No unaccepted keys: nothing to accept."
    assert nothing_to_do("accept", ("pending", "rejected")) == (
        "No unaccepted or rejected keys: nothing to accept.")
    assert nothing_to_do("delete", ("accepted", "pending")) == (
        "There are no keys: nothing to delete.")
