"""Merge formula defaults with pillar data, in place, the way Salt's ``defaults`` module does."""

from __future__ import annotations

import copy
import json
import logging
from typing import Any

import yaml

from minion.context import Context
from minion.modules import _merge
from minion.modules.grains import traverse

__all__ = ["deepcopy", "get", "merge", "update"]

log = logging.getLogger(__name__)


def merge(ctx: Context, dest: Any, src: Any, merge_lists: bool = False,
          in_place: bool = True, convert_none: bool = True) -> Any:
    """Deep-merge ``src`` into ``dest`` and return the result.

    merge_lists
        Extend lists found under the same key instead of replacing them.
    in_place
        Change ``dest`` itself (the default); with False, merge into a copy.
    convert_none
        Treat a None ``src`` (and, when not in place, ``dest``) as ``{}``.

    CLI Example:

        master run '*' defaults.merge '{a: b}' '{d: e}'
    """
    if src is None and convert_none:
        src = {}
    if dest is None and convert_none:
        if in_place:
            raise TypeError("Can't perform in-place merge into NoneType")
        dest = {}
    merged = dest if in_place else copy.deepcopy(dest)
    return _merge.update(merged, src, merge_lists=merge_lists)


def deepcopy(ctx: Context, source: Any) -> Any:
    """Return a deep copy of ``source``, so changing one leaves the other alone.

    CLI Example:

        master run '*' defaults.deepcopy '{a: [1, 2]}'
    """
    return copy.deepcopy(source)


def update(ctx: Context, dest: Any, defaults: Any, merge_lists: bool = True,
           in_place: bool = True, convert_none: bool = True) -> Any:
    """Give every entry of ``dest`` (a mapping of mappings) the ``defaults`` it lacks.

    Each ``dest[name]`` becomes a copy of ``defaults`` merged with the entry's
    own values, which win.

    merge_lists
        Extend lists of the defaults with the entry's items (default True).
    in_place
        Change ``dest`` itself (the default); with False, work on a copy.
    convert_none
        Treat None as ``{}`` where that is possible.

    CLI Example:

        master run '*' defaults.update '{host01: {index: foo}}' '{enabled: true}'
    """
    if in_place:
        if dest is None:
            raise TypeError("Can't perform in-place update into NoneType")
        nodes = dest
    else:
        nodes = copy.deepcopy({} if dest is None and convert_none else dest)
    if defaults is None and convert_none:
        defaults = {}
    for name, values in nodes.items():
        nodes[name] = merge(ctx, copy.deepcopy(defaults), values, merge_lists=merge_lists,
                            convert_none=convert_none)
    return nodes


def get(ctx: Context, key: str, default: Any = "") -> Any:
    """Return a value of a formula's ``defaults.yaml`` (or ``defaults.json``) file.

    The first part of the key names the formula: ``core:users:root`` reads
    ``salt://core/defaults.yaml`` and returns its ``users:root`` value.

    CLI Example:

        master run '*' defaults.get core:users:root
    """
    namespace, _, rest = key.partition(":")
    defaults = _load(ctx, namespace)
    if rest:
        return traverse(defaults, rest, default)
    return defaults


def _load(ctx: Context, formula: str) -> Any:
    files = ctx.fileclient()
    for ext, loader in (("yaml", yaml.safe_load), ("json", json.loads)):
        try:
            text = files.get_source("base", f"{formula}/defaults.{ext}")
        except (FileNotFoundError, ValueError):
            continue
        log.debug("Reading defaults from %s/defaults.%s", formula, ext)
        return loader(text) or {}
    return None
