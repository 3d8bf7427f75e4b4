"""Accounts and grants on a MySQL/MariaDB server, as Salt's mysql module changes them.

Every function takes a `Connection` and raises `MysqlError` (or `GrantError`
for a grant that cannot be expressed) instead of returning Salt's failure
values; `minion.modules.mysql` wraps them for the command line.
"""

from __future__ import annotations

import logging
from typing import Any

from minion.modules import _mysqlgrants as grants
from minion.modules._mysqlconn import Connection, MysqlError, account, quote_string

log = logging.getLogger("minion.modules.mysql")


def reachable(conn: Connection, password: str | None) -> Connection:
    """`conn`, or the same login with the managed user's own `password` when that one works.

    As Salt: a state that changed the password of the very account it
    connects as must still reach the server on its next run.
    """
    try:
        conn.version()
        return conn
    except MysqlError as first:
        if not password:
            raise
        other = conn.with_password(password)
        try:
            other.version()
        except MysqlError as second:
            # As Salt: the error reported is the last attempt's.
            log.error('MySQL Error: Unable to fetch current server version. Last error was: '
                      '"%s"', first)
            raise second from None
        return other


def create_user(conn: Connection, user: str, host: str, password: str | None = None,
                password_hash: str | None = None, allow_passwordless: bool = False,
                unix_socket: bool = False, password_column: str | None = None,
                auth_plugin: str = "mysql_native_password") -> bool:
    """CREATE USER; True when the account then exists with that password."""
    conn = reachable(conn, password)
    if conn.user_exists(user, host):
        log.info("User '%s'@'%s' already exists", user, host)
        return False
    sql = f"CREATE USER {account(user, host)}"
    mysql8 = not conn.is_mariadb() and conn.version_at_least(8, 0, 11)
    if unix_socket:
        plugin = "unix_socket" if conn.is_mariadb() else "auth_socket"
        if not conn.plugin_status(plugin):
            raise MysqlError(f"The {plugin} plugin is not enabled.")
        if host != "localhost":
            raise MysqlError("Auth via unix_socket can be set only for host=localhost")
        sql += f" IDENTIFIED {'VIA' if conn.is_mariadb() else 'WITH'} {plugin}"
    elif not allow_passwordless:
        if password is not None:
            how = f"WITH {_plugin_name(auth_plugin)} BY" if mysql8 else "BY"
            sql += f" IDENTIFIED {how} {quote_string(password)}"
        elif password_hash is not None:
            how = f"WITH {_plugin_name(auth_plugin)} AS" if mysql8 else "BY PASSWORD"
            sql += f" IDENTIFIED {how} {quote_string(password_hash)}"
        else:
            log.error("password or password_hash must be specified, unless "
                      "allow_passwordless=True")
            return False
    conn.run(sql + ";")
    return conn.user_exists(user, host, password, password_hash, password_column=password_column)


def _plugin_name(name: str) -> str:
    if not name.replace("_", "").isalnum():
        raise MysqlError(f"MySQL Error: invalid authentication plugin {name!r}")
    return name


def chpass_sql(conn: Connection, user: str, host: str, password: str | None,
               password_hash: str | None, allow_passwordless: bool,
               unix_socket: bool) -> str | None:
    """The statement that sets the account's password (None when none was given)."""
    who = account(user, host)
    if allow_passwordless and unix_socket:
        if host != "localhost":
            raise MysqlError("Auth via unix_socket can be set only for host=localhost")
        plugin = "unix_socket" if conn.is_mariadb() else "auth_socket"
        if not conn.plugin_status(plugin):
            raise MysqlError(f"The {plugin} plugin is not enabled.")
        if conn.is_mariadb():
            return f"ALTER USER {who} IDENTIFIED VIA unix_socket;"
        return f"ALTER USER {who} IDENTIFIED WITH auth_socket AS {quote_string(user)};"
    if password is not None:
        value = conn.password_sql(password)
    elif password_hash is not None:
        value = quote_string(password_hash)
    elif allow_passwordless:
        value = "''"
    else:
        log.error("password or password_hash must be specified, unless allow_passwordless=True")
        return None
    if conn.is_mariadb():
        plugin = conn.auth_plugin(user, host)
        # A socket-only account gets a password plugin when it is given a password.
        if plugin in ("", "unix_socket", "mysql_old_password"):
            plugin = "mysql_native_password"
        if conn.version_at_least(10, 4):
            return f"ALTER USER {who} IDENTIFIED VIA {_plugin_name(plugin)} USING {value};"
    elif conn.version_at_least(8, 0, 11):
        plugin = _plugin_name(conn.auth_plugin(user, host) or "mysql_native_password")
        if password is not None:
            return f"ALTER USER {who} IDENTIFIED WITH {plugin} BY {quote_string(password)};"
        return f"ALTER USER {who} IDENTIFIED WITH {plugin} AS {value};"
    return f"SET PASSWORD FOR {who} = {value};"


def change_password(conn: Connection, user: str, host: str, password: str | None = None,
                    password_hash: str | None = None, allow_passwordless: bool = False,
                    unix_socket: bool = False) -> bool:
    """Set (or clear) the account's password; False when the account does not exist."""
    conn = reachable(conn, password)
    if not conn.user_exists(user, host):
        log.info("User '%s'@'%s' does not exists", user, host)
        return False
    sql = chpass_sql(conn, user, host, password, password_hash, allow_passwordless, unix_socket)
    if sql is None:
        return False
    conn.run(sql + "\nFLUSH PRIVILEGES;")
    return True


def remove_user(conn: Connection, user: str, host: str) -> bool:
    """DROP USER; True when the account is gone, False when it did not exist."""
    if not conn.user_exists(user, host):
        raise MysqlError(f"User '{user}'@'{host}' does not exists")
    conn.run(f"DROP USER {account(user, host)};")
    return not conn.user_exists(user, host)


# --- grants ------------------------------------------------------------------------


def show_grants(conn: Connection, user: str, host: str) -> list[str] | None:
    """SHOW GRANTS lines without their password part; None when the account does not exist."""
    if not conn.user_exists(user, host):
        return None
    out = []
    for row in conn.run(f"SHOW GRANTS FOR {account(user, host)};"):
        line = str(row[0])
        kept = line.split(" IDENTIFIED BY")[0]
        if "WITH GRANT OPTION" in line and "WITH GRANT OPTION" not in kept:
            kept += " WITH GRANT OPTION"
        out.append(kept)
    return out


def _wanted(grant: str) -> list[tuple[str, tuple[str, ...]]]:
    # As Salt: any grant that mentions ALL is checked as ALL PRIVILEGES.
    if "ALL" in str(grant).upper():
        return [("ALL PRIVILEGES", ())]
    return grants.parse_privileges(grant)


def has_grant(conn: Connection, grant: str, database: str, user: str, host: str,
              grant_option: bool = False, escape: bool = True) -> bool:
    """Whether the account holds every privilege of `grant` on `database` (db.* or db.table)."""
    mariadb, version = conn.is_mariadb(), grants.version_tuple(conn.version())
    wanted = []
    for name, columns in _wanted(grant):
        wanted += [f"{name}.{c}".upper() for c in columns] if columns else [name]
    wanted = grants.resolve_aliases(wanted, version, mariadb)
    level = grants.normal_level(grants.level_sql(database, escape))
    lines = show_grants(conn, user, host)
    if lines is None:
        return False
    held: set[str] = set()
    with_option = False
    for line in lines:
        parsed = grants.parse_grant(line)
        if (grants.normal_level(parsed["database"]) != level
                or parsed["user"] != user or parsed["host"] != host):
            continue
        held |= {g.upper() for g in grants.resolve_aliases(parsed["grant"], version, mariadb)}
        with_option = with_option or parsed["grant_option"]
    if grant_option and not with_option:
        return False
    # As Salt, ALL PRIVILEGES held does not stand for a single wanted privilege.
    return bool(held) and all(w in held for w in wanted)


def add_grant(conn: Connection, grant: str, database: str, user: str, host: str,
              grant_option: bool = False, escape: bool = True, ssl_option: Any = False) -> bool:
    """GRANT ... ON database TO user@host; True when the grant then exists."""
    sql = (f"GRANT {grants.privileges_sql(grants.parse_privileges(grant.strip()))} "
           f"ON {grants.level_sql(database, escape)} TO {account(user, host)}"
           f"{grants.ssl_sql(ssl_option)}")
    if grant_option:
        sql += " WITH GRANT OPTION"
    conn.run(sql + ";")
    return has_grant(conn, grant, database, user, host, grant_option, escape)


def revoke_grant(conn: Connection, grant: str, database: str, user: str, host: str,
                 grant_option: bool = False, escape: bool = True) -> bool:
    """REVOKE ... ON database FROM user@host; True when the grant is gone afterwards."""
    privileges = grants.privileges_sql(grants.parse_privileges(grant))
    if grant_option:
        privileges += ", GRANT OPTION"
    conn.run(f"REVOKE {privileges} ON {grants.level_sql(database, escape)} "
             f"FROM {account(user, host)};")
    return not has_grant(conn, grant, database, user, host, False, escape)


def revoke_level(conn: Connection, database: str, user: str, host: str,
                 escape: bool = True) -> None:
    """Revoke every privilege the account holds on `database` (mysql_grants' revoke_first)."""
    level = grants.normal_level(grants.level_sql(database, escape))
    for line in show_grants(conn, user, host) or []:
        parsed = grants.parse_grant(line)
        if grants.normal_level(parsed["database"]) == level and parsed["grant"] != ["USAGE"]:
            privileges = [g for g in parsed["grant"] if "." not in g]
            if privileges:
                revoke_grant(conn, ", ".join(privileges), database, user, host,
                             parsed["grant_option"], escape)
