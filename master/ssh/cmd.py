"""`master ssh`: run one function on roster hosts and print it as `master run` does.

No master daemon is involved: this process reads the roster, matches the
target against roster ids (and grains cached from earlier runs), opens the
SSH connections, and records the job and each host's return in the job
cache, so `master jobs list/show` see it like any other job.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import sys
import time
from pathlib import Path
from typing import Any

from common import output, targeting
from common.args import split_args
from common.ids import new_jid
from master.jobcache import JobCache
from master.runcmd import SUMMARY_OVER, _user
from master.ssh import fanout, roster, zipapp
from master.ssh.serve import Answers
from master.ssh.session import HostResult, Settings

NOT_HERE = ("pillar", "pillar_pcre", "pillar_exact")


class UsageError(Exception):
    """Bad usage: exit code 2 with this line."""


def main(args: argparse.Namespace, opts: dict[str, Any]) -> int:
    """Run the command; the exit code is `master run`'s."""
    if importlib.util.find_spec("asyncssh") is None:
        print("master: error: master ssh needs asyncssh: pip install 'saline[ssh]'",
              file=sys.stderr)
        return 2
    try:
        entries = targets(args, opts)
        settings = Settings(known_hosts(args, opts), args.timeout, Answers(opts))
        if args.max_procs < 1:
            raise UsageError("--max-procs must be at least 1")
    except (UsageError, roster.RosterError, targeting.TargetError) as exc:
        print(f"master: error: {exc}", file=sys.stderr)
        return 2
    if not entries:
        print("No hosts in the roster matched the target. Nothing was run.", file=sys.stderr)
        return 1
    return Run(args, opts, entries, settings).run()


def targets(args: argparse.Namespace, opts: dict[str, Any]) -> list[roster.Entry]:
    """The roster entries the target matches, in roster order."""
    path = Path(args.roster_file) if args.roster_file else roster.default_path(
        opts["config_dir"])
    entries = roster.load(path)
    tgt_type = args.tgt_type or "glob"
    if tgt_type in NOT_HERE:
        raise UsageError(f"{tgt_type} targets need pillar; master ssh targets roster ids "
                         "and cached grains")
    match = targeting.compile(args.target, tgt_type, opts.get("nodegroups") or {},
                              args.delimiter)
    grains = {} if match.id_only else _cached_grains(opts)
    return [e for e in entries.values() if match({"id": e.id, "grains": grains.get(e.id, {})})]


def known_hosts(args: argparse.Namespace, opts: dict[str, Any]) -> Path | None:
    """The known_hosts file to check against; None with --ignore-host-keys."""
    if args.ignore_host_keys:
        if args.known_hosts:
            raise UsageError("--known-hosts and --ignore-host-keys contradict each other")
        return None
    path = Path(args.known_hosts or opts.get("ssh_known_hosts_file")
                or "~/.ssh/known_hosts").expanduser()
    if not path.is_file():
        raise UsageError(f"known_hosts file {path} not found: every host would be refused "
                         "(make it with ssh-keyscan, or use --ignore-host-keys)")
    return path


def _cached_grains(opts: dict[str, Any]) -> dict[str, Any]:
    try:
        cache = JobCache(Path(opts["cachedir"]), readonly=True)
    except Exception:  # no job cache yet: no grains known
        return {}
    try:
        return cache.all_grains()
    finally:
        cache.close()


class Run:
    """One `master ssh` job: fan out, print as hosts answer, record, sum up."""

    def __init__(self, args: argparse.Namespace, opts: dict[str, Any],
                 entries: list[roster.Entry], settings: Settings) -> None:
        self.args, self.opts, self.entries, self.settings = args, opts, entries, settings
        self.arg, self.kwarg = split_args(args.args)
        self.fmt = args.out or output.default_format(args.fun)
        self.jid = new_jid()
        self.cache = JobCache(Path(opts["cachedir"]))

    def run(self) -> int:
        started = time.monotonic()
        app = zipapp.cached(Path(self.opts["cachedir"]))
        tgt_type = self.args.tgt_type or "glob"
        job = {"jid": self.jid, "fun": self.args.fun, "arg": self.arg, "kwarg": self.kwarg,
               "tgt": self.args.target, "tgt_type": tgt_type}
        self.cache.add_job(job, [e.id for e in self.entries], _user())
        try:
            results = asyncio.run(fanout.run_all(
                self.entries, app, self._request, self.settings, self.args.max_procs,
                self._on_result))
        finally:
            self.cache.close()
        if self.args.static:
            self._emit({r.id: _value(r) for r in results}, all(r.success for r in results),
                       results)
        return self._summary(results, time.monotonic() - started)

    def _request(self, entry: roster.Entry) -> dict[str, Any]:
        # State runs match top files and compile pillar by grains: always fresh ones.
        fresh = self.args.fun.startswith("state.") or self.args.grains_max_age <= 0
        return {"fun": self.args.fun, "arg": self.arg, "kwarg": self.kwarg, "jid": self.jid,
                "grains_max_age": 0 if fresh else self.args.grains_max_age}

    def _on_result(self, result: HostResult) -> None:
        ret = result.result or {"return": _value(result), "success": False, "retcode": 1}
        self.cache.add_return(self.jid, result.id, ret)
        if result.timings:
            self.cache.add_timings(self.jid, result.id, result.timings)
        if result.grains:
            self.cache.save_grains(result.id, result.grains)
        if not self.args.static:
            self._emit({result.id: _value(result)}, result.success, [result])

    def _emit(self, data: dict[str, Any], ok: bool, results: list[HostResult]) -> None:
        if self.fmt == "json":
            data = {**data, "_timings": {r.id: r.timings for r in results}}
        output.emit(data, self.fmt, ok=ok, state_output=self.args.state_output,
                    state_verbose=self.args.state_verbose,
                    ordered=output.keeps_order(self.args.fun))

    def _summary(self, results: list[HostResult], took: float) -> int:
        """Name failed hosts on stderr, the timing table with --timings; the exit code."""
        failed = [r for r in results if not r.success]
        for r in failed:
            why = r.error or f"failed (retcode {(r.result or {}).get('retcode')})"
            print(f"{r.id}: {why}", file=sys.stderr)
        if len(results) > SUMMARY_OVER:
            unreachable = sum(1 for r in failed if r.error)
            print(f"Summary: {len(results)} hosts targeted, {len(results) - unreachable} "
                  f"ran the function ({len(failed) - unreachable} failed), {unreachable} "
                  f"could not run it; {took:.2f} s; jid {self.jid}", file=sys.stderr)
        if self.args.timings:
            print(fanout.timing_table(results), file=sys.stderr)
        return 1 if failed else 0


def _value(result: HostResult) -> Any:
    """What the output shows for a host: its return, or the line saying why there is none."""
    if result.result is not None:
        return result.result.get("return")
    return f"ERROR: {result.error}"
