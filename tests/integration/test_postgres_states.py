"""postgres_user / postgres_database states and the postgres module against a real PostgreSQL 15.

The test starts its own server: initdb in a temp dir, pg_ctl on a free port
of 127.0.0.1 with its unix socket in that dir, as an unprivileged user (the
``postgres`` system user, else ``nobody``, when the tests run as root).
TCP connections need the superuser's password (scram-sha-256), so the
password path (PGPASSWORD) is exercised; socket connections are trusted.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from minion.context import Context
from minion.loader import MODULES, Registry
from minion.modules._pgsql import md5_password
from minion.states import STATE_MODULES
from tests.cluster import free_port
from tests.dbserver import unprivileged_user

BINS = Path(os.environ.get("SALINE_PG_BINS", "/usr/lib/postgresql/15/bin"))
pytestmark = pytest.mark.skipif(
    not (BINS / "initdb").exists() or not (BINS / "pg_ctl").exists()
    or shutil.which("psql", path=str(BINS)) is None,
    reason=f"PostgreSQL 15 server binaries (initdb, pg_ctl, psql) are not in {BINS}")

ADMIN, ADMIN_PASSWORD = "saline_admin", "adm'in \"pw\\"
STATES = Registry.load({}, {}, modules={k: STATE_MODULES[k] for k in
                                        ("postgres_user", "postgres_database")}, kind="states")


class Server:
    def __init__(self, root: Path, port: int, os_user: str | None) -> None:
        self.root, self.port, self.os_user = root, port, os_user
        self.data, self.sock = root / "data", root / "sock"

    def run(self, *argv: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(BINS / argv[0]), *argv[1:]], user=self.os_user,
                              capture_output=True, text=True, timeout=120, check=False)

    def conn(self, **extra: Any) -> dict[str, Any]:
        """State arguments for a TCP connection as the admin (password needed)."""
        return {"db_host": "127.0.0.1", "db_port": self.port, "db_user": ADMIN,
                "db_password": ADMIN_PASSWORD, **extra}


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    os_user = unprivileged_user('postgres', 'nobody')
    root = Path(tempfile.mkdtemp(prefix="saline-pg-"))
    srv = Server(root, free_port(), os_user)
    srv.sock.mkdir()
    pwfile = root / "pw"
    pwfile.write_text(ADMIN_PASSWORD + "\n")
    pwfile.chmod(0o600)
    if os_user:
        pw = pwd.getpwnam(os_user)
        for path in (root, srv.sock, pwfile):
            os.chown(path, pw.pw_uid, pw.pw_gid)
    init = srv.run("initdb", "-D", str(srv.data), "-U", ADMIN, f"--pwfile={pwfile}",
                   "--auth-local=trust", "--auth-host=scram-sha-256", "-E", "UTF8",
                   "--locale=C.UTF-8")
    assert init.returncode == 0, init.stderr
    opts = f"-c listen_addresses=127.0.0.1 -p {srv.port} -c unix_socket_directories={srv.sock}"
    start = srv.run("pg_ctl", "-D", str(srv.data), "-o", opts, "-l", str(root / "log"),
                    "-w", "-t", "60", "start")
    assert start.returncode == 0, start.stderr + (root / "log").read_text()
    try:
        yield srv
    finally:
        srv.run("pg_ctl", "-D", str(srv.data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def ctx() -> Context:
    funs = Registry.load({"postgres.bins_dir": str(BINS)}, {},
                         modules={"postgres": MODULES["postgres"], "config": MODULES["config"]})
    return Context({"postgres.bins_dir": str(BINS)}, {}, {}, funs)


def state(ctx: Context, fun: str, name: str, test: bool = False, **kwargs: Any) -> dict[str, Any]:
    ctx.test = test
    try:
        return STATES.call(ctx, fun, [name], kwargs)
    finally:
        ctx.test = False


def query(ctx: Context, server: Server, sql: str) -> list[dict[str, str]]:
    return ctx.call("postgres.psql_query", sql, user=ADMIN, host="127.0.0.1",
                    port=server.port, password=ADMIN_PASSWORD)


def test_version_and_wrong_password(ctx: Context, server: Server) -> None:
    assert ctx.call("postgres.version", user=ADMIN, host="127.0.0.1", port=server.port,
                    password=ADMIN_PASSWORD).startswith("15")
    assert ctx.call("postgres.version", user=ADMIN, host="127.0.0.1", port=server.port,
                    password="wrong") is None
    assert ctx.call("postgres.user_list", user=ADMIN, host="127.0.0.1", port=server.port,
                    password="wrong") is False


def test_user_present_twice_then_update_and_absent(ctx: Context, server: Server) -> None:
    name = 'app "user"; DROP ROLE x'
    args = server.conn(password="s3cr'et", createdb=True, login=True, valid_until="2031-01-02")
    ret = state(ctx, "postgres_user.present", name, test=True, **args)
    assert (ret["result"], ret["changes"]) == (None, {})
    assert ret["comment"] == f"User {name} is set to be created"
    assert not ctx.call("postgres.user_exists", name, user=ADMIN, host="127.0.0.1",
                        port=server.port, password=ADMIN_PASSWORD)

    ret = state(ctx, "postgres_user.present", name, **args)
    assert (ret["result"], ret["changes"]) == (True, {name: "Present"}), ret
    assert ret["comment"] == f"The user {name} has been created"
    row = query(ctx, server, "SELECT rolcreatedb, rolcanlogin, rolpassword, "
                             "rolvaliduntil::date AS until FROM pg_authid "
                             "WHERE rolname = 'app \"user\"; DROP ROLE x'")
    assert row[0]["rolcreatedb"] == "t" and row[0]["until"] == "2031-01-02"
    assert row[0]["rolpassword"] == md5_password(name, "s3cr'et")

    ret = state(ctx, "postgres_user.present", name, **args)
    assert (ret["result"], ret["changes"]) == (True, {}), ret
    assert ret["comment"] == f"User {name} is already present"

    changed = dict(args, createdb=False, password="other", superuser=False)
    ret = state(ctx, "postgres_user.present", name, test=True, **changed)
    assert ret["result"] is None
    assert ret["changes"] == {name: {"createdb": False, "password": True}}
    assert ret["comment"] == f"User {name} is set to be updated"
    ret = state(ctx, "postgres_user.present", name, **changed)
    assert ret["changes"] == {name: {"createdb": False, "password": True}}
    assert ret["comment"] == f"The user {name} has been updated"
    assert state(ctx, "postgres_user.present", name, **changed)["changes"] == {}

    ret = state(ctx, "postgres_user.absent", name, test=True, **server.conn())
    assert (ret["result"], ret["comment"]) == (None, f"User {name} is set to be removed")
    ret = state(ctx, "postgres_user.absent", name, **server.conn())
    assert ret["changes"] == {name: "Absent"}
    assert ret["comment"] == f"User {name} has been removed"
    ret = state(ctx, "postgres_user.absent", name, **server.conn())
    assert ret["changes"] == {}
    assert ret["comment"] == f"User {name} is not present, so it cannot be removed"


def test_user_scram_password_groups_and_login(ctx: Context, server: Server) -> None:
    assert state(ctx, "postgres_user.present", "readers", login=False,
                 **server.conn())["changes"] == {"readers": "Present"}
    args = server.conn(password="pa ss", encrypted="scram-sha-256", groups="readers")
    assert state(ctx, "postgres_user.present", "scram_u", **args)["result"] is True
    attrs = ctx.call("postgres.role_get", "scram_u", user=ADMIN, host="127.0.0.1",
                     port=server.port, password=ADMIN_PASSWORD, return_password=True)
    assert attrs["password"].startswith("SCRAM-SHA-256$4096:")
    assert attrs["groups"] == ["readers"] and attrs["can login"] is True
    # The role can log in with its password: the hash we computed is right.
    version = ctx.call("postgres.version", user="scram_u", host="127.0.0.1",
                       port=server.port, password="pa ss", maintenance_db="postgres")
    assert version and version.startswith("15")
    again = state(ctx, "postgres_user.present", "scram_u", **args)
    assert (again["result"], again["changes"]) == (True, {}), again
    ret = state(ctx, "postgres_user.present", "scram_u", **server.conn(groups=["readers", "w"],
                                                                       login=False))
    # "w" does not exist: Salt's state reports the failure of the ALTER/GRANT.
    assert ret["result"] is False and ret["comment"] == "Failed to update user scram_u"
    for role in ("scram_u", "readers"):
        assert state(ctx, "postgres_user.absent", role, **server.conn())["result"] is True


def test_database_present_twice_owner_change_and_absent(ctx: Context, server: Server) -> None:
    for role in ("owner_a", "owner-b"):
        state(ctx, "postgres_user.present", role, **server.conn())
    name = "app-db'x"
    args = server.conn(owner="owner_a", encoding="UTF8", lc_collate="C", lc_ctype="C",
                       template="template0")
    ret = state(ctx, "postgres_database.present", name, test=True, **args)
    assert (ret["result"], ret["changes"]) == (None, {})
    assert ret["comment"] == f"Database {name} is set to be created"
    ret = state(ctx, "postgres_database.present", name, **args)
    assert (ret["result"], ret["changes"]) == (True, {name: "Present"}), ret
    assert ret["comment"] == f"The database {name} has been created"
    ret = state(ctx, "postgres_database.present", name, **args)
    assert (ret["result"], ret["changes"]) == (True, {}), ret
    assert ret["comment"] == f"Database {name} is already present"
    info = ctx.call("postgres.db_list", user=ADMIN, host="127.0.0.1", port=server.port,
                    password=ADMIN_PASSWORD)[name]
    assert (info["Owner"], info["Encoding"], info["Collate"], info["Tablespace"]) == (
        "owner_a", "UTF8", "C", "pg_default")

    moved = dict(args, owner="owner-b", owner_recurse=True)
    ret = state(ctx, "postgres_database.present", name, test=True, **moved)
    assert ret["result"] is None
    assert ret["comment"] == f"Database {name} exists, but parameters need to be changed"
    ret = state(ctx, "postgres_database.present", name, **moved)
    assert ret["changes"] == {name: "Parameters changed"}
    assert ret["comment"] == f"Parameters for database {name} have been changed"
    assert state(ctx, "postgres_database.present", name, **moved)["changes"] == {}

    ret = state(ctx, "postgres_database.present", name, **dict(args, lc_collate="C.UTF-8"))
    assert ret["result"] is False
    assert ret["comment"] == (f"Database {name} has wrong parameters which couldn't be "
                              "changed on fly.")

    ret = state(ctx, "postgres_database.absent", name, test=True, **server.conn())
    assert (ret["result"], ret["comment"]) == (None, f"Database {name} is set to be removed")
    ret = state(ctx, "postgres_database.absent", name, **server.conn())
    assert ret["changes"] == {name: "Absent"}
    assert ret["comment"] == f"Database {name} has been removed"
    ret = state(ctx, "postgres_database.absent", name, **server.conn())
    assert ret["comment"] == f"Database {name} is not present, so it cannot be removed"
    for role in ("owner_a", "owner-b"):
        state(ctx, "postgres_user.absent", role, **server.conn())


def test_socket_connection_as_the_server_user(ctx: Context, server: Server) -> None:
    # Trusted local socket, no password; psql runs as the server's OS user
    # when the tests are root (Salt's `user` argument).
    args: dict[str, Any] = {"db_host": str(server.sock), "db_port": server.port,
                            "db_user": ADMIN}
    if server.os_user:
        args["user"] = server.os_user
    assert state(ctx, "postgres_database.present", "sockdb", **args)["changes"] == {
        "sockdb": "Present"}
    assert ctx.call("postgres.db_exists", "sockdb", user=ADMIN, host=str(server.sock),
                    port=server.port, runas=server.os_user)
    assert state(ctx, "postgres_database.absent", "sockdb", **args)["changes"] == {
        "sockdb": "Absent"}
