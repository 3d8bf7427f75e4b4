"""Run an SQL statement on a MySQL/MariaDB database (Salt's ``mysql_query.run``).

The result goes to the comment (default), a file (``output: /path``) or a
grain (``output: grain``, ``grain``, optional ``key``); ``overwrite: False``
skips the run when that file or grain is already there. Changes are
``{"query": "Executed..."}``, as in Salt. Connection arguments as for
``mysql_user``.
"""

from __future__ import annotations

import os
from typing import Any

from minion.context import Context
from minion.modules import mysql
from minion.modules._mysqlconn import Connection, MysqlError
from minion.states import result

__all__ = ["run"]


def _skip_or_predict(ctx: Context, ret: dict[str, Any], output: str | None, grain: str | None,
                     key: str | None, overwrite: bool) -> dict[str, Any] | None:
    """A finished result when the query must not (or in test mode would) run, else None."""
    if output == "grain":
        if grain is None:
            return result.fail(ret, "Error: output type 'grain' needs the grain parameter\n")
        target = grain if key is None else f"{grain}:{key}"
        current = ctx.grains.get(grain) if key is None else (ctx.grains.get(grain) or {})
        present = grain in ctx.grains if key is None else (isinstance(current, dict)
                                                           and key in current)
        if not overwrite and present:
            return result.done(ret, f"No execution needed. Grain {target} already set")
        if ctx.test:
            return result.done(ret, f"Query would execute, storing result in grain: {target}",
                               None)
    elif output is not None:
        if not overwrite and os.path.isfile(output):
            return result.done(ret, f"No execution needed. File {output} already set")
        if ctx.test:
            return result.done(ret, f"Query would execute, storing result in file: {output}",
                               None)
    elif ctx.test:
        return result.done(ret, "Query would execute, not storing result", None)
    return None


def _store(ctx: Context, ret: dict[str, Any], data: dict[str, Any], output: str | None,
           grain: str | None, key: str | None) -> None:
    if output == "grain" and grain is not None:
        if key is None:
            ctx.call("grains.setval", grain, data)
            ret["changes"]["query"] = f"Executed. Output into grain: {grain}"
            return
        value = ctx.grains.get(grain)
        value = dict(value) if isinstance(value, dict) else {}
        value[key] = data
        ctx.call("grains.setval", grain, value)
        ret["changes"]["query"] = f"Executed. Output into grain: {grain}:{key}"
    elif output is not None:
        ret["changes"]["query"] = f"Executed. Output into {output}"
        with open(output, "w", encoding="utf-8") as handle:
            if "results" in data:
                for row in data["results"]:
                    handle.writelines(f"{col}:{val}\n" for col, val in row.items())
            else:
                handle.writelines(f"{col}:{val}\n" for col, val in data.items())
    else:
        ret["changes"]["query"] = "Executed"


def run(ctx: Context, name: str, database: str, query: str, output: str | None = None,
        grain: str | None = None, key: str | None = None, overwrite: bool = True,
        check_db_exists: bool = True, client_flags: Any = None,
        **connection_args: Any) -> dict[str, Any]:
    """Run `query` on `database` and keep its result in the comment, a file or a grain.

    name
        Only an ID.
    database
        The database the query runs in.
    query
        One SQL statement.
    output
        ``grain`` (with `grain`, and `key` to store under it), a file path,
        or unset for the comment.
    overwrite
        Run even when the file or grain already exists (default True).
    check_db_exists
        First check that `database` exists (the state does nothing otherwise).
    client_flags
        Accepted for Salt compatibility (must be a list); the client ignores it.

    CLI Example:

        minion call --local state.single mysql_query.run q1 database=appdb query='SELECT 1'
    """
    ret = result.new(name)
    ret["comment"] = f"Database {database} is already present"
    if client_flags is not None and not isinstance(client_flags, list):
        return result.fail(ret, "Error: client_flags must be a list.")
    conn = Connection(ctx, connection_args)
    try:
        if check_db_exists and not conn.db_exists(database):
            return result.done(ret, f"Database {name} is not present", None)
    except MysqlError as exc:
        return result.fail(ret, str(exc))
    early = _skip_or_predict(ctx, ret, output, grain, key, overwrite)
    if early is not None:
        return early
    try:
        data = mysql.run_query(conn, database, query)
    except MysqlError as exc:
        return result.fail(ret, str(exc))
    if "results" in data:
        data["results"] = [dict(zip(data["columns"], row, strict=False))
                           for row in data["results"]]
    ret["comment"] = str(data)
    _store(ctx, ret, data, output, grain, key)
    return ret
