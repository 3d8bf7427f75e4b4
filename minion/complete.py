"""The function names `minion completion functions` prints for the shell.

Read from the source of the built-in modules (their ``__all__``) and of the
synced ones in ``cachedir/extmods/modules``, without importing any: completion
must answer at once, and importing every module takes seconds.
"""

from __future__ import annotations

import ast
import importlib.util
from pathlib import Path
from typing import Any

from minion.loader import MODULES


def functions(opts: dict[str, Any]) -> list[str]:
    """Every `module.function` name this minion offers (as far as its source says)."""
    found: set[str] = set()
    sources: dict[str, Path] = {}
    for name, dotted in MODULES.items():
        spec = importlib.util.find_spec(dotted)
        if spec is not None and spec.origin:
            sources[name] = Path(spec.origin)
    if opts.get("cachedir"):
        for path in Path(opts["cachedir"], "extmods", "modules").glob("*.py"):
            if path.stem.isidentifier():
                sources[path.stem] = path
    for name, path in sources.items():
        found.update(f"{name}.{fun.rstrip('_')}" for fun in _exposed(path))
    return sorted(found)


def _exposed(path: Path) -> list[str]:
    """The names a module file exposes: its ``__all__``, else its public functions."""
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"))
    except (OSError, SyntaxError, UnicodeDecodeError, ValueError):
        return []
    public = []
    for stmt in tree.body:
        if isinstance(stmt, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == "__all__" for t in stmt.targets):
            try:
                names = ast.literal_eval(stmt.value)
            except ValueError:
                return []
            return [n for n in names if isinstance(n, str) and not n.startswith("_")]
        if isinstance(stmt, ast.FunctionDef) and not stmt.name.startswith("_"):
            public.append(stmt.name)
    return public
