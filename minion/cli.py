"""The `minion` command: start the daemon, call a function locally, show keys."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import Any

from common import config, highstate
from common.clihelp import Parser, VersionAction
from common.completion import SHELLS
from common.output import FORMATS
from minion import lifecycle

# Positionals whose words the completion script asks `minion completion KIND` for.
COMPLETE_FROM = {("call", "fun"): "functions"}


def build_parser() -> argparse.ArgumentParser:
    common = Parser(add_help=False)
    common.add_argument("-c", "--config-dir", default=argparse.SUPPRESS, metavar="DIR",
                        help="config dir holding the `minion` file "
                             "(default: $SALINE_CONFIG_DIR, else /etc/saline)")
    parser = Parser(prog="minion", parents=[common], epilog=EPILOG,
                    description="saline minion: the daemon and local calls.\n"
                                "`minion COMMAND --help` tells more about each command.")
    parser.add_argument("--version", action=VersionAction)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    start = sub.add_parser("start", parents=[common], help="run the minion in the foreground",
                           description="Run the minion. Without a config file it starts "
                                       "on the defaults:\nmaster `salt` (a host name, as in "
                                       "Salt), port 4506, id the host name.")
    start.add_argument("-l", "--log-level", choices=config.LOG_LEVELS,
                       metavar="LEVEL", help="log level, in place of the config's log_level: "
                                             + ", ".join(config.LOG_LEVELS))
    lifecycle.add_parsers(sub, start, common)
    call = sub.add_parser("call", parents=[common], help="run one function here and print it",
                          description=CALL_HELP)
    add_call_options(call)
    call.add_argument("fun", metavar="FUN",
                      help="the function to run, as module.function (e.g. test.ping, "
                           "state.apply); `minion call sys.list_functions` lists them")
    call.add_argument("args", nargs=argparse.REMAINDER, metavar="ARG",
                      help="its arguments: values and KEY=VALUE pairs, read as YAML "
                           "(3 is a number, true a boolean, '[1, 2]' a list)")
    key = sub.add_parser("key", parents=[common], help="this minion's keys")
    key.add_argument("key_command", choices=["fingerprint"], metavar="fingerprint",
                     help="show this minion's key fingerprint and its pinned master's")
    comp = sub.add_parser("completion", parents=[common], help="shell completion script",
                          description=COMPLETION_HELP)
    comp.add_argument("shell", choices=[*SHELLS, "functions"], metavar="SHELL",
                      help="bash or zsh (or functions: the names the script completes)")
    return parser


EPILOG = """\
examples:
  minion start -l warning            run the minion; the config's master must be reachable
  minion call test.ping              run one function here, with pillar from the master
  minion call --local state.apply web test=True

exit codes: 0 success; 1 the function failed or the master could not be
reached; 2 bad usage or a bad config file."""

CALL_HELP = """\
Run one function on this host and print its return, like salt-call: pillar and
salt:// files come from the master (the minion's key must be accepted), or
with --local (or `file_client: local`) from this host's file_roots and
pillar_roots.

examples:
  minion call test.ping
  minion call cmd.run 'uname -a'
  minion call pkg.install nginx refresh=true
  minion call --local state.apply web test=True --out json"""

COMPLETION_HELP = """\
Print a completion script for bash or zsh (function names after `minion call`).

  bash:  source <(minion completion bash)     (in ~/.bashrc)
  zsh:   eval "$(minion completion zsh)"      (in ~/.zshrc, after compinit)"""


def add_call_options(call: argparse.ArgumentParser) -> None:
    """Options of `minion call` (also accepted after the function's arguments)."""
    call.add_argument("--local", action="store_true",
                      help="masterless: this host's file_roots and pillar_roots")
    call.add_argument("--out", choices=FORMATS,
                      help="output format (default: highstate for state functions, else nested)")
    highstate.add_options(call)
    call.add_argument("-l", "--log-level", default="warning", choices=config.LOG_LEVELS,
                      metavar="LEVEL", help="log level of the call, on stderr: "
                                            + ", ".join(config.LOG_LEVELS))


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    cdir = config.config_dir(getattr(args, "config_dir", None))
    try:
        if args.command == "completion":
            return completion(args, cdir)
        # Like Salt, the daemon starts on its defaults without a config file
        # (and `stop` and `status` find it the same way).
        no_file = args.command in ("start", "stop", "status") and not (cdir / "minion").exists()
        opts = config.load("minion", cdir, missing_ok=no_file)
        from common.ids import InvalidId, check_minion_id

        try:
            check_minion_id(opts["id"])
        except InvalidId as exc:
            raise config.ConfigError(f"{opts['conf_file']}: id: {exc}") from None
        if no_file:
            opts["_no_config_file"] = True
        return dispatch(args, opts, cdir)
    except config.ConfigError as exc:
        print(f"minion: error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"minion: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


def completion(args: argparse.Namespace, cdir: Path) -> int:
    """`minion completion bash|zsh` prints the script; `functions` the names it completes."""
    if args.shell in SHELLS:
        from common import completion as scripts

        print(scripts.script(build_parser(), args.shell, COMPLETE_FROM), end="")
        return 0
    from minion import complete

    try:
        opts = config.load("minion", cdir, missing_ok=True)
    except (config.ConfigError, OSError):
        opts = {}  # the built-in modules still complete
    print("\n".join(complete.functions(opts)))
    return 0


def defaults_note(opts: dict[str, Any]) -> str:
    """The log line for a minion started without a config file."""
    return (f"no config file at {opts['conf_file']}: running on the defaults "
            f"(master {opts['master']!r} (Salt's default host name) on port "
            f"{opts['master_port']}, id {opts['id']!r}, root_dir {opts['root_dir']})")


def build_context(opts: dict[str, Any], cdir: Path) -> Any:
    """Grains, functions and the context that jobs on this minion share."""
    from minion.context import Context
    from minion.grains.core import compute_grains
    from minion.loader import Registry

    try:
        grains = compute_grains(opts, str(cdir))
    except ValueError as exc:
        raise config.ConfigError(str(exc)) from None
    return Context(opts, grains, {}, Registry.load(opts, grains))


def _call_local(opts: dict[str, Any], ctx: Any, fun: str, arg: list[Any],
                kwarg: dict[str, Any]) -> dict[str, Any]:
    """Masterless: files and pillar from this minion's own roots."""
    from minion.executor import execute
    from minion.fileclient import LocalFileClient

    ctx.files = LocalFileClient(opts["file_roots"])
    # No top file, no pillar: skip loading the template engine at all.
    if any(Path(d, "top.sls").is_file() for dirs in opts["pillar_roots"].values() for d in dirs):
        from common.pillar import PillarCompiler
        from minion.states.jinjactx import SaltFunctions

        compiler = PillarCompiler(opts["pillar_roots"], opts, SaltFunctions(ctx))
        ctx.pillar = compiler.compile(opts["id"], ctx.grains)
    for error in ctx.pillar.get("_errors", []):
        print(f"minion: pillar error: {error}", file=sys.stderr)
    result: dict[str, Any] = execute(ctx.for_job(None), fun, arg, kwarg)
    return result


def _call_with_master(opts: dict[str, Any], ctx: Any, fun: str, arg: list[Any],
                      kwarg: dict[str, Any]) -> dict[str, Any] | None:
    """Like salt-call: pillar and salt:// files from the master, the function here."""
    from minion import oneshot
    from minion.executor import execute

    try:
        session, loop = oneshot.with_master(opts, ctx)
    except oneshot.SessionError as exc:
        print(f"minion: {exc}", file=sys.stderr)
        return None
    try:
        result: dict[str, Any] = execute(ctx.for_job(None), fun, arg, kwarg)
        return result
    finally:
        oneshot.close(session, loop)


def dispatch(args: argparse.Namespace, opts: dict[str, Any], cdir: Path) -> int:
    from common import logs

    if args.command == "start":
        from common.privileges import owned_dirs, owned_files, switch_user
        from minion import fleet, statusfile

        switch_user(opts["user"], owned_dirs(opts), owned_files(opts))
        code = lifecycle.before_start(args, opts)  # with -d, the starting command ends here
        if code is not None:
            return code
        logs.setup(args.log_level or opts["log_level"], opts["log_file"], opts["log_format"],
                   minion_id=opts["id"])
        if opts.pop("_no_config_file", False):
            logging.getLogger("minion").warning("%s", defaults_note(opts))
        if not statusfile.hold(opts):
            return 1
        # The config dir as an absolute path: a daemon runs in /.
        return fleet.run(opts, build_context(opts, Path(opts["config_dir"])))
    if args.command in ("stop", "status"):
        return lifecycle.main(args, opts)
    if args.command == "call":
        from common import output
        from common.args import late_options, split_args

        late = argparse.ArgumentParser(prog="minion call", add_help=False, allow_abbrev=False)
        add_call_options(late)
        late_options(late, args)
        logs.setup(args.log_level)
        ctx = build_context(opts, cdir)
        arg, kwarg = split_args(args.args)
        if args.local or opts["file_client"] == "local":
            ret: dict[str, Any] | None = _call_local(opts, ctx, args.fun, arg, kwarg)
        else:
            ret = _call_with_master(opts, ctx, args.fun, arg, kwarg)
        if ret is None:
            return 1
        fmt = args.out or output.default_format(args.fun)
        output.emit({"local": ret["return"]}, fmt, ok=ret["success"],
                    state_output=args.state_output, state_verbose=args.state_verbose,
                    ordered=output.keeps_order(args.fun))
        return 0 if ret["success"] else 1
    from common.crypto import KeyPair
    from minion.masterkey import MasterPin

    pki = Path(opts["pki_dir"])
    print(f"Local Keys:\nminion.pub: {KeyPair.load_or_create(pki, 'minion').public.fingerprint()}")
    pinned = MasterPin(pki, None).pinned
    if pinned is not None:
        print(f"Master Key:\nmaster.pub: {pinned.fingerprint()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
