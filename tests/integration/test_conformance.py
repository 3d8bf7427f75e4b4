"""Salt state-behaviour conformance: small formulas run masterless, as a user would.

Every directory under ``tests/conformance/`` is one case: its SLS files (and
an optional ``pillar/`` tree) plus a ``case.yaml`` describing the run and
what Salt would answer. Each case runs

    python -m minion -c CONF call --local state.apply SLS --out json

in a fresh minion config dir whose file_roots and pillar_roots hold copies
of the case files. Formulas write only under the ``tmp`` grain; state
modules that change the host (host, user, group, pkg, service, cron) are
refused.

case.yaml keys (all optional except what a case needs):

``sls``
    Comma list of SLS names for ``state.apply`` (none: the highstate).
``fun`` / ``args``
    Another function (``state.single``, ``state.sls_id``, ``state.show_sls``,
    ``state.show_lowstate``, ``state.highstate``...) and its CLI words;
    ``@TMP@`` in an argument becomes the temp dir.
``pillar`` / ``test``
    Passed as ``pillar=<json>`` and ``test=True``.
``requires``
    State modules the case needs; the case is skipped until they exist.
``setup_files``
    ``{path: text}`` written under the temp dir before the run.
``expect``
    ``{state id or full key: {result, changes: [sorted keys] | {}, comment,
    comment_contains, name, absent}}``.
``order``
    Every result, by state id (or full key), in ``__run_num__`` order.
``count``
    How many results the run returns.
``files``
    ``{path: text | null | {contains: text}}`` under the temp dir after the run.
``second_run_no_changes``
    Run again: every result True with no changes.
``expect_error``
    Substring(s) of the error list a compile failure returns (exit code 1).
``expect_return``
    For the ``show_*`` functions: a subset of the data returned.
``retcode``
    The exit code (default: 1 for a compile error or a failed state, else 0).
``max_seconds``
    Wall-clock limit of the first run (for ``parallel``).
``xfail``
    A reason: the case documents a known engine bug (strict xfail).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
CASES_DIR = ROOT / "tests" / "conformance"
RESULT_FIELDS = {"result", "changes", "comment", "name", "__id__", "__sls__", "__run_num__",
                 "start_time", "duration"}
# State modules that change the host itself (/etc/hosts, users, packages...):
# a conformance formula must never use them.
HOST_STATES = re.compile(r"^\s*-?\s*(host|user|group|pkg|service|cron)\.\w+\s*:", re.M)
STATE_RUNS = {"state.apply", "state.sls", "state.highstate", "state.single", "state.sls_id",
              "state.test"}


def _cases() -> list[Any]:
    params = []
    for case_file in sorted(CASES_DIR.glob("*/case.yaml")):
        spec = yaml.safe_load(case_file.read_text()) or {}
        marks = []
        if spec.get("xfail"):
            marks.append(pytest.mark.xfail(strict=True, reason=str(spec["xfail"])))
        params.append(pytest.param(case_file.parent, spec, marks=marks,
                                   id=case_file.parent.name))
    return params


def _available_states() -> set[str]:
    from minion.states import STATE_MODULES

    return set(STATE_MODULES)


def _subst(value: Any, tmp: Path) -> Any:
    if isinstance(value, str):
        return value.replace("@TMP@", str(tmp))
    if isinstance(value, list):
        return [_subst(v, tmp) for v in value]
    if isinstance(value, dict):
        return {_subst(k, tmp): _subst(v, tmp) for k, v in value.items()}
    return value


class Minion:
    """A masterless minion config dir holding one case's formulas."""

    def __init__(self, case: Path, spec: dict[str, Any], base: Path) -> None:
        self.spec = spec
        self.tmp = base / "work"
        self.tmp.mkdir()
        srv, pillar, self.conf = base / "srv", base / "pillar", base / "conf"
        shutil.copytree(case, srv, ignore=shutil.ignore_patterns("case.yaml", "pillar"))
        if (case / "pillar").is_dir():
            shutil.copytree(case / "pillar", pillar)
        else:
            pillar.mkdir()
        self.conf.mkdir()
        opts = {"id": "conformance", "file_client": "local", "log_level": "warning",
                "file_roots": {"base": [str(srv)]}, "pillar_roots": {"base": [str(pillar)]},
                "grains": {"tmp": str(self.tmp)},
                **spec.get("minion_config", {})}
        (self.conf / "minion").write_text(yaml.safe_dump(opts))
        for rel, text in (spec.get("setup_files") or {}).items():
            path = self.tmp / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(str(text))

    def argv(self) -> list[str]:
        spec = self.spec
        fun = spec.get("fun", "state.apply")
        words = [str(w) for w in _subst(spec.get("args", []), self.tmp)]
        if fun == "state.apply" and spec.get("sls"):
            words.insert(0, str(spec["sls"]).replace(" ", ""))
        if spec.get("test"):
            words.append("test=True")
        if spec.get("pillar") is not None:
            words.append("pillar=" + json.dumps(_subst(spec["pillar"], self.tmp)))
        return [sys.executable, "-m", "minion", "-c", str(self.conf), "call", "--local", fun,
                *words, "--out", "json"]

    def run(self) -> tuple[Any, int, str, float]:
        env = {**os.environ, "PYTHONPATH": str(ROOT), "NO_COLOR": "1"}
        env.pop("SALINE_CONFIG_DIR", None)
        start = time.monotonic()
        proc = subprocess.run(self.argv(), capture_output=True, text=True, env=env,
                              cwd=str(self.tmp.parent), timeout=60)
        elapsed = time.monotonic() - start
        assert proc.stdout.strip(), f"no output (exit {proc.returncode}): {proc.stderr}"
        data = json.loads(proc.stdout)
        assert set(data) == {"local"}, data
        return data["local"], proc.returncode, proc.stderr, elapsed


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _subset(expected: Any, actual: Any, where: str = "return") -> None:
    if isinstance(expected, dict):
        assert isinstance(actual, dict), f"{where}: expected a mapping, got {actual!r}"
        for key, value in expected.items():
            assert key in actual, f"{where}: missing {key!r} in {sorted(actual)}"
            _subset(value, actual[key], f"{where}[{key!r}]")
    elif isinstance(expected, list):
        assert isinstance(actual, list), f"{where}: expected a list, got {actual!r}"
        assert len(expected) == len(actual), f"{where}: {len(actual)} items, not {len(expected)}"
        for index, (exp, act) in enumerate(zip(expected, actual, strict=True)):
            _subset(exp, act, f"{where}[{index}]")
    else:
        assert expected == actual, f"{where}: {actual!r} != {expected!r}"
        assert type(expected) is type(actual), f"{where}: {actual!r} is not {type(expected)}"


def _check_results(ret: Any) -> None:
    """The shape every state run returns, whatever the case."""
    assert isinstance(ret, dict), f"expected state results, got {ret!r}"
    nums = []
    for key, res in ret.items():
        parts = key.split("_|-")
        assert len(parts) == 4, f"bad state key {key!r}"
        missing = RESULT_FIELDS - set(res)
        assert not missing, f"{key}: missing {sorted(missing)}"
        assert parts[1] in (res["__id__"], f"listener_{res['__id__']}"), key
        assert res["result"] in (True, False, None), f"{key}: result {res['result']!r}"
        assert isinstance(res["changes"], dict), key
        assert isinstance(res["comment"], str), key
        nums.append(res["__run_num__"])
    assert sorted(nums) == list(range(len(nums))), f"__run_num__ not 0..n-1: {sorted(nums)}"


def _select(ret: dict[str, Any], ref: str) -> dict[str, dict[str, Any]]:
    if "_|-" in ref:
        return {ref: ret[ref]} if ref in ret else {}
    return {k: r for k, r in ret.items() if k.split("_|-")[1] == ref}


def _check_expect(ret: dict[str, Any], expect: dict[str, Any]) -> None:
    for ref, want in expect.items():
        found = _select(ret, str(ref))
        if want.get("absent"):
            assert not found, f"{ref} should not have run: {found}"
            continue
        assert found, f"no result for {ref!r}; results: {sorted(ret)}"
        for key, res in found.items():
            ctx = f"{key}: {json.dumps(res, indent=1)}"
            if "result" in want:
                assert res["result"] is want["result"], ctx
            if "changes" in want:
                wanted = want["changes"]
                if wanted in ({}, [], None):
                    assert res["changes"] == {}, ctx
                else:
                    assert sorted(res["changes"]) == sorted(wanted), ctx
            if "comment" in want:
                assert res["comment"] == want["comment"], ctx
            for text in _as_list(want.get("comment_contains", [])):
                assert str(text) in res["comment"], ctx
            if "name" in want:
                assert res["name"] == want["name"], ctx


def _check_order(ret: dict[str, Any], order: list[str]) -> None:
    wanted = [str(o) for o in order]
    ran = sorted(ret.items(), key=lambda item: item[1]["__run_num__"])
    actual = [key if key in wanted else res["__id__"] for key, res in ran]
    assert actual == wanted, f"run order {actual} != {wanted}"


def _check_files(tmp: Path, files: dict[str, Any]) -> None:
    for rel, want in files.items():
        path = tmp / rel
        if want is None:
            assert not path.exists(), f"{rel} should not exist"
            continue
        assert path.exists(), f"{rel} should exist"
        text = path.read_text()
        if isinstance(want, dict):
            for part in _as_list(want.get("contains", [])):
                assert str(part) in text, f"{rel}: {part!r} not in {text!r}"
        else:
            assert text == str(want), f"{rel}: {text!r} != {want!r}"


@pytest.mark.parametrize(("case", "spec"), _cases())
def test_conformance(case: Path, spec: dict[str, Any], tmp_path: Path) -> None:
    missing = [m for m in spec.get("requires", []) if m not in _available_states()]
    if missing:
        pytest.skip(f"waits for state module(s): {', '.join(missing)}")
    for sls in case.rglob("*.sls"):
        assert not HOST_STATES.search(sls.read_text()), f"{sls.name} touches the host"
    minion = Minion(case, spec, tmp_path)
    ret, code, stderr, elapsed = minion.run()
    fun = spec.get("fun", "state.apply")
    if "expect_error" in spec:
        assert isinstance(ret, list), f"expected a compile error, got {json.dumps(ret)[:2000]}"
        text = "\n".join(map(str, ret))
        for part in _as_list(spec["expect_error"]):
            assert str(part) in text, f"{part!r} not in the errors:\n{text}"
        assert code == spec.get("retcode", 1), (code, stderr)
    elif fun in STATE_RUNS:
        _check_results(ret)
        failed = any(r["result"] is False for r in ret.values())
        assert code == spec.get("retcode", 1 if failed else 0), (code, stderr, ret)
        _check_expect(ret, _subst(spec.get("expect") or {}, minion.tmp))
        if "order" in spec:
            _check_order(ret, _subst(spec["order"], minion.tmp))
        if "count" in spec:
            assert len(ret) == spec["count"], sorted(ret)
    else:
        assert code == spec.get("retcode", 0), (code, stderr, ret)
    if "expect_return" in spec:
        _subset(_subst(spec["expect_return"], minion.tmp), ret)
    _check_files(minion.tmp, spec.get("files") or {})
    if "max_seconds" in spec:
        assert elapsed < spec["max_seconds"], f"took {elapsed:.2f} s"
    if spec.get("second_run_no_changes"):
        again, code, stderr, _ = minion.run()
        _check_results(again)
        bad = {k: r for k, r in again.items() if r["result"] is not True or r["changes"]}
        assert not bad, f"second run not clean: {json.dumps(bad, indent=1)}"
        assert code == 0, stderr
