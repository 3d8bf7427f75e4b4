"""Running compiled chunks (requisites, conditions, parallel, failhard) and the state module.

Most tests run a tiny registry of state functions (module ``t``) written here:
each records its calls, so the tests see what ran, in which order and in which
mode. The state execution module is driven through a `Context` with SLS files
in tmp_path and the built-in ``test`` state module.
"""

from __future__ import annotations

import textwrap
import threading
from pathlib import Path
from typing import Any

import pytest
import yaml

from minion.context import Context
from minion.fileclient import LocalFileClient
from minion.loader import Registry
from minion.modules import state as state_mod
from minion.sls.compile import compile_high
from minion.sls.gather import AUTO_ORDER_START, auto_order, handle_state_decls
from minion.sls.run import StateRun

REGISTRY = Registry.load({}, {})
RESULT_KEYS = {"name", "result", "changes", "comment", "__id__", "__sls__", "__run_num__",
               "start_time", "duration"}


class States:
    """State functions of module ``t`` that record each call as (fun, name, test)."""

    def __init__(self) -> None:
        self.calls: list[tuple[Any, ...]] = []
        self.kwargs: dict[str, dict[str, Any]] = {}
        self.events: dict[str, threading.Event] = {}
        self.lock = threading.Lock()

    def event(self, name: str) -> threading.Event:
        with self.lock:
            return self.events.setdefault(name, threading.Event())

    def log(self, *item: Any) -> None:
        with self.lock:
            self.calls.append(item)

    def ran(self, fun: str | None = None) -> list[str]:
        """Names of the real (not test-mode) calls, in order."""
        return [c[1] for c in self.calls if (fun is None or c[0] == fun) and not c[2]]

    def registry(self) -> Registry:
        def ret(name: str, result: bool | None, changes: dict[str, Any] | None = None,
                comment: str = "") -> dict[str, Any]:
            return {"name": name, "result": result, "changes": changes or {},
                    "comment": comment}

        def ok(ctx: Context, name: str, **kwargs: Any) -> dict[str, Any]:
            self.log("ok", name, ctx.test)
            self.kwargs[name] = kwargs
            return ret(name, True, comment="fine")

        def change(ctx: Context, name: str, **kwargs: Any) -> dict[str, Any]:
            self.log("change", name, ctx.test)
            return ret(name, None if ctx.test else True, {"new": name}, "changed")

        def fail(ctx: Context, name: str, **kwargs: Any) -> dict[str, Any]:
            self.log("fail", name, ctx.test)
            return ret(name, False, comment="it broke")

        def fail_change(ctx: Context, name: str, **kwargs: Any) -> dict[str, Any]:
            self.log("fail_change", name, ctx.test)
            return ret(name, False, {"half": name}, "half done")

        def boom(ctx: Context, name: str) -> dict[str, Any]:
            self.log("boom", name, ctx.test)
            raise RuntimeError("kaboom")

        def bad_return(ctx: Context, name: str) -> Any:
            return "not a dict"

        def mod_watch(ctx: Context, name: str, sfun: str | None = None,
                      **kwargs: Any) -> dict[str, Any]:
            self.log("mod_watch", name, ctx.test, sfun)
            return ret(name, True, {"restarted": sfun}, "watch fired")

        def meet(ctx: Context, name: str, other: str) -> dict[str, Any]:
            # Two of these can only both succeed when they run at the same time.
            self.event(name).set()
            saw = self.event(other).wait(5)
            self.log("meet", name, ctx.test)
            return ret(name, saw, comment=f"saw {other}: {saw}")

        def gate(ctx: Context, name: str, wait_for: str) -> dict[str, Any]:
            self.log("gate-start", name, ctx.test)
            opened = self.event(wait_for).wait(5)
            self.log("gate-end", name, ctx.test)
            self.event(f"{name}-done").set()
            return ret(name, opened, {"gate": name})

        def opener(ctx: Context, name: str, opens: str) -> dict[str, Any]:
            self.log("opener", name, ctx.test)
            self.event(opens).set()
            return ret(name, True)

        def done_check(ctx: Context, name: str, after: str) -> dict[str, Any]:
            finished = self.event(f"{after}-done").is_set()
            self.log("done_check", name, ctx.test)
            return ret(name, finished, comment=f"{after} finished: {finished}")

        funcs = {"ok": ok, "change": change, "fail": fail, "fail_change": fail_change,
                 "boom": boom, "bad_return": bad_return, "mod_watch": mod_watch,
                 "meet": meet, "gate": gate, "opener": opener, "done_check": done_check}
        return Registry({f"t.{k}": v for k, v in funcs.items()})


def chunks_of(text: str, sls: str = "s") -> list[dict[str, Any]]:
    high: dict[str, Any] = yaml.safe_load(textwrap.dedent(text))
    errors: list[str] = []
    handle_state_decls(high, sls, "base", errors)
    assert not errors, errors
    auto_order(high, AUTO_ORDER_START)
    chunks, errors = compile_high(high)
    assert not errors, errors
    return chunks


def run(text: str, test: bool = False, failhard: bool = False,
        states: States | None = None) -> tuple[dict[str, dict[str, Any]], States]:
    states = states or States()
    ctx = Context({"id": "m1"}, {}, {}, REGISTRY)
    results = StateRun(ctx, states.registry(), chunks_of(text), test=test,
                       failhard=failhard).run()
    return results, states


def by_id(results: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {r["__id__"]: r for key, r in results.items() if "_|-listener_" not in key}


# -- require / watch ---------------------------------------------------------------


def test_every_result_has_the_standard_fields() -> None:
    results, _ = run("a: t.ok\nb: {t.fail: [{require: [a]}]}\nc: {t.ok: [{require: [b]}]}\n")
    assert list(results) == ["t_|-a_|-a_|-ok", "t_|-b_|-b_|-fail", "t_|-c_|-c_|-ok"]
    for ret in results.values():
        assert set(ret) == RESULT_KEYS
        assert ret["__sls__"] == "s"
        assert isinstance(ret["duration"], float)
        assert len(ret["start_time"].split(":")) == 3
    assert results["t_|-a_|-a_|-ok"]["name"] == "a"


@pytest.mark.parametrize(("text", "expected", "ran"), [
    ("a: t.ok\nme: {t.ok: [{require: [a]}]}\n", True, ["a", "me"]),
    ("a: t.fail\nme: {t.ok: [{require: [a]}]}\n", False, []),
    ("a: t.ok\nb: t.fail\nme: {t.ok: [{require: [a, b]}]}\n", False, ["a"]),
    ("a: t.fail\nb: t.ok\nme: {t.ok: [{require_any: [a, b]}]}\n", True, ["b", "me"]),
    ("a: t.fail\nb: t.fail\nme: {t.ok: [{require_any: [a, b]}]}\n", False, []),
    ("a: t.fail\nme: {t.ok: [{watch: [a]}]}\n", False, []),
    ("a: t.fail\nb: t.ok\nme: {t.ok: [{watch_any: [a, b]}]}\n", True, ["b", "me"]),
    ("a: t.fail\nb: t.fail\nme: {t.ok: [{watch_any: [a, b]}]}\n", False, []),
])
def test_require_and_watch_gate_the_state(text: str, expected: bool, ran: list[str]) -> None:
    results, states = run(text)
    me = by_id(results)["me"]
    assert me["result"] is expected
    assert states.ran("ok") == ran
    if not expected:
        assert me["comment"].startswith("One or more requisite failed: s.")
        assert me["changes"] == {}


def test_requisite_failure_comment_names_the_failed_states() -> None:
    results, _ = run("a: t.fail\nb: t.fail\nc: t.ok\nme: {t.ok: [{require: [a, b, c]}]}\n")
    assert by_id(results)["me"]["comment"] == "One or more requisite failed: s.a, s.b"


def test_failure_propagates_down_a_chain() -> None:
    results, states = run("a: t.fail\nb: {t.ok: [{require: [a]}]}\nc: {t.ok: [{require: [b]}]}\n")
    assert by_id(results)["c"]["comment"] == "One or more requisite failed: s.b"
    assert states.ran() == ["a"]


@pytest.mark.parametrize(("text", "mod_watch", "result"), [
    # the watched state changed, the watcher did not: mod_watch replaces its result
    ("a: t.change\nme: {t.ok: [{watch: [a]}]}\n", [("mod_watch", "me", False, "ok")], True),
    # nothing changed: no mod_watch
    ("a: t.ok\nme: {t.ok: [{watch: [a]}]}\n", [], True),
    # the watcher made changes itself: no mod_watch
    ("a: t.change\nme: {t.change: [{watch: [a]}]}\n", [], True),
    # the watched state failed: the watcher does not run at all
    ("a: t.fail_change\nme: {t.ok: [{watch: [a]}]}\n", [], False),
    # watch_any: one failed, one changed
    ("a: t.fail\nb: t.change\nme: {t.ok: [{watch_any: [a, b]}]}\n",
     [("mod_watch", "me", False, "ok")], True),
    # one of several watched states changed
    ("a: t.ok\nb: t.change\nme: {t.ok: [{watch: [a, b]}]}\n",
     [("mod_watch", "me", False, "ok")], True),
    # watch_in form
    ("a: {t.change: [{watch_in: [me]}]}\nme: t.ok\n", [("mod_watch", "me", False, "ok")], True),
])
def test_watch_calls_mod_watch(text: str, mod_watch: list[tuple[Any, ...]],
                               result: bool) -> None:
    results, states = run(text)
    assert [c for c in states.calls if c[0] == "mod_watch"] == mod_watch
    me = by_id(results)["me"]
    assert me["result"] is result
    if mod_watch:
        assert me["changes"] == {"restarted": "ok"}
        assert me["comment"] == "watch fired"
        assert set(me) == RESULT_KEYS


def test_watch_without_mod_watch_acts_as_require() -> None:
    states = States()
    registry = states.registry()
    del registry.functions["t.mod_watch"]
    chunks = chunks_of("a: t.change\nme: {t.ok: [{watch: [a]}]}\n")
    results = StateRun(Context({}, {}, {}, REGISTRY), registry, chunks).run()
    assert by_id(results)["me"]["comment"] == "fine"


# -- onchanges / onfail --------------------------------------------------------------


NOT_CHANGED = "State was not run because none of the onchanges reqs changed"
NOT_FAILED = "State was not run because onfail req did not change"


@pytest.mark.parametrize(("text", "runs", "comment"), [
    ("a: t.change\nme: {t.ok: [{onchanges: [a]}]}\n", True, "fine"),
    ("a: t.ok\nme: {t.ok: [{onchanges: [a]}]}\n", False, NOT_CHANGED),
    ("a: t.ok\nb: t.change\nme: {t.ok: [{onchanges: [a, b]}]}\n", True, "fine"),
    ("a: t.ok\nb: t.change\nme: {t.ok: [{onchanges_any: [a, b]}]}\n", True, "fine"),
    ("a: t.ok\nb: t.ok\nme: {t.ok: [{onchanges_any: [a, b]}]}\n", False, NOT_CHANGED),
    ("a: {t.change: [{onchanges_in: [me]}]}\nme: t.ok\n", True, "fine"),
    ("a: t.fail\nme: {t.ok: [{onfail: [a]}]}\n", True, "fine"),
    ("a: t.ok\nme: {t.ok: [{onfail: [a]}]}\n", False, NOT_FAILED),
    ("a: t.ok\nb: t.fail\nme: {t.ok: [{onfail: [a, b]}]}\n", True, "fine"),
    ("a: t.ok\nb: t.fail\nme: {t.ok: [{onfail_any: [a, b]}]}\n", True, "fine"),
    ("a: t.ok\nb: t.ok\nme: {t.ok: [{onfail_any: [a, b]}]}\n", False, NOT_FAILED),
    ("a: t.fail\nb: t.fail\nme: {t.ok: [{onfail_all: [a, b]}]}\n", True, "fine"),
    ("a: t.ok\nb: t.fail\nme: {t.ok: [{onfail_all: [a, b]}]}\n", False, NOT_FAILED),
    ("a: {t.fail: [{onfail_in: [me]}]}\nme: t.ok\n", True, "fine"),
])
def test_onchanges_and_onfail(text: str, runs: bool, comment: str) -> None:
    results, states = run(text)
    me = by_id(results)["me"]
    assert ("me" in states.ran("ok")) is runs
    assert me["result"] is True
    assert me["comment"] == comment


def test_prereq_runs_first_when_the_target_would_change() -> None:
    results, states = run("target: t.change\npre: {t.ok: [{prereq: [target]}]}\n")
    assert states.calls == [("change", "target", True), ("ok", "pre", False),
                            ("change", "target", False)]
    got = by_id(results)
    assert got["pre"]["__run_num__"] < got["target"]["__run_num__"]
    assert got["target"]["result"] is True and got["target"]["changes"] == {"new": "target"}


def test_prereq_does_not_run_when_the_target_would_not_change() -> None:
    results, states = run("target: t.ok\npre: {t.ok: [{prereq: [target]}]}\n")
    assert states.calls == [("ok", "target", True), ("ok", "target", False)]
    assert by_id(results)["pre"] == {**by_id(results)["pre"], "result": True,
                                     "comment": "No changes detected", "changes": {}}


def test_prereq_in_form() -> None:
    _, states = run("pre: t.ok\ntarget: {t.change: [{prereq_in: [pre]}]}\n")
    assert states.calls == [("change", "target", True), ("ok", "pre", False),
                            ("change", "target", False)]


def test_parallel_prereq_state_is_waited_for() -> None:
    results, states = run("target: t.change\npre: {t.ok: [{prereq: [target]}, "
                          "{parallel: true}]}\n")
    assert by_id(results)["target"]["result"] is True
    assert states.ran() == ["pre", "target"]


# -- listen ------------------------------------------------------------------------------


def test_listen_runs_mod_watch_at_the_end() -> None:
    results, states = run("""
        a: t.change
        me: {t.ok: [{listen: [a]}]}
        later: t.ok
        """)
    key = "t_|-listener_me_|-me_|-mod_watch"
    assert list(results)[-1] == key
    assert results[key]["__run_num__"] == 3
    assert results[key]["changes"] == {"restarted": "ok"}
    assert states.calls[-1] == ("mod_watch", "me", False, "ok")
    assert by_id(results)["me"]["comment"] == "fine"  # the state itself ran normally
    assert set(results[key]) == RESULT_KEYS


@pytest.mark.parametrize("text", [
    "a: t.ok\nme: {t.ok: [{listen: [a]}]}\n",
])
def test_listen_without_changes_or_on_failure_adds_nothing(text: str) -> None:
    results, states = run(text)
    assert not any("listener_" in k for k in results)
    assert not [c for c in states.calls if c[0] == "mod_watch"]


def test_listen_in_form() -> None:
    results, _ = run("a: {t.change: [{listen_in: [{t: me}]}]}\nme: t.ok\n")
    assert "t_|-listener_me_|-me_|-mod_watch" in results


# -- parallel ----------------------------------------------------------------------------


def test_parallel_states_overlap() -> None:
    results, _ = run("""
        p1: {t.meet: [{other: p2}, {parallel: true}]}
        p2: {t.meet: [{other: p1}, {parallel: true}]}
        """)
    got = by_id(results)
    assert got["p1"]["result"] is True, got["p1"]["comment"]
    assert got["p2"]["result"] is True, got["p2"]["comment"]
    assert {got["p1"]["__run_num__"], got["p2"]["__run_num__"]} == {0, 1}


def test_a_state_requiring_a_parallel_one_waits_for_it() -> None:
    results, states = run("""
        slow: {t.gate: [{wait_for: go}, {parallel: true}]}
        opener: {t.opener: [{opens: go}]}
        after: {t.done_check: [{after: slow}, {require: [slow]}]}
        """)
    got = by_id(results)
    assert got["slow"]["result"] is True  # the opener ran while it waited: they overlapped
    assert got["after"]["result"] is True, got["after"]["comment"]
    names = [c[0] for c in states.calls]
    assert names.index("gate-end") < names.index("done_check")


def test_watching_a_parallel_state_sees_its_changes() -> None:
    results, _ = run("""
        slow: {t.gate: [{wait_for: go}, {parallel: true}]}
        opener: {t.opener: [{opens: go}]}
        me: {t.ok: [{watch: [slow]}]}
        """)
    assert by_id(results)["me"]["changes"] == {"restarted": "ok"}


def test_parallel_results_are_collected_at_the_end() -> None:
    results, _ = run("""
        slow: {t.gate: [{wait_for: go}, {parallel: true}]}
        opener: {t.opener: [{opens: go}]}
        """)
    assert set(by_id(results)) == {"slow", "opener"}
    assert by_id(results)["slow"]["result"] is True


# -- failhard ----------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "failhard", "present"), [
    ("a: t.ok\nb: {t.fail: [{failhard: true}]}\nc: t.ok\n", False, {"a", "b"}),
    ("a: t.ok\nb: t.fail\nc: t.ok\n", True, {"a", "b"}),
    ("a: t.ok\nb: t.fail\nc: t.ok\n", False, {"a", "b", "c"}),
    ("a: {t.ok: [{failhard: true}]}\nb: t.ok\n", False, {"a", "b"}),
    ("a: t.fail\nb: {t.ok: [{require: [a]}, {failhard: true}]}\nc: t.ok\n", False, {"a", "b"}),
    ("a: {t.fail: [{failhard: true}]}\nb: t.ok\nme: {t.ok: [{listen: [a]}]}\n", False, {"a"}),
])
def test_failhard_stops_the_run(text: str, failhard: bool, present: set[str]) -> None:
    results, states = run(text, failhard=failhard)
    assert set(by_id(results)) == present
    assert set(states.ran()) <= present


def test_failhard_waits_for_requisites_already_started() -> None:
    results, _ = run("""
        slow: {t.gate: [{wait_for: go}, {parallel: true}]}
        opener: {t.opener: [{opens: go}]}
        bad: {t.fail: [{failhard: true}]}
        never: t.ok
        """)
    assert set(by_id(results)) == {"slow", "opener", "bad"}


# -- onlyif / unless / creates ------------------------------------------------------------


def test_a_skipped_watcher_does_not_fire_mod_watch() -> None:
    results, states = run("a: t.change\nme: {t.ok: [{watch: [a]}, {onlyif: 'false'}]}\n")
    assert by_id(results)["me"]["comment"] == "onlyif condition is false"
    assert not [c for c in states.calls if c[0] == "mod_watch"]


# -- test mode, errors, ordering ------------------------------------------------------------


def test_test_mode_reaches_functions_and_none_counts_as_met() -> None:
    results, states = run("""
        a: t.change
        b: {t.ok: [{require: [a]}]}
        c: {t.ok: [{onchanges: [a]}]}
        d: {t.ok: [{watch: [a]}]}
        """, test=True)
    got = by_id(results)
    assert got["a"]["result"] is None and got["a"]["changes"] == {"new": "a"}
    assert got["b"]["result"] is True and got["c"]["comment"] == "fine"
    assert all(c[2] is True for c in states.calls)
    assert ("mod_watch", "d", True, "ok") in states.calls


def test_run_num_follows_real_execution_order() -> None:
    results, states = run("""
        a: t.ok
        b: {t.ok: [{require: [d]}]}
        c: t.ok
        d: t.ok
        """)
    order = sorted(by_id(results).values(), key=lambda r: r["__run_num__"])
    assert [r["__id__"] for r in order] == ["a", "d", "b", "c"] == states.ran()
    assert [r["__run_num__"] for r in order] == [0, 1, 2, 3]


def test_engine_keys_do_not_reach_the_function(tmp_path: Path) -> None:
    _, states = run(f"""
        other: t.ok
        me:
          t.ok:
            - foo: 1
            - require: [other]
            - watch: [other]
            - order: 5
            - onlyif: true
            - unless: false
            - creates: {tmp_path / "nothing"}
            - failhard: false
            - parallel: false
            - check_cmd: 'true'
            - retry: {{attempts: 1}}
        """)
    assert states.kwargs["me"] == {"foo": 1}


def test_names_run_in_order_with_their_own_results() -> None:
    results, states = run("pkgs: {t.ok: [{names: [z, a, m]}]}\n")
    assert states.ran() == ["z", "a", "m"]
    assert list(results) == ["t_|-pkgs_|-z_|-ok", "t_|-pkgs_|-a_|-ok", "t_|-pkgs_|-m_|-ok"]


# -- the state execution module --------------------------------------------------------------


def write(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))


def module_ctx(tmp_path: Path, files: dict[str, str], pillar: dict[str, Any] | None = None,
               dev: dict[str, str] | None = None) -> Context:
    write(tmp_path / "base", files)
    roots = {"base": [str(tmp_path / "base")]}
    if dev is not None:
        write(tmp_path / "dev", dev)
        roots["dev"] = [str(tmp_path / "dev")]
    opts = {"id": "web1", "cachedir": str(tmp_path / "cache")}
    ctx = Context(opts, {"id": "web1", "os": "Debian"}, pillar or {}, REGISTRY)
    ctx.files = LocalFileClient(roots)
    return ctx


def untimed(results: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {k: {f: v for f, v in r.items() if f not in ("start_time", "duration")}
            for k, r in results.items()}


SLS = {
    "web.sls": """
        first: test.succeed_with_changes
        second:
          test.succeed_without_changes:
            - require: [first]
        """,
}


def test_apply_returns_results_and_retcode_0(tmp_path: Path) -> None:
    ctx = module_ctx(tmp_path, SLS)
    ret = state_mod.apply(ctx, "web")
    assert list(ret) == ["test_|-first_|-first_|-succeed_with_changes",
                         "test_|-second_|-second_|-succeed_without_changes"]
    assert all(r["result"] is True for r in ret.values())
    assert ctx.retcode == 0


def test_a_failing_state_sets_retcode_2(tmp_path: Path) -> None:
    ctx = module_ctx(tmp_path, {"web.sls": "a: test.fail_without_changes\nb: test.nop\n"})
    ret = state_mod.apply(ctx, "web")
    assert ret["test_|-a_|-a_|-fail_without_changes"]["result"] is False
    assert ret["test_|-b_|-b_|-nop"]["result"] is True
    assert ctx.retcode == 2


def test_pillar_errors_refuse_the_run(tmp_path: Path) -> None:
    ctx = module_ctx(tmp_path, SLS, pillar={"_errors": ["pillar/x.sls: bad yaml"]})
    ret = state_mod.apply(ctx, "web")
    assert ret == ["Pillar failed to render with the following messages:",
                   "pillar/x.sls: bad yaml"]
    assert ctx.retcode == 5


def test_apply_in_test_mode(tmp_path: Path) -> None:
    ctx = module_ctx(tmp_path, SLS)
    ret = state_mod.apply(ctx, "web", test=True)
    assert ret["test_|-first_|-first_|-succeed_with_changes"]["result"] is None
    assert ctx.test is False and ctx.retcode == 0
    assert untimed(state_mod.test(ctx, "web")) == untimed(ret)


def test_apply_pillar_override_reaches_templates(tmp_path: Path) -> None:
    ctx = module_ctx(tmp_path, {"web.sls": "a: {test.nop: [{name: \"{{ pillar['who'] }}\"}]}\n"},
                     pillar={"who": "old"})
    ret = state_mod.apply(ctx, "web", pillar={"who": "new"})
    assert list(ret) == ["test_|-a_|-new_|-nop"]
    assert ctx.pillar == {"who": "old"}


def test_highstate_follows_the_top_file_across_envs(tmp_path: Path) -> None:
    ctx = module_ctx(tmp_path, {
        "top.sls": "base: {'web*': [common]}\ndev: {'G@os:Debian': [devonly]}\n",
        "common.sls": "c: test.nop\n",
    }, dev={"devonly.sls": "d: test.nop\n"})
    assert state_mod.show_top(ctx) == {"base": ["common"], "dev": ["devonly"]}
    ret = state_mod.apply(ctx)
    assert list(ret) == ["test_|-c_|-c_|-nop", "test_|-d_|-d_|-nop"]
    assert untimed(state_mod.highstate(ctx)) == untimed(ret)


def test_sls_needs_a_name(tmp_path: Path) -> None:
    ctx = module_ctx(tmp_path, SLS)
    assert state_mod.sls(ctx, "") == ["state.sls needs at least one SLS name"]
    assert ctx.retcode == 1


def test_single(tmp_path: Path) -> None:
    ctx = module_ctx(tmp_path, {})
    ret = state_mod.single(ctx, "test.succeed_with_changes", "foo")
    assert list(ret) == ["test_|-foo_|-foo_|-succeed_with_changes"]
    assert ret["test_|-foo_|-foo_|-succeed_with_changes"]["result"] is True
    assert ctx.retcode == 0
    ret = state_mod.single(ctx, "test.configurable_test_state", "bar", result=False,
                           changes=False, comment="nope")
    assert ret["test_|-bar_|-bar_|-configurable_test_state"]["comment"] == "nope"
    assert ctx.retcode == 2
    ret = state_mod.single(ctx, "test.succeed_with_changes", "foo", test=True)
    assert ret["test_|-foo_|-foo_|-succeed_with_changes"]["result"] is None


def test_sls_id_runs_one_id_and_what_it_requires(tmp_path: Path) -> None:
    ctx = module_ctx(tmp_path, SLS)
    ret = state_mod.sls_id(ctx, "second", "web")
    assert sorted(ret, key=lambda k: ret[k]["__run_num__"]) == [
        "test_|-first_|-first_|-succeed_with_changes",
        "test_|-second_|-second_|-succeed_without_changes"]
    assert ctx.retcode == 0
    ret = state_mod.sls_id(ctx, "first", "web")
    assert list(ret) == ["test_|-first_|-first_|-succeed_with_changes"]
    ret = state_mod.sls_id(ctx, "ghost", "web")
    assert ret == ["No matches for ID 'ghost' found in SLS 'web' within saltenv 'base'"]
    assert ctx.retcode == 1


GATE_MODULE = '''
def hold(ctx, name):
    ctx.pillar["entered"].set()
    ctx.pillar["release"].wait(5)
    return {"name": name, "result": True, "changes": {}, "comment": "held"}
'''


def test_a_second_concurrent_run_is_refused(tmp_path: Path) -> None:
    entered, release = threading.Event(), threading.Event()
    ctx = module_ctx(tmp_path, {"hold.sls": "h: gate.hold\n", **SLS},
                     pillar={"entered": entered, "release": release})
    write(tmp_path / "cache" / "extmods" / "states", {"gate.py": GATE_MODULE})
    first: dict[str, Any] = {}
    worker = threading.Thread(target=lambda: first.update(ret=state_mod.apply(ctx, "hold")))
    worker.start()
    try:
        assert entered.wait(5)
        other = module_ctx(tmp_path / "other", SLS)
        refused = state_mod.apply(other, "web")
        assert refused == ["A state run is already in progress on this minion; try again "
                           "when it ends."]
        assert other.retcode == 1
    finally:
        release.set()
        worker.join(5)
    assert first["ret"]["gate_|-h_|-h_|-hold"]["comment"] == "held"
    again = module_ctx(tmp_path / "again", SLS)
    assert isinstance(state_mod.apply(again, "web"), dict)  # the lock was released


def test_retry_runs_again_until_the_result_is_wanted(tmp_path: Path) -> None:
    marker = tmp_path / "count"
    script = f"n=$(cat {marker} 2>/dev/null || echo 0); echo $((n+1)) > {marker}; [ $n -ge 2 ]"
    text = f"""
flaky:
  cmd.run:
    - name: '{script}'
    - retry:
        attempts: 5
        interval: 0
never:
  cmd.run:
    - name: 'false'
    - retry: {{attempts: 3, interval: 0}}
"""
    from minion.states import STATE_MODULES

    ctx = Context({}, {}, {}, Registry.load({}, {}))
    states = Registry.load({}, {}, modules=STATE_MODULES, kind="states")
    results = StateRun(ctx, states, chunks_of(text)).run()
    by = {r["__id__"]: r for r in results.values()}
    assert by["flaky"]["result"] is True and marker.read_text().strip() == "3"
    assert by["flaky"]["comment"].count("Attempt") == 2
    assert by["never"]["result"] is False and by["never"]["comment"].count("Attempt") == 2


def test_unknown_state_arguments_are_warned_about() -> None:
    results, _ = run("a: {t.opener: [{opens: x}, {colour: blue}, {size: 3}]}\n")
    (ret,) = results.values()
    assert ret["result"] is True
    assert ret["warnings"] == ["t.opener does not take these arguments, which were ignored: "
                               "colour, size"]
    results, _ = run("a: {t.ok: [{colour: blue}]}\n")  # takes **kwargs: no warning
    assert "warnings" not in next(iter(results.values()))
