"""The connection to a MySQL/MariaDB server through its command-line client (see `mysql`)."""

from __future__ import annotations

import hashlib
import logging
import re
import shutil
from collections.abc import Mapping
from typing import Any

from minion.context import Context
from minion.modules import _mysqlgrants as grants
from minion.modules._mysqlgrants import MysqlError, quote_identifier, quote_string

log = logging.getLogger("minion.modules.mysql")
CLIENTS = ("mariadb", "mysql")
CONN_KEYS = ("connection_host", "connection_port", "connection_user", "connection_pass",
             "connection_db", "connection_unix_socket", "connection_charset",
             "connection_default_file")


def client_path() -> str | None:
    """The command-line client: ``mariadb``, else ``mysql``."""
    for name in CLIENTS:
        found = shutil.which(name)
        if found:
            return found
    return None


def _unescape(field: str) -> str | None:
    # --batch writes NULL for SQL NULL and escapes tab, newline, NUL and backslash.
    if field == "NULL":
        return None
    if "\\" not in field:
        return field
    table = {"t": "\t", "n": "\n", "0": "\0", "\\": "\\"}
    return re.sub(r"\\(.)", lambda m: table.get(m.group(1), m.group(0)), field)


def _error_text(stderr: str) -> str:
    """The client's ``ERROR 1045 (28000): ...`` as Salt words it: ``MySQL Error 1045: ...``."""
    for line in stderr.splitlines():
        match = re.match(r"^ERROR (\d+)(?: \([0-9A-Z]+\))?(?: at line \d+)?: (.*)$", line)
        if match:
            return f"MySQL Error {match.group(1)}: {match.group(2)}"
    text = stderr.strip().splitlines()
    return f"MySQL Error: {text[-1] if text else 'the client failed'}"


class Connection:
    """How to reach one server (arguments, then minion settings) and the statements run there.

    Every method raises `MysqlError` when the server cannot be used; the
    execution functions turn that into Salt's failure values, the states into
    a failed result whose comment is the error.
    """

    def __init__(self, ctx: Context, args: Mapping[str, Any]) -> None:
        self.ctx = ctx
        self.args = {k: v for k, v in args.items() if k in CONN_KEYS}
        self._version: str | None = None

    def setting(self, key: str) -> Any:
        """One connection setting: the argument, else ``mysql.<name>`` unless a file was given."""
        if key in self.args:
            return self.args[key]
        if key != "connection_charset" and "connection_default_file" in self.args:
            return None
        return self.ctx.call("config.option", "mysql." + key[len("connection_"):]) or None

    def with_password(self, password: str) -> Connection:
        """The same connection logging in with `password` (a user changing its own password)."""
        return Connection(self.ctx, dict(self.args, connection_pass=password))

    def argv(self, database: str | None, header: bool) -> list[str]:
        binary = client_path()
        if binary is None:
            raise MysqlError("MySQL Error: the mariadb/mysql client is not installed")
        default_file = self.setting("connection_default_file")
        argv = [binary, f"--defaults-file={default_file}" if default_file else "--no-defaults",
                "--batch", "--connect-timeout=10",
                f"--default-character-set={self.setting('connection_charset') or 'utf8mb4'}"]
        if not header:
            argv.append("--skip-column-names")
        for key, flag in (("connection_host", "--host"), ("connection_port", "--port"),
                          ("connection_user", "--user"), ("connection_unix_socket", "--socket")):
            value = self.setting(key)
            if value:
                argv.append(f"{flag}={value}")
        database = database if database is not None else self.setting("connection_db")
        if database:
            argv.append(f"--database={database}")
        return argv

    def run(self, sql: str, database: str | None = None,
            header: bool = False) -> list[list[str | None]]:
        """Run `sql` (one or more statements) and return the output rows as lists of fields."""
        env = {}
        password = self.setting("connection_pass")
        if password:
            env["MYSQL_PWD"] = str(password)
        done = self.ctx.run(self.argv(database, header), env=env, stdin=sql,
                            timeout=self.ctx.call("config.option", "mysql.timeout") or 60)
        if done.retcode != 0:
            raise MysqlError(_error_text(done.stderr))
        rows = [[_unescape(f) for f in line.split("\t")] for line in done.stdout.splitlines()]
        if header and rows:
            # A column may be named NULL: the header is never SQL NULL.
            rows[0] = [f if f is not None else "NULL" for f in rows[0]]
        return rows

    def scalar(self, sql: str) -> str | None:
        rows = self.run(sql)
        return rows[0][0] if rows and rows[0] else None

    # --- server ------------------------------------------------------------------

    def version(self) -> str:
        if self._version is None:
            self._version = self.scalar("SELECT VERSION();") or ""
        return self._version

    def is_mariadb(self) -> bool:
        return "MariaDB" in self.version()

    def version_at_least(self, *wanted: int) -> bool:
        return grants.version_tuple(self.version()) >= wanted

    def plugin_status(self, name: str) -> str:
        return self.scalar("SELECT PLUGIN_STATUS FROM INFORMATION_SCHEMA.PLUGINS "
                           f"WHERE PLUGIN_NAME = {quote_string(name)};") or ""

    def password_column(self) -> str:
        found = self.scalar("SELECT COLUMN_NAME FROM information_schema.COLUMNS "
                            "WHERE TABLE_SCHEMA = 'mysql' AND TABLE_NAME = 'user' "
                            "AND COLUMN_NAME = 'Password';")
        return "Password" if found else "authentication_string"

    def auth_plugin(self, user: str, host: str) -> str:
        return self.scalar(f"SELECT plugin FROM mysql.user WHERE {who(user, host)};") or ""

    # --- databases ---------------------------------------------------------------

    def db_list(self) -> list[str]:
        return [str(row[0]) for row in self.run("SHOW DATABASES;")]

    def db_get(self, name: str) -> dict[str, str]:
        rows = self.run("SELECT DEFAULT_CHARACTER_SET_NAME, DEFAULT_COLLATION_NAME "
                        "FROM INFORMATION_SCHEMA.SCHEMATA "
                        f"WHERE SCHEMA_NAME = {quote_string(name)};")
        if not rows:
            return {}
        return {"character_set": str(rows[0][0]), "collate": str(rows[0][1])}

    def db_exists(self, name: str) -> bool:
        # LIKE with its wildcards escaped: an exact match, with the server's
        # own rules for case (lower_case_table_names).
        pattern = re.sub(r"([\\_%])", r"\\\1", str(name))
        return len(self.run(f"SHOW DATABASES LIKE {quote_string(pattern)};")) == 1

    # --- users -------------------------------------------------------------------

    def user_exists(self, user: str, host: str, password: str | None = None,
                    password_hash: str | None = None, passwordless: bool = False,
                    unix_socket: bool = False, password_column: str | None = None) -> bool:
        sql = f"SELECT User, Host FROM mysql.user WHERE {who(user, host)}"
        column = quote_identifier(password_column or self.password_column())
        if passwordless:
            if unix_socket:
                plugin = "unix_socket" if self.is_mariadb() else "auth_socket"
                sql += f" AND plugin = {quote_string(plugin)}"
            else:
                sql += f" AND {column} = ''"
        elif password:
            sql += f" AND {column} = {self.password_sql(str(password))}"
        elif password_hash:
            sql += f" AND {column} = {quote_string(password_hash)}"
        return len(self.run(sql + ";")) == 1

    def password_sql(self, password: str) -> str:
        """SQL for the stored hash of `password` (MySQL 8 has no PASSWORD())."""
        if not self.is_mariadb() and self.version_at_least(8, 0, 11):
            return quote_string(native_hash(password))
        return f"PASSWORD({quote_string(password)})"


def who(user: str, host: str) -> str:
    """The WHERE condition selecting one account of mysql.user."""
    return f"User = {quote_string(user)} AND Host = {quote_string(host)}"


def account(user: str, host: str) -> str:
    """``'user'@'host'`` for CREATE/ALTER/DROP USER and GRANT."""
    return f"{quote_string(user)}@{quote_string(host)}"


def native_hash(password: str) -> str:
    """The mysql_native_password hash of `password`: ``*`` + SHA1(SHA1(password)), upper-case."""
    inner = hashlib.sha1(password.encode(), usedforsecurity=False).digest()
    return "*" + hashlib.sha1(inner, usedforsecurity=False).hexdigest().upper()


def failing(default: Any, fn: Any, *args: Any, **kwargs: Any) -> Any:
    """`fn(*args, **kwargs)`, or `default` (the error logged) when the server fails it."""
    try:
        return fn(*args, **kwargs)
    except MysqlError as exc:
        log.error("%s", exc)
        return default
