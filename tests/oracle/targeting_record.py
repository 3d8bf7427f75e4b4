"""Record Salt's own targeting decisions over the synthetic fleet (development tool).

    /tmp/salt-venv/bin/python tests/oracle/targeting_record.py

Runs inside Salt 3007.15's virtualenv and imports Salt's matcher code. For
every expression in ``targeting/expressions.yaml`` it does what a real
publish does: the master's ``LocalClient._prep_pub`` resolves nodegroups
(``-N`` and ``N@`` words), then every minion of ``targeting/fleet.yaml``
decides for itself with ``Minion._target_load`` and the matchers Salt's
loader gives it (glob, pcre, list, grain, grain_pcre, pillar, pillar_pcre,
pillar_exact, ipcidr, compound). The answer is the sorted list of matching
ids, or an error where Salt raises or logs an error (Salt logs and then
treats a malformed target as "no match"). The result goes to
``targeting/expected.json``; commit it, the tests never need Salt.
"""

from __future__ import annotations

import contextlib
import copy
import json
import logging
import sys
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import salt.client
import salt.config
import salt.loader
import salt.minion
import salt.version
import yaml

HERE = Path(__file__).resolve().parent / "targeting"
FUN = "test.ping"


class _Errors(logging.Handler):
    """Collects the error records Salt logs while it matches."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def load_yaml(name: str) -> Any:
    with (HERE / name).open(encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def minion_opts(minion: dict[str, Any]) -> dict[str, Any]:
    opts = copy.deepcopy(salt.config.DEFAULT_MINION_OPTS)
    opts.update(
        id=minion["id"], grains=minion.get("grains") or {}, pillar=minion.get("pillar") or {},
        nodegroups={}, file_client="local",  # the master resolved them
    )
    return opts


def salt_minion(opts: dict[str, Any]) -> Any:
    """Just enough of a salt.minion.Minion for its own _target_load."""
    fake = types.SimpleNamespace(opts=opts, matchers=salt.loader.matchers(opts))
    fake.matchers["compound_match.match"]("warm-up")  # load before errors are watched
    return fake


def salt_master(nodegroups: dict[str, Any]) -> Any:
    """Just enough of a salt.client.LocalClient for its own _prep_pub."""
    fake = types.SimpleNamespace(
        opts={"nodegroups": nodegroups, "order_masters": False, "ext_job_cache": ""},
        key="key", salt_user="root",
    )
    fake._resolve_nodegroup = types.MethodType(salt.client.LocalClient._resolve_nodegroup, fake)
    return fake


def prepare(entry: dict[str, Any], master: Any) -> dict[str, Any] | str:
    """The publish load the master would send, or why Salt refused to send it."""
    try:
        with _watch() as messages:
            pub = salt.client.LocalClient._prep_pub(
                master, entry["tgt"], FUN, [], entry["type"], "", "", 5
            )
    except Exception as exc:  # Salt's CLI refuses (or crashes on) the target
        return f"{type(exc).__name__}: {exc}"
    if messages:
        return messages[0]
    load = {"tgt": pub["tgt"], "tgt_type": pub["tgt_type"], "jid": "1", "fun": FUN, "arg": []}
    if "delimiter" in entry:
        load["delimiter"] = entry["delimiter"]
    return load


def judge(minion: Any, load: dict[str, Any]) -> tuple[bool, str]:
    """Whether this minion takes the job, and the first error Salt had on the way."""
    try:
        with _watch() as messages:
            hit = bool(salt.minion.Minion._target_load(minion, dict(load)))
    except Exception as exc:  # Salt's minion drops the job with a traceback
        return False, f"{type(exc).__name__}: {exc}"
    return hit, messages[0] if messages else ""


@contextlib.contextmanager
def _watch() -> Iterator[list[str]]:
    handler = _Errors()
    logger = logging.getLogger("salt")
    logger.addHandler(handler)
    try:
        yield handler.messages
    finally:
        logger.removeHandler(handler)


def decide_all(fleet: dict[str, Any], exprs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    master = salt_master(fleet["nodegroups"])
    loads = [prepare(e, master) for e in exprs]
    matched: list[list[str]] = [[] for _ in exprs]
    errors = [load if isinstance(load, str) else "" for load in loads]
    # One minion at a time: Salt's loader context belongs to the newest
    # loader, so a minion's matchers are used before the next one is built.
    for data in fleet["minions"]:
        minion = salt_minion(minion_opts(data))
        for index, load in enumerate(loads):
            if isinstance(load, str):
                continue
            hit, error = judge(minion, load)
            if hit:
                matched[index].append(data["id"])
            errors[index] = errors[index] or error
    results = []
    for entry, ids, error in zip(exprs, matched, errors, strict=True):
        out = {k: entry[k] for k in ("type", "tgt", "delimiter") if k in entry}
        if error:
            out["error"] = error
            out["salt_matched"] = sorted(ids)  # what Salt did anyway, for the curious
        else:
            out["match"] = sorted(ids)
        results.append(out)
    return results


def entries(raw: list[Any]) -> list[dict[str, Any]]:
    out = []
    for item in raw:
        if isinstance(item, list):
            item = dict(zip(("type", "tgt", "delimiter"), item, strict=False))
        out.append({k: item[k] for k in ("type", "tgt", "delimiter") if k in item})
    return out


def main() -> int:
    logging.getLogger("salt").setLevel(logging.DEBUG)
    logging.getLogger("salt").propagate = False
    fleet = load_yaml("fleet.yaml")
    results = decide_all(fleet, entries(load_yaml("expressions.yaml")["expressions"]))
    doc = {"salt_version": salt.version.__version__, "results": results}
    (HERE / "expected.json").write_text(json.dumps(doc, indent=1, sort_keys=True) + "\n")
    errors = sum("error" in r for r in results)
    count = len(fleet["minions"])
    print(f"recorded {len(results)} expressions ({errors} errors) over {count} minions")
    return 0


if __name__ == "__main__":
    sys.exit(main())
