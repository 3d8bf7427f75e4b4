"""`minion start -d [--wait-connected]`, `minion stop` and `minion status`.

``start -d`` returns 0 once the minion runs (or prints its first error and
returns 1); with ``--wait-connected`` it returns once the master has
accepted the minion, or says why not (key pending, no answer) and exits 1,
the minion going on trying in the background. Both read the status file
the minion keeps (:mod:`minion.statusfile`).
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

from common import daemon, pidfile
from minion import statusfile

WAIT_CONNECTED = 30.0


def add_parsers(sub: Any, start: argparse.ArgumentParser,
                common: argparse.ArgumentParser) -> None:
    """`start -d --wait-connected`, and the `stop` and `status` commands."""
    start.add_argument("-d", "--daemon", action="store_true",
                       help="run in the background: return once the minion runs, or print "
                            "its first error and exit 1; it then logs to log_file only")
    start.add_argument("--wait-connected", nargs="?", type=float, const=WAIT_CONNECTED,
                       metavar="SECONDS",
                       help="with -d: return only once the master has accepted this minion; "
                            f"exit 1 if not within SECONDS (default {WAIT_CONNECTED:g})")
    sub.add_parser("stop", parents=[common],
                   help="stop the running minion (SIGTERM) and wait until it has exited",
                   description="Stop the minion whose pid is in sock_dir/minion.pid: "
                               "SIGTERM, then wait up to 10 s. Exit 1 if it is not running.")
    status = sub.add_parser("status", parents=[common],
                            help="whether the minion is running, and whether the master "
                                 "accepted it")
    status.add_argument("--wait-connected", nargs="?", type=float, const=WAIT_CONNECTED,
                        metavar="SECONDS",
                        help="wait until the master has accepted the running minion; exit 1 "
                             f"if not within SECONDS (default {WAIT_CONNECTED:g})")


def before_start(args: argparse.Namespace, opts: dict[str, Any]) -> int | None:
    """Refuse a second minion; with `-d`, go to the background.

    Returns the exit code if this command ends here (refused, or started in
    the background), None in the process that goes on to run the minion.
    """
    wait = getattr(args, "wait_connected", None)
    if wait is not None and not getattr(args, "daemon", False):
        print("minion: error: start: --wait-connected needs -d", file=sys.stderr)
        return 2
    if daemon.refuse_second("minion", statusfile.pid_path(opts)):
        return 1
    start = daemon.background(getattr(args, "daemon", False))
    if start is None:
        return None
    code = daemon.report("minion", start, opts["log_file"])
    if code or wait is None or start.pid is None:
        return code
    return wait_connected(opts, start.pid, wait)


def wait_connected(opts: dict[str, Any], pid: int, seconds: float) -> int:
    """Wait until the minion `pid` is accepted by the master: 0, or 1 with why not."""
    deadline = time.monotonic() + seconds
    status = None
    while time.monotonic() < deadline:
        if not pidfile.running(pid):
            print(f"minion: error: {opts['id']}: the minion exited{_see(opts)}",
                  file=sys.stderr)
            return 1
        record = statusfile.read(statusfile.status_path(opts)) or {}
        if record.get("pid") == pid:
            status = record.get("status")
            if status == "accepted":
                print(f"{opts['id']}: {describe(opts, status)}")
                return 0
        time.sleep(0.1)
    print(f"minion: error: {why_not(opts, status, seconds)} "
          "(the minion keeps trying in the background)", file=sys.stderr)
    return 1


def describe(opts: dict[str, Any], status: Any) -> str:
    """Where authentication stands, in words."""
    master = statusfile.master_address(opts)
    return {
        "accepted": f"accepted by the master at {master}",
        "pending": f"key pending on the master at {master}",
        "rejected": f"key rejected by the master at {master}",
        "denied": f"key denied by the master at {master} (it holds another key for this id)",
        "reauth": f"authenticating again with the master at {master}",
    }.get(str(status), f"no answer yet from the master at {master}")


def why_not(opts: dict[str, Any], status: Any, seconds: float) -> str:
    """The line `--wait-connected` ends with when the minion was not accepted in time."""
    mid = opts["id"]
    if status == "pending":
        return f"{mid}: key is pending on the master; accept it with `master key accept {mid}`"
    if status == "rejected":
        return (f"{mid}: key is rejected on the master; accept it with "
                f"`master key accept --include-rejected {mid}`")
    if status == "denied":
        return (f"{mid}: the master holds another key for {mid}; if this minion is the "
                f"real one, `master key delete {mid}` there")
    return (f"{mid}: no answer from the master at {statusfile.master_address(opts)} "
            f"within {seconds:g} s{_see(opts)}")


def _see(opts: dict[str, Any]) -> str:
    return f"; see {opts['log_file']}" if opts.get("log_file") else ""


def main(args: argparse.Namespace, opts: dict[str, Any]) -> int:
    """`minion stop` and `minion status [--wait-connected]`."""
    path = statusfile.pid_path(opts)
    if args.command == "stop":
        return daemon.stop_command("minion", path)
    pid = pidfile.read_pid(path)
    if pid is None or not pidfile.running(pid):
        why = f"no process {pid}" if pid is not None else f"no pid file at {path}"
        print(f"minion: the minion is not running ({why})", file=sys.stderr)
        return 1
    if args.wait_connected is not None:
        return wait_connected(opts, pid, args.wait_connected)
    record = statusfile.read(statusfile.status_path(opts)) or {}
    status = record.get("status") if record.get("pid") == pid else None
    print(f"{opts['id']}: running (pid {pid}), {describe(opts, status)}")
    return 0

