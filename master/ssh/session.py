"""One host over SSH: connect, log in, make sure the zipapp is there, run.

Every failure becomes one line in `HostResult.error` that says what to do;
nothing raised here escapes to the other hosts. Timings of each phase
(connect, auth, upload, run) are kept in seconds.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import os
import socket
import sys
import time
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

from master.ssh import remote, wire
from master.ssh.roster import Entry
from master.ssh.serve import Answers, HostFailed, converse
from master.ssh.zipapp import Zipapp


def _import_asyncssh() -> Any:
    """asyncssh, with ctypes' library lookups answered from the ldconfig cache alone.

    On import asyncssh looks for liboqs and libnettle (optional post-quantum key
    exchange and UMAC) with ctypes.util.find_library, which for a library that
    is not there also runs gcc and ld: ~40 ms of every `master ssh`. The
    ldconfig cache gives the same answer for libraries installed as packages.
    """
    import ctypes.util

    find = ctypes.util.find_library
    quick = getattr(ctypes.util, "_findSoname_ldconfig", None)
    if quick is not None and sys.platform.startswith("linux"):
        ctypes.util.find_library = quick
    try:
        with warnings.catch_warnings():  # asyncssh still names DSA; cryptography warns
            warnings.simplefilter("ignore")
            import asyncssh
    finally:
        ctypes.util.find_library = find
    return asyncssh


if TYPE_CHECKING:
    import asyncssh
else:
    asyncssh = _import_asyncssh()

logging.getLogger("asyncssh").setLevel(logging.WARNING)
PHASES = ("connect", "auth", "upload", "run")
STDERR_KEPT = 8192  # the end of a host's stderr, for the one line that says why it failed
__all__ = ["PHASES", "HostFailed", "HostResult", "Settings", "run_host"]


@dataclasses.dataclass
class Settings:
    """What every host's session shares."""

    known_hosts: Path | None  # None: host keys are not checked (--ignore-host-keys)
    timeout: float = 300.0  # the whole run on one host
    answers: Answers = dataclasses.field(default_factory=lambda: Answers({}))
    # known_hosts parsed once for all hosts, not once per connection.
    trusted: Any = dataclasses.field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        if self.known_hosts is not None:
            self.trusted = asyncssh.read_known_hosts(str(self.known_hosts))


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
        first = _first(entry, request, settings.answers.has_pillar)
        command = remote.run_command(app.name, entry.sudo, entry.sudo_user, bool(entry.passwd))
        answer, status, err = await _converse(conn, command, entry, first, settings.answers)
        if answer is None and status == remote.NEED_UPLOAD:
            await _upload(conn, entry, app)
            out.timings["upload"], clock = _lap(clock)
            answer, status, err = await _converse(conn, command, entry, first, settings.answers)
        else:
            out.timings["upload"] = 0.0
        out.timings["run"], clock = _lap(clock)
    answer = _answer(entry, answer, status, err)
    out.result, out.grains = answer["result"], answer.get("grains")


async def _converse(conn: asyncssh.SSHClientConnection, command: str, entry: Entry,
                    first: bytes, answers: Answers) -> tuple[dict[str, Any] | None, int, str]:
    """Run the command and talk frames with it: (its last frame, exit status, stderr tail)."""
    proc = await conn.create_process(command, encoding=None)
    # stderr is read all along: unread, it would fill the channel's window and
    # stall the frames on stdout.
    tail = asyncio.ensure_future(_tail(proc.stderr))
    try:
        answer = await converse(proc.stdout, proc.stdin, entry.id, first, answers)
        done = await proc.wait()
        err = await tail
    except BaseException:
        tail.cancel()
        raise
    status = done.exit_status if done.exit_status is not None else -1
    return answer, status, err.decode("utf-8", "replace")


async def _tail(stream: asyncssh.SSHReader[bytes]) -> bytes:
    kept = b""
    while chunk := await stream.read(65536):
        kept = (kept + chunk)[-STDERR_KEPT:]
    return kept


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
    options["known_hosts"] = settings.trusted
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


def _first(entry: Entry, request: dict[str, Any], pillar: bool) -> bytes:
    """What the command reads first: sudo's password line (with one), then the request."""
    data = wire.pack({**request, "id": entry.id, "minion_opts": dict(entry.minion_opts),
                      "pillar": pillar})
    if entry.passwd and (entry.sudo or entry.sudo_user):
        return entry.passwd.encode() + b"\n" + data  # sudo -S reads the first line
    return data


def _answer(entry: Entry, answer: dict[str, Any] | None, status: int,
            stderr: str) -> dict[str, Any]:
    """The host's last frame, or one line saying why there is none."""
    err = _last_line(stderr)
    where = _where(entry)
    if status == 127:
        raise HostFailed(f"{where}: no python3 on the host (saline needs python3 >= 3.10)")
    if "a password is required" in err or "a terminal is required" in err:
        raise HostFailed(f"{where}: sudo needs a password: set passwd in the roster")
    if answer is None or status != 0:
        raise HostFailed(f"{where}: " + (
            err or f"the run ended without an answer (exit status {status})"))
    if not isinstance(answer.get("result"), dict):
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
