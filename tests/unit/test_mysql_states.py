"""mysql module building blocks (quoting, grant parsing, client argv) and mysql states on fakes."""

from __future__ import annotations

from typing import Any

import pytest

from minion.context import Context
from minion.loader import MODULES, Registry
from minion.modules import _mysqlconn, _mysqlgrants
from minion.modules._mysqlgrants import GrantError
from minion.runner import CommandResult
from minion.states import STATE_MODULES
from tests.sqlrunner import SqlRunner

STATES = Registry.load({}, {}, modules={k: STATE_MODULES[k] for k in STATE_MODULES
                                        if k.startswith("mysql_")}, kind="states")
VERSION = CommandResult("10.11.6-MariaDB-0+deb12u1\n", "", 0)


def test_quoting_keeps_names_and_values_inside_their_quotes() -> None:
    assert _mysqlgrants.quote_identifier("a`b") == "`a``b`"
    assert _mysqlgrants.quote_identifier("app_db%", for_grants=True) == "`app\\_db%`"
    assert _mysqlgrants.quote_string("it's\\") == "'it''s\\\\'"
    with pytest.raises(GrantError):
        _mysqlgrants.quote_string("a\0")
    with pytest.raises(GrantError):
        _mysqlgrants.quote_identifier("")


def test_privileges_are_checked_and_columns_quoted() -> None:
    parsed = _mysqlgrants.parse_privileges("select (a, b`c), all, lock  tables")
    assert parsed == [("SELECT", ("a", "b`c")), ("ALL PRIVILEGES", ()), ("LOCK TABLES", ())]
    assert _mysqlgrants.privileges_sql(parsed) == (
        "SELECT (`a`, `b``c`), ALL PRIVILEGES, LOCK TABLES")
    for bad in ("select; drop database x", "selectx", "select ' or 1"):
        with pytest.raises(GrantError, match="Invalid grant"):
            _mysqlgrants.parse_privileges(bad)
    assert _mysqlgrants.level_sql("app_db.*") == "`app\\_db`.*"
    assert _mysqlgrants.level_sql("app_db.t_1") == "`app_db`.`t_1`"
    assert _mysqlgrants.level_sql("*.*") == "*.*"
    with pytest.raises(GrantError):
        _mysqlgrants.level_sql("x.*; drop", escape=False)
    assert _mysqlgrants.ssl_sql([{"ssl": True}, {"subject": "CN='x'"}]) == (
        " REQUIRE SSL AND SUBJECT 'CN=''x'''")


def test_show_grants_lines_parse() -> None:
    line = "GRANT SELECT (`user`), INSERT ON `mysql`.`user` TO `u1`@`localhost`"
    assert _mysqlgrants.parse_grant(line) == {
        "user": "u1", "host": "localhost", "database": "`mysql`.`user`",
        "grant": ["SELECT", "SELECT.user", "INSERT"], "grant_option": False}
    parsed = _mysqlgrants.parse_grant(
        "GRANT ALL PRIVILEGES ON `a\\_b`.* TO 'o''k'@'%' WITH GRANT OPTION")
    assert (parsed["user"], parsed["host"], parsed["grant"], parsed["grant_option"]) == (
        "o'k", "%", ["ALL PRIVILEGES"], True)
    assert _mysqlgrants.normal_level(parsed["database"]) == "a_b.*"
    assert _mysqlgrants.resolve_aliases(["REPLICATION CLIENT"], (10, 11), True) == [
        "BINLOG MONITOR"]
    assert _mysqlgrants.resolve_aliases(["REPLICATION CLIENT"], (8, 0), False) == [
        "REPLICATION CLIENT"]


def test_batch_output_and_errors() -> None:
    assert _mysqlconn._unescape("a\\tb\\\\n\\n") == "a\tb\\n\n"
    assert _mysqlconn._unescape("NULL") is None
    assert _mysqlconn._error_text(
        "ERROR 1064 (42000) at line 1: You have an error") == "MySQL Error 1064: You have an error"
    assert _mysqlconn._error_text("ERROR 2002 (HY000): Can't connect") == (
        "MySQL Error 2002: Can't connect")
    assert _mysqlconn.native_hash("mypass") == "*6C8989366EAF75BB670AD8EA7A7FC1176A95CEF4"


MYSQL_MISS = CommandResult("", "ERROR 1064 (42000) at line 1: unexpected", 1)


def _runner(answers: list[tuple[str, CommandResult]]) -> SqlRunner:
    """The SQL fake, answering an unexpected statement as the mariadb client does."""
    return SqlRunner(answers, MYSQL_MISS)


def _ctx(runner: SqlRunner, opts: dict[str, Any] | None = None) -> Context:
    opts = opts or {}
    funs = Registry.load(opts, {}, modules={"mysql": MODULES["mysql"],
                                            "config": MODULES["config"]})
    return Context(opts, {}, {}, funs, runner=runner)


needs_client = pytest.mark.skipif(_mysqlconn.client_path() is None,
                                  reason="the mariadb/mysql client is not installed")


@needs_client
def test_settings_then_arguments_and_password_in_the_environment() -> None:
    runner = _runner([("VERSION()", VERSION)])
    ctx = _ctx(runner, {"mysql.host": "db.example", "mysql.user": "admin",
                        "mysql.pass": "opt-pw", "mysql.port": 3307})
    assert ctx.call("mysql.version") == "10.11.6-MariaDB-0+deb12u1"
    call = runner.calls[0]
    assert call["argv"][1:3] == ["--no-defaults", "--batch"]
    assert {"--host=db.example", "--user=admin", "--port=3307",
            "--skip-column-names"} <= set(call["argv"])
    assert "opt-pw" not in " ".join(call["argv"]) and call["env"] == {"MYSQL_PWD": "opt-pw"}
    ctx.call("mysql.version", connection_host="other", connection_pass="arg-pw")
    assert "--host=other" in runner.calls[1]["argv"]
    assert runner.calls[1]["env"] == {"MYSQL_PWD": "arg-pw"}
    # A defaults file replaces the settings.
    ctx.call("mysql.version", connection_default_file="/etc/my.cnf")
    argv = runner.calls[2]["argv"]
    assert argv[1] == "--defaults-file=/etc/my.cnf" and "--host=db.example" not in argv
    assert runner.calls[2]["env"] == {}


@needs_client
def test_failures_return_salt_values() -> None:
    denied = CommandResult("", "ERROR 1045 (28000): Access denied for user 'a'@'h'", 1)
    ctx = _ctx(_runner([("", denied)]))
    assert ctx.call("mysql.version") == ""
    assert ctx.call("mysql.db_list") == []
    assert ctx.call("mysql.db_exists", "x") is False
    assert ctx.call("mysql.user_grants", "u") is False
    assert ctx.call("mysql.query", "db", "SELECT 1") == {}
    ret = STATES.call(ctx, "mysql_user.absent", ["u"], {})
    assert (ret["result"], ret["comment"]) == (
        False, "MySQL Error 1045: Access denied for user 'a'@'h'")


@needs_client
def test_user_present_creates_with_quoted_sql_and_predicts() -> None:
    runner = _runner([("VERSION()", VERSION),
                        ("COLUMN_NAME", CommandResult("Password\n", "", 0)),
                        ("SELECT User, Host", CommandResult("", "", 0)),
                        ("CREATE USER", CommandResult("", "", 0))])
    ctx = _ctx(runner)
    ctx.test = True
    ret = STATES.call(ctx, "mysql_user.present", ["o'neil"], {"password": "p'w"})
    assert (ret["result"], ret["changes"], ret["comment"]) == (
        None, {}, "User o'neil@localhost is set to be added")
    assert not any("CREATE USER" in s for s in runner.sql())
    ctx.test = False
    ret = STATES.call(ctx, "mysql_user.present", ["o'neil"], {"password": "p'w"})
    # The fake never shows the account afterwards: the create is reported as failed.
    assert (ret["result"], ret["comment"]) == (False, "Failed to create user o'neil@localhost")
    assert "CREATE USER 'o''neil'@'localhost' IDENTIFIED BY 'p''w';" in runner.sql()


@needs_client
def test_grants_present_reads_show_grants() -> None:
    lines = ("GRANT USAGE ON *.* TO `u`@`localhost` IDENTIFIED BY PASSWORD '*AB'\n"
             "GRANT SELECT, INSERT ON `app\\\\_db`.* TO `u`@`localhost`\n")
    runner = _runner([("VERSION()", VERSION),
                        ("COLUMN_NAME", CommandResult("Password\n", "", 0)),
                        ("SELECT User, Host", CommandResult("u\tlocalhost\n", "", 0)),
                        ("SHOW GRANTS", CommandResult(lines, "", 0))])
    ctx = _ctx(runner)
    args = {"grant": "insert", "database": "app_db.*", "user": "u"}
    ret = STATES.call(ctx, "mysql_grants.present", ["g"], args)
    assert (ret["result"], ret["comment"]) == (
        True, "Grant insert on app_db.* to u@localhost is already present")
    ctx.test = True
    ret = STATES.call(ctx, "mysql_grants.present", ["g"], dict(args, grant="update"))
    assert (ret["result"], ret["comment"]) == (None, "MySQL grant g is set to be created")
    ret = STATES.call(ctx, "mysql_grants.present", ["g"], dict(args, grant_option=True))
    assert ret["result"] is None  # held without GRANT OPTION
    assert not any(s.startswith("GRANT") for s in runner.sql())


@needs_client
def test_database_present_predicts_charset_change() -> None:
    runner = _runner([("SCHEMATA", CommandResult("utf8mb4\tutf8mb4_general_ci\n", "", 0))])
    ctx = _ctx(runner)
    ctx.test = True
    ret = STATES.call(ctx, "mysql_database.present", ["d"], {"character_set": "latin1"})
    assert (ret["result"], ret["changes"]) == (None, {})
    assert ret["comment"] == ("Database character set latin1 != utf8mb4 needs to be updated\n"
                              "Database d is going to be updated")
    ret = STATES.call(ctx, "mysql_database.present", ["d"], {"collate": "x; drop"})
    assert ret["result"] is None  # only predicted: nothing reaches the server
    ctx.test = False
    ret = STATES.call(ctx, "mysql_database.present", ["d"], {"collate": "x; drop"})
    assert ret["result"] is False and "invalid collate" in ret["comment"]
    assert not any("ALTER" in s for s in runner.sql())
