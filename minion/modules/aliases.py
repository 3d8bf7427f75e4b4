"""Mail aliases in /etc/aliases, like Salt's ``aliases`` module.

The file is the minion option ``aliases.file`` (default ``/etc/aliases``).
Comments and other lines are kept; after a change ``newaliases`` is run
when it is installed, so the mail server sees the new table.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path
from typing import Any

from common.atomic import write_atomic
from minion.context import Context

__all__ = ["get_target", "has_target", "list_aliases", "rm_alias", "set_target"]

_LINE = re.compile(r"([^:#]*)\s*:?\s*([^#]*?)(\s+#.*|$)")
Line = tuple[str | None, str | None, str]


class AliasError(ValueError):
    """An empty alias or target (Salt refuses them)."""


def _path(ctx: Context) -> str:
    return os.path.realpath(str(ctx.opts.get("aliases.file", "/etc/aliases")))


def parse(text: str) -> list[Line]:
    """``(alias, target, trailing comment)`` per line; other lines as ``(None, None, line)``."""
    out: list[Line] = []
    for line in text.splitlines():
        match = _LINE.match(line)
        if match and match.group(1):
            out.append((match.group(1), match.group(2), match.group(3)))
        else:
            out.append((None, None, line.strip()))
    return out


def render(lines: list[Line]) -> str:
    return "".join(f"{alias}: {target}{comment}\n" if alias and target else f"{comment}\n"
                   for alias, target, comment in lines)


def _read(ctx: Context) -> list[Line]:
    path = Path(_path(ctx))
    return parse(path.read_text()) if path.is_file() else []


def _write(ctx: Context, lines: list[Line]) -> None:
    write_atomic(_path(ctx), render(lines).encode(), 0o644)
    newaliases = shutil.which("newaliases")
    if newaliases:
        ctx.run([newaliases])


def _target_text(target: Any) -> str:
    return ", ".join(target) if isinstance(target, list) else str(target)


def list_aliases(ctx: Context) -> dict[str, str]:
    """Return every alias and its target.

    CLI Example:

        master run '*' aliases.list_aliases
    """
    return {alias: target or "" for alias, target, _ in _read(ctx) if alias}


def get_target(ctx: Context, alias: str) -> str:
    """Return an alias's target ('' when there is no such alias).

    CLI Example:

        master run '*' aliases.get_target root
    """
    return list_aliases(ctx).get(alias, "")


def has_target(ctx: Context, alias: str, target: Any) -> bool:
    """Tell whether an alias points at `target` (a list means ``a, b``).

    CLI Example:

        master run '*' aliases.has_target root admin@example.com
    """
    if target == "":
        raise AliasError("target can not be an empty string")
    found = list_aliases(ctx)
    return alias in found and _target_text(target) == found[alias]


def set_target(ctx: Context, alias: str, target: Any) -> bool:
    """Point an alias at `target`, replacing its first line or adding one.

    CLI Example:

        master run '*' aliases.set_target root admin@example.com
    """
    if alias == "":
        raise AliasError("alias can not be an empty string")
    if target == "":
        raise AliasError("target can not be an empty string")
    if ":" in alias or "\n" in alias or "\n" in _target_text(target):
        raise AliasError(f"invalid alias or target: {alias!r}")
    if get_target(ctx, alias) == target:
        return True
    out: list[Line] = []
    done = False
    for line in _read(ctx):
        if line[0] != alias:
            out.append(line)
        elif not done:
            out.append((alias, _target_text(target), line[2]))
            done = True
    if not done:
        out.append((alias, _target_text(target), ""))
    _write(ctx, out)
    return True


def rm_alias(ctx: Context, alias: str) -> bool:
    """Remove an alias (every line of it).

    CLI Example:

        master run '*' aliases.rm_alias oldlist
    """
    if not get_target(ctx, alias):
        return True
    _write(ctx, [line for line in _read(ctx) if line[0] != alias])
    return True
