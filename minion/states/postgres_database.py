"""PostgreSQL databases present with the wanted properties, or absent (Salt's postgres_database).

``present`` creates a missing database with its owner, encoding, collation,
ctype, template and tablespace. On an existing one only the owner and the
tablespace can change; a different encoding, collation or ctype fails the
state, as in Salt. Changes are ``{name: "Present"}`` for a new database,
``{name: "Parameters changed"}`` for an altered one.
"""

from __future__ import annotations

from typing import Any

from minion.context import Context
from minion.modules.postgres import PostgresError
from minion.states import result
from minion.states.postgres_user import _db_args

__all__ = ["absent", "present"]


def _matches(params: dict[str, str], tablespace: str | None, encoding: str | None,
             lc_collate: str | None, lc_ctype: str | None, owner: str | None) -> bool:
    return all((
        not tablespace or params.get("Tablespace") == tablespace,
        not encoding or params.get("Encoding", "").lower() == encoding.lower(),
        not lc_collate or params.get("Collate") == lc_collate,
        not lc_ctype or params.get("Ctype") == lc_ctype,
        not owner or params.get("Owner") == owner,
    ))


def _fixed_differ(params: dict[str, str], encoding: str | None, lc_collate: str | None,
                  lc_ctype: str | None) -> bool:
    """Whether a property that cannot change after creation differs."""
    return any((
        bool(encoding) and params.get("Encoding", "").lower() != str(encoding).lower(),
        bool(lc_collate) and params.get("Collate") != lc_collate,
        bool(lc_ctype) and params.get("Ctype") != lc_ctype,
    ))


def present(
    ctx: Context,
    name: str,
    tablespace: str | None = None,
    encoding: str | None = None,
    lc_collate: str | None = None,
    lc_ctype: str | None = None,
    owner: str | None = None,
    owner_recurse: bool = False,
    template: str | None = None,
    user: str | None = None,
    maintenance_db: str | None = None,
    db_password: str | None = None,
    db_host: str | None = None,
    db_port: int | str | None = None,
    db_user: str | None = None,
) -> dict[str, Any]:
    """Make sure a PostgreSQL database exists with the given properties.

    name
        The database's name.
    tablespace, owner
        Its default tablespace and owner (changed when they differ).
    owner_recurse
        When the owner changes, give the new owner the objects inside too.
    encoding, lc_collate, lc_ctype, template
        Used when the database is created; a differing encoding, collation
        or ctype on an existing database fails the state.
    user
        The system user psql runs as.
    maintenance_db, db_user, db_password, db_host, db_port
        How to connect.

    CLI Example:

        minion call --local state.single postgres_database.present appdb owner=app
    """
    ret = result.new(name)
    ret["comment"] = f"Database {name} is already present"
    db_args = _db_args(user, maintenance_db, db_password, db_host, db_port, db_user)
    dbs = ctx.call("postgres.db_list", **db_args)
    exists = name in dbs
    params = dbs.get(name, {})
    if exists and _matches(params, tablespace, encoding, lc_collate, lc_ctype, owner):
        return ret
    if exists and _fixed_differ(params, encoding, lc_collate, lc_ctype):
        return result.fail(ret, f"Database {name} has wrong parameters which couldn't be "
                                "changed on fly.")
    if ctx.test:
        comment = (f"Database {name} exists, but parameters need to be changed" if exists
                   else f"Database {name} is set to be created")
        return result.done(ret, comment, None)
    if not exists:
        if not ctx.call("postgres.db_create", name, tablespace=tablespace, encoding=encoding,
                        lc_collate=lc_collate, lc_ctype=lc_ctype, owner=owner,
                        template=template, **db_args):
            return result.fail(ret, f"Failed to create database {name}")
        ret["changes"][name] = "Present"
        return result.done(ret, f"The database {name} has been created")
    if not ctx.call("postgres.db_alter", name, tablespace=tablespace, owner=owner,
                    owner_recurse=owner_recurse, **db_args):
        return result.fail(ret, f"Failed to change parameters for database {name}")
    ret["changes"][name] = "Parameters changed"
    return result.done(ret, f"Parameters for database {name} have been changed")


def absent(
    ctx: Context,
    name: str,
    user: str | None = None,
    maintenance_db: str | None = None,
    db_password: str | None = None,
    db_host: str | None = None,
    db_port: int | str | None = None,
    db_user: str | None = None,
) -> dict[str, Any]:
    """Make sure a PostgreSQL database does not exist (its sessions are ended first).

    name
        The database's name.
    user
        The system user psql runs as.
    maintenance_db, db_user, db_password, db_host, db_port
        How to connect.

    CLI Example:

        minion call --local state.single postgres_database.absent olddb
    """
    ret = result.new(name)
    db_args = _db_args(user, maintenance_db, db_password, db_host, db_port, db_user)
    if not ctx.call("postgres.db_exists", name, **db_args):
        return result.done(ret, f"Database {name} is not present, so it cannot be removed")
    if ctx.test:
        return result.done(ret, f"Database {name} is set to be removed", None)
    try:
        removed = ctx.call("postgres.db_remove", name, **db_args)
    except PostgresError:
        removed = False
    if not removed:
        return result.fail(ret, f"Database {name} failed to be removed")
    ret["changes"][name] = "Absent"
    return result.done(ret, f"Database {name} has been removed")
