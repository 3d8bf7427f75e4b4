"""Synthetic state runs for the report tests and bench/report.py.

`state_return` builds one minion's return as a real minion shapes it (Salt's
keys: ``start_time`` as local ``HH:MM:SS.ffffff``, ``duration`` in ms,
``__run_num__``, ``__id__``, ``__state_ran__``); `fill_cache` writes a whole
job of many minions into a real job cache with chosen publish and return times.
"""

from __future__ import annotations

import datetime
import random
from pathlib import Path
from typing import Any

from master.jobcache import JobCache

FUNCTIONS = ("file.managed", "pkg.installed", "service.running", "cmd.run", "user.present",
             "file.directory")


def clock(seconds: float) -> str:
    """Seconds after midnight as a minion's ``start_time`` text."""
    seconds %= 86400
    whole = int(seconds)
    micro = round((seconds - whole) * 1e6)
    if micro == 1_000_000:
        whole, micro = whole + 1, 0
    return datetime.time(whole // 3600 % 24, whole // 60 % 60, whole % 60, micro).isoformat()


def state_return(states: int, start_tod: float, rng: random.Random,
                 parallel_pairs: int = 0, fail_at: int | None = None) -> tuple[dict[str, Any],
                                                                              float]:
    """One minion's results of `states` states run one after the other from
    `start_tod` (seconds after midnight); the first `parallel_pairs` pairs run
    side by side. Returns the results and the seconds the run took."""
    ret: dict[str, Any] = {}
    now = start_tod
    i = 0
    while i < states:
        pair = 2 if i < 2 * parallel_pairs and i + 1 < states else 1
        longest = 0.0
        for j in range(pair):
            n = i + j
            fun = FUNCTIONS[n % len(FUNCTIONS)]
            module, name = fun.split(".")
            sid = f"{module}-{n:03d}"
            took = rng.choice((0.4, 1.5, 3, 8, 25, 60, 250, 900)) * rng.uniform(0.8, 1.2)
            result: dict[str, Any] = {"result": True, "changes": {}, "comment": "Already fine",
                                      "name": f"/srv/{sid}", "__id__": sid, "__sls__": "bench",
                                      "__run_num__": n, "start_time": clock(now + j * 0.0004),
                                      "duration": round(took, 3)}
            roll = rng.random()
            if fail_at == n:
                result.update(result=False, comment=f"{sid} failed: exit status 1")
            elif roll < 0.15:
                result.update(changes={"diff": "new file"}, comment=f"{sid} updated")
            elif roll < 0.2:
                result.update(__state_ran__=False, duration=0.0, comment="State was not run "
                              "because none of the onchanges reqs changed")
            ret[f"{module}_|-{sid}_|-/srv/{sid}_|-{name}"] = result
            longest = max(longest, float(result["duration"]) / 1000)
        now += longest + 0.0003
        i += pair
    return ret, now - start_tod


def fill_cache(cachedir: Path, minions: int, states: int, *, jid: str = "20250101120000000000",
               published: float = 1_735_732_800.0, missing: int = 0, seed: int = 7,
               parallel_pairs: int = 0) -> str:
    """Write one state.apply job of `minions` minions x `states` states to the job
    cache in `cachedir` (the last `missing` minions never return). Returns the jid."""
    rng = random.Random(seed)
    cache = JobCache(cachedir)
    names = [f"web{i:03d}.example.org" for i in range(minions)]
    job = {"jid": jid, "fun": "state.apply", "arg": ["bench"], "kwarg": {}, "tgt": "web*",
           "tgt_type": "glob"}
    cache.add_job(job, names, "bench")
    cache.db.execute("UPDATE jobs SET started=? WHERE jid=?", (published, jid))
    tod = published_tod(published)
    for k, minion in enumerate(names[:minions - missing]):
        delay = rng.uniform(0.2, 1.5)
        ret, took = state_return(states, tod + delay, rng, parallel_pairs,
                                 fail_at=states // 2 if k % 17 == 3 else None)
        success = all(r["result"] is not False for r in ret.values())
        cache.add_return(jid, minion, {"return": ret, "success": success,
                                       "retcode": 0 if success else 2})
        cache.db.execute("UPDATE returns SET ts=? WHERE jid=? AND minion=?",
                         (published + delay + took + rng.uniform(0.01, 0.1), jid, minion))
    cache.close()
    return jid


def published_tod(published: float) -> float:
    """Seconds after local midnight at `published` (what the report reads against)."""
    moment = datetime.datetime.fromtimestamp(published)
    return moment.hour * 3600 + moment.minute * 60 + moment.second + moment.microsecond / 1e6
