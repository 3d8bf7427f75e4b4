"""Running state functions inside a test container, as the docker tests do."""

from __future__ import annotations

import json
import shlex
from collections.abc import Iterable, Mapping
from typing import Any

from tests.docker.conftest import Container

PYTHON = "/opt/saline/bin/python"

# Runs the state calls given as JSON ([[fun, kwargs, test], ...]) with the
# settings given as JSON (grains, state modules, salt:// roots); prints the results.
RUNNER = """
import json, sys
from minion.context import Context
from minion.fileclient import LocalFileClient
from minion.loader import Registry
from minion.states import STATE_MODULES

plan, conf = json.loads(sys.argv[1]), json.loads(sys.argv[2])
grains = conf["grains"]
mods = {m: STATE_MODULES[m] for m in conf["modules"]} if conf["modules"] else STATE_MODULES
states = Registry.load({}, grains, modules=mods, kind="states")
files = LocalFileClient({"base": conf["roots"]}) if conf["roots"] else None
ctx = Context({}, grains, {}, Registry.load({}, grains), files=files)
out = []
for fun, kwargs, test in plan:
    ctx.test = test
    out.append(states.call(ctx, fun, [], kwargs))
print(json.dumps(out))
"""


def run_states(box: Container, *calls: tuple[Any, ...], grains: Mapping[str, Any] | None = None,
               modules: Iterable[str] = (), roots: Iterable[str] = ()) -> list[Any]:
    """Run (fun, kwargs[, test]) state calls in one process inside `box`; their results.

    `modules` limits the state modules loaded; `roots` are the salt:// file roots.
    """
    plan = [[c[0], c[1], c[2] if len(c) > 2 else False] for c in calls]
    conf = {"grains": dict(grains or {}), "modules": list(modules), "roots": list(roots)}
    proc = box.sh(f"{PYTHON} -c {shlex.quote(RUNNER)} {shlex.quote(json.dumps(plan))} "
                  f"{shlex.quote(json.dumps(conf))}", timeout=300)
    assert proc.returncode == 0, proc.stderr
    results: list[Any] = json.loads(proc.stdout)
    return results


def twice(box: Container, fun: str, grains: Mapping[str, Any] | None = None,
          **kwargs: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """Apply one state twice in two processes: (first result, second result)."""
    first = run_states(box, (fun, kwargs), grains=grains)[0]
    second = run_states(box, (fun, kwargs), grains=grains)[0]
    return first, second
