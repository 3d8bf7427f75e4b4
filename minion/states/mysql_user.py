"""MySQL/MariaDB accounts present with a password (or passwordless), or absent (Salt's mysql_user).

``present`` first asks whether the account exists with the wanted password
(or without one), then whether it exists at all: an existing account gets
its password changed (changes ``{name: "Updated"}``), a missing one is
created (``{name: "Present"}``). The comments are Salt's. Connection
arguments: ``connection_host``, ``connection_port``, ``connection_user``,
``connection_pass``, ``connection_db``, ``connection_unix_socket``,
``connection_charset``, ``connection_default_file`` (else the ``mysql.*``
minion settings).
"""

from __future__ import annotations

from typing import Any

from minion.context import Context
from minion.modules import _mysqlusers as users
from minion.modules._mysqlconn import Connection, MysqlError
from minion.states import result

__all__ = ["absent", "present"]


def _exists_as_wanted(conn: Connection, name: str, host: str, password: str | None,
                      password_hash: str | None, passwordless: bool, unix_socket: bool,
                      password_column: str | None) -> bool:
    conn = users.reachable(conn, password)
    if passwordless:
        return conn.user_exists(name, host, passwordless=True, unix_socket=unix_socket,
                                password_column=password_column)
    return conn.user_exists(name, host, password, password_hash,
                            password_column=password_column)


def _already(ret: dict[str, Any], passwordless: bool, allow_passwordless: bool,
             password: str | None, password_hash: str | None, auth_plugin: str) -> None:
    if passwordless:
        if allow_passwordless:
            ret["comment"] += " with passwordless login"
    elif auth_plugin == "mysql_native_password":
        ret["comment"] += " with the desired password"
        if password_hash and not password:
            ret["comment"] += " hash"
    else:
        ret["comment"] += ". Unable to verify password."


def _create(ctx: Context, conn: Connection, ret: dict[str, Any], name: str, host: str,
            args: dict[str, Any]) -> dict[str, Any]:
    suffix = " with passwordless login" if args["allow_passwordless"] else ""
    if args["unix_socket"]:
        suffix += " using unix_socket"
    if ctx.test:
        return result.done(ret, f"User {name}@{host} is set to be added{suffix}", None)
    try:
        created = users.create_user(conn, name, host, args["password"], args["password_hash"],
                                    args["allow_passwordless"], args["unix_socket"],
                                    args["password_column"], args["auth_plugin"])
        error = ""
    except MysqlError as exc:
        created, error = False, f" ({exc})"
    if not created:
        return result.fail(ret, f"Failed to create user {name}@{host}{error}")
    ret["changes"][name] = "Present"
    return result.done(ret, f"The user {name}@{host} has been added{suffix}")


def _chpass(ctx: Context, conn: Connection, ret: dict[str, Any], name: str, host: str,
            passwordless: bool, args: dict[str, Any]) -> dict[str, Any]:
    what = "cleared" if passwordless else "changed"
    if ctx.test:
        comment = f"Password for user {name}@{host} is set to be {what}"
        if passwordless and not args["allow_passwordless"]:
            return result.fail(ret, comment + ", but allow_passwordless != True")
        return result.done(ret, comment, None)
    try:
        changed = users.change_password(conn, name, host, args["password"],
                                        args["password_hash"], args["allow_passwordless"],
                                        args["unix_socket"])
        error = ""
    except MysqlError as exc:
        changed, error = False, f" ({exc})"
    if changed:
        ret["changes"][name] = "Updated"
        return result.done(ret, f"Password for user {name}@{host} has been {what}")
    comment = (f"Failed to {'clear' if passwordless else 'change'} password for user "
               f"{name}@{host}{error}")
    if passwordless and not args["allow_passwordless"]:
        comment += ". Note: allow_passwordless must be True to permit passwordless login."
    return result.fail(ret, comment)


def present(
    ctx: Context,
    name: str,
    host: str = "localhost",
    password: str | None = None,
    password_hash: str | None = None,
    allow_passwordless: bool = False,
    unix_socket: bool = False,
    password_column: str | None = None,
    auth_plugin: str = "mysql_native_password",
    **connection_args: Any,
) -> dict[str, Any]:
    """Make sure account `name`@`host` exists with the given password (or none).

    name
        The user name.
    host
        The host part of the account (default ``localhost``).
    password, password_hash
        The password, plain or as the server's hash (``*6C89...``); the
        plain one wins when both are given.
    allow_passwordless
        With neither password given, allow (and make) an account without one.
    unix_socket
        Log in through the unix_socket plugin (passwordless, host localhost).
    password_column
        The column of mysql.user holding the hash (found out when unset).
    auth_plugin
        The password plugin (MySQL 8); another than mysql_native_password
        cannot be checked.
    connection_host, connection_user, connection_pass, ...
        How to connect (see the mysql module).

    CLI Example:

        minion call --local state.single mysql_user.present frank host=localhost password=bobcat
    """
    ret = result.new(name)
    ret["comment"] = f"User {name}@{host} is already present"
    conn = Connection(ctx, connection_args)
    password = None if password is None else str(password)
    passwordless = not any((password, password_hash))
    if passwordless and not allow_passwordless and not unix_socket:
        return result.fail(ret, "Either password or password_hash must be specified, "
                                "unless allow_passwordless is True")
    args = {"password": password, "password_hash": password_hash,
            "allow_passwordless": bool(allow_passwordless), "unix_socket": bool(unix_socket),
            "password_column": password_column, "auth_plugin": auth_plugin}
    try:
        if _exists_as_wanted(conn, name, host, password, password_hash, passwordless,
                             bool(unix_socket), password_column):
            _already(ret, passwordless, bool(allow_passwordless), password, password_hash,
                     auth_plugin)
            return ret
        conn = users.reachable(conn, password)
        exists = conn.user_exists(name, host)
    except MysqlError as exc:
        return result.fail(ret, str(exc))
    if exists:
        return _chpass(ctx, conn, ret, name, host, passwordless, args)
    return _create(ctx, conn, ret, name, host, args)


def absent(ctx: Context, name: str, host: str = "localhost",
           **connection_args: Any) -> dict[str, Any]:
    """Make sure account `name`@`host` does not exist.

    CLI Example:

        minion call --local state.single mysql_user.absent frank host=localhost
    """
    ret = result.new(name)
    conn = Connection(ctx, connection_args)
    try:
        if not conn.user_exists(name, host):
            return result.done(ret, f"User {name}@{host} is not present, so it cannot be "
                                    "removed")
        if ctx.test:
            return result.done(ret, f"User {name}@{host} is set to be removed", None)
        users.remove_user(conn, name, host)
    except MysqlError as exc:
        return result.fail(ret, str(exc))
    ret["changes"][name] = "Absent"
    return result.done(ret, f"User {name}@{host} has been removed")
