"""PostgreSQL roles and databases through ``psql``, like Salt's ``postgres`` module.

Every function runs ``psql`` with an argument list (never a shell) and sends
its SQL on stdin, so neither statements nor passwords show in the process
list. Names and values are quoted here (identifiers in double quotes,
literals in single quotes), so a state name cannot inject SQL.

Connection options, as in Salt: the arguments ``user``, ``host``, ``port``,
``maintenance_db``, ``password`` and ``runas``, else the settings
``postgres.user``, ``postgres.host``, ``postgres.port``,
``postgres.maintenance_db`` (default ``postgres``) and ``postgres.pass``
(given to psql as ``PGPASSWORD``); ``postgres.bins_dir`` says where psql is.
Without a host (or with a socket directory as host) Salt runs psql as the
``postgres`` system user; saline does so too when it runs as root and that
user exists, and otherwise runs psql as itself.
"""

from __future__ import annotations

import csv
import datetime
import io
import os
import pwd
import shutil
from collections.abc import Mapping
from typing import Any

from minion.context import Context
from minion.modules._pgsql import (
    DEFAULT_ENCRYPTION,
    PostgresError,
    encrypt_password,
    quote_ident,
    quote_literal,
)

__all__ = ["db_alter", "db_create", "db_exists", "db_list", "db_remove", "psql_query",
           "role_get", "user_create", "user_exists", "user_list", "user_remove",
           "user_update", "version"]

def _unavailable(opts: Mapping[str, Any], grains: Mapping[str, Any]) -> str | None:
    if _psql_path(str(opts.get("postgres.bins_dir") or "")):
        return None
    return "psql was not found (install the PostgreSQL client or set postgres.bins_dir)"


def _psql_path(bins_dir: str) -> str | None:
    if bins_dir:
        found = shutil.which(os.path.join(bins_dir, "psql"))
        if found:
            return found
    return shutil.which("psql")


# --- running psql --------------------------------------------------------------


def _option(ctx: Context, key: str) -> Any:
    return ctx.call("config.option", key) or None


def _default_runas(host: str | None) -> str | None:
    # Salt connects through the local socket as the postgres system user; that
    # is only possible here when we are root and the user exists.
    if host and not host.startswith("/"):
        return None
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        return None
    return "postgres"


def _psql(ctx: Context, sql: str, conn: Mapping[str, Any],
          single: bool = False) -> tuple[int, str, str]:
    """Run `sql` through psql with the connection options; (retcode, stdout, stderr).

    `single` runs it in one transaction (all statements or none).
    """
    user = conn.get("user") or _option(ctx, "postgres.user")
    host = conn.get("host") or _option(ctx, "postgres.host")
    port = conn.get("port") or _option(ctx, "postgres.port")
    dbname = conn.get("maintenance_db") or _option(ctx, "postgres.maintenance_db") or "postgres"
    password = conn.get("password")
    if password is None:
        password = _option(ctx, "postgres.pass")
    runas = conn.get("runas") or _default_runas(host)
    binary = _psql_path(str(_option(ctx, "postgres.bins_dir") or ""))
    if binary is None:
        raise PostgresError("psql was not found")
    argv = [binary, "--no-align", "--no-readline", "--no-psqlrc", "--no-password", "--quiet",
            "--set", "ON_ERROR_STOP=1"]
    if user:
        argv += ["--username", str(user)]
    if host:
        argv += ["--host", str(host)]
    if port:
        argv += ["--port", str(port)]
    if single:
        argv.append("--single-transaction")
    argv += ["--dbname", str(dbname), "--file", "-"]
    # Dates come back in one style whatever the server's settings are.
    env = {"PGOPTIONS": "-c datestyle=ISO,MDY", "PGCONNECT_TIMEOUT": "10"}
    if password is not None:
        env["PGPASSWORD"] = str(password)
    timeout = ctx.call("config.option", "postgres.timeout") or None
    done = ctx.run(argv, env=env, stdin=sql, runas=runas, timeout=timeout)
    # As Salt's cmd.run_all: the last command's exit code is the job's.
    ctx.retcode = done.retcode
    return done.retcode, done.stdout, done.stderr


def _exec(ctx: Context, sql: str, conn: Mapping[str, Any], single: bool = False) -> bool:
    return _psql(ctx, sql, conn, single)[0] == 0


def _conn(user: str | None, host: str | None, port: int | str | None,
          maintenance_db: str | None, password: str | None, runas: str | None,
          ) -> dict[str, Any]:
    return {"user": user, "host": host, "port": port, "maintenance_db": maintenance_db,
            "password": password, "runas": runas}


def psql_query(ctx: Context, query: str, user: str | None = None, host: str | None = None,
               port: int | str | None = None, maintenance_db: str | None = None,
               password: str | None = None, runas: str | None = None,
               write: bool = False) -> list[dict[str, str]]:
    """Run one SELECT (or a statement with RETURNING) and return its rows as dicts.

    query
        The SQL query; a trailing semicolon is allowed.
    user, host, port, maintenance_db, password, runas
        How to connect (see the module's documentation).
    write
        Run the query in a read-write transaction.

    CLI Example:

        master run '*' postgres.psql_query 'select datname from pg_database'
    """
    copy = f"COPY ({query.strip().rstrip(';')}) TO STDOUT WITH CSV HEADER;"
    if write:
        copy = f"START TRANSACTION READ WRITE;\n{copy}\nCOMMIT;"
    code, out, _err = _psql(ctx, copy + "\n", _conn(user, host, port, maintenance_db,
                                                    password, runas))
    if code != 0:
        return []
    rows = [row for row in csv.reader(io.StringIO(out)) if row]
    if not rows:
        return []
    header = rows[0]
    return [dict(zip(header, row, strict=False)) for row in rows[1:]]


def version(ctx: Context, user: str | None = None, host: str | None = None,
            port: int | str | None = None, maintenance_db: str | None = None,
            password: str | None = None, runas: str | None = None) -> str | None:
    """Return the server's version, e.g. ``15.8``.

    CLI Example:

        master run '*' postgres.version
    """
    rows = psql_query(ctx, "SELECT setting FROM pg_catalog.pg_settings "
                           "WHERE name = 'server_version'",
                      user, host, port, maintenance_db, password, runas)
    return rows[0]["setting"] if rows else None


# --- databases -----------------------------------------------------------------

_DB_QUERY = (
    'SELECT datname as "Name", pga.rolname as "Owner", '
    'pg_encoding_to_char(encoding) as "Encoding", datcollate as "Collate", '
    'datctype as "Ctype", datacl as "Access privileges", spcname as "Tablespace" '
    "FROM pg_database pgd, pg_roles pga, pg_tablespace pgts "
    "WHERE pga.oid = pgd.datdba AND pgts.oid = pgd.dattablespace"
)


def db_list(ctx: Context, user: str | None = None, host: str | None = None,
            port: int | str | None = None, maintenance_db: str | None = None,
            password: str | None = None, runas: str | None = None) -> dict[str, dict[str, str]]:
    """Return the databases with their owner, encoding, collation, ctype, ACL and tablespace.

    CLI Example:

        master run '*' postgres.db_list
    """
    rows = psql_query(ctx, _DB_QUERY, user, host, port, maintenance_db, password, runas)
    return {row.pop("Name"): row for row in rows}


def db_exists(ctx: Context, name: str, user: str | None = None, host: str | None = None,
              port: int | str | None = None, maintenance_db: str | None = None,
              password: str | None = None, runas: str | None = None) -> bool:
    """Tell whether database `name` exists.

    CLI Example:

        master run '*' postgres.db_exists appdb
    """
    return name in db_list(ctx, user, host, port, maintenance_db, password, runas)


def db_create(ctx: Context, name: str, user: str | None = None, host: str | None = None,
              port: int | str | None = None, maintenance_db: str | None = None,
              password: str | None = None, tablespace: str | None = None,
              encoding: str | None = None, lc_collate: str | None = None,
              lc_ctype: str | None = None, owner: str | None = None,
              template: str | None = None, runas: str | None = None) -> bool:
    """Create database `name`; return True when it was created.

    tablespace, encoding, lc_collate, lc_ctype, owner, template
        The CREATE DATABASE options of the same names.

    CLI Example:

        master run '*' postgres.db_create appdb owner=app encoding=UTF8 template=template0
    """
    options = [("TABLESPACE", tablespace, quote_ident), ("OWNER", owner, quote_ident),
               ("TEMPLATE", template, quote_ident), ("ENCODING", encoding, quote_literal),
               ("LC_COLLATE", lc_collate, quote_literal), ("LC_CTYPE", lc_ctype, quote_literal)]
    parts = [f"{key} = {quote(value)}" for key, value, quote in options if value is not None]
    sql = f"CREATE DATABASE {quote_ident(name)}"
    if parts:
        sql += " WITH " + " ".join(parts)
    return _exec(ctx, sql + ";\n", _conn(user, host, port, maintenance_db, password, runas))


_OWNER_RECURSE = """DO $saline$
DECLARE r record;
BEGIN
  FOR r IN SELECT n.nspname, c.relname, c.relkind FROM pg_class c
           JOIN pg_namespace n ON n.oid = c.relnamespace
           WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
             AND n.nspname NOT IN ('pg_catalog', 'information_schema')
             AND n.nspname NOT LIKE 'pg_toast%%' LOOP
    EXECUTE format('ALTER %%s %%I.%%I OWNER TO %%I',
      CASE r.relkind WHEN 'S' THEN 'SEQUENCE' WHEN 'v' THEN 'VIEW'
        WHEN 'm' THEN 'MATERIALIZED VIEW' WHEN 'f' THEN 'FOREIGN TABLE' ELSE 'TABLE' END,
      r.nspname, r.relname, %(owner)s);
  END LOOP;
  FOR r IN SELECT nspname FROM pg_namespace
           WHERE nspname NOT IN ('pg_catalog', 'information_schema')
             AND nspname NOT LIKE 'pg_toast%%' AND nspname NOT LIKE 'pg_temp%%' LOOP
    EXECUTE format('ALTER SCHEMA %%I OWNER TO %%I', r.nspname, %(owner)s);
  END LOOP;
END $saline$;
"""


def db_alter(ctx: Context, name: str, user: str | None = None, host: str | None = None,
             port: int | str | None = None, maintenance_db: str | None = None,
             password: str | None = None, tablespace: str | None = None,
             owner: str | None = None, owner_recurse: bool = False,
             runas: str | None = None) -> bool:
    """Change the owner and/or tablespace of database `name`; True when it worked.

    owner_recurse
        Also give the new owner the schemas, tables, views and sequences
        inside the database.

    CLI Example:

        master run '*' postgres.db_alter appdb owner=app
    """
    conn = _conn(user, host, port, maintenance_db, password, runas)
    statements = []
    if owner:
        statements.append(f"ALTER DATABASE {quote_ident(name)} OWNER TO {quote_ident(owner)};")
    if tablespace:
        statements.append(f"ALTER DATABASE {quote_ident(name)} "
                          f"SET TABLESPACE {quote_ident(tablespace)};")
    for sql in statements:
        if not _exec(ctx, sql + "\n", conn):
            return False
    if owner and owner_recurse:
        inside = dict(conn, maintenance_db=name)
        return _exec(ctx, _OWNER_RECURSE % {"owner": quote_literal(owner)}, inside)
    return True


def db_remove(ctx: Context, name: str, user: str | None = None, host: str | None = None,
              port: int | str | None = None, maintenance_db: str | None = None,
              password: str | None = None, runas: str | None = None) -> bool:
    """Drop database `name`, first ending the sessions connected to it.

    CLI Example:

        master run '*' postgres.db_remove appdb
    """
    conn = _conn(user, host, port, maintenance_db, password, runas)
    for sql in (f"REVOKE CONNECT ON DATABASE {quote_ident(name)} FROM public;",
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                f"WHERE datname = {quote_literal(name)} AND pid <> pg_backend_pid();",
                f"DROP DATABASE {quote_ident(name)};"):
        code, _out, err = _psql(ctx, sql + "\n", conn)
        if code != 0:
            raise PostgresError(f"Failed to remove database {name}: {err.strip()}")
    return True


# --- roles ---------------------------------------------------------------------

_ROLE_QUERY = (
    'SELECT pg_roles.rolname as "name", pg_roles.rolsuper as "superuser", '
    'pg_roles.rolinherit as "inherits privileges", '
    'pg_roles.rolcreaterole as "can create roles", '
    'pg_roles.rolcreatedb as "can create databases", '
    'NULL as "can update system catalogs", pg_roles.rolcanlogin as "can login", '
    'pg_roles.rolreplication as "replication", pg_roles.rolconnlimit as "connections", '
    "(SELECT array_agg(pg_roles2.rolname) FROM pg_catalog.pg_auth_members "
    "JOIN pg_catalog.pg_roles pg_roles2 ON (pg_auth_members.roleid = pg_roles2.oid) "
    'WHERE pg_auth_members.member = pg_roles.oid) as "groups", '
    'pg_roles.rolvaliduntil::timestamp(0) as "expiry time", '
    'pg_roles.rolconfig as "defaults variables"'
)
_FLAGS = ("superuser", "inherits privileges", "can create roles", "can create databases",
          "can update system catalogs", "can login", "replication", "connections")


def _flag(text: str) -> bool | None:
    return {"t": True, "f": False}.get(text)


def _timestamp(text: str) -> datetime.datetime | None:
    try:
        return datetime.datetime.strptime(text, "%Y-%m-%d %H:%M:%S")
    except ValueError:
        return None


def _role_row(row: dict[str, str], with_password: bool) -> dict[str, Any]:
    role: dict[str, Any] = {key: _flag(row[key]) for key in _FLAGS}
    role["expiry time"] = _timestamp(row["expiry time"])
    role["defaults variables"] = row["defaults variables"]
    if with_password:
        role["password"] = row["password"]
    groups = list(csv.reader([row["groups"].strip("{}")]))
    role["groups"] = groups[0] if groups else []
    return role


def user_list(ctx: Context, user: str | None = None, host: str | None = None,
              port: int | str | None = None, maintenance_db: str | None = None,
              password: str | None = None, runas: str | None = None,
              return_password: bool = False) -> dict[str, dict[str, Any]] | bool:
    """Return every role with its flags, groups and expiry time (False without a server).

    return_password
        Include each role's stored password hash (needs superuser rights).

    CLI Example:

        master run '*' postgres.user_list
    """
    conn = (user, host, port, maintenance_db, password, runas)
    if not version(ctx, *conn):
        return False
    query = _ROLE_QUERY
    if return_password:
        query += (', COALESCE(pg_shadow.passwd, pg_authid.rolpassword) as "password" '
                  "FROM pg_roles LEFT JOIN pg_authid ON pg_roles.oid = pg_authid.oid "
                  "LEFT JOIN pg_shadow ON pg_roles.oid = pg_shadow.usesysid")
    else:
        query += " FROM pg_roles"
    rows = psql_query(ctx, query, *conn)
    return {row["name"]: _role_row(row, return_password) for row in rows}


def role_get(ctx: Context, name: str, user: str | None = None, host: str | None = None,
             port: int | str | None = None, maintenance_db: str | None = None,
             password: str | None = None, runas: str | None = None,
             return_password: bool = False) -> dict[str, Any] | None:
    """Return one role as `user_list` shows it, or None when it does not exist.

    CLI Example:

        master run '*' postgres.role_get app
    """
    roles = user_list(ctx, user, host, port, maintenance_db, password, runas, return_password)
    if not isinstance(roles, dict):
        return None
    return roles.get(name)


def user_exists(ctx: Context, name: str, user: str | None = None, host: str | None = None,
                port: int | str | None = None, maintenance_db: str | None = None,
                password: str | None = None, runas: str | None = None) -> bool:
    """Tell whether role `name` exists.

    CLI Example:

        master run '*' postgres.user_exists app
    """
    return bool(role_get(ctx, name, user, host, port, maintenance_db, password, runas))


# --- role statements ------------------------------------------------------------


def _role_options(name: str, *, encrypted: Any, login: bool | None, connlimit: Any,
                  inherit: bool | None, createdb: bool | None, createroles: bool | None,
                  superuser: bool | None, replication: bool | None, rolepassword: Any,
                  valid_until: str | None, current: Mapping[str, Any] | None) -> list[str]:
    """The WITH options of CREATE/ALTER ROLE for the arguments that were given."""
    opts: list[str] = []
    flags = [("INHERIT", inherit), ("CREATEDB", createdb), ("CREATEROLE", createroles),
             ("SUPERUSER", superuser), ("REPLICATION", replication), ("LOGIN", login)]
    for flag, wanted in flags:
        if wanted is None:
            continue
        # As Salt: SUPERUSER is not repeated when the role already has it right.
        if flag == "SUPERUSER" and current and bool(wanted) == bool(current.get("superuser")):
            continue
        opts.append(flag if wanted else "NO" + flag)
    if connlimit is not None:
        opts.append(f"CONNECTION LIMIT {int(connlimit)}")
    if isinstance(rolepassword, bool):
        if not rolepassword:
            opts.append("PASSWORD NULL")
    elif rolepassword:
        if encrypted is None:
            encrypted = DEFAULT_ENCRYPTION
        hashed = encrypt_password(name, rolepassword, encrypted)
        # UNENCRYPTED is refused since PostgreSQL 10: a plain password is
        # hashed by the server with its password_encryption setting.
        prefix = "ENCRYPTED PASSWORD" if encrypted else "PASSWORD"
        opts.append(f"{prefix} {quote_literal(hashed)}")
    if valid_until:
        opts.append(f"VALID UNTIL {quote_literal(valid_until)}")
    return opts


def _groups(groups: str | list[str] | None) -> list[str]:
    if not groups:
        return []
    items = groups.split(",") if isinstance(groups, str) else [str(g) for g in groups]
    return [g.strip() for g in items if g.strip()]


def _role_sql(verb: str, name: str, groups: Any, **kwargs: Any) -> str:
    opts = _role_options(name, **kwargs)
    sql = f"{verb} ROLE {quote_ident(name)}"
    if opts:
        sql += " WITH " + " ".join(opts)
    sql += ";\n"
    for group in _groups(groups):
        sql += f"GRANT {quote_ident(group)} TO {quote_ident(name)};\n"
    return sql


def user_create(ctx: Context, username: str, user: str | None = None, host: str | None = None,
                port: int | str | None = None, maintenance_db: str | None = None,
                password: str | None = None, createdb: bool | None = None,
                createroles: bool | None = None, inherit: bool | None = None,
                login: bool | None = None, connlimit: int | None = None,
                encrypted: bool | str | None = None, superuser: bool | None = None,
                replication: bool | None = None, rolepassword: str | bool | None = None,
                valid_until: str | None = None, groups: str | list[str] | None = None,
                runas: str | None = None) -> bool:
    """Create a login role; True when it was created (False when it exists already).

    createdb, createroles, inherit, login, superuser, replication
        The role's flags (login and inherit default to True for a user).
    rolepassword
        Its password, hashed with `encrypted` (md5, scram-sha-256, or False
        for plain text) unless it already is a hash.
    valid_until
        When the password expires.
    groups
        Roles to grant it (a list or a comma-separated string).

    CLI Example:

        master run '*' postgres.user_create app rolepassword=secret createdb=True
    """
    conn = _conn(user, host, port, maintenance_db, password, runas)
    if user_exists(ctx, username, **conn):
        return False
    sql = _role_sql("CREATE", username, groups, encrypted=encrypted,
                    login=True if login is None else login, connlimit=connlimit,
                    inherit=True if inherit is None else inherit, createdb=createdb,
                    createroles=createroles, superuser=superuser, replication=replication,
                    rolepassword=rolepassword, valid_until=valid_until, current=None)
    return _exec(ctx, sql, conn, single=True)


def user_update(ctx: Context, username: str, user: str | None = None, host: str | None = None,
                port: int | str | None = None, maintenance_db: str | None = None,
                password: str | None = None, createdb: bool | None = None,
                createroles: bool | None = None, encrypted: bool | str | None = None,
                superuser: bool | None = None, inherit: bool | None = None,
                login: bool | None = None, connlimit: int | None = None,
                replication: bool | None = None, rolepassword: str | bool | None = None,
                valid_until: str | None = None, groups: str | list[str] | None = None,
                runas: str | None = None) -> bool:
    """Change the given attributes of role `username`; False when it does not exist.

    Arguments as for `user_create`; the ones left unset are not changed.

    CLI Example:

        master run '*' postgres.user_update app createdb=False rolepassword=newsecret
    """
    conn = _conn(user, host, port, maintenance_db, password, runas)
    current = role_get(ctx, username, **conn)
    if not current:
        return False
    sql = _role_sql("ALTER", username, groups, encrypted=encrypted, login=login,
                    connlimit=connlimit, inherit=inherit, createdb=createdb,
                    createroles=createroles, superuser=superuser, replication=replication,
                    rolepassword=rolepassword, valid_until=valid_until, current=current)
    return _exec(ctx, sql, conn, single=True)


def user_remove(ctx: Context, username: str, user: str | None = None, host: str | None = None,
                port: int | str | None = None, maintenance_db: str | None = None,
                password: str | None = None, runas: str | None = None) -> bool:
    """Drop role `username`; True when it is gone afterwards, False when it did not exist.

    CLI Example:

        master run '*' postgres.user_remove app
    """
    conn = _conn(user, host, port, maintenance_db, password, runas)
    if not user_exists(ctx, username, **conn):
        return False
    _exec(ctx, f"DROP ROLE {quote_ident(username)};\n", conn)
    return not user_exists(ctx, username, **conn)
