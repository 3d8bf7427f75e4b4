"""The masters of a cluster: each registers itself in the store and beats there.

A row per master (``saline_masters``): its id, host, publish and return
addresses, fingerprint, connected minion count, start time and last
heartbeat, updated every `HEARTBEAT_SECONDS`. `master cluster status` reads
them; a master whose heartbeat is older than `STALE_SECONDS` is shown down.
"""

from __future__ import annotations

import socket
import time
from typing import Any

from master.store.pglink import PgLink

HEARTBEAT_SECONDS = 3.0
STALE_SECONDS = 15.0
MAX_MASTERS = 1_000


def identity(opts: dict[str, Any], fingerprint: str) -> dict[str, Any]:
    """This master's row: id ``host:interface:ret_port``, where it publishes and takes returns."""
    host = socket.gethostname()
    iface = str(opts["interface"])
    shown = host if iface in ("0.0.0.0", "::") else iface
    # Jobs are pushed down each minion's connection to the return port: that
    # port is where this master publishes too.
    address = f"{shown}:{opts['ret_port']}"
    return {"id": f"{host}:{iface}:{opts['ret_port']}", "host": host, "publish": address,
            "ret": address, "fingerprint": fingerprint}


def register(link: PgLink, me: dict[str, Any]) -> None:
    """Write (or refresh) this master's row at start."""
    now = time.time()
    link.count(
        "INSERT INTO saline_masters (id, host, publish, ret, fingerprint, connected, started,"
        " heartbeat) VALUES (%s, %s, %s, %s, %s, 0, %s, %s) ON CONFLICT (id) DO UPDATE SET"
        " host = EXCLUDED.host, publish = EXCLUDED.publish, ret = EXCLUDED.ret,"
        " fingerprint = EXCLUDED.fingerprint, connected = 0, started = EXCLUDED.started,"
        " heartbeat = EXCLUDED.heartbeat",
        (me["id"], me["host"], me["publish"], me["ret"], me["fingerprint"], now, now))


def beat(link: PgLink, master_id: str, connected: int) -> None:
    """Say this master is alive, with how many minions are connected to it."""
    link.count("UPDATE saline_masters SET heartbeat = %s, connected = %s WHERE id = %s",
               (time.time(), connected, master_id))


def listing(link: PgLink, now: float | None = None) -> list[dict[str, Any]]:
    """Every registered master, by id, with its heartbeat's age and whether it is up."""
    now = time.time() if now is None else now
    rows = link.rows("SELECT id, host, publish, ret, fingerprint, connected, started, heartbeat"
                     " FROM saline_masters ORDER BY id LIMIT %s", (MAX_MASTERS,))
    out = []
    for mid, host, pub, ret, fp, connected, started, heartbeat in rows:
        age = max(0.0, now - heartbeat)
        out.append({"id": mid, "host": host, "publish": pub, "ret": ret, "fingerprint": fp,
                    "connected": connected, "started": started, "heartbeat": heartbeat,
                    "heartbeat_age": round(age, 1), "up": age < STALE_SECONDS})
    return out
