"""Talking to the running master over its local socket (used by the CLI)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from common import codec, pidfile
from common.codec import ProtocolError
from common.transport import TransportError
from common.transport.sync import SyncClient


class MasterUnavailable(Exception):
    """The master daemon is not running or did not answer."""


class CommandFailed(Exception):
    """The master answered a local command with an error."""


class LocalClient:
    def __init__(self, opts: dict[str, Any]) -> None:
        path = check_running(Path(opts["sock_dir"]))
        self.client = SyncClient(f"ipc://{path}", int(opts["max_msg_size"]))

    def call(self, cmd: str, timeout: float = 10.0, **fields: Any) -> Any:
        """Run one local command and return its data."""
        try:
            raw = self.client.request(codec.pack({"kind": "cmd", "cmd": cmd, **fields}), timeout)
            reply = codec.unpack(raw, ("result",))
        except TransportError as exc:
            raise MasterUnavailable(f"the master did not answer: {exc}") from None
        except ProtocolError as exc:
            raise MasterUnavailable(f"bad reply from the master: {exc}") from None
        if not reply.get("ok"):
            raise CommandFailed(str(reply.get("error")))
        return reply.get("data")

    def close(self) -> None:
        self.client.close()


def check_running(sock_dir: Path) -> Path:
    """The master's socket path; MasterUnavailable at once if no master is there to answer.

    A pid file naming a process that is gone (a master killed with SIGKILL
    leaves its files) is told at once, instead of after a request timeout.
    """
    path, pid_path = sock_dir / "master.ipc", sock_dir / "master.pid"
    try:
        pid = pidfile.read_pid(pid_path)
        owner = pid_path.stat().st_uid if pid is not None else -1
    except OSError:
        pid = None  # unreadable: the socket's own permissions will tell
    if pid is not None and not pidfile.running(pid):
        raise MasterUnavailable(f"the master is not running (no process {pid})")
    if pid is not None and pidfile.not_the_daemon(pid, "master", owner, unknown_ok=True):
        # The killed master's pid now belongs to another program.
        raise MasterUnavailable(f"the master is not running (process {pid} is not a master)")
    if not path.exists():
        raise MasterUnavailable(f"the master is not running (no socket at {path})")
    return path


def try_notify(opts: dict[str, Any], cmd: str, **fields: Any) -> bool:
    """Tell a running master something; False (quietly) if none is running."""
    try:
        client = LocalClient(opts)
    except MasterUnavailable:
        return False
    try:
        client.call(cmd, timeout=3.0, **fields)
        return True
    except (MasterUnavailable, CommandFailed):
        return False
    finally:
        client.close()
