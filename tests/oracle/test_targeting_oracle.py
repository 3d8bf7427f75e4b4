"""saline's targeting against Salt's own matchers, expression by expression.

Salt's answers (targeting/expected.json) were recorded by
targeting_record.py, which runs Salt 3007.15's master-side nodegroup
resolution and minion-side matchers over targeting/fleet.yaml. Here saline
matches the same fleet and must pick the same minions, and refuse with a
TargetError wherever Salt errors. Differences saline keeps on purpose are
marked in expressions.yaml with what saline answers instead and why.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from common import targeting
from common.targeting import TargetError

HERE = Path(__file__).resolve().parent / "targeting"
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _yaml(name: str) -> Any:
    return yaml.load((HERE / name).read_text(encoding="utf-8"), Loader=_LOADER)


FLEET = _yaml("fleet.yaml")
MINIONS: list[dict[str, Any]] = FLEET["minions"]
NODEGROUPS: dict[str, Any] = FLEET["nodegroups"]
RECORDED: dict[str, Any] = json.loads((HERE / "expected.json").read_text(encoding="utf-8"))


def _entries() -> list[dict[str, Any]]:
    out = []
    for item in _yaml("expressions.yaml")["expressions"]:
        if isinstance(item, list):
            item = dict(zip(("type", "tgt", "delimiter"), item, strict=False))
        out.append(item)
    return out


ENTRIES = _entries()
CASES = list(zip(ENTRIES, RECORDED["results"], strict=False))


def _name(case: tuple[dict[str, Any], dict[str, Any]]) -> str:
    entry = case[0]
    delimiter = f" delim={entry['delimiter']}" if "delimiter" in entry else ""
    return f"{entry['type']}:{entry['tgt']!r}{delimiter}"


def _saline(entry: dict[str, Any]) -> list[str] | str:
    try:
        target = targeting.compile(
            entry["tgt"], entry["type"], NODEGROUPS, entry.get("delimiter", ":")
        )
    except TargetError as exc:
        message = str(exc)
        assert message and "\n" not in message
        return "error"
    return sorted(minion["id"] for minion in MINIONS if target(minion))


def test_recording_is_current() -> None:
    assert RECORDED["salt_version"] == "3007.15"
    assert len(ENTRIES) == len(RECORDED["results"]) >= 400
    for entry, recorded in CASES:
        assert {k: recorded[k] for k in ("type", "tgt", "delimiter") if k in recorded} == {
            k: entry[k] for k in ("type", "tgt", "delimiter") if k in entry
        }, "expressions.yaml changed: rerun tests/oracle/targeting_record.py"


def test_fleet_and_expressions_cover_every_matcher() -> None:
    assert len(MINIONS) >= 25
    assert len({m["id"] for m in MINIONS}) == len(MINIONS)
    assert {e["type"] for e in ENTRIES} == set(targeting.TARGET_TYPES)
    names = [_name(case) for case in CASES]
    assert len(set(names)) == len(names), "duplicate expression"
    assert sum("error" in r for r in RECORDED["results"]) >= 50
    assert sum(bool(r.get("match")) for r in RECORDED["results"]) >= 300


@pytest.mark.parametrize("case", CASES, ids=_name)
def test_same_minions_as_salt(case: tuple[dict[str, Any], dict[str, Any]]) -> None:
    entry, recorded = case
    salt = "error" if "error" in recorded else recorded["match"]
    got = _saline(entry)
    if "saline" in entry:
        assert entry.get("reason"), "a kept difference needs its reason"
        assert salt != entry["saline"], "no longer a difference: drop the saline: mark"
        assert got == entry["saline"]
        return
    assert got == salt, recorded.get("error", "")
