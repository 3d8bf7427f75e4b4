"""Environment variables of the minion process, like Salt's ``environ.setenv`` state.

.. code-block:: yaml

    proxy settings:
      environ.setenv:
        - name: unused
        - value:
            http_proxy: http://proxy:3128
            no_proxy: False

Commands that the minion runs after this state (``cmd.run``, ``pkg``)
see the variables. They are not written anywhere on disk.
"""

from __future__ import annotations

import os
from typing import Any

from minion.context import Context
from minion.states import result

__all__ = ["setenv"]


def _wanted_changes(wanted: dict[str, Any], false_unsets: bool,
                    clear_all: bool) -> dict[str, Any]:
    """What Salt reports as changing: ``''`` cleared, None removed, else the new value."""
    changes: dict[str, Any] = {}
    if clear_all is True:
        for key in os.environ:
            if key not in wanted:
                changes[key] = None if false_unsets is True else ""
    for key, val in wanted.items():
        have = os.environ.get(key)
        if val is False:
            if false_unsets is True:
                if have is not None:
                    changes[key] = None
            elif have != "":
                changes[key] = ""
        elif os.environ.get(key, "") != val:
            changes[key] = val
    return changes


def setenv(ctx: Context, name: str, value: Any, false_unsets: bool = False,
           clear_all: bool = False, update_minion: bool = False,
           permanent: bool = False) -> dict[str, Any]:
    """Make sure environment variables of the minion have the given values.

    name
        The variable to set when `value` is a string (or False).
    value
        A string or False for `name`; or a mapping ``{NAME: value}`` (then
        `name` is not used). False sets ``''``, or removes the variable with
        ``false_unsets: True``.
    clear_all
        Also clear every variable not given.
    update_minion, permanent
        Accepted for Salt compatibility.

    CLI Example:

        minion call --local state.single environ.setenv LANG value=C.UTF-8
    """
    ret = result.new(name)
    if isinstance(value, str) or value is False:
        wanted: dict[str, Any] = {name: value}
    elif isinstance(value, dict):
        wanted = dict(value)
    else:
        return result.fail(ret, "Environ value must be string, dict or False")
    ret["changes"] = _wanted_changes(wanted, false_unsets, clear_all)
    if ctx.test:
        # Salt keeps result True under test=True here and shows the changes.
        if ret["changes"]:
            return result.done(ret, "Environ values will be changed")
        return result.done(ret, "Environ values are already set with the correct values")
    if not ret["changes"]:
        return result.done(ret, "Environ values were already set with the correct values")
    done = ctx.call("environ.setenv", wanted, false_unsets, clear_all, update_minion, permanent)
    if not done:
        ret["changes"] = {}
        return result.fail(ret, "Failed to set environ variables")
    ret["changes"] = done
    return result.done(ret, "Environ values were set")
