"""MySQL/MariaDB grants present or absent for an account (Salt's mysql_grants).

The state's ``name`` is only an ID. ``grant`` lists privileges
(``select,insert`` or ``all privileges``), ``database`` the level (``db.*``,
``db.table``, ``*.*``). Changes are ``{name: "Present"}`` / ``{name:
"Absent"}``; comments are Salt's. Connection arguments as for ``mysql_user``.
"""

from __future__ import annotations

from typing import Any

from minion.context import Context
from minion.modules import _mysqlusers as users
from minion.modules._mysqlconn import Connection, MysqlError
from minion.states import result

__all__ = ["absent", "present"]


def present(
    ctx: Context,
    name: str,
    grant: str | None = None,
    database: str | None = None,
    user: str | None = None,
    host: str = "localhost",
    grant_option: bool = False,
    escape: bool = True,
    revoke_first: bool = False,
    ssl_option: Any = False,
    **connection_args: Any,
) -> dict[str, Any]:
    """Make sure `user`@`host` holds the privileges `grant` on `database`.

    name
        An ID for the grant (not used in it).
    grant
        The privileges, comma-separated (``select,insert,update``, ``all privileges``).
    database
        The level: ``db.*``, ``db.table`` or ``*.*``.
    user, host
        The account.
    grant_option
        Add WITH GRANT OPTION.
    escape
        Quote the database and table names (``_`` then matches only itself).
    revoke_first
        Before granting, revoke what the account holds on that level (to
        lower its privileges). Beware: it holds nothing there if the grant fails.
    ssl_option
        A list of single-key dicts (SSL, X509, CIPHER, ISSUER, SUBJECT)
        required of the account's connections.

    CLI Example:

        minion call --local state.single mysql_grants.present g1 grant=select database=app.* user=u
    """
    ret = result.new(name)
    ret["comment"] = f"Grant {grant} on {database} to {user}@{host} is already present"
    conn = Connection(ctx, connection_args)
    try:
        if users.has_grant(conn, str(grant), str(database), str(user), host,
                           bool(grant_option), bool(escape)):
            return ret
        conn.version()
    except MysqlError as exc:
        return result.fail(ret, str(exc))
    if ctx.test:
        return result.done(ret, f"MySQL grant {name} is set to be created", None)
    try:
        if revoke_first:
            users.revoke_level(conn, str(database), str(user), host, bool(escape))
        added = users.add_grant(conn, str(grant), str(database), str(user), host,
                                bool(grant_option), bool(escape), ssl_option)
        error = ""
    except MysqlError as exc:
        added, error = False, f" ({exc})"
    if not added:
        return result.fail(ret, f'Failed to execute: "GRANT {grant} ON {database} TO '
                                f'{user}@{host}"{error}')
    ret["changes"][name] = "Present"
    return result.done(ret, f"Grant {grant} on {database} to {user}@{host} has been added")


def absent(
    ctx: Context,
    name: str,
    grant: str | None = None,
    database: str | None = None,
    user: str | None = None,
    host: str = "localhost",
    grant_option: bool = False,
    escape: bool = True,
    **connection_args: Any,
) -> dict[str, Any]:
    """Make sure `user`@`host` does not hold the privileges `grant` on `database`.

    Arguments as for `present`.

    CLI Example:

        minion call --local state.single mysql_grants.absent g1 grant=select database=app.* user=u
    """
    ret = result.new(name)
    conn = Connection(ctx, connection_args)
    try:
        exists = users.has_grant(conn, str(grant), str(database), str(user), host,
                                 bool(grant_option), bool(escape))
    except MysqlError as exc:
        return result.fail(ret, f"Unable to determine if grant {grant} on {database} for "
                                f"{user}@{host} exists ({exc})")
    if not exists:
        return result.done(ret, f"Grant {grant} on {database} to {user}@{host} is not "
                                "present, so it cannot be revoked")
    if ctx.test:
        return result.done(ret, f"MySQL grant {name} is set to be revoked", None)
    try:
        revoked = users.revoke_grant(conn, str(grant), str(database), str(user), host,
                                     bool(grant_option), bool(escape))
    except MysqlError as exc:
        return result.fail(ret, f"Unable to revoke grant {grant} on {database} for "
                                f"{user}@{host} ({exc})")
    if not revoked:
        return result.fail(ret, f"Unable to revoke grant {grant} on {database} for "
                                f"{user}@{host}")
    ret["changes"][name] = "Absent"
    return result.done(ret, f"Grant {grant} on {database} for {user}@{host} has been revoked")
