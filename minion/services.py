"""What functions running in worker threads may ask of the agent.

They run outside the event loop, so each call hops onto it and waits
(``saltutil.refresh_pillar``, ``cp.get_file`` through the file client,
``saltutil.running``/``kill_job``).
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any

from common.fileroots import FileServerError
from minion.channel import Channel


class Services(Channel):
    """Blocking entry points for jobs; never called on the event loop."""

    def _on_loop(self, coro: Any, timeout: float) -> Any:
        assert self.loop is not None
        if threading.get_ident() == self.loop_thread:
            raise RuntimeError("this call blocks; it cannot run on the event loop")
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def request(self, body: dict[str, Any], timeout: float = 30.0) -> dict[str, Any]:
        """Ask the master (file server, pillar) from a job; FileServerError if refused."""
        reply = self._on_loop(self._send(body, timeout), timeout + 5)
        if not reply:
            raise FileServerError("the master did not answer")
        if not reply.get("ok"):
            raise FileServerError(str(reply.get("error")))
        return dict(reply)

    def _grains_changed(self, grains: dict[str, Any]) -> None:
        # Called from a job's thread: tell the master (for grain targeting)
        # without making the job wait for it.
        if self.loop is not None:
            asyncio.run_coroutine_threadsafe(
                self._send({"kind": "hello", "grains": dict(grains)}), self.loop)

    def refresh_pillar(self) -> dict[str, Any]:
        return dict(self._on_loop(self._load_pillar(), 60.0))

    def refresh_grains(self) -> dict[str, Any]:
        from minion.grains.core import compute_grains

        grains = compute_grains(self.opts, self.opts["config_dir"])
        self.ctx.grains.clear()
        self.ctx.grains.update(grains)
        self._on_loop(self._send({"kind": "hello", "grains": grains}), 30.0)
        return grains

    def reload_modules(self) -> list[str]:
        from minion.loader import Registry

        self.ctx.registry = Registry.load(self.opts, self.ctx.grains)
        return self.ctx.registry.modules()

    def running(self) -> list[dict[str, Any]]:
        return [{k: v for k, v in job.items() if k != "thread"}
                for job in list(self.running_jobs.values())]

    def kill_job(self, jid: str) -> bool:
        job = self.running_jobs.get(jid)
        terminate = getattr(self.ctx.runner, "terminate_all", None)
        if job is None or job.get("thread") is None or terminate is None:
            return False
        return bool(terminate(job["thread"]))
