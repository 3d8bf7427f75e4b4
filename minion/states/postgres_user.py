"""PostgreSQL roles present with the wanted attributes, or absent, like Salt's ``postgres_user``.

``present`` reads the role (with its password hash unless
``refresh_password``), compares only the attributes it was given, and sends
one ALTER ROLE for what differs. As in Salt, a new role's changes are
``{name: "Present"}``, an updated one's ``{name: {attribute: value}}``, and
``test=True`` says "is set to be created/updated" with those changes.

Connection arguments, as in Salt's state: ``user`` (the system user psql
runs as), ``maintenance_db``, ``db_user``, ``db_password``, ``db_host``,
``db_port``.
"""

from __future__ import annotations

import datetime
from typing import Any

from minion.context import Context
from minion.modules import _pgsql as postgres
from minion.states import result

__all__ = ["absent", "present"]


def _db_args(user: str | None, maintenance_db: str | None, db_password: str | None,
             db_host: str | None, db_port: int | str | None,
             db_user: str | None) -> dict[str, Any]:
    return {"maintenance_db": maintenance_db, "runas": user, "host": db_host, "user": db_user,
            "port": db_port, "password": db_password}


def _expiry(ctx: Context, valid_until: str, db_args: dict[str, Any]) -> datetime.datetime | None:
    """`valid_until` as the server reads it, to compare with the role's expiry time."""
    rows = ctx.call("postgres.psql_query",
                    f"SELECT {postgres.quote_literal(valid_until)}::timestamp(0) as dt",
                    **db_args)
    if not rows:
        return None
    try:
        return datetime.datetime.strptime(rows[0]["dt"], "%Y-%m-%d %H:%M:%S")
    except ValueError:
        return None


def _diff(ctx: Context, attrs: dict[str, Any], wanted: dict[str, Any], password: str | None,
          valid_until: str | None, groups: str | list[str] | None,
          db_args: dict[str, Any]) -> dict[str, Any]:
    """The attributes of the existing role `attrs` that differ (Salt's keys and values)."""
    update: dict[str, Any] = {}
    columns = {"createdb": "can create databases", "inherit": "inherits privileges",
               "login": "can login", "createroles": "can create roles",
               "replication": "replication", "superuser": "superuser"}
    for key, column in columns.items():
        if wanted[key] is not None and attrs[column] != wanted[key]:
            update[key] = wanted[key]
    if password is not None:
        update["password"] = True
    if valid_until is not None and _expiry(ctx, valid_until, db_args) != attrs["expiry time"]:
        update["valid_until"] = valid_until
    if groups is not None:
        listed = groups.split(",") if isinstance(groups, str) else list(groups)
        missing = [g for g in listed if g not in attrs.get("groups", [])]
        if missing:
            update["groups"] = missing
    return update


def present(
    ctx: Context,
    name: str,
    createdb: bool | None = None,
    createroles: bool | None = None,
    encrypted: bool | str | None = None,
    superuser: bool | None = None,
    replication: bool | None = None,
    inherit: bool | None = None,
    login: bool | None = None,
    password: str | None = None,
    default_password: str | None = None,
    refresh_password: bool | None = None,
    valid_until: str | None = None,
    groups: str | list[str] | None = None,
    user: str | None = None,
    maintenance_db: str | None = None,
    db_password: str | None = None,
    db_host: str | None = None,
    db_port: int | str | None = None,
    db_user: str | None = None,
) -> dict[str, Any]:
    """Make sure a PostgreSQL role exists with the given attributes; unset ones are left alone.

    name
        The role's name.
    createdb, createroles, inherit, login, superuser, replication
        Its flags.
    password
        Its password, plain or already hashed (``md5...``, ``SCRAM-SHA-256$...``).
    encrypted
        How to store it: md5 (the default, also ``True``), ``scram-sha-256``,
        or ``False`` for the server's own choice.
    default_password
        The password used only when the role is created.
    refresh_password
        Set the password every run instead of comparing it with the stored
        hash (for servers where that hash cannot be read).
    valid_until
        When the password expires.
    groups
        Roles it must be a member of (a list or a comma-separated string).
    user
        The system user psql runs as.
    maintenance_db, db_user, db_password, db_host, db_port
        How to connect.

    CLI Example:

        minion call --local state.single postgres_user.present app password=secret createdb=True
    """
    ret = result.new(name)
    ret["comment"] = f"User {name} is already present"
    db_args = _db_args(user, maintenance_db, db_password, db_host, db_port, db_user)
    if encrypted is None:
        encrypted = postgres.DEFAULT_ENCRYPTION
    attrs = ctx.call("postgres.role_get", name, return_password=not refresh_password, **db_args)
    mode = "update" if attrs is not None else "create"
    if mode == "create" and password is None:
        password = default_password
    if password is not None:
        password = str(password)
        if (mode == "update" and not refresh_password
                and postgres.verify_password(name, password, attrs.get("password"), encrypted)):
            password = None
        else:
            password = postgres.encrypt_password(name, password, encrypted)
    wanted = {"createdb": createdb, "inherit": inherit, "login": login,
              "createroles": createroles, "replication": replication, "superuser": superuser}
    update = {}
    if attrs is not None:
        update = _diff(ctx, attrs, wanted, password, valid_until, groups, db_args)
        if not update:
            return ret
    if ctx.test:
        if update:
            ret["changes"][name] = update
        return result.done(ret, f"User {name} is set to be {mode}d", None)
    done = ctx.call(f"postgres.user_{mode}", username=name, encrypted=encrypted,
                    rolepassword=password, valid_until=valid_until, groups=groups,
                    **wanted, **db_args)
    if not done:
        return result.fail(ret, f"Failed to {mode} user {name}")
    ret["changes"][name] = update or "Present"
    return result.done(ret, f"The user {name} has been {mode}d")


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
    """Make sure a PostgreSQL role does not exist.

    name
        The role's name.
    user
        The system user psql runs as.
    maintenance_db, db_user, db_password, db_host, db_port
        How to connect.

    CLI Example:

        minion call --local state.single postgres_user.absent olduser
    """
    ret = result.new(name)
    db_args = _db_args(user, maintenance_db, db_password, db_host, db_port, db_user)
    if not ctx.call("postgres.user_exists", name, **db_args):
        return result.done(ret, f"User {name} is not present, so it cannot be removed")
    if ctx.test:
        return result.done(ret, f"User {name} is set to be removed", None)
    if not ctx.call("postgres.user_remove", name, **db_args):
        return result.fail(ret, f"User {name} failed to be removed")
    ret["changes"][name] = "Absent"
    return result.done(ret, f"User {name} has been removed")
