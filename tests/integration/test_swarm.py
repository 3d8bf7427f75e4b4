"""The swarm: 1,000 simulated minions (tests/swarm.py) against one real master.

Every minion authenticates with its own key, is accepted, and returns
`test.ping` and `test.echo` through the real protocol, before and after a
master restart; the test asserts that all of them returned, not how fast.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.swarm import Swarm, raise_fd_limit
from tests.cluster import wait_for

N = 1000


@pytest.fixture
def swarm(tmp_path: Path) -> Iterator[Swarm]:
    raise_fd_limit()
    s = Swarm(tmp_path, N, procs=1, hb=2)
    try:
        yield s
    finally:
        s.close()


def _returns_in_cache(swarm: Swarm) -> int:
    db = sqlite3.connect(f"file:{swarm.cluster.master_dir / 'cache' / 'jobs.sqlite'}?mode=ro",
                         uri=True)
    try:
        (jid,) = db.execute("SELECT jid FROM jobs ORDER BY jid DESC LIMIT 1").fetchone()
        return int(db.execute("SELECT COUNT(*) FROM returns WHERE jid=?", (jid,)).fetchone()[0])
    finally:
        db.close()


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_thousand_minions_all_return_also_after_a_master_restart(swarm: Swarm) -> None:
    swarm.start_master()
    swarm.start_minions()
    wait_for(lambda: swarm.count_keys("pending") >= N, 90, 0.1, "1,000 pending keys")
    accept = swarm.cluster.master_cmd("key", "accept", "--all", "-y", timeout=60)
    assert accept.returncode == 0, accept.stderr
    assert swarm.count_keys("accepted") == N
    wait_for(lambda: swarm.connected() >= N, 90, 0.2, "1,000 minions connected")

    returned, _, data = swarm.ping("test.ping", timeout=60)
    assert returned == N and all(v is True for v in data.values())
    assert _returns_in_cache(swarm) == N
    _, _, data = swarm.ping("test.echo", "swarm-echo", timeout=60)
    assert len(data) == N and set(data.values()) == {"swarm-echo"}

    swarm.restart_master()
    wait_for(lambda: swarm.connected() >= N, 90, 0.2, "1,000 minions back after a restart")
    returned, _, _ = swarm.ping("test.ping", timeout=60)
    assert returned == N
