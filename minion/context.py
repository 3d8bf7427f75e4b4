"""The typed context every execution function receives as its first argument.

Functions never reach for globals: configuration, grains, pillar, other
functions and the command runner all come through ``ctx``. Tests build a
``Context`` with a fake runner and plain dicts.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Protocol

from minion.runner import CommandResult, CommandRunner, SubprocessRunner

if TYPE_CHECKING:
    from minion.fileclient import FileClient
    from minion.loader import Registry


class AgentServices(Protocol):
    """What a running minion daemon offers to functions (saltutil.*)."""

    def refresh_pillar(self) -> dict[str, Any]: ...
    def refresh_grains(self) -> dict[str, Any]: ...
    def reload_modules(self) -> list[str]: ...
    def running(self) -> list[dict[str, Any]]: ...
    def kill_job(self, jid: str) -> bool: ...


@dataclasses.dataclass
class Context:
    """What one job (or one `minion call`) sees of its minion."""

    opts: Mapping[str, Any]
    grains: dict[str, Any]
    pillar: dict[str, Any]
    registry: Registry
    runner: CommandRunner = dataclasses.field(default_factory=SubprocessRunner)
    jid: str | None = None
    # State runs in test mode: change nothing, report what would change.
    test: bool = False
    # A function sets this to report failure while still returning data
    # (cmd.run of a failing command returns its output and a non-zero code).
    retcode: int = 0
    # Called with new grains when a function changes them (grains.setval).
    on_grains_changed: Callable[[dict[str, Any]], None] | None = None
    # Where salt:// files come from (the master, or local roots).
    files: FileClient | None = None
    # The running daemon, when there is one (not for `minion call`).
    agent: AgentServices | None = None

    def fileclient(self) -> FileClient:
        """The file client, or a clear error when this context has none."""
        if self.files is None:
            raise RuntimeError("no file server here: use `minion call --local` or the master")
        return self.files

    def call(self, fun: str, *args: Any, **kwargs: Any) -> Any:
        """Call another execution function, e.g. ``ctx.call("cmd.run", "id")``."""
        return self.registry.call(self, fun, args, kwargs)

    def run(self, cmd: str | list[str], **kwargs: Any) -> CommandResult:
        """Run a command through this context's runner (see `CommandRunner.run`)."""
        return self.runner.run(cmd, **kwargs)

    def for_job(self, jid: str | None) -> Context:
        """A fresh context for one job, sharing config, grains and functions."""
        return dataclasses.replace(self, jid=jid, retcode=0, test=False)
