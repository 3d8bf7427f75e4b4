"""MySQL/MariaDB GRANT statements: parsing SHOW GRANTS lines and building safe GRANT/REVOKE SQL.

Pure functions, no server. Privilege names are checked against a fixed list
(as Salt does) and column names and database/table names are quoted here, so
a state's arguments never reach the SQL unquoted.
"""

from __future__ import annotations

import re
from typing import Any

# The privileges a grant may name (MySQL's and MariaDB's, as Salt accepts them).
PRIVILEGES = frozenset((
    "ALL PRIVILEGES", "ALTER", "ALTER ROUTINE", "BACKUP_ADMIN", "BINLOG_ADMIN", "BINLOG ADMIN",
    "BINLOG MONITOR", "BINLOG REPLAY", "CONNECTION_ADMIN", "CONNECTION ADMIN", "CREATE",
    "CREATE ROLE", "CREATE ROUTINE", "CREATE TABLESPACE", "CREATE TEMPORARY TABLES",
    "CREATE USER", "CREATE VIEW", "DELETE", "DELETE HISTORY", "DROP", "DROP ROLE",
    "ENCRYPTION_KEY_ADMIN", "EVENT", "EXECUTE", "FEDERATED ADMIN", "FILE", "GRANT OPTION",
    "GROUP_REPLICATION_ADMIN", "INDEX", "INSERT", "LOCK TABLES", "PERSIST_RO_VARIABLES_ADMIN",
    "PROCESS", "READ_ONLY ADMIN", "REFERENCES", "RELOAD", "REPLICA MONITOR",
    "REPLICATION CLIENT", "REPLICATION MASTER ADMIN", "REPLICATION REPLICA",
    "REPLICATION SLAVE", "REPLICATION_SLAVE_ADMIN", "REPLICATION SLAVE ADMIN",
    "RESOURCE_GROUP_ADMIN", "RESOURCE_GROUP_USER", "ROLE_ADMIN", "SELECT", "SET USER",
    "SET_USER_ID", "SERVICE_CONNECTION_ADMIN", "SHOW DATABASES", "SHOW VIEW", "SHUTDOWN",
    "SLAVE MONITOR", "SUPER", "SYSTEM_VARIABLES_ADMIN", "TRIGGER", "UPDATE", "USAGE",
    "XA_RECOVER_ADMIN",
))
SSL_OPTIONS = ("SSL", "X509", "CIPHER", "ISSUER", "SUBJECT")
# Newer MariaDB servers show some privileges under another name: (since, name, shown as).
MARIADB_ALIASES = (((10, 5, 1), "REPLICATION REPLICA", "REPLICATION SLAVE"),
                   ((10, 5, 2), "REPLICATION CLIENT", "BINLOG MONITOR"),
                   ((10, 5, 9), "REPLICA MONITOR", "SLAVE MONITOR"))

_TOKEN = re.compile(r"`(?:[^`]|``)*`|'(?:[^'\\]|\\.|'')*'|\"(?:[^\"\\]|\\.)*\"|[\w$*]+|\S")
_PIECE = re.compile(r"^\s*([A-Za-z_ ]+?)\s*(?:\(([^()]*)\))?\s*$")


class MysqlError(Exception):
    """The server could not be reached or refused a statement (Salt's ``mysql.error`` text)."""


class GrantError(MysqlError):
    """A grant names an unknown privilege or cannot be expressed safely."""


def quote_identifier(name: str, for_grants: bool = False) -> str:
    """`name` in backquotes; `for_grants` also escapes ``_`` (database-level grants, as Salt)."""
    text = str(name)
    if "\0" in text or not text:
        raise GrantError(f"Invalid identifier: {text!r}")
    text = text.replace("`", "``")
    if for_grants:
        # As Salt: ``%`` stays a wildcard, ``_`` is taken literally.
        text = text.replace("_", "\\_")
    return f"`{text}`"


def quote_string(value: Any) -> str:
    """`value` as a MySQL string literal.

    Quotes are doubled (safe whatever sql_mode says) and backslashes doubled
    (so a trailing backslash cannot escape the closing quote).
    """
    text = str(value)
    if "\0" in text:
        raise GrantError("NUL characters cannot be used in SQL strings")
    return "'" + text.replace("\\", "\\\\").replace("'", "''") + "'"


def _split_top(text: str) -> list[str]:
    """`text` split on the commas that are not inside parentheses."""
    parts, depth, current = [], 0, ""
    for ch in text:
        depth += (ch == "(") - (ch == ")")
        if ch == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += ch
    parts.append(current)
    return parts


def parse_privileges(grant: str) -> list[tuple[str, tuple[str, ...]]]:
    """The requested privileges: (NAME, columns) pairs; ``ALL`` means ``ALL PRIVILEGES``."""
    pieces = []
    for part in _split_top(str(grant)):
        match = _PIECE.match(part)
        if not match:
            raise GrantError(f"Invalid grant : '{part.strip()}'")
        name = " ".join(match.group(1).upper().split())
        if name == "ALL":
            name = "ALL PRIVILEGES"
        if name not in PRIVILEGES:
            raise GrantError(f"Invalid grant : '{name}'")
        columns = tuple(c.strip().strip("`") for c in (match.group(2) or "").split(",")
                        if c.strip())
        pieces.append((name, columns))
    return pieces


def privileges_sql(privileges: list[tuple[str, tuple[str, ...]]]) -> str:
    """Privileges as GRANT/REVOKE text, column names quoted."""
    out = []
    for name, columns in privileges:
        if columns:
            name += " (" + ", ".join(quote_identifier(c) for c in columns) + ")"
        out.append(name)
    return ", ".join(out)


def level_sql(database: str, escape: bool = True) -> str:
    """The ``db.table`` level of a grant, quoted as Salt does when `escape` is true."""
    db, _sep, table = str(database).rpartition(".")
    if not db:
        raise GrantError(f"Invalid database level (use db.* or db.table): {database!r}")
    if not escape:
        if not re.fullmatch(r"[\w$`*\\%.\- ]+", str(database)):
            raise GrantError(f"Invalid database level: {database!r}")
        return str(database)
    if db != "*":
        db = quote_identifier(db, for_grants=table == "*")
    if table != "*":
        table = quote_identifier(table)
    return f"{db}.{table}"


def ssl_sql(ssl_option: Any) -> str:
    """`` REQUIRE ...`` for a list of single-key dicts (SSL, X509, CIPHER, ISSUER, SUBJECT)."""
    if not ssl_option or not isinstance(ssl_option, list):
        return ""
    parts = []
    for opt in ssl_option:
        key, value = next(iter(dict(opt).items()))
        name = str(key).strip().upper()
        if name not in SSL_OPTIONS:
            raise GrantError(f"Invalid SSL option : '{key}'")
        if name in ("CIPHER", "ISSUER", "SUBJECT"):
            parts.append(f"{name} {quote_string(value)}")
        elif value:
            parts.append(name)
    return " REQUIRE " + " AND ".join(parts) if parts else ""


# --- SHOW GRANTS --------------------------------------------------------------------


def _unquote(token: str) -> str:
    if len(token) >= 2 and token[0] == token[-1] and token[0] in "`'\"":
        inner = token[1:-1]
        if token[0] == "`":
            return inner.replace("``", "`")
        return re.sub(r"\\(.)", r"\1", inner.replace(token[0] * 2, token[0]))
    return token


def parse_grant(line: str) -> dict[str, Any]:
    """One SHOW GRANTS line as user, host, database (as shown), privileges and grant option.

    ``privileges`` holds names, and ``NAME.column`` for column privileges.
    """
    tokens = _TOKEN.findall(line)
    out: dict[str, Any] = {"user": "", "host": "", "database": "", "grant": [],
                           "grant_option": "WITH GRANT OPTION" in line.upper()}
    if not tokens or tokens[0].upper() != "GRANT":
        return out
    i, name = 1, ""
    words: list[str] = []
    while i < len(tokens) and tokens[i].upper() != "ON":
        tok = tokens[i]
        if tok == "(":
            name = " ".join(words).upper()
            out["grant"].append(name)
            words = []
            while i + 1 < len(tokens) and tokens[i + 1] != ")":
                i += 1
                if tokens[i] != ",":
                    out["grant"].append(f"{name}.{_unquote(tokens[i])}")
            i += 1
        elif tok == ",":
            if words:
                out["grant"].append(" ".join(words).upper())
            words = []
        else:
            words.append(tok)
        i += 1
    if words:
        out["grant"].append(" ".join(words).upper())
    i += 1
    level = ""
    while i < len(tokens) and tokens[i].upper() != "TO":
        level += tokens[i]
        i += 1
    out["database"] = level
    if i + 3 < len(tokens) and tokens[i + 2] == "@":
        out["user"], out["host"] = _unquote(tokens[i + 1]), _unquote(tokens[i + 3])
    elif i + 1 < len(tokens):
        out["user"] = _unquote(tokens[i + 1])
    return out


def normal_level(level: str) -> str:
    """A grant level without quotes and escapes, to compare the shown with the wanted."""
    return re.sub(r"[`\"\\]", "", level)


def resolve_aliases(grants: list[str], version: tuple[int, ...], mariadb: bool) -> list[str]:
    """Privilege names as this server shows them (MariaDB renamed a few)."""
    if not mariadb:
        return list(grants)
    out = []
    for grant in grants:
        for since, name, shown in MARIADB_ALIASES:
            if version >= since and grant == name:
                grant = shown
        out.append(grant)
    return out


def version_tuple(version: str) -> tuple[int, ...]:
    """``10.11.6-MariaDB-0+deb12u1`` as (10, 11, 6)."""
    match = re.match(r"(\d+)(?:\.(\d+))?(?:\.(\d+))?", version or "")
    if not match:
        return (0,)
    return tuple(int(g) for g in match.groups() if g is not None)
