"""postgres module building blocks (quoting, verifiers, psql argv) and postgres states on fakes."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from common import config
from minion.context import Context
from minion.loader import MODULES, Registry
from minion.modules import _pgsql, postgres
from minion.runner import CommandResult
from minion.states import STATE_MODULES
from tests.sqlrunner import SqlRunner

STATES = Registry.load({}, {}, modules={k: STATE_MODULES[k] for k in
                                        ("postgres_user", "postgres_database")}, kind="states")
# A verifier PostgreSQL 15 itself stored for the password "pa ss".
PG_SCRAM = ("SCRAM-SHA-256$4096:NUBYR6/JgRqEH9r+rnvEqA==$2g+cfhFGTACRzsSFLBA6JZuP918jv1UVh8BbPy"
            "n7tmw=:jJlz/Uj3sdwlaUe0biPJqp0zyn74lMkQaPDN5+fjhFM=")


def test_quoting_keeps_names_and_values_inside_their_quotes() -> None:
    assert _pgsql.quote_ident('a"; DROP ROLE x; --') == '"a""; DROP ROLE x; --"'
    assert _pgsql.quote_literal("it's") == "'it''s'"
    assert _pgsql.quote_literal("a\\'b") == "E'a\\\\''b'"
    for bad in ("", "a\0b"):
        with pytest.raises(_pgsql.PostgresError):
            _pgsql.quote_ident(bad)
    with pytest.raises(_pgsql.PostgresError):
        _pgsql.quote_literal("x\0")


def test_password_verifiers() -> None:
    assert _pgsql.md5_password("app", "pw") == "md5" + "81ad3d00fcdf98fbc5f8f9a859590b46"
    assert _pgsql.verify_password("kat", "pa ss", PG_SCRAM, "scram-sha-256")
    assert not _pgsql.verify_password("kat", "pa_ss", PG_SCRAM, "scram-sha-256")
    assert _pgsql.verify_password("app", "pw", _pgsql.md5_password("app", "pw"), True)
    assert not _pgsql.verify_password("app", "pw", PG_SCRAM, "md5")
    assert _pgsql.encrypt_password("app", "md5abc", "md5") == "md5abc"
    assert str(_pgsql.encrypt_password("app", "pw", "scram-sha-256")).startswith(
        "SCRAM-SHA-256$4096:")
    assert _pgsql.encrypt_password("app", "pw", False) == "pw"
    with pytest.raises(_pgsql.PostgresError, match="Unknown password algorithm"):
        _pgsql.encrypt_password("app", "pw", "sha1")


def test_role_sql_quotes_everything_and_sets_only_given_flags() -> None:
    sql = postgres._role_sql("CREATE", "o'neil", "g1,g\"2", encrypted="md5", login=True,
                             connlimit=None, inherit=None, createdb=False, createroles=None,
                             superuser=None, replication=True, rolepassword="p'w",
                             valid_until="2030-01-01", current=None)
    hashed = _pgsql.md5_password("o'neil", "p'w")
    assert sql == (f"CREATE ROLE \"o'neil\" WITH NOCREATEDB REPLICATION LOGIN "
                   f"ENCRYPTED PASSWORD '{hashed}' VALID UNTIL '2030-01-01';\n"
                   "GRANT \"g1\" TO \"o'neil\";\nGRANT \"g\"\"2\" TO \"o'neil\";\n")
    # As Salt: SUPERUSER is left out when the role already has the wanted value.
    sql = postgres._role_sql("ALTER", "r", None, encrypted=None, login=None, connlimit=3,
                             inherit=None, createdb=None, createroles=None, superuser=False,
                             replication=None, rolepassword=False, valid_until=None,
                             current={"superuser": False})
    assert sql == 'ALTER ROLE "r" WITH CONNECTION LIMIT 3 PASSWORD NULL;\n'


def _ctx(runner: SqlRunner, opts: dict[str, Any] | None = None) -> Context:
    opts = {"postgres.bins_dir": "/nonexistent", **(opts or {})}
    funs = Registry.load(opts, {}, modules={"postgres": MODULES["postgres"],
                                            "config": MODULES["config"]})
    return Context(opts, {}, {}, funs, runner=runner)


needs_psql = pytest.mark.skipif(postgres._psql_path("") is None, reason="psql is not installed")


@needs_psql
def test_psql_gets_sql_on_stdin_and_the_password_in_its_environment() -> None:
    runner = SqlRunner([("server_version", CommandResult("setting\n15.8\n", "", 0))])
    ctx = _ctx(runner, {"postgres.host": "db.example", "postgres.user": "admin",
                        "postgres.pass": "opt-pw", "postgres.port": 6543})
    assert ctx.call("postgres.version") == "15.8"
    call = runner.calls[0]
    argv = call["argv"]
    assert argv[argv.index("--host") + 1] == "db.example"
    assert argv[argv.index("--username") + 1] == "admin"
    assert argv[argv.index("--port") + 1] == "6543"
    assert argv[argv.index("--dbname") + 1] == "postgres"
    assert "opt-pw" not in " ".join(argv) and call["env"]["PGPASSWORD"] == "opt-pw"
    assert call["sql"].startswith("COPY (SELECT setting") and call["runas"] is None
    # Arguments win over the settings.
    ctx.call("postgres.version", host="other", password="arg-pw", maintenance_db="app")
    call = runner.calls[1]
    assert call["argv"][call["argv"].index("--host") + 1] == "other"
    assert call["argv"][call["argv"].index("--dbname") + 1] == "app"
    assert call["env"]["PGPASSWORD"] == "arg-pw"


@needs_psql
def test_db_list_and_user_list_parse_csv() -> None:
    dbs = ('Name,Owner,Encoding,Collate,Ctype,Access privileges,Tablespace\n'
           'postgres,admin,UTF8,C.UTF-8,C.UTF-8,,pg_default\n'
           '"a,b",o,UTF8,C,C,"{=Tc/o,o=CTc/o}",pg_default\n')
    roles = ('name,superuser,inherits privileges,can create roles,can create databases,'
             'can update system catalogs,can login,replication,connections,groups,'
             'expiry time,defaults variables\n'
             'app,f,t,f,t,,t,f,-1,"{g1,""g,2""}",2031-01-02 00:00:00,\n'
             'g1,f,t,f,f,,f,f,-1,,infinity,\n')
    runner = SqlRunner([("server_version", CommandResult("setting\n15.8\n", "", 0)),
                        ("pg_database", CommandResult(dbs, "", 0)),
                        ("pg_auth_members", CommandResult(roles, "", 0))])
    ctx = _ctx(runner, {"postgres.host": "h"})
    listed = ctx.call("postgres.db_list")
    assert listed["a,b"] == {"Owner": "o", "Encoding": "UTF8", "Collate": "C", "Ctype": "C",
                             "Access privileges": "{=Tc/o,o=CTc/o}", "Tablespace": "pg_default"}
    users = ctx.call("postgres.user_list")
    assert users["app"]["groups"] == ["g1", "g,2"]
    assert users["app"]["can create databases"] is True and users["app"]["connections"] is None
    assert users["app"]["expiry time"].year == 2031 and users["g1"]["expiry time"] is None
    assert users["g1"]["groups"] == []
    assert ctx.call("postgres.user_exists", "app") and not ctx.call("postgres.user_exists", "x")


def _recorder(calls: list[dict[str, Any]]) -> Callable[..., bool]:
    def record(ctx: Context, *args: Any, **kw: Any) -> bool:
        calls.append(kw)
        return True
    return record


def _fake(funs: dict[str, Callable[..., Any]]) -> Context:
    def option(ctx: Context, key: str, default: Any = "") -> Any:
        return default
    return Context({}, {}, {}, Registry({"config.option": option, **funs}))


def _state(ctx: Context, fun: str, name: str, test: bool = False, **kw: Any) -> dict[str, Any]:
    ctx.test = test
    return STATES.call(ctx, fun, [name], kw)


ROLE = {"superuser": False, "inherits privileges": True, "can create roles": False,
        "can create databases": False, "can login": True, "replication": False,
        "expiry time": None, "groups": ["g1"], "password": _pgsql.md5_password("app", "pw")}


def test_user_present_predicts_and_updates_only_what_differs() -> None:
    calls: list[dict[str, Any]] = []

    def update(ctx: Context, **kw: Any) -> bool:
        calls.append(kw)
        return True

    ctx = _fake({"postgres.role_get": lambda ctx, name, **kw: dict(ROLE),
                 "postgres.user_update": update})
    same = _state(ctx, "postgres_user.present", "app", password="pw", createdb=False,
                  groups="g1", db_host="h")
    assert same == {"name": "app", "result": True, "changes": {},
                    "comment": "User app is already present"}
    ret = _state(ctx, "postgres_user.present", "app", test=True, password="new",
                 createdb=True, groups=["g1", "g2"], superuser=False)
    assert ret["result"] is None and ret["comment"] == "User app is set to be updated"
    assert ret["changes"] == {"app": {"createdb": True, "password": True, "groups": ["g2"]}}
    assert calls == []
    ret = _state(ctx, "postgres_user.present", "app", password="new", createdb=True,
                 db_host="h", user="postgres")
    assert ret["comment"] == "The user app has been updated"
    assert ret["changes"] == {"app": {"createdb": True, "password": True}}
    assert calls[0]["rolepassword"] == _pgsql.md5_password("app", "new")
    assert (calls[0]["host"], calls[0]["runas"]) == ("h", "postgres")


def test_user_present_creates_with_default_password_and_reports_failure() -> None:
    created: list[dict[str, Any]] = []
    ctx = _fake({"postgres.role_get": lambda ctx, name, **kw: None,
                 "postgres.user_create": _recorder(created)})
    ret = _state(ctx, "postgres_user.present", "new", test=True, default_password="d")
    assert (ret["result"], ret["changes"]) == (None, {})
    assert ret["comment"] == "User new is set to be created"
    ret = _state(ctx, "postgres_user.present", "new", default_password="d",
                 encrypted="scram-sha-256")
    assert ret["changes"] == {"new": "Present"}
    assert ret["comment"] == "The user new has been created"
    assert _pgsql.verify_password("new", "d", created[0]["rolepassword"], "scram-sha-256")
    ctx = _fake({"postgres.role_get": lambda ctx, name, **kw: None,
                 "postgres.user_create": lambda ctx, **kw: False})
    ret = _state(ctx, "postgres_user.present", "new")
    assert (ret["result"], ret["comment"]) == (False, "Failed to create user new")


DBS = {"app": {"Owner": "o", "Encoding": "UTF8", "Collate": "C", "Ctype": "C",
               "Access privileges": "", "Tablespace": "pg_default"}}


def test_database_present_compares_and_refuses_fixed_properties() -> None:
    altered: list[dict[str, Any]] = []
    ctx = _fake({"postgres.db_list": lambda ctx, **kw: DBS,
                 "postgres.db_alter": _recorder(altered)})
    ret = _state(ctx, "postgres_database.present", "app", encoding="utf8", owner="o")
    assert (ret["result"], ret["comment"]) == (True, "Database app is already present")
    ret = _state(ctx, "postgres_database.present", "app", lc_ctype="en_US.UTF-8", owner="n")
    assert ret == {"name": "app", "result": False, "changes": {},
                   "comment": "Database app has wrong parameters which couldn't be changed on "
                              "fly."}
    ret = _state(ctx, "postgres_database.present", "app", test=True, owner="n")
    assert ret["comment"] == "Database app exists, but parameters need to be changed"
    assert ret["result"] is None and altered == []
    ret = _state(ctx, "postgres_database.present", "app", owner="n")
    assert ret["changes"] == {"app": "Parameters changed"} and altered[0]["owner"] == "n"


def test_config_keeps_module_settings(tmp_path: Path) -> None:
    (tmp_path / "minion").write_text("postgres.host: db1\nmysql.default_file: /x\nnope: 1\n")
    opts = config.load("minion", tmp_path)
    assert opts["postgres.host"] == "db1" and opts["mysql.default_file"] == "/x"
    assert opts["nope"] == 1  # every option is kept, as in Salt
