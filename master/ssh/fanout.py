"""Many hosts at once: one SSH connection per roster id, at most `max_procs` at a time."""

from __future__ import annotations

import asyncio
import statistics
from collections.abc import Callable, Iterable
from typing import Any

from master.ssh.roster import Entry
from master.ssh.session import PHASES, HostResult, Settings, run_host
from master.ssh.zipapp import Zipapp


async def run_all(entries: Iterable[Entry], app: Zipapp,
                  request_for: Callable[[Entry], dict[str, Any]], settings: Settings,
                  max_procs: int, on_result: Callable[[HostResult], None]) -> list[HostResult]:
    """Run on every entry; call `on_result` as each host finishes; all results in roster order."""
    gate = asyncio.Semaphore(max_procs)

    async def one(entry: Entry) -> HostResult:
        async with gate:
            result = await run_host(entry, app, request_for(entry), settings)
        on_result(result)
        return result

    return list(await asyncio.gather(*(one(e) for e in entries)))


def timing_table(results: Iterable[HostResult]) -> str:
    """min/median/max seconds of each phase over the hosts that reached it."""
    lines = [f"{'phase':<8} {'hosts':>5} {'min':>8} {'median':>8} {'max':>8}"]
    results = list(results)
    for phase in (*PHASES, "total"):
        values = [v for v in (_phase(r, phase) for r in results) if v is not None]
        if not values:
            continue
        lines.append(f"{phase:<8} {len(values):>5} {min(values):>8.3f} "
                     f"{statistics.median(values):>8.3f} {max(values):>8.3f}")
    return "\n".join(lines)


def _phase(result: HostResult, phase: str) -> float | None:
    if phase == "total":
        return sum(result.timings.values()) if result.timings else None
    return result.timings.get(phase)
