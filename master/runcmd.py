"""`master run`: publish a job, stream returns, say who did not answer.

The command stops as soon as every targeted minion has returned or is known
not to be connected (it said goodbye, its connection closed or its
heartbeats stopped, even after it acknowledged the job), or at the timeout.
Each minion without a return is shown in the output itself, as Salt shows
it: ``Minion did not return. [Not connected]``, or ``[No response]`` for a
connected one (still running the job if it acknowledged it: its return lands
in the job cache later). With more than SUMMARY_OVER minions targeted, one
summary line on stderr ends the run.
"""

from __future__ import annotations

import argparse
import getpass
import sys
import time
from typing import Any

from common import output
from common.args import split_args
from master.localclient import CommandFailed, LocalClient, MasterUnavailable

POLL = 1.0
# A run that targets more minions than this ends with a summary line.
SUMMARY_OVER = 10


def main(args: argparse.Namespace, opts: dict[str, Any]) -> int:
    arg, kwarg = split_args(args.args)
    tgt_type = args.tgt_type or "glob"
    timeout = args.timeout if args.timeout is not None else float(opts["timeout"])
    try:
        client = LocalClient(opts)
    except MasterUnavailable as exc:
        print(f"master: {exc}", file=sys.stderr)
        return 1
    try:
        if args.preview:
            return preview(client, args, tgt_type)
        if not args.fun:
            print("master: error: run: name a function to run (or use --preview)",
                  file=sys.stderr)
            return 2
        job = client.call(
            "publish", tgt=args.target, tgt_type=tgt_type, fun=args.fun, arg=arg,
            kwarg=kwarg, delimiter=args.delimiter, user=_user(),
        )
        if not job["jid"]:
            print("No minions matched the target. No command was sent, no jid was assigned.",
                  file=sys.stderr)
            return 1
        if args.run_async:
            print(f"Executed command with job ID: {job['jid']}")
            return 0
        fmt = args.out or output.default_format(args.fun)
        return Follow(client, {**job, "fun": args.fun}, timeout, fmt, args.static,
                      (args.state_output, args.state_verbose)).run()
    except CommandFailed as exc:
        print(f"master: error: {exc}", file=sys.stderr)
        return 2
    except MasterUnavailable as exc:
        print(f"master: {exc}", file=sys.stderr)
        return 1
    finally:
        client.close()


def preview(client: LocalClient, args: argparse.Namespace, tgt_type: str) -> int:
    """Print the minions a target reaches (and whether each is connected)."""
    found = client.call("preview", tgt=args.target, tgt_type=tgt_type,
                        delimiter=args.delimiter)
    expected, connected = found["expected"], set(found["connected"])
    if args.out in ("json", "yaml"):
        output.emit({m: {"connected": m in connected} for m in expected}, args.out)
    else:
        for minion in expected:
            print(f"- {minion}" + ("" if minion in connected else "  (not connected)"))
    if not expected:
        print("No minions matched the target.", file=sys.stderr)
    return 0 if expected else 1


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return ""


class Follow:
    """Print returns of one job as they arrive, then the summary."""

    def __init__(self, client: LocalClient, job: dict[str, Any], timeout: float, fmt: str,
                 static: bool, state_opts: tuple[str, bool] = ("full", True)) -> None:
        self.client = client
        self.jid: str = job["jid"]
        self.ordered = output.keeps_order(str(job.get("fun", "")))
        self.expected: list[str] = job["expected"]
        self.deadline = time.monotonic() + timeout
        self.timeout = timeout
        self.fmt = fmt
        self.static = static
        self.state_output, self.state_verbose = state_opts
        self.returns: dict[str, dict[str, Any]] = {}
        self.acked: set[str] = set()
        self.connected: dict[str, bool] = {m: m in job["connected"] for m in self.expected}
        self.progress = sys.stderr.isatty()

    def run(self) -> int:
        cursor = 0
        while not self._done():
            wait = min(POLL, max(0.0, self.deadline - time.monotonic()))
            state = self.client.call("job_wait", timeout=wait + 10, jid=self.jid,
                                     cursor=cursor, wait=wait)
            if not state.get("known"):
                break
            cursor = state["cursor"]
            self.acked.update(state["acked"])
            self.connected.update(state["connected"])
            for event in state["events"]:
                self._on_return(event)
            self._show_progress()
            if time.monotonic() >= self.deadline:
                break
        self._clear_progress()
        missing = {m: self._why(m) for m in self.expected if m not in self.returns}
        if self.static:
            # Scripts reading one document see every targeted minion in it.
            data = {m: r["return"] for m, r in self.returns.items()}
            self._emit({**data, **missing},
                       not missing and all(r["success"] for r in self.returns.values()))
        else:
            for minion, why in missing.items():
                output.emit_no_return({minion: why}, self.fmt)
        return self._summary(missing)

    def _done(self) -> bool:
        # Waiting longer cannot help for a minion that returned, or that is
        # not connected (a minion that died mid-job never returns).
        return all(m in self.returns or not self.connected.get(m) for m in self.expected)

    def _on_return(self, event: dict[str, Any]) -> None:
        minion = event["minion"]
        self.returns[minion] = event
        if not self.static:
            self._clear_progress()
            self._emit({minion: event["return"]}, bool(event["success"]))

    def _emit(self, data: dict[str, Any], ok: bool) -> None:
        output.emit(data, self.fmt, ok=ok, state_output=self.state_output,
                    state_verbose=self.state_verbose, ordered=self.ordered)

    def _show_progress(self) -> None:
        if self.progress:
            sys.stderr.write(f"\r{len(self.returns)}/{len(self.expected)} returned")
            sys.stderr.flush()

    def _clear_progress(self) -> None:
        if self.progress:
            sys.stderr.write("\r\033[K")
            sys.stderr.flush()

    def _why(self, minion: str) -> str:
        """What a minion without a return shows: Salt's words, then ours."""
        if not self.connected.get(minion):
            return output.NOT_CONNECTED
        if minion in self.acked:
            return (f"{output.NO_RESPONSE}\nStill running: it acknowledged the job; "
                    f"`master jobs show {self.jid}` shows its return once it lands.")
        return (f"{output.NO_RESPONSE}\nConnected, but it did not acknowledge the job "
                f"within {self.timeout:g} s.")

    def _summary(self, missing: dict[str, str]) -> int:
        """Name failed minions on stderr, add the summary line; the exit code."""
        failed = [m for m, r in self.returns.items() if not r["success"]]
        for minion in failed:
            print(f"{minion}: failed (retcode {self.returns[minion].get('retcode')})",
                  file=sys.stderr)
        targeted = len(self.returns) + len(missing)
        if targeted > SUMMARY_OVER:
            running = sum(1 for m in missing if m in self.acked and self.connected.get(m))
            away = sum(1 for why in missing.values() if why == output.NOT_CONNECTED)
            print(f"Summary: {targeted} minions targeted, {len(self.returns)} returned "
                  f"({len(failed)} failed), {away} not connected, {running} still running, "
                  f"{len(missing) - away - running} no response; jid {self.jid}",
                  file=sys.stderr)
        return 1 if failed or missing else 0
