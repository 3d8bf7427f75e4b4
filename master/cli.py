"""The `master` command: start the daemon, manage keys, run jobs, read jobs.

Exit codes: 0 success; 1 a function failed, a minion did not return, or the
master could not be reached; 2 bad usage or a bad config file.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from common import config, highstate
from common.output import FORMATS
from master import imagebuild_args, lifecycle

TARGET_FLAGS = {
    "-E": ("pcre", "target ids by regular expression"),
    "-L": ("list", "target a comma-separated list of ids"),
    "-G": ("grain", "target by grain, e.g. 'os:Debian'"),
    "-P": ("grain_pcre", "target by grain with a regular expression"),
    "-I": ("pillar", "target by pillar value"),
    "-J": ("pillar_pcre", "target by pillar value with a regular expression"),
    "-S": ("ipcidr", "target by IP address or network"),
    "-C": ("compound", "compound target, e.g. 'G@os:Debian and web*'"),
    "-N": ("nodegroup", "target a nodegroup from the master config"),
}


class UsageError(Exception):
    """Bad command-line usage or config: exit code 2."""


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("-c", "--config-dir", default=argparse.SUPPRESS,
                        help="config dir (default: $SALINE_CONFIG_DIR or /etc/saline)")
    parser = argparse.ArgumentParser(prog="master", parents=[common],
                                     description="saline master: keys, jobs and the daemon")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    start = sub.add_parser("start", parents=[common], help="run the master in the foreground")
    start.add_argument("-l", "--log-level", help="override log_level")
    lifecycle.add_parsers(sub, start, common)

    key = sub.add_parser("key", parents=[common], help="list, accept, reject, delete minion keys")
    key_sub = key.add_subparsers(dest="key_command", required=True, metavar="ACTION")
    klist = key_sub.add_parser("list", parents=[common], help="list keys by state")
    klist.add_argument("--out", choices=FORMATS, default="nested")
    for action, text in (("accept", "accept pending keys"), ("reject", "reject pending keys"),
                         ("delete", "delete keys in any state")):
        p = key_sub.add_parser(action, parents=[common], help=text)
        p.add_argument("ids", nargs="*", metavar="ID", help="minion ids (globs allowed)")
        p.add_argument("-A", "--all", action="store_true", help="every key it applies to")
        p.add_argument("-y", "--yes", action="store_true", help="do not ask for confirmation")
        if action == "accept":
            p.add_argument("--include-rejected", action="store_true",
                           help="also accept rejected keys")
        if action == "reject":
            p.add_argument("--include-accepted", action="store_true",
                           help="also reject accepted keys")
    fp = key_sub.add_parser("fingerprint", parents=[common], help="show key fingerprints")
    fp.add_argument("ids", nargs="*", metavar="ID")
    fp.add_argument("--out", choices=FORMATS, default="nested")
    token = key_sub.add_parser("token", parents=[common],
                               help="join tokens: let minions in without a manual accept")
    token_sub = token.add_subparsers(dest="token_command", required=True, metavar="ACTION")
    create = token_sub.add_parser("create", parents=[common], help="make a token and print it")
    create.add_argument("--ttl", default="1h", help="lifetime: 90, 30m, 1h, 2d (default 1h)")
    create.add_argument("--uses", type=int, help="how many minions may join with it")
    create.add_argument("--match", default="*", help="glob the minion ids must match")
    tlist = token_sub.add_parser("list", parents=[common], help="tokens and what is left")
    tlist.add_argument("--out", choices=FORMATS, default="nested")
    revoke = token_sub.add_parser("revoke", parents=[common], help="delete a token")
    revoke.add_argument("token_id", metavar="ID")

    run = sub.add_parser("run", parents=[common], help="run a function on targeted minions")
    add_run_options(run)
    run.add_argument("target", help="which minions (a glob unless a flag says otherwise)")
    run.add_argument("fun", nargs="?", help="function to run, e.g. test.ping")
    run.add_argument("args", nargs=argparse.REMAINDER, help="arguments and KEY=VALUE pairs")

    jobs = sub.add_parser("jobs", parents=[common], help="read the job cache")
    jobs_sub = jobs.add_subparsers(dest="jobs_command", required=True, metavar="ACTION")
    jl = jobs_sub.add_parser("list", parents=[common], help="recent jobs, newest first")
    jl.add_argument("-n", "--limit", type=int, default=50)
    jl.add_argument("--out", choices=FORMATS, default="nested")
    js = jobs_sub.add_parser("show", parents=[common], help="one job and its returns")
    js.add_argument("jid")
    js.add_argument("--out", choices=FORMATS, default="nested")

    sub.add_parser("demo", parents=[common],
                   help="start a throw-away master and minion and run a job on them")
    imagebuild_args.add_parser(sub, common)
    return parser


def add_run_options(run: argparse.ArgumentParser) -> None:
    """The options of `master run` (also accepted after the function's arguments)."""
    run.add_argument("-t", "--timeout", type=float, help="seconds to wait for returns")
    group = run.add_mutually_exclusive_group()
    for flag, (tgt_type, text) in TARGET_FLAGS.items():
        group.add_argument(flag, dest="tgt_type", action="store_const", const=tgt_type,
                           help=text)
    run.add_argument("--delimiter", default=":", help="nested key separator for -G/-I")
    run.add_argument("--out", choices=FORMATS,
                     help="outputter (default: highstate for state functions, else nested)")
    highstate.add_options(run)
    run.add_argument("--static", action="store_true",
                     help="print all returns together at the end")
    run.add_argument("--async", dest="run_async", action="store_true",
                     help="print the job id and return at once")
    run.add_argument("--preview", action="store_true",
                     help="list the minions the target reaches; run nothing")


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.command == "demo":
            from master.demo import demo

            return demo()
        opts = config.load("master", config.config_dir(getattr(args, "config_dir", None)))
        return dispatch(args, opts)
    except (config.ConfigError, UsageError) as exc:
        print(f"master: error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"master: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


def dispatch(args: argparse.Namespace, opts: dict[str, Any]) -> int:
    if args.command == "start":
        from common import logs
        from common.privileges import owned_dirs, owned_files, switch_user
        from master import server

        switch_user(opts["user"], owned_dirs(opts), owned_files(opts))
        code = lifecycle.before_start(args, opts)  # with -d, the starting command ends here
        if code is not None:
            return code
        logs.setup(args.log_level or opts["log_level"], opts["log_file"], opts["log_format"])
        return server.run(opts)
    if args.command in ("stop", "status"):
        return lifecycle.main(args, opts)
    if args.command == "key":
        from master import keycmd

        return keycmd.main(args, opts)
    if args.command == "run":
        from common.args import late_options
        from master import runcmd

        late = argparse.ArgumentParser(prog="master run", add_help=False, allow_abbrev=False)
        add_run_options(late)
        late_options(late, args)
        return runcmd.main(args, opts)
    if args.command == "image":
        from master import imagebuild

        return imagebuild.main(args, opts)
    from master import jobscmd

    return jobscmd.main(args, opts)


if __name__ == "__main__":
    sys.exit(main())
