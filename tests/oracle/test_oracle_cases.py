"""saline gives Salt 3007.15's recorded answer for every oracle case.

Each case under ``tests/oracle/cases/`` runs masterless through
``minion call --local`` in a fresh temp root; its normalised answers (return,
exit code, files written) must equal ``expected.json``, which
``tests/oracle/record.py`` recorded from real ``salt-call --local``. Values a
case lists under ``differences`` (kept on purpose, see
docs/salt-differences.md) are left out of the comparison.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.oracle import oracle


def _params() -> list[Any]:
    params = []
    for case in oracle.load_cases():
        marks = []
        if case.spec.get("xfail"):
            marks.append(pytest.mark.xfail(strict=True, reason=str(case.spec["xfail"])))
        params.append(pytest.param(case, marks=marks, id=case.name))
    return params


@pytest.mark.parametrize("case", _params())
def test_saline_answers_as_salt(case: oracle.Case) -> None:
    assert case.expected_file.exists(), f"{case.name}: run tests/oracle/record.py {case.name}"
    want = json.loads(case.expected_file.read_text())
    assert len(want) == len(case.calls), f"{case.name}: expected.json is stale; record again"
    with oracle.fresh_root() as root:
        got = [a.as_json() for a in oracle.run_case(case, "saline", root)]
    diffs = case.spec.get("differences") or []
    for diff in diffs:
        assert diff.get("reason"), f"{case.name}: a kept difference needs its reason"
    want_cmp = oracle.apply_differences(want, diffs)
    got_cmp = oracle.apply_differences(got, diffs)
    first = oracle.first_difference(want_cmp, got_cmp)
    assert first is None, f"{case.name}: {first}\nsaline: {json.dumps(got, indent=1)[:6000]}"


def test_every_case_has_calls() -> None:
    for case in oracle.load_cases():
        assert case.calls, f"{case.name}: case.yaml has no calls"
        assert all(isinstance(c, list) and c for c in case.spec["calls"]), case.name
