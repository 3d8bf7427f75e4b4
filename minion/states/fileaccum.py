"""`file.accumulated`: collect text in one state run for a file state later in the run.

The engine hands each state that declares an ``accumulators`` parameter the run's
table (and its own low chunk as ``chunk``). The table holds, per target file
name, the text of each accumulator and the ids of the states it was declared
for (its ``require_in``/``watch_in``). `file.managed` offers the texts to its
template as ``accumulator``; `file.blockreplace` appends them to its content.
"""

from __future__ import annotations

from typing import Any

from minion.context import Context
from minion.states import result
from minion.states.filehelpers import state

Table = dict[str, Any]


def texts(accumulators: Table | None, filename: str) -> dict[str, list[Any]]:
    """``{accumulator name: [text, ...]}`` collected so far for `filename`."""
    if not accumulators:
        return {}
    found: dict[str, list[Any]] = accumulators.get("data", {}).get(filename, {})
    return found


def for_state(accumulators: Table | None, filename: str, state_id: str) -> list[Any]:
    """The texts for one consuming state: those declared for it, else all of the file's."""
    data = texts(accumulators, filename)
    deps = (accumulators or {}).get("deps", {}).get(filename, {})
    names = [acc for acc in deps if state_id in deps[acc] and acc in data] or list(data)
    return [text for acc in names for text in data[acc]]


@state
def accumulated(ctx: Context, name: str, filename: str, text: Any = None,
                accumulators: Table | None = None, chunk: dict[str, Any] | None = None,
                ) -> dict[str, Any]:
    """Add text to an accumulator that a later file.managed or file.blockreplace uses.

    The state must name the consuming file state with ``require_in`` (or
    ``watch_in``); file.managed sees the texts in its template as
    ``accumulator[name]``, file.blockreplace appends them to its content.

    name
        The accumulator's name.
    filename
        The path of the file the consuming state manages.
    text
        A string, or a list of strings, to add (each once).

    CLI Example:

        (in an SLS, with require_in naming a file.blockreplace of filename)
    """
    ret = result.new(name)
    low = chunk or {}
    if text is None:
        return result.fail(ret, "No text supplied for accumulator")
    deps = [*_as_list(low.get("require_in")), *_as_list(low.get("watch_in"))]
    if not [dep for dep in deps if "file" in dep]:
        return result.fail(ret, f"Orphaned accumulator {name} in {low.get('__sls__')}:"
                                f"{low.get('__id__')}")
    table = accumulators if accumulators is not None else {}
    data = table.setdefault("data", {}).setdefault(filename, {})
    owners = table.setdefault("deps", {}).setdefault(filename, {}).setdefault(name, [])
    for dep in deps:
        owners.extend(dep.values() if isinstance(dep, dict) else [dep])
    collected = data.setdefault(name, [])
    for piece in text if isinstance(text, list | tuple) else [text]:
        if piece not in collected:
            collected.append(piece)
            ret["comment"] = f"Accumulator {name} for file {filename} was charged by text"
    return ret


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list | tuple) else [value]
