"""Test states: results on demand, for trying out requisites, output and failhard.

Names, arguments, comments and changes follow Salt's ``test`` state module.

.. code-block:: yaml

    always-passes:
      test.succeed_without_changes

    always-changes:
      test.succeed_with_changes

    custom:
      test.configurable_test_state:
        - changes: True
        - result: False
        - comment: bar.baz
"""

from __future__ import annotations

import random
from typing import Any

from minion.context import Context
from minion.states.result import done, fail, new

__all__ = [
    "check_pillar",
    "configurable_test_state",
    "fail_with_changes",
    "fail_without_changes",
    "mod_watch",
    "nop",
    "show_notification",
    "succeed_with_changes",
    "succeed_without_changes",
]


def _pretend() -> dict[str, Any]:
    return {"testing": {"old": "Unchanged", "new": "Something pretended to change"}}


def nop(ctx: Context, name: str, **kwargs: Any) -> dict[str, Any]:
    """Do nothing and succeed, whatever arguments are given.

    Useful with the ``use`` requisite, or in a template that may render empty.

    CLI Example:

        minion call state.single test.nop name=anything foo=bar
    """
    return succeed_without_changes(ctx, name)


def succeed_without_changes(ctx: Context, name: str, **kwargs: Any) -> dict[str, Any]:
    """Succeed without changes (in test mode too).

    comment
        The comment to return (default ``Success!``).

    CLI Example:

        minion call state.single test.succeed_without_changes name=foo
    """
    return done(new(name), kwargs.get("comment", "Success!"))


def fail_without_changes(ctx: Context, name: str, **kwargs: Any) -> dict[str, Any]:
    """Fail without changes (in test mode too, as in Salt).

    comment
        The comment to return (default ``Failure!``).

    CLI Example:

        minion call state.single test.fail_without_changes name=foo
    """
    ret = new(name)
    if ctx.test:
        return fail(ret, "If we weren't testing, this would be a failure!")
    return fail(ret, kwargs.get("comment", "Failure!"))


def succeed_with_changes(ctx: Context, name: str, **kwargs: Any) -> dict[str, Any]:
    """Succeed and report a pretend change (result None in test mode).

    comment
        The comment to return (default ``Success!``).

    CLI Example:

        minion call state.single test.succeed_with_changes name=foo
    """
    ret = new(name)
    ret["changes"] = _pretend()
    if ctx.test:
        return done(ret, "If we weren't testing, this would be successful with changes",
                           None)
    return done(ret, kwargs.get("comment", "Success!"))


def fail_with_changes(ctx: Context, name: str, **kwargs: Any) -> dict[str, Any]:
    """Fail and report a pretend change (result None in test mode).

    comment
        The comment to return (default ``Failure!``).

    CLI Example:

        minion call state.single test.fail_with_changes name=foo
    """
    ret = new(name)
    ret["changes"] = _pretend()
    if ctx.test:
        return done(ret, "If we weren't testing, this would be failed with changes", None)
    return fail(ret, kwargs.get("comment", "Failure!"))


def _choice(value: Any) -> bool | None:
    """True, False, a random bool for 'Random', or None when the value is invalid."""
    if isinstance(value, bool):
        return value
    if str(value).lower() == "random":
        return random.choice((True, False))
    return None


def configurable_test_state(ctx: Context, name: str, changes: Any = True, result: Any = True,
                            comment: str = "", warnings: Any = None,
                            allow_test_mode_failure: bool = False) -> dict[str, Any]:
    """Return the result, changes and comment asked for.

    changes
        True (report the pretend change), False, or ``Random``.
    result
        True, False, or ``Random``. In test mode the result is None when
        there are changes, True when there are none.
    comment
        The comment to return.
    warnings
        A string or a list of strings for the ``warnings`` field.

    CLI Example:

        minion call state.single test.configurable_test_state name=foo result=False
    """
    ret = new(name)
    has_changes = _choice(changes)
    if has_changes is None:
        return fail(ret, "You have specified the state option 'changes' with invalid "
                                "arguments. It must be either True, False, or 'Random'")
    outcome = _choice(result)
    if outcome is None:
        return fail(ret, "You have specified the state option 'result' with invalid "
                                "arguments. It must be either True, False, or 'Random'")
    if warnings is not None:
        if not isinstance(warnings, str | list):
            return fail(ret, "You have specified the state option 'warnings' with "
                                    "invalid arguments. It must be a string or a list of strings")
        ret["warnings"] = [warnings] if isinstance(warnings, str) else list(warnings)
    if has_changes:
        ret["changes"] = _pretend()
    if ctx.test:
        if allow_test_mode_failure and result is False:
            return done(ret, comment or "This is a test", False)
        # As in Salt, only an explicit `changes: False` predicts no change.
        return done(ret, comment or "This is a test", True if changes is False else None)
    return done(ret, comment, outcome)


def show_notification(ctx: Context, name: str, text: str | None = None,
                      **kwargs: Any) -> dict[str, Any]:
    """Succeed with `text` as the comment, to show a message in the state output.

    text
        The message.

    CLI Example:

        minion call state.single test.show_notification name=note text='Hello'
    """
    ret = new(name)
    if not text:
        return fail(ret, "Missing required argument text.")
    return done(ret, str(text))


def mod_watch(ctx: Context, name: str, sfun: str | None = None,
              watched: list[str] | None = None, **kwargs: Any) -> dict[str, Any]:
    """Answer a watch: succeed with ``Watch statement fired.``.

    The changes list the watched states that changed (``Requisites with
    changes``); the state's own ``result``, ``comment`` and ``changes``
    arguments replace the defaults, as in Salt.
    """
    ret = new(name)
    ret["changes"] = kwargs.get("changes", {"Requisites with changes": list(watched or [])})
    return done(ret, kwargs.get("comment", "Watch statement fired."), kwargs.get("result", True))


# How Salt names each checked type in its comments (the repr of the Python type).
_PILLAR_TYPES: list[tuple[str, Any, str]] = [
    ("present", None, ""), ("boolean", bool, "<class 'bool'>"),
    ("integer", int, "<class 'int'>"), ("string", (str,), "(<class 'str'>,)"),
    ("listing", list, "<class 'list'>"), ("dictionary", dict, "<class 'dict'>"),
]
_MISSING = object()


def _pillar_value(ctx: Context, key: str) -> Any:
    value: Any = ctx.pillar
    for part in key.split(":"):
        if isinstance(value, dict) and part in value:
            value = value[part]
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return _MISSING
    return _MISSING if value is None else value


def check_pillar(ctx: Context, name: str, present: Any = None, boolean: Any = None,
                 integer: Any = None, string: Any = None, listing: Any = None,
                 dictionary: Any = None, verbose: bool = False) -> dict[str, Any]:
    """Check that pillar keys exist and have the expected types.

    present, boolean, integer, string, listing, dictionary
        A key (``a:b`` for nested keys) or a list of keys to check.
    verbose
        Also list the keys that passed.

    CLI Example:

        minion call state.single test.check_pillar name=check present=role
    """
    given = {"present": present, "boolean": boolean, "integer": integer, "string": string,
             "listing": listing, "dictionary": dictionary}
    ret = new(name)
    if not any(given.values()):
        return fail(ret, "Missing required argument text.")
    failed: dict[str, str | None] = {}
    fine: dict[str, str] = {}
    for arg, kind, shown in _PILLAR_TYPES:
        keys = given[arg] or []
        for key in [keys] if isinstance(keys, str) else list(keys):
            value = _pillar_value(ctx, str(key))
            if value is _MISSING:
                failed[str(key)] = None
            elif kind is not None and not isinstance(value, kind):
                failed[str(key)] = shown
            elif verbose:
                fine[str(key)] = shown or "None"
    comment = "".join(f'Pillar key "{key}" ' + ("is missing.\n" if why is None
                                                 else f"is not {why}.\n")
                      for key, why in failed.items())
    if verbose and fine:
        comment += "Those keys passed the check:\n" + "".join(
            f"- {key} ({why})\n" for key, why in fine.items())
    return done(ret, comment, not failed)
