"""Look up settings the way Salt's ``config`` module does: minion options, grains, pillar.

A key is searched in this order, the first hit winning: the minion's
options, its grains, its pillar, the master's options as the pillar carries
them (under the pillar key ``master``, when the master shares them), and
last a short table of built-in defaults. Nested keys use ``a:b:c``.
"""

from __future__ import annotations

import copy
import fnmatch
import logging
from collections.abc import Iterable, Mapping
from typing import Any

from minion.context import Context
from minion.modules import _merge
from minion.modules.grains import traverse

__all__ = ["dot_vals", "get", "items", "merge", "option"]

log = logging.getLogger(__name__)

_MISSING = object()

# Built-in answers of Salt's config module that formulas may ask for.
DEFAULTS: dict[str, Any] = {
    "hosts.file": "/etc/hosts",
    "aliases.file": "/etc/aliases",
    "test.foo": "unconfigured",
    "ca.cert_base_path": "/etc/pki",
    "virt": {"tunnel": False, "images": "/srv/salt-images"},
}


def _opts(ctx: Context) -> Mapping[str, Any]:
    # As in Salt, the options say test=True while a state run is in test mode.
    return {**ctx.opts, "test": bool(ctx.test or ctx.opts.get("test"))}


def _master(ctx: Context) -> Mapping[str, Any]:
    master = ctx.pillar.get("master", {})
    return master if isinstance(master, Mapping) else {}


def _sources(ctx: Context, omit_opts: bool, omit_grains: bool, omit_pillar: bool,
             omit_master: bool) -> Iterable[Mapping[str, Any]]:
    for omit, data in ((omit_opts, _opts(ctx)), (omit_grains, ctx.grains),
                       (omit_pillar, ctx.pillar), (omit_master, _master(ctx))):
        if not omit:
            yield data
    yield DEFAULTS


def get(ctx: Context, key: str, default: Any = "", delimiter: str = ":",
        merge: str | None = None, omit_opts: bool = False, omit_pillar: bool = False,
        omit_master: bool = False, omit_grains: bool = False) -> Any:
    """Return a setting from the minion options, grains, pillar or master options.

    key
        The setting; ``a:b:c`` reaches into nested data.
    default
        What to return when no source has the key (default: empty string).
    delimiter
        Separator for nested keys (default ``:``).
    merge
        ``recurse`` or ``overwrite``: merge all sources first (master options,
        then pillar, grains and minion options over them), then look the key
        up in the result. Another value is read as ``recurse``.
    omit_opts, omit_grains, omit_pillar, omit_master
        Leave that source out (without merge).

    CLI Example:

        master run '*' config.get apache:port default=80
    """
    if merge is None:
        for data in _sources(ctx, omit_opts, omit_grains, omit_pillar, omit_master):
            found = traverse(data, key, _MISSING, delimiter)
            if found is not _MISSING:
                return found
        return default
    if merge not in ("recurse", "overwrite"):
        log.warning("Unsupported merge strategy '%s'. Falling back to 'recurse'.", merge)
        merge = "recurse"
    merged: Any = copy.copy(DEFAULTS)
    for layer in (_master(ctx), ctx.pillar, ctx.grains, _opts(ctx)):
        merged = _merge.merge(merged, layer, strategy=merge)
    found = traverse(merged, key, _MISSING, delimiter)
    return default if found is _MISSING else found


def option(ctx: Context, value: str, default: Any = None, omit_opts: bool = False,
           omit_grains: bool = False, omit_pillar: bool = False, omit_master: bool = False,
           omit_all: bool = False, wildcard: bool = False) -> Any:
    """Return a top-level setting (no ``a:b`` nesting), in config.get's order.

    value
        The setting's name; with `wildcard`, a glob such as ``mysql.*``.
    default
        What to return without a match (default: empty string, or ``{}``
        with `wildcard`).
    omit_opts, omit_grains, omit_pillar, omit_master
        Leave that source out; `omit_all` leaves all of them out, so only
        the built-in defaults answer.
    wildcard
        Return ``{name: value}`` of every setting whose name matches the
        glob, minion options winning over grains, pillar and master options.

    CLI Example:

        master run '*' config.option hosts.file
    """
    if omit_all:
        omit_opts = omit_grains = omit_pillar = omit_master = True
    if default is None:
        default = {} if wildcard else ""
    sources = list(_sources(ctx, omit_opts, omit_grains, omit_pillar, omit_master))
    if not wildcard:
        for data in sources:
            if value in data:
                return data[value]
        return default
    ret: dict[str, Any] = {}
    for data in reversed(sources[:-1]):
        ret.update({name: data[name] for name in fnmatch.filter(data, value)})
    for name in fnmatch.filter(DEFAULTS, value):
        ret.setdefault(name, DEFAULTS[name])
    return ret or default


def merge(ctx: Context, value: str, default: Any = "", omit_opts: bool = False,
          omit_master: bool = False, omit_pillar: bool = False) -> Any:
    """Return a top-level setting combined from every source that has it.

    A string is returned from the first source that has it; mappings are
    combined (minion options win over master options, which win over
    pillar) and lists concatenated.

    CLI Example:

        master run '*' config.merge schedule
    """
    ret: Any = None
    for omit, data in ((omit_opts, _opts(ctx)), (omit_master, _master(ctx)),
                       (omit_pillar, ctx.pillar)):
        if omit or value not in data:
            continue
        found = data[value]
        if ret is None:
            ret = found
            if isinstance(ret, str):
                return ret
        elif isinstance(ret, dict) and isinstance(found, dict):
            ret = {**found, **ret}
        elif isinstance(ret, list | tuple) and isinstance(found, list | tuple):
            ret = list(ret) + list(found)
    if ret is None:
        return DEFAULTS.get(value, default)
    return ret


def items(ctx: Context) -> dict[str, Any]:
    """Return every option of this minion, defaults included.

    CLI Example:

        master run '*' config.items
    """
    return dict(_opts(ctx))


def dot_vals(ctx: Context, value: str) -> dict[str, Any]:
    """Return every ``<value>.name`` setting of the master options and minion options.

    CLI Example:

        master run '*' config.dot_vals mysql
    """
    ret: dict[str, Any] = {}
    for data in (_master(ctx), ctx.opts):
        ret.update({k: v for k, v in data.items() if str(k).startswith(f"{value}.")})
    return ret
