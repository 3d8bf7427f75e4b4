"""One host over SSH: connect, log in, make sure the zipapp is there, run.

Every failure becomes one line in `HostResult.error` that says what to do;
nothing raised here escapes to the other hosts. Timings of each phase
(connect, auth, upload, run) are kept in seconds.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import os
import socket
import time
import warnings
from pathlib import Path
from typing import Any

from master.ssh import remote
from master.ssh.roster import Entry
from master.ssh.zipapp import Zipapp

with warnings.catch_warnings():  # asyncssh still names DSA; cryptography warns about it
    warnings.simplefilter("ignore")
    import asyncssh

logging.getLogger("asyncssh").setLevel(logging.WARNING)
PHASES = ("connect", "auth", "upload", "run")


class HostFailed(Exception):
    """A host could not run the function; the message is the one line shown for it."""


@dataclasses.dataclass
class Settings:
    """What every host's session shares."""

    known_hosts: Path | None  # None: host keys are not checked (--ignore-host-keys)
    timeout: float = 300.0  # the whole run on one host


@dataclasses.dataclass
class HostResult:
    """What one roster id answered, or why it could not."""

    id: str
    result: dict[str, Any] | None = None  # the executor's {return, success, retcode, ...}
    grains: dict[str, Any] | None = None
    error: str | None = None
    timings: dict[str, float] = dataclasses.field(default_factory=dict)

    @property
    def success(self) -> bool:
        return self.result is not None and bool(self.result.get("success"))


async def run_host(entry: Entry, app: Zipapp, request: dict[str, Any],
                   settings: Settings) -> HostResult:
    """Run `request` on one roster entry; never raises."""
    out = HostResult(entry.id)
    try:
        await asyncio.wait_for(_run(entry, app, request, settings, out), settings.timeout)
    except HostFailed as exc:
        out.error = str(exc)
    except TimeoutError:
        out.error = f"no answer from {_where(entry)} within {settings.timeout:g} s"
    except (OSError, asyncssh.Error) as exc:
        out.error = f"{_where(entry)}: {_reason(exc)}"
    return out


async def _run(entry: Entry, app: Zipapp, request: dict[str, Any], settings: Settings,
               out: HostResult) -> None:
    clock = time.monotonic()
    sock = await _connect(entry)
    out.timings["connect"], clock = _lap(clock)
    async with await _login(entry, sock, settings) as conn:
        out.timings["auth"], clock = _lap(clock)
        stdin = _stdin(entry, request)
        command = remote.run_command(app.name, entry.sudo, entry.sudo_user, bool(entry.passwd))
        proc = await conn.run(command, input=stdin, encoding=None)
        if proc.exit_status == remote.NEED_UPLOAD:
            await _upload(conn, entry, app)
            out.timings["upload"], clock = _lap(clock)
            proc = await conn.run(command, input=stdin, encoding=None)
        else:
            out.timings["upload"] = 0.0
        out.timings["run"], clock = _lap(clock)
    answer = _answer(entry, proc)
    out.result, out.grains = answer["result"], answer.get("grains")


async def _connect(entry: Entry) -> socket.socket:
    """A TCP connection to the host, within the roster's timeout."""
    loop = asyncio.get_running_loop()
    try:
        infos = await asyncio.wait_for(
            loop.getaddrinfo(entry.host, entry.port, type=socket.SOCK_STREAM), entry.timeout)
    except socket.gaierror as exc:
        raise HostFailed(f"cannot resolve host {entry.host!r}: {exc.strerror}") from None
    except TimeoutError:
        raise HostFailed(f"cannot resolve host {entry.host!r} within {entry.timeout:g} s")\
            from None
    family, kind, proto, _name, addr = infos[0]
    sock = socket.socket(family, kind, proto)
    sock.setblocking(False)
    try:
        await asyncio.wait_for(loop.sock_connect(sock, addr), entry.timeout)
    except TimeoutError:
        sock.close()
        raise HostFailed(f"cannot connect to {_where(entry)}: no answer within "
                         f"{entry.timeout:g} s") from None
    except OSError as exc:
        sock.close()
        raise HostFailed(f"cannot connect to {_where(entry)}: {_reason(exc)}") from None
    return sock


async def _login(entry: Entry, sock: socket.socket,
                 settings: Settings) -> asyncssh.SSHClientConnection:
    """Key exchange, host key check and login, within the roster's timeout."""
    options: dict[str, Any] = {"username": entry.user, "password": entry.passwd,
                               "passphrase": entry.priv_passwd}
    if entry.priv:
        options["client_keys"] = [entry.priv]
    options["known_hosts"] = None if settings.known_hosts is None else str(settings.known_hosts)
    try:
        return await asyncio.wait_for(
            asyncssh.connect(entry.host, entry.port, sock=sock, **options), entry.timeout)
    except asyncssh.HostKeyNotVerifiable:
        raise HostFailed(_host_key_line(entry, settings.known_hosts)) from None
    except asyncssh.PermissionDenied:
        how = "password" if entry.passwd else "key"
        raise HostFailed(f"{entry.user}@{_where(entry)}: authentication failed "
                         f"({how}); check user, priv or passwd in the roster") from None
    except TimeoutError:
        sock.close()
        raise HostFailed(f"{_where(entry)}: SSH login did not finish within "
                         f"{entry.timeout:g} s") from None
    except (asyncssh.KeyImportError, OSError) as exc:
        raise HostFailed(f"{_where(entry)}: cannot use key {entry.priv}: {_reason(exc)}")\
            from None


def _host_key_line(entry: Entry, known_hosts: Path | None) -> str:
    """Say whether the host's key is missing from known_hosts or differs from it."""
    try:
        trusted = asyncssh.read_known_hosts(str(known_hosts)).match(
            entry.host, entry.host, entry.port)[0]
    except (OSError, ValueError):
        trusted = []
    where = _where(entry)
    if trusted:
        return (f"{where}: host key does not match the one in {known_hosts}: refused "
                "(if the host was reinstalled, replace its line there)")
    return (f"{where}: host key not in {known_hosts}: refused (add it, e.g. ssh-keyscan "
            f"-p {entry.port} {entry.host} >> {known_hosts}, or use --ignore-host-keys)")


async def _upload(conn: asyncssh.SSHClientConnection, entry: Entry, app: Zipapp) -> None:
    proc = await conn.run(remote.install_command(app.name, app.digest), input=app.data,
                          encoding=None)
    if proc.exit_status != 0:
        raise HostFailed(f"{_where(entry)}: cannot install the zipapp: "
                         f"{_last_line(proc.stderr) or f'exit status {proc.exit_status}'}")


def _stdin(entry: Entry, request: dict[str, Any]) -> bytes:
    data = json.dumps({**request, "id": entry.id,
                       "minion_opts": dict(entry.minion_opts)}).encode()
    if entry.passwd and (entry.sudo or entry.sudo_user):
        return entry.passwd.encode() + b"\n" + data  # sudo -S reads the first line
    return data


def _answer(entry: Entry, proc: asyncssh.SSHCompletedProcess) -> dict[str, Any]:
    """The host's JSON answer, or one line saying why there is none."""
    err = _last_line(proc.stderr)
    where = _where(entry)
    if proc.exit_status == 127:
        raise HostFailed(f"{where}: no python3 on the host (saline needs python3 >= 3.10)")
    if "a password is required" in err or "a terminal is required" in err:
        raise HostFailed(f"{where}: sudo needs a password: set passwd in the roster")
    if proc.exit_status != 0:
        raise HostFailed(f"{where}: {err or f'exit status {proc.exit_status}'}")
    try:
        answer = json.loads(proc.stdout or b"")
    except ValueError:
        raise HostFailed(f"{where}: the host's answer is not JSON: "
                         f"{(proc.stdout or b'')[:80]!r}") from None
    if not isinstance(answer, dict) or not isinstance(answer.get("result"), dict):
        raise HostFailed(f"{where}: the host's answer has no result")
    return answer


def _last_line(data: Any) -> str:
    text = data.decode("utf-8", "replace") if isinstance(data, bytes) else str(data or "")
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else ""


def _where(entry: Entry) -> str:
    return entry.host if entry.port == 22 else f"{entry.host}:{entry.port}"


def _reason(exc: BaseException) -> str:
    if isinstance(exc, asyncssh.Error):
        return exc.reason
    if isinstance(exc, OSError) and exc.errno:
        return os.strerror(exc.errno)  # asyncio's own words name the address again
    return str(exc) or type(exc).__name__


def _lap(start: float) -> tuple[float, float]:
    now = time.monotonic()
    return round(now - start, 4), now
