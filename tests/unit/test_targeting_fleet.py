"""Run every expression in targeting_cases/ against a whole realistic fleet."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from common import targeting
from common.targeting import TargetError

CASES_DIR = Path(__file__).resolve().parent / "targeting_cases"
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when present: faster


def _load(name: str) -> dict[str, Any]:
    with (CASES_DIR / name).open(encoding="utf-8") as fh:
        data = yaml.load(fh, Loader=_LOADER)
    assert isinstance(data, dict), name
    return data


FLEET: list[dict[str, Any]] = _load("minions.yaml")["minions"]
_EXPRESSIONS = _load("expressions.yaml")
NODEGROUPS: dict[str, Any] = _EXPRESSIONS["nodegroups"]
EXPRESSIONS: list[dict[str, Any]] = _EXPRESSIONS["expressions"]
FLEET_IDS = [minion["id"] for minion in FLEET]


def _case_id(case: dict[str, Any]) -> str:
    delimiter = case.get("delimiter")
    suffix = f" delim={delimiter}" if delimiter else ""
    return f"{case['type']}: {case['tgt']!r}{suffix}"


def test_fleet_is_well_formed() -> None:
    assert len(FLEET) >= 20
    assert len(set(FLEET_IDS)) == len(FLEET_IDS)
    for minion in FLEET:
        assert isinstance(minion["id"], str)
        assert isinstance(minion["grains"], dict)
        assert isinstance(minion["pillar"], dict)


def test_expressions_are_well_formed() -> None:
    assert len(EXPRESSIONS) >= 150
    names = [_case_id(case) for case in EXPRESSIONS]
    assert len(set(names)) == len(names), "duplicate expression"
    covered = {case["type"] for case in EXPRESSIONS}
    assert covered == set(targeting.TARGET_TYPES) | {"regex"}
    for case in EXPRESSIONS:
        assert set(case) <= {"tgt", "type", "expect", "error", "delimiter"}, case
        assert ("expect" in case) != ("error" in case), case
        if "expect" in case:
            expect = case["expect"]
            assert expect == sorted(expect), f"expect not sorted: {case}"
            assert set(expect) <= set(FLEET_IDS), f"unknown id in {case}"


@pytest.mark.parametrize("case", EXPRESSIONS, ids=_case_id)
def test_expression_over_fleet(case: dict[str, Any]) -> None:
    tgt, tgt_type = case["tgt"], case["type"]
    options: dict[str, Any] = {"nodegroups": NODEGROUPS}
    if case.get("delimiter"):
        options["delimiter"] = case["delimiter"]
    if "error" in case:
        with pytest.raises(TargetError) as excinfo:
            targeting.validate(tgt, tgt_type, **options)
        message = str(excinfo.value)
        assert case["error"] in message
        assert "\n" not in message
        with pytest.raises(TargetError):
            targeting.matches(FLEET[0], tgt, tgt_type, **options)
        return
    targeting.validate(tgt, tgt_type, **options)
    target = targeting.compile(tgt, tgt_type, options["nodegroups"], options.get("delimiter", ":"))
    matched = sorted(minion["id"] for minion in FLEET if target(minion))
    assert matched == case["expect"]
    first = FLEET[0]
    assert targeting.matches(first, tgt, tgt_type, **options) is (first["id"] in matched)
