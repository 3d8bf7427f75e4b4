"""grains.setval and friends: change grains in memory and in <config_dir>/grains."""

from __future__ import annotations

import stat
from pathlib import Path
from typing import Any

import pytest
import yaml

from minion.context import Context
from minion.grains.core import static_grains
from minion.grains.store import nest
from minion.loader import Registry


def make_ctx(config_dir: Path, grains: dict[str, Any] | None = None) -> Context:
    opts = {"id": "m1", "config_dir": str(config_dir)}
    base = {"id": "m1", "os": "Debian", "os_family": "Debian"} if grains is None else grains
    return Context(opts, dict(base), {}, Registry.load(opts, base))


@pytest.fixture
def ctx(tmp_path: Path) -> Context:
    return make_ctx(tmp_path)


def on_disk(ctx: Context) -> dict[str, Any]:
    return static_grains({}, ctx.opts["config_dir"])


def test_setval_persists_and_updates_grains(ctx: Context, tmp_path: Path) -> None:
    seen: list[dict[str, Any]] = []
    ctx.on_grains_changed = seen.append
    assert ctx.call("grains.setval", "role", "web") == {"role": "web"}
    assert ctx.grains["role"] == "web"
    assert ctx.call("grains.get", "role") == "web"
    assert on_disk(ctx) == {"role": "web"}
    assert seen and seen[-1] is ctx.grains
    path = tmp_path / "grains"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["grains"]  # no temp files left behind
    ctx.call("grains.setval", "nested", {"a": [1, 2]})
    assert on_disk(ctx) == {"role": "web", "nested": {"a": [1, 2]}}
    assert ctx.call("grains.get", "nested:a:1") == 2


def test_setvals_keeps_other_keys_in_the_file(ctx: Context, tmp_path: Path) -> None:
    (tmp_path / "grains").write_text("hand_written: yes\n")
    assert ctx.call("grains.setvals", {"a": 1, "b": [2]}) == {"a": 1, "b": [2]}
    assert on_disk(ctx) == {"hand_written": True, "a": 1, "b": [2]}
    assert ctx.grains["os"] == "Debian"
    with pytest.raises(ValueError, match="mapping"):
        ctx.call("grains.setvals", ["a"])


def test_static_grains_file_overrides_config(ctx: Context) -> None:
    ctx.call("grains.setval", "role", "db")
    assert static_grains({"grains": {"role": "web", "dc": "x"}}, ctx.opts["config_dir"]) == {
        "role": "db", "dc": "x"}


def test_append_and_remove(ctx: Context) -> None:
    assert ctx.call("grains.append", "roles", "web") == {"roles": ["web"]}
    assert ctx.call("grains.append", "roles", ["db", "cache"]) == {
        "roles": ["web", "db", "cache"]}
    assert ctx.call("grains.append", "roles", "web") == "The val web was already in the list roles"
    assert on_disk(ctx) == {"roles": ["web", "db", "cache"]}
    assert ctx.call("grains.remove", "roles", "db") == {"roles": ["web", "cache"]}
    assert ctx.call("grains.remove", "roles", "nope") == "The val nope was not in the list roles"
    assert on_disk(ctx)["roles"] == ["web", "cache"]
    with pytest.raises(ValueError, match="not a list"):
        ctx.call("grains.append", "os", "x")
    assert ctx.call("grains.append", "os", "x", convert=True) == {"os": ["Debian", "x"]}


def test_append_nested_key(ctx: Context) -> None:
    ctx.call("grains.setval", "app", {"name": "shop", "ports": [80]})
    assert ctx.call("grains.append", "app:ports", 443) == {
        "app": {"name": "shop", "ports": [80, 443]}}
    assert ctx.call("grains.append", "app|tags", "blue", delimiter="|") == {
        "app": {"name": "shop", "ports": [80, 443], "tags": ["blue"]}}
    assert on_disk(ctx)["app"]["tags"] == ["blue"]
    assert ctx.call("grains.remove", "app:ports", 80) == {
        "app": {"name": "shop", "ports": [443], "tags": ["blue"]}}


def test_delval_and_delkey(ctx: Context) -> None:
    ctx.call("grains.setvals", {"a": 1, "b": 2})
    assert ctx.call("grains.delval", "a") == {"a": None}
    assert ctx.grains["a"] is None and on_disk(ctx) == {"a": None, "b": 2}
    assert ctx.call("grains.delval", "a", destructive=True) == {"a": None}
    assert "a" not in ctx.grains and on_disk(ctx) == {"b": 2}
    ctx.call("grains.delkey", "b")
    assert "b" not in ctx.grains and on_disk(ctx) == {}
    ctx.call("grains.delkey", "never-set")  # removing what is not there is fine


def test_has_value(ctx: Context) -> None:
    ctx.call("grains.setval", "pkg", {"apache": "httpd", "off": False})
    assert ctx.call("grains.has_value", "pkg:apache") is True
    assert ctx.call("grains.has_value", "pkg:off") is True
    assert ctx.call("grains.has_value", "pkg:nginx") is False
    assert ctx.call("grains.has_value", "os") is True


def test_bad_grains_file_is_one_clear_error(ctx: Context, tmp_path: Path) -> None:
    (tmp_path / "grains").write_text("a: [unclosed\n")
    with pytest.raises(ValueError, match="invalid YAML"):
        ctx.call("grains.setval", "x", 1)
    assert "x" not in ctx.grains


def test_missing_config_dir(tmp_path: Path) -> None:
    opts = {"id": "m1"}
    ctx = Context(opts, {}, {}, Registry.load(opts, {}))
    with pytest.raises(ValueError, match="config_dir"):
        ctx.call("grains.setval", "x", 1)


def test_nest_helper() -> None:
    grains = {"a": {"b": [1]}, "l": [{"k": {"v": 1}}]}
    assert nest(grains, "top", 5) == ("top", 5)
    assert nest(grains, "a:b", [1, 2]) == ("a", {"b": [1, 2]})
    assert nest(grains, "new:x:y", 1) == ("new", {"x": {"y": 1}})
    assert nest(grains, "l:k:v", 2) == ("l", [{"k": {"v": 2}}])
    assert nest(grains, "l:0:k", 3) == ("l", [{"k": 3}])
    assert grains == {"a": {"b": [1]}, "l": [{"k": {"v": 1}}]}  # input untouched
    with pytest.raises(ValueError, match="a:b:c"):
        nest(grains, "a:b:c", 1)


LOOKUP: dict[str, Any] = {
    "default": {"pkg": "apache", "conf": {"port": 80, "user": "www"}},
    "Debian": {"pkg": "apache2", "conf": {"user": "www-data"}},
    "Red*": {"pkg": "httpd"},
    "base": {"conf": {"port": 8080, "log": "/var/log"}},
}


@pytest.mark.parametrize(("grains", "kwargs", "expected"), [
    ({"os_family": "Debian"}, {}, {"pkg": "apache2", "conf": {"user": "www-data"}}),
    ({"os_family": "RedHat"}, {}, {"pkg": "httpd"}),
    ({"os_family": "Arch"}, {}, LOOKUP["default"]),
    ({"os_family": "Arch"}, {"default": "Debian"}, LOOKUP["Debian"]),
    ({}, {}, LOOKUP["default"]),
    ({"roles": ["x", "Debian"]}, {"grain": "roles"}, LOOKUP["Debian"]),
    ({"os_family": "Debian"}, {"merge": {"conf": {"port": 443}}},
     {"pkg": "apache2", "conf": {"user": "www-data", "port": 443}}),
    ({"os_family": "Debian"}, {"base": "base"},
     {"pkg": "apache2", "conf": {"port": 8080, "log": "/var/log", "user": "www-data"}}),
    ({"os_family": "Arch"}, {"default": "none"}, None),
    ({"os_family": "Arch"}, {"default": "none", "merge": {"a": 1}}, {"a": 1}),
])
def test_filter_by(tmp_path: Path, grains: dict[str, Any], kwargs: dict[str, Any],
                   expected: Any) -> None:
    ctx = make_ctx(tmp_path, grains)
    before = yaml.safe_dump(LOOKUP)
    assert ctx.call("grains.filter_by", LOOKUP, **kwargs) == expected
    assert yaml.safe_dump(LOOKUP) == before  # the table is never modified


def test_filter_by_nested_grain_and_plain_values(tmp_path: Path) -> None:
    ctx = make_ctx(tmp_path, {"env": {"tier": "prod"}})
    assert ctx.call("grains.filter_by", {"prod": 3, "dev": 1}, grain="env:tier") == 3
    with pytest.raises(TypeError, match="non-dict"):
        ctx.call("grains.filter_by", {"prod": 3}, grain="env:tier", merge={"a": 1})
