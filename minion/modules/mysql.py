"""MySQL and MariaDB databases, users and grants through the ``mariadb``/``mysql`` client.

Like Salt's ``mysql`` module, but it talks to the server with the command-line
client (``--batch``), given an argument list (never a shell); SQL goes on
stdin and the password in the client's environment (``MYSQL_PWD``), so
neither shows in the process list. Names and values are quoted here.

Connection options, as in Salt: the arguments ``connection_host``,
``connection_port``, ``connection_user``, ``connection_pass``,
``connection_db``, ``connection_unix_socket``, ``connection_charset`` and
``connection_default_file``, else the settings ``mysql.host``, ``mysql.port``,
``mysql.user``, ``mysql.pass``, ``mysql.db``, ``mysql.unix_socket``,
``mysql.charset`` and ``mysql.default_file``. A ``connection_default_file``
argument turns the settings off (the file says how to connect). Without a
defaults file the client reads no option files at all.

Failures return Salt's values (False, "", [] or {}) and are logged.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Mapping
from typing import Any

from minion.context import Context
from minion.modules import _mysqlgrants as grants
from minion.modules import _mysqlusers as users
from minion.modules._mysqlconn import Connection, MysqlError, client_path, failing
from minion.modules._mysqlgrants import quote_identifier as _quote_identifier

__all__ = ["alter_db", "db_create", "db_exists", "db_get", "db_list", "db_remove", "db_tables",
           "grant_add", "grant_exists", "grant_revoke", "plugin_status", "query",
           "quote_identifier", "tokenize_grant", "user_chpass", "user_create", "user_exists",
           "user_grants", "user_list", "user_remove", "version"]

log = logging.getLogger(__name__)


def _unavailable(opts: Mapping[str, Any], grains: Mapping[str, Any]) -> str | None:
    if client_path():
        return None
    return "the mariadb/mysql command-line client was not found (install mariadb-client)"


def version(ctx: Context, **connection_args: Any) -> str:
    """Return the server's version (``SELECT VERSION()``), or "" when it cannot be reached.

    connection_host, connection_port, connection_user, connection_pass, ...
        How to connect (see the module's documentation); the same for every
        function here.

    CLI Example:

        master run '*' mysql.version connection_host=127.0.0.1
    """
    return str(failing("", Connection(ctx, connection_args).version))


def plugin_status(ctx: Context, name: str, **connection_args: Any) -> str:
    """Return the status of server plugin `name` (``ACTIVE``...), "" when it is not installed.

    CLI Example:

        master run '*' mysql.plugin_status unix_socket
    """
    return str(failing("", Connection(ctx, connection_args).plugin_status, name))


def quote_identifier(ctx: Context, identifier: str, for_grants: bool = False) -> str:
    """Return `identifier` quoted for MySQL (backquotes; ``_`` escaped too with `for_grants`).

    CLI Example:

        master run '*' mysql.quote_identifier 'foo`bar'
    """
    return _quote_identifier(identifier, for_grants)


def tokenize_grant(ctx: Context, grant: str) -> dict[str, Any]:
    """Split a GRANT statement into its user, host, privileges and database.

    CLI Example:

        master run '*' mysql.tokenize_grant "GRANT SELECT, INSERT ON testdb.* TO 'u'@'localhost'"
    """
    parsed = grants.parse_grant(grant)
    return {k: parsed[k] for k in ("user", "host", "grant", "database")}


# --- databases ---------------------------------------------------------------------


def db_list(ctx: Context, **connection_args: Any) -> list[str]:
    """Return the names of the databases (``SHOW DATABASES``).

    CLI Example:

        master run '*' mysql.db_list
    """
    return list(failing([], Connection(ctx, connection_args).db_list))


def db_get(ctx: Context, name: str, **connection_args: Any) -> dict[str, str] | list[Any]:
    """Return the character set and collation of database `name` ({} when it does not exist).

    CLI Example:

        master run '*' mysql.db_get appdb
    """
    return failing([], Connection(ctx, connection_args).db_get, name)


def db_exists(ctx: Context, name: str, **connection_args: Any) -> bool:
    """Tell whether database `name` exists.

    CLI Example:

        master run '*' mysql.db_exists appdb
    """
    return bool(failing(False, Connection(ctx, connection_args).db_exists, name))


def db_tables(ctx: Context, name: str, **connection_args: Any) -> list[str] | bool:
    """Return the tables of database `name` (False when the database does not exist).

    CLI Example:

        master run '*' mysql.db_tables appdb
    """
    conn = Connection(ctx, connection_args)
    if not failing(False, conn.db_exists, name):
        return False
    rows = failing([], conn.run, f"SHOW TABLES IN {_quote_identifier(name)};")
    return [str(row[0]) for row in rows]


def charset_sql(character_set: str | None, collate: str | None) -> str:
    """`` CHARACTER SET x COLLATE y`` for the values given (names checked, not quoted)."""
    sql = ""
    for word, value in (("CHARACTER SET", character_set), ("COLLATE", collate)):
        if value is None:
            continue
        if not re.fullmatch(r"\w+", str(value)):
            raise MysqlError(f"MySQL Error: invalid {word.lower()}: {value!r}")
        sql += f" {word} {value}"
    return sql


def db_create(ctx: Context, name: str, character_set: str | None = None,
              collate: str | None = None, **connection_args: Any) -> bool:
    """Create database `name`; True when it was created, False when it exists or failed.

    character_set, collate
        Its default character set and collation (the server's when unset).

    CLI Example:

        master run '*' mysql.db_create appdb utf8mb4 utf8mb4_unicode_ci
    """
    conn = Connection(ctx, connection_args)

    def create() -> bool:
        if conn.db_exists(name):
            log.info("DB '%s' already exists", name)
            return False
        conn.run(f"CREATE DATABASE IF NOT EXISTS {_quote_identifier(name)}"
                 f"{charset_sql(character_set, collate)};")
        return True

    return bool(failing(False, create))


def alter_db(ctx: Context, name: str, character_set: str | None = None,
             collate: str | None = None, **connection_args: Any) -> bool:
    """Change the default character set and/or collation of database `name`.

    CLI Example:

        master run '*' mysql.alter_db appdb character_set=utf8mb4
    """
    conn = Connection(ctx, connection_args)

    def alter() -> bool:
        current = conn.db_get(name)
        conn.run(f"ALTER DATABASE {_quote_identifier(name)}" + charset_sql(
            character_set or current.get("character_set"),
            collate or current.get("collate")) + ";")
        return True

    return bool(failing(False, alter))


def db_remove(ctx: Context, name: str, **connection_args: Any) -> bool:
    """Drop database `name`; True when it is gone (``mysql`` and ``information_schema`` never are).

    CLI Example:

        master run '*' mysql.db_remove olddb
    """
    conn = Connection(ctx, connection_args)

    def remove() -> bool:
        if not conn.db_exists(name) or name in ("mysql", "information_schema"):
            return False
        conn.run(f"DROP DATABASE {_quote_identifier(name)};")
        return not conn.db_exists(name)

    return bool(failing(False, remove))


# --- users -------------------------------------------------------------------------


def user_list(ctx: Context, **connection_args: Any) -> list[dict[str, str]]:
    """Return every account as ``{"User": ..., "Host": ...}``.

    CLI Example:

        master run '*' mysql.user_list
    """
    rows = failing([], Connection(ctx, connection_args).run, "SELECT User, Host FROM mysql.user;")
    return [{"User": str(row[0]), "Host": str(row[1])} for row in rows]


def user_exists(ctx: Context, user: str, host: str = "localhost", password: str | None = None,
                password_hash: str | None = None, passwordless: bool = False,
                unix_socket: bool = False, password_column: str | None = None,
                **connection_args: Any) -> bool:
    """Tell whether account `user`@`host` exists (with that password, when one is given).

    passwordless
        Check that it has no password (with `unix_socket`: that it logs in
        through the unix_socket plugin).
    password_column
        The column of mysql.user holding the hash (found out when unset).

    CLI Example:

        master run '*' mysql.user_exists frank localhost password=bobcat
    """
    def check() -> bool:
        conn = users.reachable(Connection(ctx, connection_args), password)
        return conn.user_exists(user, host, password, password_hash, passwordless, unix_socket,
                                password_column)

    return bool(failing(False, check))


def user_create(ctx: Context, user: str, host: str = "localhost", password: str | None = None,
                password_hash: str | None = None, allow_passwordless: bool = False,
                unix_socket: bool = False, password_column: str | None = None,
                auth_plugin: str = "mysql_native_password", **connection_args: Any) -> bool:
    """Create account `user`@`host`; True when it exists afterwards with that password.

    password, password_hash
        Its password, plain or as the server's hash (``*6C89...``).
    allow_passwordless
        Create it without a password.
    unix_socket
        Log in through the unix_socket plugin (host must be localhost).
    auth_plugin
        The plugin MySQL 8 uses for the password.

    CLI Example:

        master run '*' mysql.user_create frank localhost bobcat
    """
    return bool(failing(False, users.create_user, Connection(ctx, connection_args), user, host,
                        password, password_hash, allow_passwordless, unix_socket,
                        password_column, auth_plugin))


def user_chpass(ctx: Context, user: str, host: str = "localhost", password: str | None = None,
                password_hash: str | None = None, allow_passwordless: bool = False,
                unix_socket: bool | None = None, password_column: str | None = None,
                **connection_args: Any) -> bool:
    """Set the password of account `user`@`host` (or clear it with `allow_passwordless`).

    CLI Example:

        master run '*' mysql.user_chpass frank localhost newpassword
    """
    return bool(failing(False, users.change_password, Connection(ctx, connection_args), user,
                        host, password, password_hash, allow_passwordless, bool(unix_socket)))


def user_remove(ctx: Context, user: str, host: str = "localhost", **connection_args: Any) -> bool:
    """Drop account `user`@`host`; True when it is gone.

    CLI Example:

        master run '*' mysql.user_remove frank localhost
    """
    return bool(failing(False, users.remove_user, Connection(ctx, connection_args), user, host))


# --- grants ------------------------------------------------------------------------


def user_grants(ctx: Context, user: str, host: str = "localhost",
                **connection_args: Any) -> list[str] | bool:
    """Return the GRANT statements of account `user`@`host` (False when it does not exist).

    CLI Example:

        master run '*' mysql.user_grants frank localhost
    """
    found = failing(None, users.show_grants, Connection(ctx, connection_args), user, host)
    return False if found is None else list(found)


def grant_exists(ctx: Context, grant: str, database: str, user: str, host: str = "localhost",
                 grant_option: bool = False, escape: bool = True,
                 **connection_args: Any) -> bool:
    """Tell whether `user`@`host` holds every privilege of `grant` on `database`.

    grant
        Privileges, comma-separated (``select,insert`` or ``all privileges``).
    database
        ``db.*``, ``db.table`` or ``*.*``.
    grant_option
        Also require WITH GRANT OPTION.
    escape
        Quote the database and table names (and take ``_`` literally).

    CLI Example:

        master run '*' mysql.grant_exists 'SELECT,INSERT' 'appdb.*' frank localhost
    """
    return bool(failing(False, users.has_grant, Connection(ctx, connection_args), grant,
                        database, user, host, grant_option, escape))


def grant_add(ctx: Context, grant: str, database: str, user: str, host: str = "localhost",
              grant_option: bool = False, escape: bool = True, ssl_option: Any = False,
              **connection_args: Any) -> bool:
    """Grant `grant` on `database` to `user`@`host`; True when the grant then exists.

    ssl_option
        A list of single-key dicts (SSL, X509, CIPHER, ISSUER, SUBJECT)
        required of the account's connections.

    CLI Example:

        master run '*' mysql.grant_add 'SELECT,INSERT' 'appdb.*' frank localhost
    """
    return bool(failing(False, users.add_grant, Connection(ctx, connection_args), grant,
                        database, user, host, grant_option, escape, ssl_option))


def grant_revoke(ctx: Context, grant: str, database: str, user: str, host: str = "localhost",
                 grant_option: bool = False, escape: bool = True,
                 **connection_args: Any) -> bool:
    """Revoke `grant` on `database` from `user`@`host`; True when it is gone afterwards.

    CLI Example:

        master run '*' mysql.grant_revoke 'SELECT,INSERT' 'appdb.*' frank localhost
    """
    return bool(failing(False, users.revoke_grant, Connection(ctx, connection_args), grant,
                        database, user, host, grant_option, escape))


# --- queries -----------------------------------------------------------------------

_SELECTS = ("SELECT", "SHOW", "DESC")


def _elapsed(seconds: float) -> dict[str, str]:
    human = f"{round(seconds * 1000, 1)}ms" if seconds < 0.2 else f"{round(seconds, 2)}s"
    return {"human": human, "raw": str(round(seconds, 5))}


def run_query(conn: Connection, database: str | None, sql: str) -> dict[str, Any]:
    """Run one statement; rows and columns of a SELECT/SHOW/DESC, else the rows affected."""
    is_select = sql.upper().strip().startswith(_SELECTS)
    statement = sql.strip().rstrip(";")
    start = time.monotonic()
    if is_select:
        rows = conn.run(statement + ";\n", database or None, header=True)
        elapsed = time.monotonic() - start
        # A tuple as Salt's driver gives it (the state's comment shows it).
        columns = tuple(str(c) for c in rows[0]) if rows else ()
        return {"query time": _elapsed(elapsed), "rows returned": len(rows[1:]),
                "columns": columns, "results": rows[1:]}
    rows = conn.run(statement + ";\nSELECT ROW_COUNT();\n", database or None)
    elapsed = time.monotonic() - start
    count = rows[-1][0] if rows and rows[-1] else "0"
    return {"query time": _elapsed(elapsed), "rows affected": int(count or 0)}


def query(ctx: Context, database: str, query: str,
          **connection_args: Any) -> dict[str, Any] | bool:
    """Run one SQL statement in `database`: rows of a SELECT, or how many rows it changed.

    Returns ``{"query time", "rows returned", "columns", "results"}`` for
    SELECT/SHOW/DESC, else ``{"query time", "rows affected"}``; False when
    the statement fails. Values come back as strings (NULL as None).

    CLI Example:

        master run '*' mysql.query appdb 'SELECT id, name FROM users LIMIT 3'
    """
    conn = Connection(ctx, connection_args)
    try:
        return run_query(conn, database, query)
    except MysqlError as exc:
        log.error("%s", exc)
        # As Salt: {} when the server cannot be reached, False when the statement fails.
        return {} if _connect_failure(str(exc)) else False


def _connect_failure(error: str) -> bool:
    match = re.match(r"MySQL Error (\d+):", error)
    return not match or int(match.group(1)) >= 2000 or int(match.group(1)) in (1044, 1045, 1049)
