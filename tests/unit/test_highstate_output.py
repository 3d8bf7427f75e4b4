"""The highstate outputter: exact text of each layout, summaries, errors, colour."""

from __future__ import annotations

import argparse
import io
from typing import Any

import pytest

from common import highstate, output
from common.highstate import render_highstate

CHANGE = {"testing": {"old": "Unchanged", "new": "Something pretended to change"}}


def _state(num: int, result: bool | None, changes: dict[str, Any], comment: str,
           name: str, duration: float) -> dict[str, Any]:
    return {"name": name, "result": result, "changes": changes, "comment": comment,
            "__run_num__": num, "start_time": f"10:00:00.00000{num}", "duration": duration}


# Listed out of run order on purpose: the outputter sorts by __run_num__.
STATES: dict[str, Any] = {
    "test_|-broken_|-broken_|-fail_without_changes":
        _state(2, False, {}, "Failure!\nsee the log", "broken", 2.0),
    "test_|-clean_|-clean_|-succeed_without_changes":
        _state(0, True, {}, "Success!", "clean", 1.25),
    "test_|-changed_|-other name_|-succeed_with_changes":
        _state(1, True, CHANGE, "Success!", "other name", 0.5),
    "pkg_|-pending_|-pending_|-installed":
        _state(3, None, {"vim": {"old": "", "new": "9.0"}}, "would install", "pending", 0.25),
}

CHANGES = "     Changes:   "  # Salt leaves the spaces even when nothing follows


def _lines(*lines: str) -> str:
    return "\n".join(lines)


CLEAN_FULL = _lines(
    "----------",
    "          ID: clean",
    "    Function: test.succeed_without_changes",
    "      Result: True",
    "     Comment: Success!",
    "     Started: 10:00:00.000000",
    "    Duration: 1.25 ms",
    CHANGES,
)

CHANGED_FULL = _lines(
    "----------",
    "          ID: changed",
    "    Function: test.succeed_with_changes",
    "        Name: other name",
    "      Result: True",
    "     Comment: Success!",
    "     Started: 10:00:00.000001",
    "    Duration: 0.5 ms",
    CHANGES,
    "              ----------",
    "              testing:",
    "                  ----------",
    "                  new:",
    "                      Something pretended to change",
    "                  old:",
    "                      Unchanged",
)

BROKEN_FULL = _lines(
    "----------",
    "          ID: broken",
    "    Function: test.fail_without_changes",
    "      Result: False",
    "     Comment: Failure!",
    "              see the log",
    "     Started: 10:00:00.000002",
    "    Duration: 2.0 ms",
    CHANGES,
)

PENDING_FULL = _lines(
    "----------",
    "          ID: pending",
    "    Function: pkg.installed",
    "      Result: None",
    "     Comment: would install",
    "     Started: 10:00:00.000003",
    "    Duration: 0.25 ms",
    CHANGES,
    "              ----------",
    "              vim:",
    "                  ----------",
    "                  new:",
    "                      9.0",
    "                  old:",
    "                      ",
)

CLEAN_TERSE = ("  Name: clean - Function: test.succeed_without_changes - Result: Clean"
               " - Started: 10:00:00.000000 - Duration: 1.25 ms")
CHANGED_TERSE = ("  Name: other name - Function: test.succeed_with_changes - Result: Changed"
                 " - Started: 10:00:00.000001 - Duration: 0.5 ms")
BROKEN_TERSE = ("  Name: broken - Function: test.fail_without_changes - Result: Failed"
                " - Started: 10:00:00.000002 - Duration: 2.0 ms")
PENDING_TERSE = ("  Name: pending - Function: pkg.installed - Result: Differs"
                 " - Started: 10:00:00.000003 - Duration: 0.25 ms")

SUMMARY = """
Summary for web1
------------
Succeeded: 3 (unchanged=1, changed=2)
Failed:    1
------------
Total states run:     4
Total run time:   4.000 ms"""


def _expect(*blocks: str) -> str:
    return "\n".join(["web1:", *blocks, SUMMARY])


@pytest.mark.parametrize(("mode", "expected"), [
    ("full", _expect(CLEAN_FULL, CHANGED_FULL, BROKEN_FULL, PENDING_FULL)),
    ("terse", _expect(CLEAN_TERSE, CHANGED_TERSE, BROKEN_TERSE, PENDING_TERSE)),
    # changes: a line for what succeeded without changes, a block for the rest
    ("changes", _expect(CLEAN_TERSE, CHANGED_FULL, BROKEN_FULL, PENDING_FULL)),
    # mixed (as in Salt): a block only for failures
    ("mixed", _expect(CLEAN_TERSE, CHANGED_TERSE, BROKEN_FULL, PENDING_TERSE)),
])
def test_each_layout(mode: str, expected: str) -> None:
    assert render_highstate({"web1": STATES}, state_output=mode) == expected


def test_verbose_false_hides_clean_successes_but_counts_them() -> None:
    text = render_highstate({"web1": STATES}, verbose=False)
    assert text == _expect(CHANGED_FULL, BROKEN_FULL, PENDING_FULL)


def test_id_variant_shows_the_id_as_name() -> None:
    text = render_highstate({"web1": STATES}, state_output="terse_id")
    assert "  Name: changed - Function: test.succeed_with_changes - Result: Changed" in text
    full = render_highstate({"web1": STATES}, state_output="full_id")
    assert "Name: other name" not in full


def test_compile_errors() -> None:
    text = render_highstate({"db1": ["Rendering SLS 'base:web' failed: bad", "No top file"]})
    assert text == (
        "db1:\n"
        "    Data failed to compile:\n"
        "----------\n"
        "    Rendering SLS 'base:web' failed: bad\n"
        "----------\n"
        "    No top file"
    )


def test_plain_string_and_several_minions() -> None:
    text = render_highstate({"a": "Minion did not return. [No response]", "b": {}})
    assert text == (
        "a:\n"
        "    Minion did not return. [No response]\n"
        "b:\n"
        "\n"
        "Summary for b\n"
        "-----------\n"
        "Succeeded: 0\n"
        "Failed:   0\n"
        "-----------\n"
        "Total states run:    0\n"
        "Total run time:  0.000 ms"
    )


def test_non_state_mapping_falls_back_to_nested() -> None:
    text = render_highstate({"a": {"os": "Debian"}})
    assert text == "a:\n    ----------\n    os:\n        Debian"


def test_summary_widths_and_seconds() -> None:
    states = {f"test_|-s{i}_|-s{i}_|-nop": {"name": f"s{i}", "result": True, "changes": {},
                                           "comment": "ok", "__run_num__": i, "duration": 150.0}
              for i in range(12)}
    text = render_highstate({"m": states}, state_output="terse")
    assert text.endswith(
        "Summary for m\n"
        "-------------\n"
        "Succeeded: 12\n"
        "Failed:     0\n"
        "-------------\n"
        "Total states run:     12\n"
        "Total run time:    1.800 s"
    )
    # without start_time the terse line has no timing
    assert "  Name: s0 - Function: test.nop - Result: Clean\n" in text


def test_warnings_are_shown_and_counted() -> None:
    ret = {"name": "h", "result": True, "changes": {}, "comment": "ok", "__run_num__": 0,
           "warnings": ["Host h present for IP address 10.0.0.9."]}
    text = render_highstate({"m": {"host_|-h_|-h_|-present": ret}})
    assert "    Warnings: Host h present for IP address 10.0.0.9." in text
    assert "Warnings:  1" in text
    assert "Total states run:     1" in text


def test_colour() -> None:
    text = render_highstate({"web1": STATES}, color=True)
    assert text.startswith("\033[0;31mweb1:\033[0m")  # a failure makes the minion red
    assert "    \033[0;36m      ID: changed\033[0m" in text
    assert "    \033[0;31m  Result: False\033[0m" in text
    assert "    \033[1;33m  Result: None\033[0m" in text
    assert "    \033[0;32m      ID: clean\033[0m" in text
    assert " \033[0;32m Name: clean" not in text  # full layout: no terse lines
    assert "\033[" not in render_highstate({"web1": STATES})


def test_output_registers_highstate() -> None:
    assert "highstate" in output.FORMATS
    data = {"web1": STATES}
    assert output.render(data, "highstate") == render_highstate(data)
    assert output.render(data, "highstate", state_output="terse", state_verbose=False) == \
        render_highstate(data, "terse", False)
    assert output.default_format("state.apply") == "highstate"
    assert output.default_format("state.show_sls") == "nested"
    assert output.default_format("test.ping") == "nested"
    stream = io.StringIO()
    output.emit(data, "highstate", stream=stream, state_output="terse")
    assert stream.getvalue() == render_highstate(data, "terse") + "\n"


def test_cli_options() -> None:
    parser = argparse.ArgumentParser()
    highstate.add_options(parser)
    args = parser.parse_args([])
    assert (args.state_output, args.state_verbose) == ("full", True)
    args = parser.parse_args(["--state-output=terse", "--state_verbose", "False"])
    assert (args.state_output, args.state_verbose) == ("terse", False)
    with pytest.raises(SystemExit):
        parser.parse_args(["--state-verbose=maybe"])


def test_cli_late_options_reach_the_outputter() -> None:
    from common.args import late_options
    from master.cli import add_run_options, build_parser
    from minion import cli as minion_cli

    args = build_parser().parse_args(["run", "*", "state.apply", "web", "--out", "highstate",
                                      "--state-output=changes", "--state-verbose=false"])
    late = argparse.ArgumentParser(add_help=False, allow_abbrev=False)
    add_run_options(late)
    late_options(late, args)
    assert (args.out, args.state_output, args.state_verbose) == ("highstate", "changes", False)
    assert args.args == ["web"]

    margs = minion_cli.build_parser().parse_args(["call", "--state-output", "terse",
                                                   "state.apply", "--state-verbose", "no"])
    late = argparse.ArgumentParser(add_help=False, allow_abbrev=False)
    minion_cli.add_call_options(late)
    late_options(late, margs)
    assert (margs.state_output, margs.state_verbose, margs.args) == ("terse", False, [])


def test_master_run_hands_the_options_to_runcmd(monkeypatch: pytest.MonkeyPatch) -> None:
    from common import config
    from master import cli, runcmd

    seen: dict[str, Any] = {}

    def fake_main(args: argparse.Namespace, opts: dict[str, Any]) -> int:
        seen.update(vars(args))
        return 0

    monkeypatch.setattr(config, "load", lambda kind, cdir, **_: {})
    monkeypatch.setattr(runcmd, "main", fake_main)
    assert cli.main(["run", "*", "state.apply", "--out=highstate", "--state-output", "mixed",
                     "--state-verbose=false"]) == 0
    assert (seen["out"], seen["state_output"], seen["state_verbose"]) == (
        "highstate", "mixed", False)
