"""Run execution functions from a state, like Salt's ``module.run``.

Both of Salt's syntaxes work. The old one names the function in ``name`` and
passes the arguments its parameters are called by, plus ``m_args`` and
``m_kwargs`` (``m_name`` and ``m_fun`` reach parameters called ``name`` and
``fun``):

.. code-block:: yaml

    restart-web:
      module.run:
        - name: service.restart
        - m_name: nginx

The new one lists functions as keys, each with a list of positional values
and ``{key: value}`` mappings:

.. code-block:: yaml

    say-hello:
      module.run:
        - test.echo:
          - text: hello
        - test.ping:

A function fails the state when it raises, when it sets a non-zero retcode
(``cmd.run`` of a failing command), when it returns False, or when it
returns a mapping with a non-zero ``retcode`` or a False ``result``.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from typing import Any

from minion.context import Context
from minion.states import result

__all__ = ["mod_watch", "run", "wait", "watch"]


# --- pure: arguments and outcomes ------------------------------------------------------------


def is_new_style(kwargs: Mapping[str, Any]) -> bool:
    """New syntax: some argument is a function name (has a dot)."""
    return any("." in key for key in kwargs)


def new_style_args(value: Any) -> tuple[list[Any], dict[str, Any]]:
    """Positional and keyword arguments from a new-style value (list, mapping or None)."""
    args: list[Any] = []
    kwargs: dict[str, Any] = {}
    items = value if isinstance(value, list | tuple) else [] if value is None else [value]
    for item in items:
        if isinstance(item, Mapping):
            kwargs.update(item)
        else:
            args.append(item)
    return args, kwargs


def old_style_args(params: Mapping[str, inspect.Parameter],
                   kwargs: Mapping[str, Any]) -> tuple[list[Any], dict[str, Any]]:
    """Positional and keyword arguments for the old syntax.

    `params` are the function's parameters after ``ctx``; a state argument
    of the same name goes to each, ``m_<param>`` wins over ``<param>``.
    """
    m_args = kwargs.get("m_args") or []
    args = list(m_args) if isinstance(m_args, list | tuple) else [m_args]
    call_kwargs: dict[str, Any] = {}
    for pname, param in params.items():
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            continue
        for key in (f"m_{pname}", pname):
            if key in kwargs and key not in ("m_args", "m_kwargs"):
                call_kwargs[pname] = kwargs[key]
                break
    m_kwargs = kwargs.get("m_kwargs") or {}
    if isinstance(m_kwargs, Mapping):
        call_kwargs.update(m_kwargs)
    return args, call_kwargs


def failed(value: Any, retcode: int) -> bool:
    """Whether a function's return (and retcode) mean it failed."""
    if retcode != 0 or value is False:
        return True
    if isinstance(value, Mapping):
        code = value.get("retcode", 0)
        return (isinstance(code, int) and code != 0) or value.get("result") is False
    return False


# --- calling ---------------------------------------------------------------------------------


def _call(ctx: Context, fun: str, args: list[Any], kwargs: dict[str, Any]) -> tuple[Any, int]:
    """Call `fun` and return its value and the retcode it set (ctx.retcode is restored)."""
    saved, ctx.retcode = ctx.retcode, 0
    try:
        value = ctx.call(fun, *args, **kwargs)
        return value, ctx.retcode
    finally:
        ctx.retcode = saved


def _available(ctx: Context, fun: str) -> bool:
    return fun in ctx.registry.functions


def _params(ctx: Context, fun: str) -> dict[str, inspect.Parameter]:
    params = dict(inspect.signature(ctx.registry.functions[fun]).parameters)
    params.pop(next(iter(params), ""), None)  # ctx
    return params


def _run_old(ctx: Context, ret: dict[str, Any], fun: str, kwargs: dict[str, Any]) -> dict[str, Any]:
    if not _available(ctx, fun):
        return result.fail(ret, f"Module function {fun} is not available")
    if ctx.test:
        return result.done(ret, f"Module function {fun} is set to execute", None)
    args, call_kwargs = old_style_args(_params(ctx, fun), kwargs)
    try:
        value, retcode = _call(ctx, fun, args, call_kwargs)
    except Exception as exc:
        return result.fail(ret, f"Module function {fun} threw an exception. Exception: {exc}")
    ret["changes"] = {"ret": value}
    if failed(value, retcode):
        note = f" with retcode {retcode}" if retcode else ""
        return result.fail(ret, f"Module function {fun} executed{note}")
    return result.done(ret, f"Module function {fun} executed")


def _plural(items: list[str]) -> str:
    return "s" if len(items) > 1 else ""


def _run_new(ctx: Context, ret: dict[str, Any], kwargs: dict[str, Any]) -> dict[str, Any]:
    # A key may carry a suffix (``test.echo:first``) to call one function twice.
    keys = [key for key in kwargs if "." in key]
    missing = [k.split(":")[0] for k in keys if not _available(ctx, k.split(":")[0])]
    if missing:
        return result.fail(ret, f"Unavailable function{_plural(missing)}: {', '.join(missing)}.")
    if ctx.test:
        funs = [k.split(":")[0] for k in keys]
        return result.done(ret, f"Function{_plural(funs)} {', '.join(funs)} to be executed.",
                           None)
    failures: list[str] = []
    successes: list[str] = []
    for key in keys:
        fun = key.split(":")[0]
        args, call_kwargs = new_style_args(kwargs[key])
        try:
            value, retcode = _call(ctx, fun, args, call_kwargs)
        except Exception as exc:
            failures.append(f"'{key}' failed: {exc}")
            continue
        ret["changes"][key] = value
        if failed(value, retcode):
            why = value.get("comment", f"retcode {retcode}") if isinstance(value, Mapping) \
                else (f"retcode {retcode}" if retcode else value)
            failures.append(f"'{key}' failed: {why}")
        else:
            shown = value.get("comment", "Success") if isinstance(value, Mapping) else value
            successes.append(f"{key}: {shown}")
    comment = ", ".join(failures + successes)
    return result.done(ret, comment, not failures)


def run(ctx: Context, name: str, **kwargs: Any) -> dict[str, Any]:
    """Run execution functions and report their returns as changes.

    name
        Old syntax: the function to run (``test.ping``). New syntax: the
        state's id; the functions are the arguments whose names have a dot.
    m_args, m_kwargs
        Old syntax: extra positional and keyword arguments for the function.

    Old syntax reports ``changes: {ret: <return>}``, the new one
    ``changes: {<function>: <return>}`` for each function, as Salt does.

    CLI Example:

        minion call state.single module.run name=test.echo text=hello
    """
    ret = result.new(name)
    if is_new_style(kwargs):
        return _run_new(ctx, ret, kwargs)
    return _run_old(ctx, ret, name, kwargs)


def wait(ctx: Context, name: str, **kwargs: Any) -> dict[str, Any]:
    """Run the function only when a watched state changes (the watch calls ``module.run``).

    On its own the state does nothing and succeeds.

    .. code-block:: yaml

        reload:
          module.wait:
            - name: service.reload
            - m_name: nginx
            - watch:
              - file: /etc/nginx/nginx.conf

    CLI Example:

        minion call state.single module.wait name=test.ping
    """
    return result.done(result.new(name), "")


def watch(ctx: Context, name: str, **kwargs: Any) -> dict[str, Any]:
    """The same as ``module.wait``.

    CLI Example:

        minion call state.single module.watch name=test.ping
    """
    return wait(ctx, name, **kwargs)


def mod_watch(ctx: Context, name: str, **kwargs: Any) -> dict[str, Any]:
    """Run the function of a ``module.wait``/``module.run`` state whose watched state changed."""
    kwargs.pop("sfun", None)
    return run(ctx, name, **kwargs)
