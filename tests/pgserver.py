"""A throw-away PostgreSQL server for the cluster store's tests.

initdb in a temp dir, pg_ctl on a free port of 127.0.0.1 (its unix socket in
that dir), run as an unprivileged user when the tests run as root (see
tests/dbserver.py). TCP logins need a password (scram-sha-256), as a real
cluster store would. Each test takes a fresh database from `fresh_dsn`.
"""

from __future__ import annotations

import itertools
import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cluster import free_port
from tests.dbserver import unprivileged_user

BINS = Path(os.environ.get("SALINE_PG_BINS", "/usr/lib/postgresql/15/bin"))
USER, PASSWORD = "saline", "s3cret pw"
needs_pg = pytest.mark.skipif(
    not (BINS / "initdb").exists() or not (BINS / "pg_ctl").exists(),
    reason=f"PostgreSQL server binaries (initdb, pg_ctl) are not in {BINS}")
_numbers = itertools.count(1)


class PgServer:
    """One PostgreSQL server; `stop` and `start` it to play an outage."""

    def __init__(self, root: Path, port: int, os_user: str | None) -> None:
        self.root, self.port, self.os_user = root, port, os_user
        self.data, self.sock = root / "data", root / "sock"

    def _run(self, *argv: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(BINS / argv[0]), *argv[1:]], user=self.os_user,
                              capture_output=True, text=True, timeout=120, check=False)

    def init(self) -> None:
        self.sock.mkdir()
        pwfile = self.root / "pw"
        pwfile.write_text(PASSWORD + "\n")
        pwfile.chmod(0o600)
        if self.os_user:
            pw = pwd.getpwnam(self.os_user)
            for path in (self.root, self.sock, pwfile):
                os.chown(path, pw.pw_uid, pw.pw_gid)
        done = self._run("initdb", "-D", str(self.data), "-U", USER, f"--pwfile={pwfile}",
                         "--auth-local=trust", "--auth-host=scram-sha-256", "-E", "UTF8",
                         "--locale=C.UTF-8")
        assert done.returncode == 0, done.stderr

    def start(self) -> None:
        opts = (f"-c listen_addresses=127.0.0.1 -p {self.port} "
                f"-c unix_socket_directories={self.sock} -c fsync=off")
        done = self._run("pg_ctl", "-D", str(self.data), "-o", opts, "-l",
                         str(self.root / "log"), "-w", "-t", "60", "start")
        assert done.returncode == 0, done.stderr + (self.root / "log").read_text()

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")

    def dsn(self, dbname: str = "postgres") -> str:
        return f"postgresql://{USER}:{PASSWORD.replace(' ', '%20')}@127.0.0.1:{self.port}/{dbname}"

    def fresh_dsn(self) -> str:
        """A new empty database on this server, as a DSN."""
        import psycopg

        name = f"store{next(_numbers)}"
        with psycopg.connect(self.dsn(), autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name}")  # type: ignore[arg-type]
        return self.dsn(name)


def pg_server() -> Iterator[PgServer]:
    """Start a server for the module's tests, and remove it after them."""
    os_user = unprivileged_user("postgres", "nobody")
    root = Path(tempfile.mkdtemp(prefix="saline-store-"))
    server = PgServer(root, free_port(), os_user)
    try:
        server.init()
        server.start()
        yield server
    finally:
        server._run("pg_ctl", "-D", str(server.data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(root, ignore_errors=True)
