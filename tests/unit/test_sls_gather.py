"""SLS gathering: top files, includes, extend, exclude and body spellings into high data.

Real SLS files live in tmp_path and are read through `LocalFileClient`, as a
masterless minion reads them.
"""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest

from minion.context import Context
from minion.fileclient import LocalFileClient
from minion.loader import Registry
from minion.sls import SLSError
from minion.sls.gather import Gatherer, normalize_body, resolve_relative

REGISTRY = Registry.load({}, {})
GRAINS = {"id": "web1", "os": "Debian", "roles": ["web"]}


def write(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))


def make_ctx(roots: dict[str, Path], minion_id: str = "web1",
             grains: dict[str, Any] | None = None) -> Context:
    ctx = Context({"id": minion_id}, dict(grains or GRAINS), {"role": "front"}, REGISTRY)
    ctx.files = LocalFileClient({env: [str(path)] for env, path in roots.items()})
    return ctx


def gather(root: Path, files: dict[str, str], *names: str, env: str = "base",
           extra: dict[str, Path] | None = None) -> dict[str, Any]:
    write(root, files)
    gatherer = Gatherer(make_ctx({"base": root, **(extra or {})}), env)
    for name in names:
        gatherer.add(env, name)
    return gatherer.finish()


def gather_error(root: Path, files: dict[str, str], *names: str) -> str:
    with pytest.raises(SLSError) as info:
        gather(root, files, *names)
    return str(info.value)


# -- includes -----------------------------------------------------------------


def test_included_files_come_first_in_include_order(tmp_path: Path) -> None:
    high = gather(tmp_path, {
        "top_level.sls": "include: [b, c]\nmine: {test.nop: []}\n",
        "b.sls": "include: [d]\nfrom_b: {test.nop: []}\n",
        "c.sls": "from_c: {test.nop: []}\n",
        "d.sls": "from_d: {test.nop: []}\n",
    }, "top_level")
    assert list(high) == ["from_d", "from_b", "from_c", "mine"]
    assert [high[i]["__sls__"] for i in high] == ["d", "b", "c", "top_level"]
    assert all(body["__env__"] == "base" for body in high.values())


def test_a_file_included_twice_is_rendered_once(tmp_path: Path) -> None:
    high = gather(tmp_path, {
        "a.sls": "include: [common, b]\nfrom_a: test.nop\n",
        "b.sls": "include: [common]\nfrom_b: test.nop\n",
        "common.sls": "shared: test.nop\n",
    }, "a", "common")
    assert list(high) == ["shared", "from_b", "from_a"]


def test_init_sls_is_found_for_a_directory(tmp_path: Path) -> None:
    high = gather(tmp_path, {"web/init.sls": "w: test.nop\n", "web/conf.sls": "c: test.nop\n"},
                  "web", "web.conf")
    assert high["w"]["__sls__"] == "web"
    assert high["c"]["__sls__"] == "web.conf"


def test_missing_sls_is_an_error(tmp_path: Path) -> None:
    error = gather_error(tmp_path, {"a.sls": "include: [nope]\na: test.nop\n"}, "a")
    assert "No matching sls found for 'nope' in env 'base'" in error


@pytest.mark.parametrize(("name", "path", "inc", "expected"), [
    ("a.b", "a/b.sls", ".x", "a.x"),
    ("a.b", "a/b.sls", "..x", "x"),
    ("a.b", "a/b.sls", "plain.name", "plain.name"),
    ("a", "a/init.sls", ".x", "a.x"),
    ("a", "a/init.sls", "..x", "x"),
    ("a.b", "a/b/init.sls", ".x", "a.b.x"),
    ("a.b", "a/b/init.sls", "..x", "a.x"),
    ("a.b.c", "a/b/c.sls", "..x.y", "a.x.y"),
    ("a.b.c", "a/b/c.sls", "...x", "x"),
])
def test_resolve_relative(name: str, path: str, inc: str, expected: str) -> None:
    assert resolve_relative(name, path, inc) == expected


def test_relative_includes_from_a_file_and_from_init(tmp_path: Path) -> None:
    high = gather(tmp_path, {
        "a/b.sls": "include: [.sib, ..root]\nab: test.nop\n",
        "a/init.sls": "include: [.other]\na: test.nop\n",
        "a/sib.sls": "sib: test.nop\n",
        "a/other.sls": "other: test.nop\n",
        "root.sls": "root: test.nop\n",
    }, "a.b", "a")
    assert {i: b["__sls__"] for i, b in high.items()} == {
        "sib": "a.sib", "root": "root", "ab": "a.b", "other": "a.other", "a": "a"}


@pytest.mark.parametrize(("files", "name"), [
    ({"a/b.sls": "include: ['...x']\nab: test.nop\n", "x.sls": "x: test.nop\n"}, "a.b"),
    ({"a/b/c.sls": "include: ['....x']\nabc: test.nop\n", "a/x.sls": "x: test.nop\n"},
     "a.b.c"),
])
def test_relative_include_above_the_top_package_is_an_error(
        tmp_path: Path, files: dict[str, str], name: str) -> None:
    with pytest.raises(SLSError, match="beyond top level"):
        gather(tmp_path, files, name)


@pytest.mark.parametrize("entry", [
    "{sls: x, saltenv: dev}",
    "{dev: x}",
])
def test_include_from_another_saltenv(tmp_path: Path, entry: str) -> None:
    dev = tmp_path / "dev"
    write(dev, {"x.sls": "in_dev: test.nop\n"})
    high = gather(tmp_path / "base", {"a.sls": f"include:\n  - {entry}\na: test.nop\n"}, "a",
                  extra={"dev": dev})
    assert high["in_dev"]["__env__"] == "dev"
    assert high["in_dev"]["__sls__"] == "x"
    assert high["a"]["__env__"] == "base"


def test_include_sls_form_without_saltenv_stays_in_env(tmp_path: Path) -> None:
    high = gather(tmp_path, {"a.sls": "include: [{sls: b}]\na: test.nop\n",
                             "b.sls": "b: test.nop\n"}, "a")
    assert high["b"]["__env__"] == "base"


def test_bad_include_entry(tmp_path: Path) -> None:
    error = gather_error(tmp_path, {"a.sls": "include: [{x: 1, y: 2}]\na: test.nop\n"}, "a")
    assert "bad include entry" in error


# -- extend and exclude -------------------------------------------------------

BASE_SVC = """
svc:
  test.nop:
    - {kind}: [first]
    - foo: 1
    - bar: 1
"""


@pytest.mark.parametrize("kind", [
    "require", "watch", "onchanges", "onfail", "prereq", "listen", "use",
    "require_any", "watch_any", "onchanges_any", "onfail_any",
    "onfail_all",
])
def test_extend_grows_requisite_lists_and_replaces_other_args(tmp_path: Path,
                                                              kind: str) -> None:
    high = gather(tmp_path, {
        "base.sls": BASE_SVC.format(kind=kind),
        "ext.sls": f"""
            include: [base]
            extend:
              svc:
                test:
                  - {kind}: [second]
                  - foo: 2
                  - baz: 3
            """,
    }, "ext")
    assert high["svc"]["test"] == ["nop", {kind: ["first", "second"]}, {"foo": 2},
                                   {"bar": 1}, {"baz": 3}]
    assert high["svc"]["__sls__"] == "base"  # extend does not move the state


def test_extend_with_dotted_key_replaces_the_function(tmp_path: Path) -> None:
    high = gather(tmp_path, {
        "base.sls": "svc: {test.nop: [{foo: 1}]}\n",
        "ext.sls": "include: [base]\nextend:\n  svc:\n    test.succeed_with_changes: []\n",
    }, "ext")
    assert high["svc"]["test"] == [{"foo": 1}, "succeed_with_changes"]


def test_extend_can_add_a_new_module_to_an_id(tmp_path: Path) -> None:
    high = gather(tmp_path, {
        "base.sls": "svc: {test.nop: []}\n",
        "ext.sls": "include: [base]\nextend:\n  svc:\n    cmd.run: [{cwd: /}]\n",
    }, "ext")
    assert high["svc"]["cmd"] == ["run", {"cwd": "/"}]


def test_extend_of_a_missing_id_is_an_error(tmp_path: Path) -> None:
    error = gather_error(tmp_path, {
        "ext.sls": "extend:\n  ghost:\n    test: [{foo: 1}]\nreal: test.nop\n"}, "ext")
    assert "Cannot extend ID 'ghost' in 'base:ext'. It is not part of the high state." in error


def test_extend_must_be_a_mapping(tmp_path: Path) -> None:
    error = gather_error(tmp_path, {"ext.sls": "extend: [a]\nreal: test.nop\n"}, "ext")
    assert "extend must be a mapping" in error


@pytest.mark.parametrize(("exclude", "gone"), [
    ("[{sls: b}]", {"b1", "b2"}),
    ("[b]", {"b1", "b2"}),
    ("[{id: c1}]", {"c1"}),
    ("[{id: not_there}]", set()),
    ("[{sls: b}, {id: c1}]", {"b1", "b2", "c1"}),
])
def test_exclude_by_sls_and_id(tmp_path: Path, exclude: str, gone: set[str]) -> None:
    high = gather(tmp_path, {
        "a.sls": f"include: [b, c]\nexclude: {exclude}\na1: test.nop\n",
        "b.sls": "b1: test.nop\nb2: test.nop\n",
        "c.sls": "c1: test.nop\nc2: test.nop\n",
    }, "a")
    assert set(high) == {"a1", "b1", "b2", "c1", "c2"} - gone


def test_exclude_sls_is_a_glob(tmp_path: Path) -> None:
    high = gather(tmp_path, {
        "a.sls": "include: [web.a, web.b]\nexclude: [{sls: 'web.*'}]\na1: test.nop\n",
        "web/a.sls": "wa: test.nop\n",
        "web/b.sls": "wb: test.nop\n",
    }, "a")
    assert set(high) == {"a1"}


def test_bad_exclude_entry(tmp_path: Path) -> None:
    error = gather_error(tmp_path, {"a.sls": "exclude: [{what: x}]\na1: test.nop\n"}, "a")
    assert "bad exclude entry" in error


def test_duplicate_ids_name_both_sls(tmp_path: Path) -> None:
    error = gather_error(tmp_path, {
        "a.sls": "include: [b]\nsame: test.nop\n",
        "b.sls": "same: test.nop\n",
    }, "a")
    assert ("Detected conflicting IDs, SLS IDs need to be globally unique. The conflicting "
            "ID is 'same' and is found in SLS 'base:b' and SLS 'base:a'") in error


# -- body spellings -----------------------------------------------------------


@pytest.mark.parametrize(("body", "expected"), [
    ("{pkg.installed: []}", {"pkg": ["installed"]}),
    ("{pkg.installed: null}", {"pkg": ["installed"]}),
    ("{pkg.installed: [{name: x}]}", {"pkg": ["installed", {"name": "x"}]}),
    ("{pkg: [installed, {name: x}]}", {"pkg": ["installed", {"name": "x"}]}),
    ("{pkg: [{name: x}, installed]}", {"pkg": [{"name": "x"}, "installed"]}),
    ("pkg.installed", {"pkg": ["installed"]}),
    ("{pkg.installed: [], service.running: [{enable: true}]}",
     {"pkg": ["installed"], "service": ["running", {"enable": True}]}),
])
def test_body_spellings(tmp_path: Path, body: str, expected: dict[str, Any]) -> None:
    high = gather(tmp_path, {"a.sls": f"vim: {body}\n"}, "a")
    assert high["vim"] == {"__sls__": "a", "__env__": "base", **expected}


@pytest.mark.parametrize(("body", "message"), [
    ("[pkg.installed]", "ID 'vim' in SLS 'base:a' is not a dictionary"),
    ("42", "ID 'vim' in SLS 'base:a' is not a dictionary"),
    ("{pkg: [installed, removed]}", "too many functions declared for 'pkg': installed, removed"),
    ("{pkg.installed: [removed]}", "too many functions declared for 'pkg'"),
    ("{pkg: [{name: x}]}", "No function declared in state 'pkg' in SLS 'base:a' "
                           "(state id 'vim')"),
    ("{pkg: []}", "No function declared in state 'pkg'"),
    ("{pkg.installed: [], pkg: [removed]}", "'pkg' is declared twice"),
    ("{pkg.installed: {name: x}}", "the arguments of 'pkg.installed' must be a list"),
    ("{pkg.installed: [{name: x, version: 1}]}", "must be a single 'name: value' pair"),
    ("{pkg.installed: [[x]]}", "bad argument"),
])
def test_bad_bodies(tmp_path: Path, body: str, message: str) -> None:
    error = gather_error(tmp_path, {"a.sls": f"vim: {body}\n"}, "a")
    assert message in error


def test_errors_from_several_files_are_reported_together(tmp_path: Path) -> None:
    error = gather_error(tmp_path, {
        "a.sls": "include: [b]\nx: 42\n",
        "b.sls": "y: {pkg: []}\n",
    }, "a")
    assert "ID 'x' in SLS 'base:a'" in error
    assert "state id 'y'" in error


def test_normalize_body_without_a_function_for_extend() -> None:
    errors: list[str] = []
    assert normalize_body("i", {"pkg": [{"a": 1}]}, "w", errors, need_fun=False) == {
        "pkg": [{"a": 1}]}
    assert errors == []


def test_file_rendering_to_a_non_mapping(tmp_path: Path) -> None:
    error = gather_error(tmp_path, {"a.sls": "- just\n- a list\n"}, "a")
    assert "SLS base:a (a.sls): does not render to a mapping" in error


def test_empty_file_adds_nothing(tmp_path: Path) -> None:
    high = gather(tmp_path, {"a.sls": "include: [b]\n", "b.sls": "{% if false %}x: y{% endif %}\n"},
                  "a")
    assert high == {}


# -- rendering ------------------------------------------------------------------


@pytest.mark.parametrize(("text", "where"), [
    ("a: test.nop\n\n{{ broken( }}\n", "a.sls, line 3"),
    ("a: test.nop\nb: x\n  c: d\n", "a.sls, line 3"),
    ("a: test.nop\n{{ salt['test.exception']('boom') }}\n", "a.sls, line 2"),
])
def test_render_errors_carry_file_and_line(tmp_path: Path, text: str, where: str) -> None:
    error = gather_error(tmp_path, {"a.sls": text}, "a")
    assert error.startswith("Rendering SLS 'base:a' failed: ")
    assert where in error


def test_render_error_in_an_included_file_names_it(tmp_path: Path) -> None:
    error = gather_error(tmp_path, {"a.sls": "include: [sub.b]\na: test.nop\n",
                                    "sub/b.sls": "x: y\n{% endif %}\n"}, "a")
    assert "Rendering SLS 'base:sub.b' failed: sub/b.sls, line 2" in error


def test_templates_see_grains_pillar_and_sls_paths(tmp_path: Path) -> None:
    high = gather(tmp_path, {"web/conf.sls": """
        x:
          test.nop:
            - os: {{ grains['os'] }}
            - role: {{ pillar['role'] }}
            - sls: {{ sls }}
            - slspath: {{ slspath }}
            - ping: {{ salt['test.ping']() }}
        """}, "web.conf")
    assert high["x"]["test"][1:] == [{"os": "Debian"}, {"role": "front"},
                                     {"sls": "web.conf"}, {"slspath": "web"}, {"ping": True}]


# -- top file -------------------------------------------------------------------


@pytest.mark.parametrize(("top", "expected"), [
    ("base: {'web*': [web], 'db*': [db]}", {"base": ["web"]}),
    ("base: {'*': [common], 'web1': [web, common]}", {"base": ["common", "web"]}),
    ("base: {'G@os:Debian and web*': [deb]}", {"base": ["deb"]}),
    ("base: {'G@os:RedHat or db*': [rh]}", {}),
    ("base: {'not db*': [notdb]}", {"base": ["notdb"]}),
    ("base:\n  'os:Debian':\n    - match: grain\n    - deb\n", {"base": ["deb"]}),
    ("base:\n  'os:RedHat':\n    - match: grain\n    - rh\n", {}),
    ("base:\n  'roles:web':\n    - match: grain\n    - web\n", {"base": ["web"]}),
    ("base:\n  'role:front':\n    - match: pillar\n    - front\n", {"base": ["front"]}),
    ("base:\n  'web1,web2':\n    - match: list\n    - listed\n", {"base": ["listed"]}),
    ("base: {'*': [common]}\ndev: {'web*': [devweb]}\nqa: {'db*': [nope]}\n",
     {"base": ["common"], "dev": ["devweb"]}),
    ("base: {'*': single}", {"base": ["single"]}),
])
def test_top_file_matching(tmp_path: Path, top: str, expected: dict[str, list[str]]) -> None:
    write(tmp_path, {"top.sls": top + "\n"})
    assert Gatherer(make_ctx({"base": tmp_path}), "base").top() == expected


def test_top_file_is_a_jinja_template(tmp_path: Path) -> None:
    write(tmp_path, {"top.sls": "base:\n  '*':\n    - {{ grains['os'] | lower }}\n"})
    assert Gatherer(make_ctx({"base": tmp_path}), "base").top() == {"base": ["debian"]}


def test_no_top_file_matches_nothing(tmp_path: Path) -> None:
    assert Gatherer(make_ctx({"base": tmp_path}), "base").top() == {}


@pytest.mark.parametrize(("top", "message"), [
    ("- a\n- b\n", "top.sls in base: expected a mapping of environments"),
    ("base: [a]\n", "environment 'base' must map targets to SLS lists"),
    ("base: {'G@os:Debian and (web*': [x]}\n", "top.sls in base: compound target"),
])
def test_bad_top_files(tmp_path: Path, top: str, message: str) -> None:
    write(tmp_path, {"top.sls": top})
    with pytest.raises(SLSError, match=message.replace("(", r"\(")):
        Gatherer(make_ctx({"base": tmp_path}), "base").top()


def test_highstate_merges_every_environments_top_file(tmp_path: Path) -> None:
    base, dev = tmp_path / "base", tmp_path / "dev"
    write(base, {"top.sls": "base:\n  '*': [a]\ndev:\n  '*': [d1]\n"})
    write(dev, {"top.sls": "dev:\n  '*': [d2, d1]\nbase:\n  '*': [b]\n"})
    ctx = make_ctx({"base": base, "dev": dev})
    # No saltenv: all top files, base first, each environment's lists merged.
    assert Gatherer(ctx, "base").top(all_envs=True) == {"base": ["a", "b"],
                                                        "dev": ["d1", "d2"]}
    # A saltenv given: only that environment's top file.
    assert Gatherer(ctx, "dev").top() == {"dev": ["d2", "d1"], "base": ["b"]}
