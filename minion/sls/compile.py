"""High data to ordered low chunks, the way Salt's state compiler does it.

The steps, in Salt's order (``call_high``):

1. `reconcile_extend`: the ``__extend__`` entries are merged into the ids
   they name (requisite lists grow, other arguments are replaced).
2. `verify_high`: structure errors (a declaration that is not a list, no
   function or too many, a requisite that is not a list, a two-state
   requisite loop...). Any error stops the run before anything executes.
3. `requisite_in`: ``require_in``/``watch_in``/``onchanges_in``/``onfail_in``,
   ``prereq``/``prereq_in`` and ``use``/``use_in`` become plain requisites
   (or arguments) on the states they name.
4. `apply_exclude`: ``exclude`` entries drop ids (by id, or SLS glob).
5. `compile_high_data`: one chunk per function call and name, sorted by
   ``order`` (10000 + definition position unless given), then by
   ``state + name + fun``.

A chunk keeps its requisites as written (``require: [{test: a}]``); they are
matched against the other chunks when the run gets to it (see `run`), so a
requisite on a missing state fails only that state.
"""

from __future__ import annotations

import copy
import fnmatch
from collections.abc import Iterable
from typing import Any

AUTO_ORDER_START = 10000
# Requisites whose lists grow (instead of being replaced) under extend.
REQUISITE_KEYWORDS = frozenset({
    "onchanges", "onchanges_any", "onfail", "onfail_any", "onfail_all", "onfail_stop",
    "prereq", "prerequired", "watch", "watch_any", "require", "require_any", "listen",
})
# Keys the engine acts on; state functions never see them.
RUNTIME_KEYWORDS = frozenset({
    "fun", "state", "check_cmd", "cmd_opts_exclude", "failhard", "onlyif", "unless",
    "creates", "retry", "order", "parallel", "prereq", "prereq_in", "prerequired",
    "reload_modules", "reload_grains", "reload_pillar", "fire_event", "saltenv", "umask",
    "use", "use_in", "__env__", "__sls__", "__id__", "__sls_included_from__", "__prereq__",
    "__prerequired__", "__umask__", "__reqs__", "require_in", "watch_in", "onchanges_in",
    "onfail_in", "listen_in", "name_order",
})
ENGINE_KEYS = REQUISITE_KEYWORDS | RUNTIME_KEYWORDS
_REQ_IN = ("require_in", "watch_in", "onfail_in", "onchanges_in", "use", "use_in", "prereq",
           "prereq_in")
_REQ_IN_ALL = frozenset({*_REQ_IN, "require", "watch", "onfail", "onfail_stop", "onchanges"})


def tag(chunk: dict[str, Any]) -> str:
    """The result key of a chunk: ``state_|-id_|-name_|-fun``."""
    return f"{chunk['state']}_|-{chunk['__id__']}_|-{chunk['name']}_|-{chunk['fun']}"


def _states(body: dict[str, Any]) -> list[str]:
    return [k for k in body if not str(k).startswith("__")]


# -- extend ---------------------------------------------------------------------


def find_name(name: str, state: str, high: dict[str, Any], strict: bool = False
              ) -> list[tuple[str, str]]:
    """(id, state) pairs a reference names: the id itself, or ids with ``name: <name>``."""
    direct = state in high.get(name, {}) if strict else True
    if name in high and direct:
        return [(name, state)]
    if state == "sls":
        return [(nid, _states(body)[0]) for nid, body in _ids(high)
                if body.get("__sls__") == name and _states(body)]
    found = []
    for nid, body in _ids(high):
        for arg in body.get(state, []) if isinstance(body.get(state), list) else []:
            if isinstance(arg, dict) and len(arg) == 1 and next(iter(arg.values())) == name:
                found.append((nid, state))
    return found


def _ids(high: dict[str, Any]) -> Iterable[tuple[str, dict[str, Any]]]:
    return ((k, v) for k, v in high.items()
            if not str(k).startswith("__") and isinstance(v, dict))


def reconcile_extend(high: dict[str, Any], strict: bool = False) -> list[str]:
    """Merge ``high['__extend__']`` into the ids it names; return the errors."""
    errors: list[str] = []
    for entry in high.pop("__extend__", []):
        for name, body in entry.items():
            kinds = _states(body)
            if not kinds:
                continue
            target = name
            if name not in high or kinds[0] not in high[name]:
                ids = find_name(name, kinds[0], high, strict=strict)
                if len(ids) != 1:
                    env, sls = body.get("__env__", "base"), body.get("__sls__", "base")
                    errors.append(
                        f"Cannot extend ID '{name}' in '{env}:{sls}'. It is not part of the "
                        "high state.\nThis is likely due to a missing include statement or an "
                        f"incorrectly typed ID.\nEnsure that a state with an ID of '{name}' is "
                        f"available\nin environment '{env}' and to SLS '{sls}'")
                    continue
                target = ids[0][0]
            if body.get("__sls__") in _excluded_sls(high):
                continue
            for state in kinds:
                _extend_decl(high[target], state, body[state])
    return errors


def _excluded_sls(high: dict[str, Any]) -> list[Any]:
    out = []
    for entry in high.get("__exclude__", []):
        if isinstance(entry, str):
            out.append(entry)
        elif isinstance(entry, dict) and entry.get("sls"):
            out.append(entry["sls"])
    return out


def _extend_decl(body: dict[str, Any], state: str, run: Any) -> None:
    if state not in body:
        body[state] = run
        return
    current = body[state]
    for arg in run:
        updated = False
        for index, value in enumerate(current):
            if isinstance(arg, str) and isinstance(value, str):
                current[index] = arg  # a new function replaces the old one
                updated = True
            elif isinstance(arg, dict) and isinstance(value, dict) and arg and value:
                key = next(iter(arg))
                if key == next(iter(value)):
                    if key in REQUISITE_KEYWORDS and isinstance(value[key], list):
                        value[key].extend(arg[key])
                    else:
                        current[index] = arg
                    updated = True
                if key == "name" and next(iter(current[index])) == "names":
                    current[index] = arg
        if not updated:
            current.append(arg)


# -- structure checks --------------------------------------------------------------


def verify_high(high: dict[str, Any]) -> list[str]:
    """Salt's structure errors for the high data (empty when it is sound)."""
    errors: list[str] = []
    reqs: dict[str, dict[str, Any]] = {}
    for name, body in high.items():
        if str(name).startswith("__"):
            continue
        if not isinstance(body, dict):
            errors.append(f"The type {name} in {body} is not formatted as a dictionary")
            continue
        sls = body.get("__sls__")
        if not isinstance(name, str):
            errors.append(f"ID '{name}' in SLS '{sls}' is not formed as a string, but is a "
                          f"{type(name).__name__}. It may need to be quoted.")
        for state in _states(body):
            run = body[state]
            if run is None:
                errors.append(
                    f"ID '{name}' in SLS '{sls}' contains a short declaration ({state}) with a "
                    "trailing colon. When not passing any arguments to a state, the colon must "
                    "be omitted.")
                continue
            if not isinstance(run, list):
                errors.append(f"State '{name}' in SLS '{sls}' is not formed as a list")
                continue
            errors.extend(_verify_decl(str(name), str(state), run, sls, reqs))
    return errors


def _verify_decl(name: str, state: str, run: list[Any], sls: Any,
                 reqs: dict[str, dict[str, Any]]) -> list[str]:
    errors: list[str] = []
    funs = 1 if "." in state else 0
    for arg in run:
        if isinstance(arg, str):
            funs += 1
            if " " in arg.strip():
                errors.append(
                    f'The function "{arg}" in state "{name}" in SLS "{sls}" has whitespace, a '
                    "function with whitespace is not supported, perhaps this is an argument "
                    'that is missing a ":"')
        elif isinstance(arg, dict) and arg:
            first = next(iter(arg))
            if first == "names" and not isinstance(arg[first], list):
                errors.append(f"The 'names' argument in state '{name}' in SLS '{sls}' needs "
                              "to be formed as a list")
            if first in ("require", "watch", "prereq", "onchanges"):
                errors.extend(_verify_reqs(name, state, first, arg[first], sls, reqs))
                if len(arg) != 1:
                    errors.append(f"Multiple dictionaries defined in argument of state "
                                  f"'{name}' in SLS '{sls}'")
    if not funs and state not in ("require", "watch"):
        errors.append(f"No function declared in state '{name}' in SLS '{sls}'")
    elif funs > 1:
        names = [state.split(".", 1)[1]] if "." in state else []
        names.extend(a for a in run if isinstance(a, str))
        errors.append(f"Too many functions declared in state '{name}' in SLS '{sls}'. "
                      "Please choose one of the following: " + ", ".join(names))
    return errors


def _verify_reqs(name: str, state: str, kind: str, value: Any, sls: Any,
                 reqs: dict[str, dict[str, Any]]) -> list[str]:
    if not isinstance(value, list):
        return [f"The {kind} statement in state '{name}' in SLS '{sls}' needs to be formed "
                "as a list"]
    errors = []
    reqs[name] = {"state": state}
    for req in value:
        if isinstance(req, str):
            req = {"id": req}
        if not isinstance(req, dict) or not req:
            errors.append(f"Requisite declaration {req} in SLS {sls} is not formed as a "
                          "single key dictionary")
            continue
        key = next(iter(req))
        val = req[key]
        if "." in str(key):
            errors.append(f"Invalid requisite type '{key}' in state '{name}', in SLS '{sls}'. "
                          "Requisite types must not contain dots, did you mean "
                          f"'{str(key)[:str(key).find('.')]}'?")
        if isinstance(val, dict | list | set):
            errors.append(f'Illegal requisite "{val}", please check your syntax.\n')
            continue
        reqs[name][val] = key
        other = reqs.get(val)
        if (other is not None and other.get(name) == state
                and other["state"] == reqs[name][val]):
            errors.append(f'A recursive requisite was found, SLS "{sls}" ID "{name}" '
                          f'ID "{val}"')
    return errors


# -- requisite_in --------------------------------------------------------------------


def _hinge(high: dict[str, Any], item: Any, hinges: list[tuple[str, str]]
           ) -> list[tuple[str, str]] | None:
    """Add one ``*_in``/``use`` entry's targets to `hinges` (an SLS entry replaces them).

    Salt keeps the targets of the earlier entries of the same list and acts on
    all of them again for each entry; the duplicates this makes are kept.
    """
    if not isinstance(item, dict):
        item = _bare_ref(high, item)
        if item is None:
            return None
    if not item:
        return None
    pstate, pname = next(iter(item.items()))
    if pstate == "sls":
        return [(nid, st) for nid, body in _ids(high) if body.get("__sls__") == pname
                for st in _states(body)]
    return [*hinges, (pname, str(pstate))]


def _bare_ref(high: dict[str, Any], ref: Any) -> dict[str, Any] | None:
    if ref in high and isinstance(high[ref], dict):
        states = _states(high[ref])
        return {states[0]: ref} if states else None
    found = None
    for nid, body in _ids(high):
        for st in _states(body):
            for arg in body[st] if isinstance(body[st], list) else []:
                if isinstance(arg, dict) and arg.get("name") == ref:
                    found = {st: nid}
    return found


def _state_args(high: dict[str, Any], id_: str, state: str) -> set[str]:
    run = high.get(id_, {}).get(state, [])
    return {next(iter(a)) for a in run if isinstance(a, dict) and len(a) == 1}


def requisite_in(high: dict[str, Any]) -> list[str]:
    """Turn ``*_in``, ``prereq`` and ``use`` into requisites/arguments on their targets."""
    extend: dict[str, dict[str, Any]] = {}
    errors: list[str] = []
    for id_, body in list(_ids(high)):
        for state in _states(body):
            run = body[state]
            for arg in run if isinstance(run, list) else []:
                if not isinstance(arg, dict) or not arg:
                    continue
                key = next(iter(arg))
                if key not in _REQ_IN:
                    continue
                items = arg[key]
                if isinstance(items, dict):
                    items = [{k: v} for k, v in items.items()]
                if not isinstance(items, list):
                    continue
                hinges: list[tuple[str, str]] = []
                for item in items:
                    found = _hinge(high, item, hinges)
                    if found is None:
                        continue
                    hinges = found
                    for name, target_state in hinges:
                        _req_in_one(high, extend, errors, id_, state, key, name,
                                    target_state)
    high["__extend__"] = [{k: v} for k, v in extend.items()]
    errors.extend(reconcile_extend(high, strict=True))
    return errors


def _req_in_one(high: dict[str, Any], extend: dict[str, dict[str, Any]], errors: list[str],
                id_: str, state: str, key: str, name: str, target_state: str) -> None:
    if "." in target_state:
        target_state = target_state.split(".")[0]
    if key == "prereq_in":
        extend.setdefault(id_, {}).setdefault(state, []).append(
            {"prerequired": [{target_state: name}]})
    if key == "prereq":
        for ext_id, req_state in find_name(name, target_state, high, strict=True):
            extend.setdefault(ext_id, {}).setdefault(req_state, []).append(
                {"prerequired": [{state: id_}]})
        return
    if key in ("use", "use_in"):
        for ext_id, req_state in find_name(name, target_state, high, strict=True):
            src, dst = ((id_, state), (ext_id, req_state)) if key == "use_in" \
                else ((ext_id, req_state), (id_, state))
            ignore = _REQ_IN_ALL | _state_args(high, *dst)
            added = extend.setdefault(dst[0], {}).setdefault(dst[1], [])
            for arg in high[src[0]][src[1]]:
                if (isinstance(arg, dict) and len(arg) == 1 and next(iter(arg)) not in ignore
                        and next(iter(arg)) not in ("name", "names")):
                    added.append(arg)
        return
    rkey = key.split("_")[0]
    entry = extend.setdefault(name, {})
    decl = entry.setdefault(target_state, [])
    entry["__env__"] = high[id_].get("__env__")
    entry["__sls__"] = high[id_].get("__sls__")
    for item in decl:
        if next(iter(item)) == rkey:
            item[rkey].append({state: id_})
            return
    decl.append({rkey: [{state: id_}]})


# -- exclude ---------------------------------------------------------------------


def apply_exclude(high: dict[str, Any]) -> None:
    """Drop the ids ``__exclude__`` names (``- sls: glob`` / ``- id: x`` / ``- glob``)."""
    ex_sls: set[str] = set()
    ex_id: set[str] = set()
    for entry in high.pop("__exclude__", []):
        if isinstance(entry, str):
            ex_sls.add(entry)
        elif isinstance(entry, dict) and len(entry) == 1:
            key, value = next(iter(entry.items()))
            if key == "sls":
                ex_sls.add(str(value))
            elif key == "id":
                ex_id.add(str(value))
    for name, body in list(_ids(high)):
        sls = body.get("__sls__") or ""
        if sls and any(fnmatch.fnmatch(sls, pattern) for pattern in ex_sls):
            ex_id.add(name)
    for name in ex_id:
        high.pop(name, None)


# -- chunks ------------------------------------------------------------------------


def compile_high_data(high: dict[str, Any]) -> list[dict[str, Any]]:
    """One chunk per state function and name, in Salt's run order."""
    chunks: list[dict[str, Any]] = []
    for name, body in _ids(high):
        for state in _states(body):
            chunks.extend(_decl_chunks(name, body, state))
    return order_chunks(chunks)


def _decl_chunks(name: str, body: dict[str, Any], state: str) -> list[dict[str, Any]]:
    chunk: dict[str, Any] = {"state": state, "name": name}
    for key in ("__sls__", "__env__", "__sls_included_from__"):
        if key in body:
            chunk[key] = body[key]
    chunk["__id__"] = name
    funs: list[str] = []
    names: list[Any] = []
    for arg in body[state]:
        if isinstance(arg, str):
            if arg not in funs:
                funs.append(arg)
        elif isinstance(arg, dict):
            for key, value in arg.items():
                if key == "names":
                    names.extend(n for n in value if n not in names)
                elif key == "state":
                    continue
                elif key == "name" and not isinstance(value, str):
                    chunk[key] = name
                else:
                    chunk[key] = value
    out: list[dict[str, Any]] = []
    for order, entry in enumerate(names, start=1):
        live = copy.deepcopy(chunk)
        if isinstance(entry, dict):
            low_name, overrides = next(iter(entry.items()))
            live["name"] = low_name
            for override in overrides if isinstance(overrides, list) else [overrides]:
                if isinstance(override, dict):
                    live.update(override)
        else:
            live["name"] = entry
        live["name_order"] = order
        out.extend({**live, "fun": fun} for fun in funs)
    if not names:
        out.extend({**copy.deepcopy(chunk), "fun": fun} for fun in funs)
    return out


def order_chunks(chunks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Resolve ``order`` (numbers, ``first``, ``last``, negatives) and sort."""
    cap = 1
    for chunk in chunks:
        order = chunk.get("order")
        if isinstance(order, int) and not isinstance(order, bool) and order > cap - 1 \
                and order > 0:
            cap = order + 100
    for chunk in chunks:
        if "order" not in chunk:
            chunk["order"] = cap
            continue
        order = chunk["order"]
        if not isinstance(order, int | float) or isinstance(order, bool):
            order = {"last": cap + 1000000, "first": 0}.get(order, cap) \
                if isinstance(order, str) else cap
        if "name_order" in chunk:
            order = order + chunk.pop("name_order") / 10000.0
        if order < 0:
            order = cap + 1000000 + order
        chunk["order"] = order
    chunks.sort(key=lambda c: (c["order"], f"{c['state']}{c['name']}{c['fun']}"))
    return chunks


def compile_high(high: dict[str, Any]) -> tuple[list[dict[str, Any]], list[str]]:
    """All of Salt's compile steps: (chunks, errors). With errors, chunks is empty."""
    high = copy.deepcopy(high)
    errors = reconcile_extend(high)
    errors.extend(verify_high(high))
    if errors:
        return [], errors
    errors = requisite_in(high)
    apply_exclude(high)
    if errors:
        return [], errors
    return compile_high_data(high), []
