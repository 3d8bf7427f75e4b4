"""MySQL/MariaDB databases present with a character set and collation, or absent (Salt's).

A missing database is created (changes ``{name: "Present"}``); an existing
one whose character set or collation differs is altered, and the changes
show ``{"character_set"/"collate": {"before": ..., "now": ...}}``. The
comments, including Salt's wording when the database is altered, are Salt's.
Connection arguments as for ``mysql_user``.
"""

from __future__ import annotations

from typing import Any

from minion.context import Context
from minion.modules import mysql
from minion.modules._mysqlconn import Connection, MysqlError
from minion.states import result

__all__ = ["absent", "present"]


def _update(ctx: Context, conn: Connection, ret: dict[str, Any], name: str,
            existing: dict[str, str], character_set: str | None,
            collate: str | None) -> dict[str, Any]:
    """Alter an existing database whose character set or collation differs."""
    charset_differs = bool(character_set) and character_set != existing.get("character_set")
    collate_differs = bool(collate) and collate != existing.get("collate")
    if charset_differs:
        ret["comment"] = (f"Database character set {character_set} != "
                          f"{existing.get('character_set')} needs to be updated")
    if collate_differs:
        ret["comment"] += (f"\nDatabase collate {collate} != {existing.get('collate')} "
                           "needs to be updated")
    if ctx.test:
        if charset_differs or collate_differs:
            ret["result"] = None
        # As Salt: a differing collation ends the prediction before the last line.
        if charset_differs and not collate_differs:
            ret["comment"] += f"\nDatabase {name} is going to be updated"
        return ret
    if charset_differs or collate_differs:
        conn.run(f"ALTER DATABASE {mysql.quote_identifier(ctx, name)}"
                 + mysql.charset_sql(character_set or existing.get("character_set"),
                                     collate or existing.get("collate")) + ";")
    current = conn.db_get(name)
    for key in ("collate", "character_set"):
        if existing.get(key) != current.get(key):
            ret["changes"][key] = {"before": existing.get(key), "now": current.get(key)}
    return ret


def present(ctx: Context, name: str, character_set: str | None = None,
            collate: str | None = None, **connection_args: Any) -> dict[str, Any]:
    """Make sure database `name` exists, with the given character set and collation.

    name
        The database's name.
    character_set, collate
        Its default character set and collation (changed when they differ).
    connection_host, connection_user, connection_pass, ...
        How to connect (see the mysql module).

    CLI Example:

        minion call --local state.single mysql_database.present appdb character_set=utf8mb4
    """
    ret = result.new(name)
    ret["comment"] = f"Database {name} is already present"
    conn = Connection(ctx, connection_args)
    try:
        existing = conn.db_get(name)
        if existing:
            return _update(ctx, conn, ret, name, existing, character_set, collate)
    except MysqlError as exc:
        return result.fail(ret, str(exc))
    if ctx.test:
        return result.done(ret, f"Database {name} is not present and needs to be created",
                           None)
    try:
        conn.run(f"CREATE DATABASE IF NOT EXISTS {mysql.quote_identifier(ctx, name)}"
                 f"{mysql.charset_sql(character_set, collate)};")
    except MysqlError as exc:
        return result.fail(ret, f"Failed to create database {name} ({exc})")
    ret["changes"][name] = "Present"
    return result.done(ret, f"The database {name} has been created")


def absent(ctx: Context, name: str, **connection_args: Any) -> dict[str, Any]:
    """Make sure database `name` does not exist.

    CLI Example:

        minion call --local state.single mysql_database.absent olddb
    """
    ret = result.new(name)
    conn = Connection(ctx, connection_args)
    try:
        exists = conn.db_exists(name)
    except MysqlError as exc:
        return result.fail(ret, str(exc))
    if not exists:
        return result.done(ret, f"Database {name} is not present, so it cannot be removed")
    if ctx.test:
        return result.done(ret, f"Database {name} is present and needs to be removed", None)
    if name in ("mysql", "information_schema"):
        return result.done(ret, f"Database {name} is not present, so it cannot be removed")
    try:
        conn.run(f"DROP DATABASE {mysql.quote_identifier(ctx, name)};")
    except MysqlError as exc:
        return result.fail(ret, f"Unable to remove database {name} ({exc})")
    ret["changes"][name] = "Absent"
    return result.done(ret, f"Database {name} has been removed")
