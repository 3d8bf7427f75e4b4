"""High data to ordered low chunks, with requisites resolved and checked.

A chunk is one call of one state function for one name::

    {"state": "file", "fun": "managed", "name": "/etc/motd", "__id__": "motd",
     "__sls__": "base", "__env__": "base", "order": 10003, "source": ..., ...}

Ordering follows Salt: every declaration gets the next number from 10000 up
in definition order (included files first); ``order: N`` and ``order:
first|last`` override it; ``names`` keep their own order inside one
declaration. Requisites (and their ``_in`` forms) become ``__reqs__``: for
each kind, the tags of the chunks it refers to. A reference to a missing
state or a requisite cycle is a compile error, so nothing runs.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from typing import Any

from minion.sls import SLSError

AUTO_ORDER_START = 10000
REQUISITES = (
    "require", "require_any", "watch", "watch_any", "onchanges", "onchanges_any",
    "onfail", "onfail_any", "onfail_all", "prereq", "listen",
)
IN_FORMS = {f"{kind}_in": kind for kind in ("require", "watch", "onchanges", "onfail",
                                            "prereq", "listen", "use")}
# Keys the engine acts on; state functions never see them.
ENGINE_KEYS = frozenset({
    *REQUISITES, *IN_FORMS, "use", "order", "names", "parallel", "failhard", "onlyif",
    "unless", "creates", "check_cmd", "reload_modules", "fire_event", "retry",
    "state", "fun", "__id__", "__sls__", "__env__", "__reqs__", "__run_name__",
    "name_order", "__prereq__", "__pos__",
})


def tag(chunk: dict[str, Any]) -> str:
    """The result key of a chunk: ``state_|-id_|-name_|-fun``."""
    return f"{chunk['state']}_|-{chunk['__id__']}_|-{chunk['name']}_|-{chunk['fun']}"


def compile_high(high: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """Turn high data into sorted chunks with resolved ``__reqs__``."""
    chunks = _chunks(high)
    _apply_order(chunks)
    chunks.sort(key=lambda c: (c["order"], f"{c['state']}{c['name']}{c['fun']}"))
    for pos, chunk in enumerate(chunks):
        chunk["__pos__"] = pos
    _resolve_requisites(chunks)
    _check_cycles(chunks)
    return chunks


def _chunks(high: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    chunks: list[dict[str, Any]] = []
    auto = AUTO_ORDER_START
    for state_id, body in high.items():
        for mod, items in body.items():
            if mod.startswith("__"):
                continue
            fun = next((a for a in items if isinstance(a, str)), None)
            if fun is None:
                raise SLSError(f"No function declared in state '{mod}' in SLS "
                               f"'{body['__env__']}:{body['__sls__']}' (state id '{state_id}')")
            args: dict[str, Any] = {}
            for item in items:
                if isinstance(item, dict):
                    args.update(item)
            base = {"state": mod, "fun": fun, "__id__": state_id, "__sls__": body["__sls__"],
                    "__env__": body["__env__"], **args}
            if "order" not in base:
                base["order"] = auto
                auto += 1
            chunks.extend(_expand_names(base, state_id))
    return chunks


def _expand_names(base: dict[str, Any], state_id: str) -> list[dict[str, Any]]:
    names = base.pop("names", None)
    if names is None:
        base.setdefault("name", state_id)
        return [base]
    if not isinstance(names, list):
        raise SLSError(f"State '{state_id}' in SLS '{base['__sls__']}': names must be a list")
    out = []
    for index, entry in enumerate(names, start=1):
        chunk = copy.deepcopy(base)
        chunk["name_order"] = index
        if isinstance(entry, dict) and len(entry) == 1:
            ((name, overrides),) = entry.items()
            for override in overrides if isinstance(overrides, list) else [overrides]:
                if isinstance(override, dict):
                    chunk.update(override)
            chunk["name"] = str(name)
        else:
            chunk["name"] = str(entry)
        out.append(chunk)
    return out


def _apply_order(chunks: list[dict[str, Any]]) -> None:
    explicit = [c["order"] for c in chunks if isinstance(c["order"], int)
                and not isinstance(c["order"], bool)]
    cap = max([*explicit, 0]) + 100
    for chunk in chunks:
        order = chunk["order"]
        if order == "first":
            order = 0
        elif order == "last":
            order = cap + 1_000_000
        elif not isinstance(order, int | float) or isinstance(order, bool):
            raise SLSError(f"State '{chunk['__id__']}' in SLS '{chunk['__sls__']}': order must "
                           f"be a number, 'first' or 'last', not {order!r}")
        elif order < 0:
            order = cap + 1_000_000 + order
        name_order = chunk.pop("name_order", 0)
        chunk["order"] = order + name_order / 10_000.0 if name_order else order


# -- requisites ---------------------------------------------------------------


def _refs(value: Any) -> list[tuple[str | None, str]]:
    """(state module or None, id/name/sls) pairs from one requisite list."""
    items = value if isinstance(value, list) else [value]
    out: list[tuple[str | None, str]] = []
    for item in items:
        if isinstance(item, dict):
            out.extend((str(k), str(v)) for k, v in item.items())
        elif item is not None:
            out.append((None, str(item)))
    return out


def _targets(chunks: list[dict[str, Any]], mod: str | None, ref: str) -> list[dict[str, Any]]:
    if mod == "sls":
        return [c for c in chunks if c["__sls__"] == ref]
    return [c for c in chunks
            if (mod is None or c["state"] == mod) and (c["__id__"] == ref or c["name"] == ref)]


def _describe(mod: str | None, ref: str) -> str:
    return f"{mod}: {ref}" if mod else ref


def _resolve_requisites(chunks: list[dict[str, Any]]) -> None:
    for chunk in chunks:
        chunk["__reqs__"] = {}
    missing: list[str] = []
    for chunk in chunks:
        where = f"'{chunk['__id__']}' in SLS '{chunk['__sls__']}'"
        for key in list(chunk):
            if key in IN_FORMS:
                kind = IN_FORMS[key]
                for mod, ref in _refs(chunk.pop(key)):
                    found = _targets(chunks, mod, ref)
                    if not found:
                        missing.append(f"{key} {_describe(mod, ref)} (state {where})")
                    for target in found:
                        if kind == "use":
                            _use(target, chunk)
                        else:
                            target["__reqs__"].setdefault(kind, []).append(tag(chunk))
    for chunk in chunks:
        where = f"'{chunk['__id__']}' in SLS '{chunk['__sls__']}'"
        if "use" in chunk:
            for mod, ref in _refs(chunk.pop("use")):
                found = _targets(chunks, mod, ref)
                if not found:
                    missing.append(f"use {_describe(mod, ref)} (state {where})")
                for source in found:
                    _use(chunk, source)
        for kind in REQUISITES:
            if kind not in chunk:
                continue
            for mod, ref in _refs(chunk.pop(kind)):
                found = [t for t in _targets(chunks, mod, ref) if t is not chunk]
                if not found:
                    missing.append(f"{kind} {_describe(mod, ref)} (state {where})")
                chunk["__reqs__"].setdefault(kind, []).extend(tag(t) for t in found)
    if missing:
        raise SLSError("The following requisites were not found: " + "; ".join(missing))


def _use(chunk: dict[str, Any], source: dict[str, Any]) -> None:
    """Copy `source`'s plain arguments that `chunk` does not set itself."""
    for key, value in source.items():
        if key in ENGINE_KEYS or key == "name" or key in chunk:
            continue
        chunk[key] = copy.deepcopy(value)


def _check_cycles(chunks: list[dict[str, Any]]) -> None:
    """Refuse requisite loops (listen is excluded: it acts after the run)."""
    by_tag = {tag(c): c for c in chunks}
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for kind, targets in by_tag[node]["__reqs__"].items():
            if kind == "listen":
                continue
            for target in targets:
                if state.get(target) == 1:
                    loop = [*path[path.index(target):], target]
                    raise SLSError("Recursive requisite found: " + " -> ".join(
                        f"{by_tag[t]['__sls__']}:{by_tag[t]['__id__']}" for t in loop))
                if target not in state:
                    visit(target, [*path, target])
        state[node] = 2

    for node in by_tag:
        if node not in state:
            visit(node, [node])


def requisite_tags(chunk: dict[str, Any], kinds: Iterable[str]) -> list[str]:
    """Every chunk tag `chunk` waits for under the given requisite kinds."""
    reqs = chunk.get("__reqs__", {})
    return [t for kind in kinds for t in reqs.get(kind, [])]
