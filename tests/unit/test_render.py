"""Rendering as Salt does it: YAML quirks, jinja imports, Salt's filters, error words, pillar."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from common import yamlload
from common.pillar import PillarCompiler
from common.render import RenderError, render_jinja, render_sls
from minion.states.filesource import template_names


class Files:
    """A TemplateSource over a dict of texts."""

    def __init__(self, files: dict[str, str]) -> None:
        self.files = files

    def get_source(self, env: str, path: str) -> str:
        if path not in self.files:
            raise FileNotFoundError(f"no file {path!r} in environment {env!r}")
        return self.files[path]


def jinja(text: str, files: dict[str, str] | None = None, name: str = "main.sls",
          **context: Any) -> str:
    context.setdefault("opts", {})
    return render_jinja(text, name, context, Files(files or {}))


def error(text: str, files: dict[str, str] | None = None, name: str = "main.sls",
          **context: Any) -> str:
    with pytest.raises(RenderError) as info:
        render_sls(text, name, {"opts": {}, **context}, Files(files or {}))
    return str(info.value)


# -- YAML -------------------------------------------------------------------------


def test_a_key_next_to_a_merge_key_wins_over_the_anchor() -> None:
    text = "base: &b {x: 1, y: 2}\nover:\n  <<: *b\n  y: 3\n"
    assert yamlload.load(text)["over"] == {"x": 1, "y": 3}


def test_a_merge_list_adds_every_mapping() -> None:
    text = "a: &a {x: 1}\nb: &b {w: 5}\nm:\n  <<: [*a, *b]\n  z: 7\n"
    assert yamlload.load(text)["m"] == {"x": 1, "w": 5, "z": 7}


def test_a_key_in_two_merged_mappings_is_a_conflict_as_in_salt() -> None:
    with pytest.raises(yamlload.YamlError, match="found conflicting ID 'x'"):
        yamlload.load("a: &a {x: 1}\nm:\n  <<: [*a, {x: 2}]\n")


@pytest.mark.parametrize(("text", "value"), [
    ("v: 0644", 644), ("v: -0644", -420), ("v: 000", 0), ("v: 0x1F", 31), ("v: 0b101", 5),
    ("v: 1_000", 1000), ("v: '0644'", "0644"), ("v: 2001-12-14", "2001-12-14"),
    ("v: 2001-12-14 21:59:43.10 -5", "2001-12-14 21:59:43.10 -5"), ("v: on", True),
    ("v: off", False), ("v: y", "y"), ("v: 1e3", "1e3"), ("v: 1:20", 80),
])
def test_scalars_read_as_salt_reads_them(text: str, value: Any) -> None:
    assert yamlload.load(text)["v"] == value


@pytest.mark.parametrize(("text", "words"), [
    ("a:\n  b: 1\na: 2\n", ["x.sls, line 3, column 1", "while constructing a mapping",
                             "found conflicting ID 'a'"]),
    ("a: [1, 2\nb: 3\n", ["x.sls, line 2", "while parsing a flow sequence",
                           "did not find expected ',' or ']'"]),
    ("a: @x\n", ["x.sls, line 1, column 4", "found character that cannot start any token"]),
    ("{a: 1}: 2\n", ["found unacceptable key"]),
])
def test_yaml_errors_name_the_place_and_use_pyyamls_words(text: str, words: list[str]) -> None:
    with pytest.raises(yamlload.YamlError) as info:
        yamlload.load(text, "x.sls")
    for word in words:
        assert word in str(info.value)


# -- jinja error words ------------------------------------------------------------


@pytest.mark.parametrize(("text", "words"), [
    ("a: {{ nothere }}\n", ["main.sls, line 1: Jinja variable 'nothere' is undefined"]),
    ("x: 1\na: {{ d.y }}\n", ["main.sls, line 2: Jinja variable 'dict object' has no "
                              "attribute 'y'"]),
    ("a: {% if %}\n", ["main.sls, line 1: Jinja syntax error: Expected an expression"]),
    ("a: {{ raise('custom failure') }}\n", ["main.sls, line 1: Jinja error: custom failure"]),
    ("{% import_yaml 'bad.yaml' as b %}\n", ["main.sls, line 1: Jinja syntax error: "
                                             "Encountered error loading yaml: bad.yaml, line 2",
                                             "found conflicting ID 'k'"]),
    ("a: [1\n", ["main.sls, line 2", "did not find expected"]),
])
def test_render_errors_keep_the_place_and_carry_salts_words(text: str,
                                                            words: list[str]) -> None:
    message = error(text, {"bad.yaml": "k: 1\nk: 2\n"}, d={})
    for word in words:
        assert word in message


def test_an_error_in_an_imported_template_names_that_file() -> None:
    files = {"app/map.jinja": "{% set x = 1 %}\n{% set y = nothere + 1 %}\n"}
    message = error("{% from 'app/map.jinja' import x %}\na: 1\n", files)
    assert message.startswith("app/map.jinja, line 2: Jinja variable 'nothere' is undefined")


# -- imports ----------------------------------------------------------------------


def test_import_yaml_renders_the_file_with_jinja_first() -> None:
    files = {"app/defaults.yaml": "port: {{ 40 + 40 }}\nrole: {{ role }}\n"}
    out = jinja("{% import_yaml 'app/defaults.yaml' as d with context %}{{ d | json }}",
                files, role="web")
    assert out == '{"port": 80, "role": "web"}'


def test_import_json_and_text_and_load_blocks() -> None:
    files = {"a.json": '{"k": [{{ 1 + 1 }}]}', "t.txt": "hello {{ who }}\n"}
    out = jinja("{% import_json 'a.json' as j %}{% import_text 't.txt' as t %}"
                "{% load_yaml as y %}n: {{ 2 * 3 }}{% endload %}"
                "{{ [j, t, y] | json }}", files, who="you")
    # A template's last newline is dropped, as Salt's jinja does for imported files.
    assert out == '[{"k": [2]}, "hello you", {"n": 6}]'


def test_relative_imports_resolve_beside_the_importing_file() -> None:
    files = {"web/map.jinja": "{% import_yaml './d.yaml' as d %}{% set m = d %}",
             "web/d.yaml": "dir: {{ tpldir }}\nfile: {{ tplfile }}\n",
             "common.jinja": "{% set c = 'common' %}"}
    out = jinja("{% from './map.jinja' import m %}{% from '../common.jinja' import c %}"
                "{{ [m, c] | json }}", files, name="web/init.sls", tpldir="web")
    assert out == '[{"dir": "web", "file": "./d.yaml"}, "common"]'


def test_a_relative_import_cannot_leave_the_file_roots() -> None:
    message = error("{% from '../../etc/passwd' import x %}\n", name="web/init.sls")
    assert "Jinja error: ../../etc/passwd (not found: outside the file roots)" in message


# -- filters, tests, globals -------------------------------------------------------


@pytest.mark.parametrize(("expr", "out"), [
    ("{'a': {'b': [1, {'c': 2}]}} | traverse('a:b:c')", "2"),
    ("{'a': {'b': [1, {'c': 2}]}} | traverse('a:b:0')", "1"),
    ("{'a': 1} | traverse('x:y', 'dflt')", "dflt"),
    ("['yes', 'On', 2, 0, none, [1]] | map('to_bool') | list", "[True, False, True, False, "
     "False, True]"),
    ("'abcd' | regex_search('^(.*)BC(.*)$', ignorecase=True)", "('a', 'd')"),
    ("'abcd' | regex_match('b')", "None"),
    ("'a  b' | regex_replace('\\\\s+', '_')", "a_b"),
    ("['b', 'a', 'b'] | unique", "['b', 'a']"),
    ("'x' | sequence", "['x']"),
    ("'x y' | yaml_encode", '"x y"'),
    ("\"it's\" | yaml_squote", "'it''s'"),
    ("'/etc' | path_join('/app', 'x.conf')", "/etc/app/x.conf"),
    ("{'b': 1, 'a': [1]} | yaml", "{a: [1], b: 1}"),
    ("{'b': 1, 'a': 'é'} | json", '{"a": "é", "b": 1}'),
    ("[{'k': 1}] | dict_to_sls_yaml_params if false else {'n': 1} | dict_to_sls_yaml_params",
     "- n: 1"),
    ("'abc' | md5", "900150983cd24fb0d6963f7d28e17f72"),
    ("'hello' | base64_encode", "aGVsbG8="),
    ("'1040814000' | strftime", "2002-12-25"),
    ("'2K' | human_to_bytes", "2048"),
    ("['10.0.0.1', '::1', 'x'] | ipv4", "['10.0.0.1']"),
    ("'10.0.0.0/30' | network_size", "4"),
    ("'10.1.2.3' | is_ip('private')", "True"),
    ("[1, 2, 3] | compare_lists([2, 3, 4])", "{'new': [4], 'old': [1]}"),
    ("odict([('z', 1), ('a', 2)])", "{'z': 1, 'a': 2}"),
    ("{'a': 'x\\ny'}", '{\'a\': "x\\ny"}'),
    ("['abc' is match('a.c'), [1] is list, 3 is equalto(3)]", "[True, True, True]"),
])
def test_salts_filters(expr: str, out: str) -> None:
    assert jinja("{{ " + expr + " }}") == out


def test_the_do_and_loop_control_extensions() -> None:
    out = jinja("{% set l = [] %}{% for i in range(5) %}{% if i == 3 %}{% break %}{% endif %}"
                "{% do l.append(i) %}{% endfor %}{{ l }}")
    assert out == "[0, 1, 2]"


def test_jinja_env_options_and_a_files_jinja2_header() -> None:
    text = "#jinja2: {\"trim_blocks\": true}\n{% if true %}\nx\n{% endif %}\n"
    # Salt's answers: jinja drops the last newline, Salt adds one back.
    assert jinja(text) == "x\n\n"
    out = render_jinja("{% if true %}\n  y\n{% endif %}\n", "f",
                       {"opts": {"jinja_env": {"trim_blocks": True, "lstrip_blocks": True}}})
    assert out == "  y\n\n"


def test_a_final_newline_is_kept_once() -> None:
    assert jinja("a\n") == "a\n"
    assert jinja("a") == "a"


# -- pillar -----------------------------------------------------------------------


def write(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)


def test_pillar_sls_see_salts_names(tmp_path: Path) -> None:
    write(tmp_path, {
        "top.sls": "base:\n  '*':\n    - app.conf\n",
        "app/conf.sls": "names: {{ [sls, tplfile, tpldir, slspath, sls_path, saltenv] | json }}\n"
                        "path: {{ tplpath }}\nping: {{ salt['test.ping']() }}\n"
                        "<<: {x: 1, y: 2}\ny: 3\n",
    })
    functions = {"test.ping": lambda: True}
    pillar = PillarCompiler({"base": [str(tmp_path)]}, {}, functions).compile("m1", {})
    assert pillar == {"names": ["app.conf", "app/conf.sls", "app", "app", "app", "base"],
                      "path": str(tmp_path / "app/conf.sls"), "ping": True, "x": 1, "y": 3}


@pytest.mark.parametrize(("safe", "expected"), [
    (True, ["Rendering SLS 'app' failed. Please see master log for details."]),
    (False, ["Rendering SLS 'app' failed, render error:\napp/init.sls, line 1: "
             "Jinja variable 'nothere' is undefined"]),
])
def test_pillar_render_errors_in_salts_words(tmp_path: Path, safe: bool,
                                             expected: list[str]) -> None:
    write(tmp_path, {"top.sls": "base:\n  '*': [app, gone]\n", "app/init.sls": "{{ nothere }}\n"})
    opts = {"pillar_safe_render_error": safe}
    pillar = PillarCompiler({"base": [str(tmp_path)]}, opts).compile("m1", {})
    assert pillar["_errors"] == [*expected, "Specified SLS 'gone' in environment 'base' is "
                                            "not available on the salt master"]


# -- file templates ----------------------------------------------------------------


@pytest.mark.parametrize(("mode", "shown"), [(644, "0644"), ("0o755", "0755"), ("00600", "0600"),
                                             (None, None)])
def test_a_managed_files_template_sees_the_mode_as_salt_shows_it(mode: Any, shown: Any) -> None:
    names = template_names("salt://a/b.conf", "/etc/b.conf", "root", None, mode)
    assert names == {"source": "salt://a/b.conf", "name": "/etc/b.conf", "user": "root",
                     "group": None, "mode": shown, "attrs": None}


def test_host_filters(tmp_path: Path) -> None:
    (tmp_path / "t.txt").write_text("hello\n")
    (tmp_path / "b.bin").write_bytes(b"\0\1\2")
    (tmp_path / "e").write_text("")
    out = jinja("{{ [t | is_text_file, b | is_text_file, b | is_bin_file, e | is_empty, "
                "t | is_empty, d | list_files | length, 'root' | get_uid, 'nouser-x' | get_uid, "
                "t | file_hashsum('md5')] }}",
                t=str(tmp_path / "t.txt"), b=str(tmp_path / "b.bin"), e=str(tmp_path / "e"),
                d=str(tmp_path))
    assert out == ("[True, False, True, True, False, 4, 0, None, "
                   "'b1946ac92492d2347c6235b4d2611184']")


def test_pillar_on_the_master_reads_the_minions_grains(tmp_path: Path) -> None:
    write(tmp_path, {"top.sls": "base:\n  '*': [a]\n",
                     "a.sls": "os: {{ salt['grains.get']('os') }}\n"
                              "deep: {{ salt['grains.get']('x:y', 'none') }}\n"})
    pillar = PillarCompiler({"base": [str(tmp_path)]}, {}).compile("m1", {"os": "Debian"})
    assert pillar == {"os": "Debian", "deep": "none"}
