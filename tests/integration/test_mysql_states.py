"""mysql_* states and the mysql module against a real MariaDB server started by the test.

mariadb-install-db makes a data dir in a temp dir, and mariadbd serves it on a
free port of 127.0.0.1 with its socket in that dir, as an unprivileged user
(``mysql``, else ``nobody``, when the tests run as root). The admin account
logs in over TCP with a password, so the MYSQL_PWD path is exercised.
Every state runs twice: the first run changes, the second finds nothing to do;
``test=True`` predicts without changing.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from minion.context import Context
from minion.loader import MODULES, Registry
from minion.states import STATE_MODULES
from tests.cluster import free_port
from tests.dbserver import unprivileged_user

SERVER = shutil.which("mariadbd", path="/usr/sbin:/usr/bin:" + os.environ.get("PATH", ""))
INSTALL = shutil.which("mariadb-install-db")
CLIENT = shutil.which("mariadb") or shutil.which("mysql")
pytestmark = pytest.mark.skipif(
    not (SERVER and INSTALL and CLIENT),
    reason="MariaDB server binaries (mariadbd, mariadb-install-db, mariadb) are not installed "
           "(Debian: apt-get install mariadb-server)")

ADMIN, ADMIN_PASSWORD = "saline_admin", "adm'in \"pw\\"
STATES = Registry.load({}, {}, modules={k: STATE_MODULES[k] for k in STATE_MODULES
                                        if k.startswith("mysql_")}, kind="states")


class Server:
    def __init__(self, root: Path, port: int) -> None:
        self.root, self.port, self.sock = root, port, root / "sock"

    def conn(self, **extra: Any) -> dict[str, Any]:
        """Connection arguments for the admin over TCP (password needed)."""
        return {"connection_host": "127.0.0.1", "connection_port": self.port,
                "connection_user": ADMIN, "connection_pass": ADMIN_PASSWORD, **extra}

    def root_sql(self, sql: str) -> str:
        """Run SQL as the server's root through the socket (no password)."""
        done = subprocess.run([str(CLIENT), "--no-defaults", "--batch", "--skip-column-names",
                               f"--socket={self.sock}", "--user=root"], input=sql,
                              capture_output=True, text=True, timeout=60, check=False)
        assert done.returncode == 0, done.stderr
        return done.stdout


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    os_user = unprivileged_user('mysql', 'nobody')
    root = Path(tempfile.mkdtemp(prefix="saline-mariadb-"))
    srv = Server(root, free_port())
    if os_user:
        pw = pwd.getpwnam(os_user)
        os.chown(root, pw.pw_uid, pw.pw_gid)
    user_args = [f"--user={os_user}"] if os_user else []
    init = subprocess.run([str(INSTALL), "--no-defaults", f"--datadir={root / 'data'}",
                           "--auth-root-authentication-method=normal", "--skip-test-db",
                           *user_args], capture_output=True, text=True, timeout=300,
                          check=False, user=os_user)
    assert init.returncode == 0, init.stdout + init.stderr
    proc = subprocess.Popen([str(SERVER), "--no-defaults", f"--datadir={root / 'data'}",
                             f"--socket={srv.sock}", f"--port={srv.port}",
                             "--bind-address=127.0.0.1", f"--pid-file={root / 'pid'}",
                             f"--log-error={root / 'err.log'}", "--skip-log-bin", *user_args],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, user=os_user)
    try:
        deadline = time.monotonic() + 60
        while not srv.sock.exists():
            assert proc.poll() is None and time.monotonic() < deadline, (
                (root / "err.log").read_text() if (root / "err.log").exists() else "no log")
            time.sleep(0.1)
        quoted = ADMIN_PASSWORD.replace("\\", "\\\\").replace("'", "''")
        srv.root_sql(f"CREATE USER '{ADMIN}'@'127.0.0.1' IDENTIFIED BY '{quoted}';\n"
                     f"GRANT ALL PRIVILEGES ON *.* TO '{ADMIN}'@'127.0.0.1' "
                     "WITH GRANT OPTION;\n")
        yield srv
    finally:
        proc.terminate()
        proc.wait(timeout=60)
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def ctx() -> Context:
    funs = Registry.load({}, {}, modules={"mysql": MODULES["mysql"], "config": MODULES["config"],
                                          "grains": MODULES["grains"]})
    return Context({}, {}, {}, funs)


def state(ctx: Context, fun: str, name: str, test: bool = False, **kwargs: Any) -> dict[str, Any]:
    ctx.test = test
    try:
        return STATES.call(ctx, fun, [name], kwargs)
    finally:
        ctx.test = False


def twice(ctx: Context, fun: str, name: str, changes: dict[str, Any], comment: str,
          again: str, **kwargs: Any) -> None:
    """test=True predicts, the first run changes, the second changes nothing."""
    predicted = state(ctx, fun, name, test=True, **kwargs)
    assert (predicted["result"], predicted["changes"]) == (None, {}), predicted
    ret = state(ctx, fun, name, **kwargs)
    assert (ret["result"], ret["changes"], ret["comment"]) == (True, changes, comment), ret
    ret = state(ctx, fun, name, **kwargs)
    assert (ret["result"], ret["changes"], ret["comment"]) == (True, {}, again), ret


def test_version_and_wrong_password(ctx: Context, server: Server) -> None:
    assert "MariaDB" in ctx.call("mysql.version", **server.conn())
    assert ctx.call("mysql.version", **server.conn(connection_pass="wrong")) == ""
    ret = state(ctx, "mysql_database.present", "x", **server.conn(connection_pass="wrong"))
    assert ret["result"] is False
    assert ret["comment"].startswith(f"MySQL Error 1045: Access denied for user '{ADMIN}'@")


def test_database_present_alter_and_absent(ctx: Context, server: Server) -> None:
    name = "app-db`x"
    twice(ctx, "mysql_database.present", name, {name: "Present"},
          f"The database {name} has been created", f"Database {name} is already present",
          character_set="utf8mb4", collate="utf8mb4_unicode_ci", **server.conn())
    assert ctx.call("mysql.db_get", name, **server.conn()) == {
        "character_set": "utf8mb4", "collate": "utf8mb4_unicode_ci"}
    changed = server.conn(character_set="latin1", collate="latin1_general_ci")
    ret = state(ctx, "mysql_database.present", name, test=True, **changed)
    assert (ret["result"], ret["changes"]) == (None, {})
    assert ret["comment"] == ("Database character set latin1 != utf8mb4 needs to be updated\n"
                              "Database collate latin1_general_ci != utf8mb4_unicode_ci "
                              "needs to be updated")
    ret = state(ctx, "mysql_database.present", name, **changed)
    assert ret["changes"] == {
        "collate": {"before": "utf8mb4_unicode_ci", "now": "latin1_general_ci"},
        "character_set": {"before": "utf8mb4", "now": "latin1"}}
    assert state(ctx, "mysql_database.present", name, **changed)["changes"] == {}
    ctx.call("mysql.query", name, "CREATE TABLE t1 (a INT)", **server.conn())
    assert ctx.call("mysql.db_tables", name, **server.conn()) == ["t1"]
    twice(ctx, "mysql_database.absent", name, {name: "Absent"},
          f"Database {name} has been removed",
          f"Database {name} is not present, so it cannot be removed", **server.conn())
    assert name not in ctx.call("mysql.db_list", **server.conn())


def test_user_password_hash_passwordless_and_socket(ctx: Context, server: Server) -> None:
    name, pw = "app'u; DROP USER x", "s3 cr'et\\"
    twice(ctx, "mysql_user.present", name, {name: "Present"},
          f"The user {name}@127.0.0.1 has been added",
          f"User {name}@127.0.0.1 is already present with the desired password",
          host="127.0.0.1", password=pw, **server.conn())
    # The account really logs in with that password.
    assert ctx.call("mysql.version", connection_host="127.0.0.1",
                    connection_port=server.port, connection_user=name, connection_pass=pw)
    ret = state(ctx, "mysql_user.present", name, test=True, host="127.0.0.1",
                password="new", **server.conn())
    assert (ret["result"], ret["comment"]) == (
        None, f"Password for user {name}@127.0.0.1 is set to be changed")
    ret = state(ctx, "mysql_user.present", name, host="127.0.0.1", password="new",
                **server.conn())
    assert (ret["changes"], ret["comment"]) == (
        {name: "Updated"}, f"Password for user {name}@127.0.0.1 has been changed")
    assert ctx.call("mysql.user_exists", name, "127.0.0.1", password="new", **server.conn())

    digest = "*6C8989366EAF75BB670AD8EA7A7FC1176A95CEF4"  # PASSWORD('mypass')
    twice(ctx, "mysql_user.present", "hashed", {"hashed": "Present"},
          "The user hashed@% has been added",
          "User hashed@% is already present with the desired password hash",
          host="%", password_hash=digest, **server.conn())
    twice(ctx, "mysql_user.present", "nopw", {"nopw": "Present"},
          "The user nopw@localhost has been added with passwordless login",
          "User nopw@localhost is already present with passwordless login",
          allow_passwordless=True, **server.conn())
    twice(ctx, "mysql_user.present", "sock", {"sock": "Present"},
          "The user sock@localhost has been added with passwordless login using unix_socket",
          "User sock@localhost is already present with passwordless login",
          allow_passwordless=True, unix_socket=True, **server.conn())
    plugin = server.root_sql("SELECT plugin FROM mysql.user WHERE User='sock';").strip()
    assert plugin == "unix_socket"
    ret = state(ctx, "mysql_user.present", "nopw2", **server.conn())
    assert (ret["result"], ret["comment"]) == (
        False, "Either password or password_hash must be specified, unless "
               "allow_passwordless is True")
    users = ctx.call("mysql.user_list", **server.conn())
    assert {"User": "hashed", "Host": "%"} in users
    for user, host in ((name, "127.0.0.1"), ("hashed", "%"), ("nopw", "localhost"),
                       ("sock", "localhost")):
        twice(ctx, "mysql_user.absent", user, {user: "Absent"},
              f"User {user}@{host} has been removed",
              f"User {user}@{host} is not present, so it cannot be removed",
              host=host, **server.conn())


def test_grants_present_absent_option_and_revoke_first(ctx: Context, server: Server) -> None:
    assert ctx.call("mysql.user_create", "gu", "localhost", "pw", **server.conn())
    assert ctx.call("mysql.db_create", "app_db", **server.conn())
    args = server.conn(grant="select,insert", database="app_db.*", user="gu")
    twice(ctx, "mysql_grants.present", "g1", {"g1": "Present"},
          "Grant select,insert on app_db.* to gu@localhost has been added",
          "Grant select,insert on app_db.* to gu@localhost is already present", **args)
    lines = ctx.call("mysql.user_grants", "gu", **server.conn())
    assert "GRANT SELECT, INSERT ON `app\\_db`.* TO `gu`@`localhost`" in lines
    # `_` is escaped: the grant does not reach appXdb.
    assert not ctx.call("mysql.grant_exists", "select", "appXdb.*", "gu", **server.conn())

    with_option = dict(args, grant="select", grant_option=True)
    twice(ctx, "mysql_grants.present", "g2", {"g2": "Present"},
          "Grant select on app_db.* to gu@localhost has been added",
          "Grant select on app_db.* to gu@localhost is already present", **with_option)
    downgrade = dict(args, grant="update", revoke_first=True)
    twice(ctx, "mysql_grants.present", "g3", {"g3": "Present"},
          "Grant update on app_db.* to gu@localhost has been added",
          "Grant update on app_db.* to gu@localhost is already present", **downgrade)
    assert not ctx.call("mysql.grant_exists", "select", "app_db.*", "gu", **server.conn())

    twice(ctx, "mysql_grants.absent", "g3", {"g3": "Absent"},
          "Grant update on app_db.* for gu@localhost has been revoked",
          "Grant update on app_db.* to gu@localhost is not present, so it cannot be revoked",
          **downgrade)
    ret = state(ctx, "mysql_grants.present", "bad", **dict(args, grant="select; drop"))
    assert ret["result"] is False and "Invalid grant" in ret["comment"]
    ret = state(ctx, "mysql_grants.present", "t", **dict(args, database="app_db.nope"))
    assert ret["result"] is False
    assert ret["comment"].startswith('Failed to execute: "GRANT select,insert ON app_db.nope '
                                     'TO gu@localhost" (MySQL Error 1146: ')
    assert ctx.call("mysql.user_remove", "gu", **server.conn())
    assert ctx.call("mysql.db_remove", "app_db", **server.conn())


def test_query_module_and_state(ctx: Context, server: Server, tmp_path: Path) -> None:
    assert ctx.call("mysql.db_create", "qdb", "utf8mb4", **server.conn())
    done = ctx.call("mysql.query", "qdb", "CREATE TABLE t (a INT, b TEXT)", **server.conn())
    assert done["rows affected"] == 0
    done = ctx.call("mysql.query", "qdb", "INSERT INTO t VALUES (1, 'x\ty'), (2, NULL)",
                    **server.conn())
    assert done["rows affected"] == 2 and set(done["query time"]) == {"human", "raw"}
    done = ctx.call("mysql.query", "qdb", "SELECT a, b FROM t ORDER BY a", **server.conn())
    assert (done["rows returned"], done["columns"], done["results"]) == (
        2, ("a", "b"), [["1", "x\ty"], ["2", None]])
    assert ctx.call("mysql.query", "qdb", "SELEC 1", **server.conn()) is False

    ret = state(ctx, "mysql_query.run", "q", database="qdb", query="SELECT a FROM t WHERE a=1",
                test=True, **server.conn())
    assert (ret["result"], ret["comment"]) == (None, "Query would execute, not storing result")
    out = tmp_path / "out.txt"
    ret = state(ctx, "mysql_query.run", "q", database="qdb", query="SELECT a FROM t WHERE a=1",
                output=str(out), overwrite=False, **server.conn())
    assert ret["changes"] == {"query": f"Executed. Output into {out}"}
    assert out.read_text() == "a:1\n"
    ret = state(ctx, "mysql_query.run", "q", database="qdb", query="SELECT a FROM t WHERE a=1",
                output=str(out), overwrite=False, **server.conn())
    assert (ret["changes"], ret["comment"]) == ({}, f"No execution needed. File {out} already set")
    ret = state(ctx, "mysql_query.run", "q", database="nodb", query="SELECT 1", **server.conn())
    assert (ret["result"], ret["comment"]) == (None, "Database q is not present")
    assert ctx.call("mysql.db_remove", "qdb", **server.conn())


def test_minion_settings_and_socket(server: Server) -> None:
    opts = {"mysql.unix_socket": str(server.sock), "mysql.user": "root"}
    funs = Registry.load(opts, {}, modules={"mysql": MODULES["mysql"],
                                            "config": MODULES["config"]})
    ctx = Context(opts, {}, {}, funs)
    assert "MariaDB" in ctx.call("mysql.version")
    assert ctx.call("mysql.db_create", "sockdb")
    assert "sockdb" in ctx.call("mysql.db_list")
    assert ctx.call("mysql.db_remove", "sockdb")
    assert ctx.call("mysql.db_remove", "mysql") is False
