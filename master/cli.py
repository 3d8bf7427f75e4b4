"""The `master` command: start the daemon, manage keys, run jobs, read jobs.

Exit codes: 0 success; 1 a function failed, a minion did not return, or the
master could not be reached; 2 bad usage or a bad config file.
"""

from __future__ import annotations

import argparse
import logging
import sys
from typing import Any

from common import config, highstate
from common.clihelp import Parser, VersionAction
from common.completion import SHELLS
from common.output import FORMATS
from master import clustercmd, eventscmd, imagebuild_args, jobs_args, lifecycle
from master.complete import KINDS

# Positionals whose words the completion script asks `master completion KIND` for.
COMPLETE_FROM = {("run", "target"): "minions", ("run", "fun"): "functions",
                 ("key accept", "ids"): "minions", ("key reject", "ids"): "minions",
                 ("key delete", "ids"): "minions", ("key fingerprint", "ids"): "minions",
                 ("key token revoke", "token_id"): "tokens", ("jobs show", "jid"): "jids",
                 ("jobs report", "jid"): "jids"}

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
    common = Parser(add_help=False)
    common.add_argument("-c", "--config-dir", default=argparse.SUPPRESS, metavar="DIR",
                        help="config dir holding the `master` file "
                             "(default: $SALINE_CONFIG_DIR, else /etc/saline)")
    parser = Parser(prog="master", parents=[common], epilog=EPILOG,
                    description="saline master: keys, jobs and the daemon.\n"
                                "`master COMMAND --help` tells more about each command.")
    parser.add_argument("--version", action=VersionAction)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    start = sub.add_parser("start", parents=[common], help="run the master in the foreground",
                           description="Run the master. Without a config file it starts "
                                       "on the defaults,\nwith root_dir the config dir.")
    start.add_argument("-l", "--log-level", choices=config.LOG_LEVELS,
                       metavar="LEVEL", help="log level, in place of the config's log_level: "
                                             + ", ".join(config.LOG_LEVELS))
    lifecycle.add_parsers(sub, start, common)
    add_key_parser(sub, common)
    add_run_parser(sub, common)
    add_jobs_parser(sub, common)
    clustercmd.add_parsers(sub, common)
    from master.ssh import args as ssh_args

    ssh_args.add_parser(sub, common, TARGET_FLAGS)
    from master import bootstrapcmd

    bootstrapcmd.add_parser(sub, common, TARGET_FLAGS)
    eventscmd.add_parser(sub, common)
    sub.add_parser("demo", parents=[common],
                   help="start a throw-away master and minion and run a job on them")
    imagebuild_args.add_parser(sub, common)
    comp = sub.add_parser("completion", parents=[common], help="shell completion script",
                          description=COMPLETION_HELP)
    comp.add_argument("shell", choices=[*SHELLS, *KINDS], metavar="SHELL",
                      help="bash or zsh (or a word list the script asks for: "
                           f"{', '.join(KINDS)})")
    return parser


EPILOG = """\
examples:
  master key list --wait 10          wait for a minion key to come in, then list keys
  master key accept --all -y         accept every pending key
  master run '*' test.ping           ping every accepted minion
  master run -G os:Debian pkg.version nginx --out json

exit codes: 0 success; 1 a function failed, a minion did not return or the
master is not running; 2 bad usage or a bad config file."""

COMPLETION_HELP = """\
Print a completion script for bash or zsh. Function names after `master run
TARGET` come from the minions' answers to `sys.list_functions` in the job
cache: run `master run '*' sys.list_functions` once to fill it.

  bash:  source <(master completion bash)     (in ~/.bashrc)
  zsh:   eval "$(master completion zsh)"      (in ~/.zshrc, after compinit)"""


def add_key_parser(sub: Any, common: argparse.ArgumentParser) -> None:
    """`master key list|accept|reject|delete|fingerprint|token`."""
    key = sub.add_parser("key", parents=[common], help="list, accept, reject, delete minion keys",
                         description="Minion keys: a new minion's key is pending until it "
                                     "is accepted.\nWorks on the key files, also while the "
                                     "master is stopped.")
    key_sub = key.add_subparsers(dest="key_command", required=True, metavar="ACTION")
    klist = key_sub.add_parser("list", parents=[common], help="list keys by state")
    klist.add_argument("--out", choices=FORMATS, default="nested", help="output format")
    klist.add_argument("--wait", type=float, metavar="SECONDS",
                       help="first wait up to SECONDS for a pending key (with --wait-for: "
                            "for those ids); exit 1 if none came (default: do not wait)")
    klist.add_argument("--wait-for", metavar="ID[,ID]",
                       help="first wait until these minion ids have a key in any state "
                            "(up to --wait SECONDS, default 30)")
    for action, text in (("accept", "accept pending keys"), ("reject", "reject pending keys"),
                         ("delete", "delete keys in any state")):
        p = key_sub.add_parser(action, parents=[common], help=text)
        p.add_argument("ids", nargs="*", metavar="ID",
                       help="minion ids; globs allowed (quote them: 'web*')")
        p.add_argument("-A", "--all", action="store_true",
                       help="every pending key" if action != "delete" else "every key")
        p.add_argument("-y", "--yes", action="store_true", help="do not ask for confirmation")
        if action == "accept":
            p.add_argument("--include-rejected", action="store_true",
                           help="also accept rejected keys")
        if action == "reject":
            p.add_argument("--include-accepted", action="store_true",
                           help="also reject accepted keys")
    fp = key_sub.add_parser("fingerprint", parents=[common],
                            help="show the master's and minions' key fingerprints")
    fp.add_argument("ids", nargs="*", metavar="ID",
                    help="minion ids or globs (default: every key); exit 1 if one has no key")
    fp.add_argument("--out", choices=FORMATS, default="nested", help="output format")
    add_token_parser(key_sub, common)


def add_token_parser(key_sub: Any, common: argparse.ArgumentParser) -> None:
    """`master key token create|list|revoke`."""
    token = key_sub.add_parser("token", parents=[common],
                               help="join tokens: let minions in without a manual accept",
                               description="A minion with `join_token: TOKEN` in its "
                                           "config (or SALINE_JOIN_TOKEN) is accepted\nat once, "
                                           "within the token's lifetime, uses and id glob.")
    token_sub = token.add_subparsers(dest="token_command", required=True, metavar="ACTION")
    create = token_sub.add_parser("create", parents=[common],
                                  help="make a token; prints it on stdout, its id on stderr")
    create.add_argument("--ttl", default="1h",
                        help="lifetime: seconds, or a number with s, m, h, d or w (e.g. 30m)")
    create.add_argument("--uses", type=int,
                        help="how many minions may join with it (default: any number)")
    create.add_argument("--match", default="*", metavar="GLOB",
                        help="glob the minion ids must match")
    tlist = token_sub.add_parser("list", parents=[common],
                                 help="tokens, when they expire and what is left of them")
    tlist.add_argument("--out", choices=FORMATS, default="nested", help="output format")
    revoke = token_sub.add_parser("revoke", parents=[common], help="delete a token")
    revoke.add_argument("token_id", metavar="ID",
                        help="the token id (the token's text up to its first dot, "
                             "as `key token list` shows it)")


def add_run_parser(sub: Any, common: argparse.ArgumentParser) -> None:
    """`master run`."""
    run = sub.add_parser("run", parents=[common], help="run a function on targeted minions",
                         epilog=RUN_EPILOG)
    add_run_options(run)
    run.add_argument("target", help="which minions: a glob of ids unless a flag says otherwise")
    run.add_argument("fun", nargs="?",
                     help="the function to run, as module.function (e.g. test.ping)")
    run.add_argument("args", nargs=argparse.REMAINDER, metavar="ARG",
                     help="its arguments: values and KEY=VALUE pairs, read as YAML "
                          "(3 is a number, true a boolean)")


RUN_EPILOG = """\
examples:
  master run '*' test.ping
  master run 'web*' cmd.run 'uname -a'
  master run -L m1,m2 state.apply web test=True
  master run -C 'G@os:Debian and not m3' grains.item os --out json

Options may also follow the function's arguments; `--` ends them."""


def add_jobs_parser(sub: Any, common: argparse.ArgumentParser) -> None:
    """`master jobs list|show|report|stats` (options in master.jobs_args)."""
    jobs_args.add_parser(sub, common)


def add_run_options(run: argparse.ArgumentParser) -> None:
    """The options of `master run` (also accepted after the function's arguments)."""
    run.add_argument("-t", "--timeout", type=float, metavar="SECONDS",
                     help="seconds to wait for returns (default: the config's timeout, 5)")
    group = run.add_mutually_exclusive_group()
    for flag, (tgt_type, text) in TARGET_FLAGS.items():
        group.add_argument(flag, dest="tgt_type", action="store_const", const=tgt_type,
                           help=text)
    run.add_argument("--delimiter", default=":",
                     help="separator of nested keys for -G, -P, -I and -J")
    run.add_argument("--out", choices=FORMATS,
                     help="output format (default: highstate for state functions, else nested)")
    highstate.add_options(run)
    run.add_argument("--static", action="store_true",
                     help="print all returns together at the end (one document for "
                          "--out json)")
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
        if args.command == "completion":
            return completion(args)
        cdir = config.config_dir(getattr(args, "config_dir", None))
        # Like Salt, the daemon starts on its defaults without a config file
        # (and `stop` and `status` find it the same way).
        no_file = (args.command in ("start", "stop", "status", "ssh", "bootstrap")
                   and not (cdir / "master").exists())
        opts = config.load("master", cdir, missing_ok=no_file)
        if no_file:
            opts["_no_config_file"] = True
        return dispatch(args, opts)
    except (config.ConfigError, UsageError) as exc:
        print(f"master: error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"master: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


def completion(args: argparse.Namespace) -> int:
    """`master completion bash|zsh` prints the script; a word kind prints its words."""
    from common import completion as scripts

    if args.shell in SHELLS:
        print(scripts.script(build_parser(), args.shell, COMPLETE_FROM), end="")
        return 0
    from master import complete

    try:
        opts = config.load("master", config.config_dir(getattr(args, "config_dir", None)),
                           missing_ok=True)
    except (config.ConfigError, OSError):
        return 1  # the shell shows nothing; an error line would garble the command line
    print("\n".join(complete.words(args.shell, opts)))
    return 0


def defaults_note(opts: dict[str, Any]) -> str:
    """The log line for a master started without a config file."""
    return (f"no config file at {opts['conf_file']}: running on the defaults "
            f"(interface {opts['interface']}, port {opts['ret_port']}, "
            f"root_dir {opts['root_dir']})")


def dispatch(args: argparse.Namespace, opts: dict[str, Any]) -> int:
    if args.command == "start":
        from common import logs
        from common.privileges import owned_dirs, owned_files, switch_user
        from master import metrics, server

        metrics.check_available(opts)  # before -d: the starting command says it (exit 2)
        why = clustercmd.check_start(opts)
        if why:  # the cluster store unreachable: one line, exit 2, also before -d
            print(f"master: error: cannot start: {why}", file=sys.stderr)
            return 2
        switch_user(opts["user"], owned_dirs(opts), owned_files(opts))
        code = lifecycle.before_start(args, opts)  # with -d, the starting command ends here
        if code is not None:
            return code
        logs.setup(args.log_level or opts["log_level"], opts["log_file"], opts["log_format"])
        if opts.pop("_no_config_file", False):
            logging.getLogger("master").warning("%s", defaults_note(opts))
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
    if args.command == "events":
        return eventscmd.main(args, opts)
    if args.command in ("store", "cluster"):
        return clustercmd.main(args, opts)
    if args.command == "ssh":
        from common.args import late_options
        from master.ssh import args as ssh_args
        from master.ssh import cmd as sshcmd

        late = argparse.ArgumentParser(prog="master ssh", add_help=False, allow_abbrev=False)
        ssh_args.add_options(late, TARGET_FLAGS)
        late_options(late, args)
        return sshcmd.main(args, opts)
    if args.command == "bootstrap":
        from master import bootstrapcmd

        return bootstrapcmd.main(args, opts)
    if args.command == "image":
        from master import imagebuild

        return imagebuild.main(args, opts)
    from master import jobscmd

    return jobscmd.main(args, opts)


if __name__ == "__main__":
    sys.exit(main())
