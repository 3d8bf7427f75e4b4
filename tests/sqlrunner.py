"""A fake command runner for database clients: answers by the SQL read on stdin."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

from minion.runner import CommandResult


@dataclasses.dataclass
class SqlRunner:
    """Answers a client (psql, mariadb) by the SQL it reads on stdin: the first answer
    whose needle the SQL contains, else `miss`. Records argv, env, SQL and runas."""

    answers: list[tuple[str, CommandResult]]
    miss: CommandResult = dataclasses.field(
        default_factory=lambda: CommandResult("", "ERROR: unexpected", 3))
    calls: list[dict[str, Any]] = dataclasses.field(default_factory=list)

    def run(self, cmd: str | Sequence[str], *, shell: bool | str = False, cwd: str | None = None,
            env: Mapping[str, str] | None = None, stdin: str | None = None,
            timeout: float | None = None, runas: str | None = None) -> CommandResult:
        self.calls.append({"argv": list(cmd), "env": dict(env or {}), "sql": stdin,
                           "runas": runas})
        for needle, answer in self.answers:
            if needle in (stdin or ""):
                return answer
        return self.miss

    def sql(self) -> list[str]:
        """The SQL of every call, in order."""
        return [str(c["sql"]) for c in self.calls]
