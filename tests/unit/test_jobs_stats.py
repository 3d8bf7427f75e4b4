"""`master jobs stats` counting, its three outputs, and the job cache queries behind
`master jobs list` filters and pages (a real SQLite file in tmp_path)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from master.jobcache import JobCache, jid_at, sql_glob
from master.jobscmd import parse_since
from master.stats import collect, prometheus, render

NOW = 1_750_000_000.0


def result(sid: str, changed: bool = False, failed: bool = False, skipped: bool = False,
           ms: float = 10.0, fun: str = "cmd.run") -> tuple[str, dict[str, Any]]:
    module, name = fun.split(".")
    ret: dict[str, Any] = {"result": not failed, "changes": {"x": 1} if changed else {},
                           "comment": "", "__id__": sid, "name": sid, "duration": ms}
    if skipped:
        ret["__state_ran__"] = False
    return f"{module}_|-{sid}_|-{sid}_|-{name}", ret


def run(*states: tuple[str, dict[str, Any]]) -> dict[str, Any]:
    return dict(states)


def three_runs() -> list[tuple[str, str, Any, bool, float | None]]:
    """m1 and m2 apply a formula three times: `stamp` changes every time, `conf`
    only the first time, `check` fails on m2, `notify` is skipped but once."""
    rows: list[tuple[str, str, Any, bool, float | None]] = []
    for n in range(3):
        for minion in ("m1", "m2"):
            failing = minion == "m2"
            ret = run(result("stamp", changed=True, ms=100 + n),
                      result("conf", changed=n == 0, ms=5, fun="file.managed"),
                      result("check", failed=failing, ms=1),
                      result("notify", skipped=n > 0, changed=n == 0))
            rows.append((f"j{n}", minion, ret, not failing, 2.0 + n))
    rows.append(("j3", "m3", ["Rendering SLS 'base:web' failed"], False, 0.5))
    return rows


def test_counts_per_state_and_per_minion() -> None:
    stats = collect(three_runs())
    assert stats.jobs == 4
    by_id = {key[0]: row for key, row in stats.states.items()}
    counts = {sid: (r.runs, r.changed, r.failed, r.skipped) for sid, r in by_id.items()}
    assert counts == {"stamp": (6, 6, 0, 0), "conf": (6, 2, 0, 0), "check": (6, 0, 3, 0),
                      "notify": (6, 2, 0, 4)}
    assert by_id["stamp"].median == 101 and by_id["notify"].median == 10  # ran twice only
    minions = {key[0]: (r.runs, r.changed, r.failed, r.skipped, r.median)
               for key, r in stats.minions.items()}
    assert minions == {"m1": (3, 3, 0, 2, 3.0), "m2": (3, 3, 3, 2, 3.0),
                       "m3": (1, 0, 1, 0, 0.5)}


def test_states_that_change_every_run_come_first() -> None:
    data = json.loads(render(collect(three_runs()), "json", NOW))
    assert [s["id"] for s in data["states"]] == ["stamp", "conf", "notify", "check"]
    assert [s["changes_every_run"] for s in data["states"]] == [True, False, False, False]
    assert data["states"][0] == {"id": "stamp", "function": "cmd.run",
                                 "runs": 6, "changed": 6, "failed": 0, "skipped": 0,
                                 "median_ms": 101.0, "changes_every_run": True}
    assert [m["minion"] for m in data["minions"]] == ["m2", "m1", "m3"]  # m2 also fails
    assert data["since"] == NOW and data["jobs"] == 4


def test_a_single_run_is_not_called_non_idempotent() -> None:
    stats = collect([("j1", "m1", run(result("stamp", changed=True)), True, 1.0)])
    assert not next(iter(stats.states.values())).every_run


def test_table_lines_up_and_flags_the_non_idempotent_state() -> None:
    text = render(collect(three_runs()), "table", NOW)
    lines = text.splitlines()
    assert lines[0] == "4 state runs"
    header = lines[2]
    assert header.split() == ["STATE", "FUNCTION", "RUNS", "CHANGED", "FAILED", "SKIPPED",
                              "MEDIAN"]
    stamp = lines[3]
    assert stamp.startswith("stamp") and stamp.endswith("changes every run")
    assert stamp.index("6") < header.index("CHANGED") + len("CHANGED")  # right-aligned
    assert any(line.startswith("MINION") for line in lines)


PROM_LINE = re.compile(
    r'^(# (HELP|TYPE) [a-z_]+ .+|[a-z_]+(\{([a-z_]+="([^"\\\n]|\\.)*",?)+\})? -?[0-9.e+-]+)$')


def test_prometheus_text_is_well_formed_and_escapes_labels() -> None:
    rows = three_runs()
    rows.append(("j4", 'we"ird\\host', run(result('say "hi"\nthere', changed=True)), True, 1.0))
    text = prometheus(collect(rows))
    for line in text.splitlines():
        assert PROM_LINE.match(line), line
    assert 'saline_state_changed{state="stamp",function="cmd.run"} 6' in text
    assert 'minion="we\\"ird\\\\host"' in text and 'state="say \\"hi\\"\\nthere"' in text
    assert "saline_state_duration_median_seconds{" in text and "saline_state_stats_jobs 5" in text
    families = [line.split()[2] for line in text.splitlines() if line.startswith("# TYPE")]
    assert len(families) == len(set(families))  # each family once, its samples together
    try:
        from prometheus_client.parser import text_string_to_metric_families
    except ImportError:
        return
    parsed = {f.name: f for f in text_string_to_metric_families(text)}
    assert parsed["saline_state_changed"].samples


@pytest.mark.parametrize("text, want", [
    ("90s", NOW - 90), ("30m", NOW - 1800), ("2h", NOW - 7200), ("7d", NOW - 7 * 86400),
    ("1w", NOW - 604800), ("1.5h", NOW - 5400),
])
def test_since_durations(text: str, want: float) -> None:
    assert parse_since(text, NOW) == want


def test_since_dates_and_bad_values() -> None:
    import datetime

    assert parse_since("2024-05-01", NOW) == datetime.datetime(2024, 5, 1).timestamp()
    assert parse_since("2024-05-01 14:30", NOW) == \
        datetime.datetime(2024, 5, 1, 14, 30).timestamp()
    with pytest.raises(ValueError, match="--since 'yesterday'"):
        parse_since("yesterday", NOW)


@pytest.fixture
def cache(tmp_path: Path) -> Iterator[JobCache]:
    jc = JobCache(tmp_path / "cache")
    for n, (fun, tgt) in enumerate([("test.ping", "*"), ("state.apply", "web*"),
                                    ("cmd.run", ["db1", "db2"]), ("state.highstate", "web1"),
                                    ("state.apply", "db*")]):
        started = NOW - 3600 * (5 - n)  # one an hour, the newest an hour ago
        jid = jid_at(started)
        jc.add_job({"jid": jid, "fun": fun, "arg": [], "kwarg": {}, "tgt": tgt,
                    "tgt_type": "list" if isinstance(tgt, list) else "glob"}, ["m1"], "")
        jc.db.execute("UPDATE jobs SET started=? WHERE jid=?", (started, jid))
    yield jc
    jc.close()


def test_list_filters_and_pages(cache: JobCache) -> None:
    every = cache.list_jobs()
    assert [j["fun"] for j in every] == ["state.apply", "state.highstate", "cmd.run",
                                         "state.apply", "test.ping"]
    assert [j["fun"] for j in cache.list_jobs(since=NOW - 2.5 * 3600)] == [
        "state.apply", "state.highstate"]
    assert [j["tgt"] for j in cache.list_jobs(fun="state.*")] == ["db*", "web1", "web*"]
    assert [j["tgt"] for j in cache.list_jobs(fun="state.[!h]*")] == ["db*", "web*"]
    assert [j["tgt"] for j in cache.list_jobs(tgt="web*")] == ["web1", "web*"]
    assert [j["tgt"] for j in cache.list_jobs(tgt="db1,*")] == [["db1", "db2"]]
    page1 = cache.list_jobs(limit=2)
    page2 = cache.list_jobs(limit=2, before=page1[-1]["jid"])
    page3 = cache.list_jobs(limit=2, before=page2[-1]["jid"])
    assert [j["jid"] for j in page1 + page2 + page3] == [j["jid"] for j in every]
    assert sql_glob("a[!b]*") == "a[^b]*"


def test_the_since_filter_uses_the_key_not_a_scan(cache: JobCache) -> None:
    plan = " ".join(str(row) for row in cache.db.execute(
        "EXPLAIN QUERY PLAN SELECT jid FROM jobs j WHERE j.jid >= ? AND j.started >= ?"
        " ORDER BY j.jid DESC LIMIT 5", (jid_at(NOW), NOW)))
    assert "USING INDEX" in plan or "PRIMARY KEY" in plan, plan
    assert "SCAN j" not in plan.replace("SCAN j USING", ""), plan


def test_recent_state_jobs_oldest_first(cache: JobCache) -> None:
    jobs = cache.recent_jobs("state.*", NOW - 10 * 3600, 2)
    assert [fun for _, fun, _, _ in jobs] == ["state.highstate", "state.apply"]
    cache.add_return(jobs[0][0], "m1", {"return": {"a": 1}, "success": True})
    assert [(m, r, ok) for m, r, ok, _, _ in cache.iter_returns(jobs[0][0])] == [
        ("m1", {"a": 1}, True)]
