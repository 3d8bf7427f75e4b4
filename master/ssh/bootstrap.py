"""One host from "SSH only" to a running minion whose key the master accepted.

Over one authenticated SSH connection (the host key checked against
known_hosts, as `master ssh` does): probe the host, install saline from the
wheels the master carries when the host does not have exactly them, write
the minion config, let the minion make its own key pair and read its public
key back, accept exactly that key on the master, then start the minion.
Every step changes nothing when there is nothing to change, and says what it
changed. A failure is one line in `Outcome.error`; other hosts go on.
"""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import json
import shlex
import zlib
from pathlib import Path
from typing import Any

from common.crypto import CryptoError, PublicKeys
from master.keys import KeyStore
from master.ssh import session
from master.ssh.roster import Entry
from master.ssh.session import HostFailed, Settings, asyncssh
from master.ssh.wheelhouse import Wheelhouse

HOST_SCRIPT = Path(__file__).with_name("bootstrap_host.py")
# contrib/systemd/saline-minion.service, which a wheel does not carry (a test
# keeps the two the same).
MINION_UNIT = """\
# saline minion under systemd. Install: contrib/README.md.
# It runs as root and is not sandboxed: it manages this host (packages,
# files, services, users) for the master.
[Unit]
Description=saline minion (config management)
After=network-online.target
Wants=network-online.target

[Service]
Type=notify
NotifyAccess=main
ExecStart=/usr/local/bin/minion -c /etc/saline start
# SIGHUP reopens the log file (logrotate); the minion keeps running.
ExecReload=/bin/kill -HUP $MAINPID
Restart=on-failure
RestartSec=5s
# Stop signals the minion alone: it ends the jobs it runs itself, and a
# process a state started on purpose (`nohup ... &`) outlives a restart.
KillMode=process
LimitNOFILE=8192

[Install]
WantedBy=multi-user.target
"""
MIN_PYTHON = (3, 11)


@dataclasses.dataclass
class Plan:
    """What every host shares: the wheels, the master's side of the config, the key store."""

    wheels: Wheelhouse
    config: dict[str, Any]  # master, master_port, master_finger
    keys: KeyStore
    root: str = "/"
    settings: Settings = dataclasses.field(default_factory=lambda: Settings(None))


@dataclasses.dataclass
class Outcome:
    """What bootstrap did on one roster id, or the one line saying why it stopped."""

    id: str
    changes: list[str] = dataclasses.field(default_factory=list)
    fingerprint: str = ""
    error: str | None = None
    accepted_now: bool = False


async def bootstrap_host(entry: Entry, plan: Plan) -> Outcome:
    """Bring one roster id to a running, accepted minion; never raises."""
    out = Outcome(entry.id)
    try:
        await asyncio.wait_for(_steps(entry, plan, out), plan.settings.timeout)
    except HostFailed as exc:
        out.error = str(exc)
    except TimeoutError:
        out.error = f"no end within {plan.settings.timeout:g} s"
    except (OSError, asyncssh.Error) as exc:
        out.error = f"{session._where(entry)}: {session._reason(exc)}"
    return out


async def _steps(entry: Entry, plan: Plan, out: Outcome) -> None:
    sock = await session._connect(entry)
    async with await session._login(entry, sock, plan.settings) as conn:
        host = Host(conn, entry, plan.root)
        facts = await host.step("probe", {})
        _check_facts(entry, facts)
        installed = facts.get("installed") == plan.wheels.digest
        if not installed:
            await host.step("install", plan.wheels.tar(), plan.wheels.digest)
            out.changes.append(f"installed saline ({plan.wheels.size / 1e6:.1f} MB of wheels)")
        conf = await host.step("configure", {"config": minion_config(entry, plan.config)})
        if conf["changed"]:
            out.changes.append("wrote the minion config")
        out.fingerprint, out.accepted_now = trust(entry, plan.keys, conf["pub"])
        if out.accepted_now:
            out.changes.append(f"accepted key {out.fingerprint}")
        started = await host.step("start", {"restart": not installed or conf["changed"],
                                            "unit": MINION_UNIT})
        if started["changed"]:
            out.changes.append(f"started the minion ({started['how']})")


def _check_facts(entry: Entry, facts: dict[str, Any]) -> None:
    where = session._where(entry)
    version = tuple(facts.get("python") or ())
    if version[:2] < MIN_PYTHON:
        raise HostFailed(f"{where}: the host's python3 is {'.'.join(map(str, version))}; "
                         f"saline needs {'.'.join(map(str, MIN_PYTHON))} or later")
    if not facts.get("venv"):
        raise HostFailed(f"{where}: the host's python3 has no venv module (Debian: "
                         "apt install python3-venv)")
    if not facts.get("root"):
        raise HostFailed(f"{where}: bootstrap installs as root: log in as root or set "
                         "sudo: true in the roster")


def minion_config(entry: Entry, master: dict[str, Any]) -> str:
    """The minion config the host gets: its id, where its master is, the master's key."""
    import yaml

    conf = {"id": entry.id, **master, **dict(entry.minion_opts)}
    head = ("# Written by `master bootstrap`; a second bootstrap puts it back as it is.\n"
            "# Settings of your own: minion_opts in the master's roster.\n")
    return head + yaml.safe_dump(conf, sort_keys=False, default_flow_style=False)


def trust(entry: Entry, keys: KeyStore, pub_text: str) -> tuple[str, bool]:
    """Accept exactly the key the host sent over SSH; (its fingerprint, accepted now).

    A key the master already holds for this id under another fingerprint
    (pending, accepted, rejected or denied) is refused: the host key vouches
    for this key only, not for that one.
    """
    try:
        pub = PublicKeys.loads(pub_text)
    except CryptoError as exc:
        raise HostFailed(f"{entry.id}: the host sent no usable minion key: {exc}") from None
    finger = pub.fingerprint()
    for state in ("accepted", "pending", "rejected", "denied"):
        held = keys.read(state, entry.id)
        if held is None:
            continue
        if held != pub:
            raise HostFailed(
                f"{entry.id}: the master holds a {state} key for this id with fingerprint "
                f"{held.fingerprint()}, the host's is {finger}: refused (if the host was "
                f"reinstalled: master key delete {entry.id} -y, then bootstrap again)")
        if state == "accepted":
            return finger, False
        if state != "pending":
            raise HostFailed(f"{entry.id}: this key is {state} on the master: refused "
                             f"(master key delete {entry.id} -y to forget it)")
        keys.move(entry.id, "accepted", ("pending",))
        return finger, True
    if not keys.backend.add("accepted", entry.id, pub, replace=False):
        raise HostFailed(f"{entry.id}: a key for this id came in meanwhile: run again")
    return finger, True


class Host:
    """The steps of bootstrap_host.py run on one connection, as root."""

    def __init__(self, conn: asyncssh.SSHClientConnection, entry: Entry, root: str) -> None:
        self.conn, self.entry, self.root = conn, entry, root
        packed = base64.b64encode(zlib.compress(HOST_SCRIPT.read_bytes(), 9)).decode()
        self.source = f"import base64,zlib;exec(zlib.decompress(base64.b64decode('{packed}')))"

    async def step(self, name: str, data: dict[str, Any] | bytes, *words: str) -> Any:
        """Run one step; its JSON answer, or HostFailed with the host's one line."""
        argv = ["python3", "-c", self.source, name, self.root, *words]
        command = " ".join([*self._sudo(), *(shlex.quote(a) for a in argv)])
        stdin = data if isinstance(data, bytes) else json.dumps(data).encode()
        if self.entry.passwd and self._sudo():
            stdin = self.entry.passwd.encode() + b"\n" + stdin  # sudo -S reads the first line
        proc = await self.conn.run(command, input=stdin, encoding=None)
        err = session._last_line(proc.stderr)
        where = session._where(self.entry)
        if proc.exit_status == 127:
            raise HostFailed(f"{where}: no python3 on the host (saline needs python3 >= "
                             f"{'.'.join(map(str, MIN_PYTHON))})")
        if "a password is required" in err or "a terminal is required" in err:
            raise HostFailed(f"{where}: sudo needs a password: set passwd in the roster")
        if proc.exit_status != 0:
            raise HostFailed(f"{where}: {name}: {err or f'exit status {proc.exit_status}'}")
        try:
            return json.loads(proc.stdout or b"")
        except ValueError:
            raise HostFailed(f"{where}: {name}: the host's answer is not JSON") from None

    def _sudo(self) -> list[str]:
        if not self.entry.sudo:
            return []
        return ["sudo", "-S", "-p", "''"] if self.entry.passwd else ["sudo", "-n"]
