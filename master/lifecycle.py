"""`master start -d`, `master stop` and `master status`: the daemon's life from the shell.

``start -d`` returns 0 once the master's local socket answers, or prints
the daemon's first error and returns 1 if it died while starting. ``stop``
sends SIGTERM to the pid in ``sock_dir/master.pid`` (only if that process
is a master of the pid file's user) and waits until it has exited.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from common import daemon, pidfile

ANSWER_TIMEOUT = 5.0


def add_parsers(sub: Any, start: argparse.ArgumentParser,
                common: argparse.ArgumentParser) -> None:
    """`start -d`, and the `stop` and `status` commands."""
    start.add_argument("-d", "--daemon", action="store_true",
                       help="run in the background: return once the master answers, or "
                            "print its first error and exit 1; it then logs to log_file only")
    sub.add_parser("stop", parents=[common],
                   help="stop the running master (SIGTERM) and wait until it has exited",
                   description="Stop the master whose pid is in sock_dir/master.pid: "
                               "SIGTERM, then wait up to 10 s. Exit 1 if it is not running.")
    sub.add_parser("status", parents=[common],
                   help="whether the master is running, and how many minions are connected")


def before_start(args: argparse.Namespace, opts: dict[str, Any]) -> int | None:
    """Refuse a second master; with `-d`, go to the background.

    Returns the exit code if this command ends here (refused, or started in
    the background), None in the process that goes on to run the master.
    """
    if daemon.refuse_second("master", Path(opts["sock_dir"], "master.pid")):
        return 1
    start = daemon.background(getattr(args, "daemon", False))
    if start is None:
        return None
    if start.outcome == "ready":
        data, problem = _status(opts)
        if data is None:
            print(f"master: error: started (pid {start.pid}), but {problem}", file=sys.stderr)
            return 1
    return daemon.report("master", start, opts["log_file"])


def main(args: argparse.Namespace, opts: dict[str, Any]) -> int:
    """`master stop` and `master status`."""
    if args.command == "stop":
        return daemon.stop_command("master", Path(opts["sock_dir"], "master.pid"))
    data, problem = _status(opts)
    if data is None:
        print(f"master: {problem}", file=sys.stderr)
        return 1
    pid = pidfile.read_pid(Path(opts["sock_dir"], "master.pid"))
    connected = len(data.get("connected") or [])
    print(f"master running (pid {pid}), {connected} minion{'s' * (connected != 1)} connected")
    return 0


def _status(opts: dict[str, Any]) -> tuple[dict[str, Any] | None, str]:
    """The master's answer to `status`, or None and why there is none."""
    from master.localclient import CommandFailed, LocalClient, MasterUnavailable

    try:
        client = LocalClient(opts)
    except MasterUnavailable as exc:
        return None, str(exc)
    try:
        data = client.call("status", timeout=ANSWER_TIMEOUT)
    except (MasterUnavailable, CommandFailed) as exc:
        return None, str(exc)
    finally:
        client.close()
    return (data if isinstance(data, dict) else {}), ""
