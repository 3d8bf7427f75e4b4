"""Preseed debconf answers, like Salt's ``debconf.set`` state.

.. code-block:: yaml

    tzdata:
      debconf.set:
        - data:
            'tzdata/Areas': {type: select, value: Europe}
            'tzdata/Zones/Europe': {type: select, value: Paris}

Each question already answered with the same type and value is left alone
(and named in the comment); the others are set. Password answers show as
``(password hidden)`` in the changes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from minion.context import Context
from minion.states import result

__all__ = ["set_"]


def _value(spec: Mapping[str, Any]) -> str:
    if spec.get("type") == "boolean":
        return "true" if spec.get("value") not in (False, None, "false", "False", 0) else "false"
    value = spec.get("value")
    return str(value)


def set_(ctx: Context, name: str, data: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """Make sure the package's debconf questions have the given answers.

    name
        The package the answers belong to.
    data
        ``{question: {type: TYPE, value: VALUE}}``.

    CLI Example:

        minion call --local state.single debconf.set tzdata \\
            data='{"tzdata/Areas": {"type": "select", "value": "Europe"}}'
    """
    ret = result.new(name)
    if not isinstance(data, Mapping) or not all(isinstance(s, Mapping) and "type" in s
                                                for s in data.values()):
        return result.fail(ret, "data must be a mapping of question: {type, value}")
    current = ctx.call("debconf.show", name) or []
    unchanged: list[str] = []
    for question, spec in data.items():
        kind, value = str(spec["type"]), _value(spec)
        if [question, kind, value] in current:
            unchanged.append(question)
            continue
        if ctx.test:
            ret["result"] = None
            ret["changes"][question] = f"New value: {value}"
        elif ctx.call("debconf.set", name, question, kind, value):
            ret["changes"][question] = "(password hidden)" if kind == "password" else value
        else:
            ret["result"] = False
            ret["changes"][question] = "Failed to set!"
    if not ret["changes"]:
        ret["comment"] = "All specified answers are already set"
    elif ret["result"] is False:
        ret["comment"] = "Some settings failed to be applied."
    elif unchanged:
        ret["comment"] = "Unchanged answers: " + "".join(f"{q} " for q in unchanged)
    return ret
