"""Salt's dictionary merging rules, shared by slsutil, defaults, config, pillar and grains.

Not an execution module (the leading underscore keeps it out of the
registry). The rules are Salt's ``dictupdate`` ones, because formulas depend
on their exact results, including which arguments get changed in place:

- `update` merges into `dest` itself; values taken from `upd` are put in by
  reference, not copied.
- `merge` (strategy ``recurse``) works on a deep copy of its first argument;
  ``overwrite`` first replaces the shared top-level keys of the first
  argument in place, as Salt does.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Iterable, Mapping, MutableMapping
from typing import Any

log = logging.getLogger(__name__)

STRATEGIES = ("smart", "recurse", "overwrite", "aggregate", "list", "none")


def update(dest: Any, upd: Any, recursive_update: bool = True,
           merge_lists: bool = False) -> Any:
    """Merge `upd` into `dest` and return `dest`.

    Nested mappings merge; any other value of `upd` replaces the one in
    `dest`. With `merge_lists`, a list in `upd` extends the list in `dest`
    by the items it does not hold yet (the result is a new list). Without
    `recursive_update` this is a plain top-level ``dict.update``.
    """
    if not isinstance(dest, MutableMapping) or not isinstance(upd, Mapping):
        raise TypeError("Cannot update using non-dict types in dictupdate.update()")
    if not recursive_update:
        for key in upd:
            dest[key] = upd[key]
        return dest
    for key in upd:
        val = upd[key]
        current = dest.get(key)
        if isinstance(current, MutableMapping) and isinstance(val, Mapping):
            dest[key] = update(current, val, merge_lists=merge_lists)
        elif merge_lists and isinstance(current, list) and isinstance(val, list):
            merged = copy.deepcopy(current)
            merged.extend(item for item in val if item not in merged)
            dest[key] = merged
        else:
            dest[key] = val
    return dest


def merge(obj_a: Any, obj_b: Any, strategy: str = "smart", renderer: str = "yaml",
          merge_lists: bool = False) -> Any:
    """Merge `obj_b` into (a copy of) `obj_a` with one of Salt's strategies.

    smart
        ``aggregate`` when `renderer` is yamlex, else ``recurse``.
    recurse
        Deep merge into a deep copy of `obj_a`.
    overwrite
        Top-level keys of `obj_b` replace those of `obj_a` whole.
    aggregate
        Top-level keys merge; below that `obj_b`'s values win.
    list
        Keys in both become ``[value_a, value_b]``; keys only in `obj_b` are dropped.
    none
        Like recurse, without list merging.

    An unknown strategy falls back to ``recurse`` (without list merging), with
    a warning in the log.
    """
    if strategy == "smart":
        last = str(renderer).split("|")[-1]
        strategy = "aggregate" if last == "yamlex" or str(renderer).startswith("yamlex_") \
            else "recurse"
    if strategy == "list":
        return _merge_list(obj_a, obj_b)
    if strategy == "recurse":
        return update(copy.deepcopy(obj_a), obj_b, merge_lists=merge_lists)
    if strategy == "aggregate":
        return _aggregate_top(obj_a, obj_b)
    if strategy == "overwrite":
        for key in obj_b:
            if key in obj_a:
                obj_a[key] = obj_b[key]
        return update(copy.deepcopy(obj_a), obj_b, merge_lists=merge_lists)
    if strategy != "none":
        log.warning("Unknown merging strategy '%s', fallback to recurse", strategy)
    return update(copy.deepcopy(obj_a), obj_b)


def merge_all(objects: Iterable[Any], strategy: str = "smart", renderer: str = "yaml",
              merge_lists: bool = False) -> Any:
    """Merge each object of `objects` in turn into an empty mapping."""
    ret: Any = {}
    for obj in objects:
        ret = merge(ret, obj, strategy, renderer, merge_lists)
    return ret


def _merge_list(obj_a: Mapping[Any, Any], obj_b: Mapping[Any, Any]) -> dict[Any, Any]:
    return {key: [val, obj_b[key]] if key in obj_b else val for key, val in obj_a.items()}


def _aggregate_top(obj_a: Mapping[Any, Any], obj_b: Mapping[Any, Any]) -> dict[Any, Any]:
    # Salt aggregates the top level; below it only data tagged by the yamlex
    # renderer would aggregate, and jinja data never is, so obj_b's keys win.
    response = dict(obj_a)
    for key, value in obj_b.items():
        response[key] = _keep_b(obj_a[key], value) if key in obj_a else value
    return response


def _keep_b(obj_a: Any, obj_b: Any) -> Any:
    if isinstance(obj_a, Mapping) and isinstance(obj_b, Mapping):
        response = copy.copy(obj_b)
        for key, value in obj_b.items():
            if key in obj_a:
                response[key] = _keep_b(obj_a[key], value)  # type: ignore[index]
        return response
    return copy.copy(obj_b)
