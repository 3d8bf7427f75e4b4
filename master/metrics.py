"""Prometheus metrics of the master on `metrics_port` (0, the default: none).

Counters and histograms follow the event stream (a listener on the master's
EventBus) and the minion request handlers (timed where they are looked up);
what *is* (connected minions, keys by state) is read on the event loop at
each scrape. prometheus_client's HTTP server runs in its own thread, bound
to the master's `interface` only, so a scrape never holds up the loop.
Labels are bounded: no jid or minion id is ever a label.
"""

from __future__ import annotations

import asyncio
import collections
import time
from collections.abc import Awaitable, Callable, Iterator
from typing import TYPE_CHECKING, Any

from common.config import ConfigError
from common.transport import TransportError
from master.keys import STATES

if TYPE_CHECKING:
    from master.server import Master

INSTALL_HINT = "pip install 'saline[metrics]'"
MAX_FUN_LABELS = 100  # distinct `fun` label values; later functions count as "other"
MAX_PUBLISHED = 2000  # jobs whose publish time is kept for the return latency
SCRAPE_WAIT = 2.0  # seconds a scrape waits for the event loop's answer
RETURN_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 900, 3600)
REQUEST_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10)


def check_available(opts: dict[str, Any]) -> None:
    """Refuse to start with `metrics_port` set when prometheus_client is missing (ConfigError)."""
    if not opts.get("metrics_port"):
        return
    try:
        import prometheus_client  # noqa: F401
    except ImportError:
        raise ConfigError(f"metrics_port is {opts['metrics_port']} but prometheus_client is "
                          f"not installed ({INSTALL_HINT})") from None


def start(master: Master) -> Metrics | None:
    """Serve the master's metrics if `metrics_port` is set; None when it is 0.

    Call from the master's event loop. TransportError if the port cannot be bound.
    """
    port = int(master.opts.get("metrics_port") or 0)
    if not port:
        return None
    check_available(master.opts)
    metrics = Metrics(master, asyncio.get_running_loop())
    metrics.serve(master.opts["interface"], port)
    return metrics


def stop(metrics: Metrics | None) -> None:
    """Stop serving metrics (nothing if they were off)."""
    if metrics is not None:
        metrics.close()


class Metrics:
    """One master's metrics, in a registry of their own."""

    def __init__(self, master: Master, loop: asyncio.AbstractEventLoop) -> None:
        from prometheus_client import CollectorRegistry, Counter, Histogram, ProcessCollector

        self.registry = CollectorRegistry()
        ProcessCollector(registry=self.registry)  # process_resident_memory_bytes and more
        self.jobs = Counter("saline_jobs_published", "Jobs published, by function "
                            f"(after {MAX_FUN_LABELS} functions, 'other')", ["fun"],
                            registry=self.registry)
        self.returns = Counter("saline_job_returns", "Minion returns received, by outcome "
                               "(success or failed)", ["outcome"], registry=self.registry)
        self.latency = Histogram("saline_job_return_seconds", "Seconds from a job's publish "
                                 "to each minion's return", buckets=RETURN_BUCKETS,
                                 registry=self.registry)
        self.requests = Histogram("saline_request_seconds", "Seconds the master spent "
                                  "handling one minion request, by kind", ["kind"],
                                  buckets=REQUEST_BUCKETS, registry=self.registry)
        self.registry.register(_Live(master, loop))
        self._funs: set[str] = set()
        self._published: collections.OrderedDict[str, float] = collections.OrderedDict()
        self._server: Any = None
        master.events.listen(self.on_event)
        master.boxed_handlers = {kind: self._timed(kind, handler)
                                 for kind, handler in master.boxed_handlers.items()}
        master.request_handlers["auth"] = self._timed_async("auth",
                                                            master.request_handlers["auth"])

    def serve(self, interface: str, port: int) -> None:
        """Serve /metrics on `interface`:`port` from a thread of its own."""
        from prometheus_client import start_http_server

        try:
            self._server, _ = start_http_server(port, addr=interface, registry=self.registry)
        except OSError as exc:
            raise TransportError(f"cannot serve metrics on {interface}:{port}: "
                                 f"{exc.strerror or exc}") from None

    def close(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def on_event(self, tag: str, data: dict[str, Any]) -> None:
        """Count jobs and returns as their events pass (called on the event loop)."""
        parts = tag.split("/")
        if len(parts) < 4 or parts[:2] != ["saline", "job"]:
            return
        jid = parts[2]
        if parts[3] == "new":
            self.jobs.labels(self._fun_label(str(data.get("fun")))).inc()
            self._published[jid] = time.monotonic()
            while len(self._published) > MAX_PUBLISHED:
                self._published.popitem(last=False)
        elif parts[3] == "ret":
            self.returns.labels("success" if data.get("success") else "failed").inc()
            published = self._published.get(jid)
            if published is not None:
                self.latency.observe(time.monotonic() - published)

    def _fun_label(self, fun: str) -> str:
        if fun in self._funs or len(self._funs) < MAX_FUN_LABELS:
            self._funs.add(fun)
            return fun
        return "other"

    def _timed(self, kind: str, handler: Callable[[str, dict[str, Any]], dict[str, Any]]
               ) -> Callable[[str, dict[str, Any]], dict[str, Any]]:
        observe = self.requests.labels(kind).observe

        def timed(minion: str, body: dict[str, Any]) -> dict[str, Any]:
            start = time.perf_counter()
            try:
                return handler(minion, body)
            finally:
                observe(time.perf_counter() - start)
        return timed

    def _timed_async(self, kind: str, handler: Callable[[dict[str, Any], bytes], Awaitable[bytes]]
                     ) -> Callable[[dict[str, Any], bytes], Awaitable[bytes]]:
        observe = self.requests.labels(kind).observe

        async def timed(msg: dict[str, Any], route: bytes) -> bytes:
            start = time.perf_counter()
            try:
                return await handler(msg, route)
            finally:
                observe(time.perf_counter() - start)
        return timed


class _Live:
    """Gauges read from the master's state at each scrape, on its event loop's thread."""

    def __init__(self, master: Master, loop: asyncio.AbstractEventLoop) -> None:
        self.master = master
        self.loop = loop

    def describe(self) -> list[Any]:
        return []  # registering must not scrape (that would wait on the loop it runs on)

    def collect(self) -> Iterator[Any]:
        from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

        try:
            snap = asyncio.run_coroutine_threadsafe(self._snapshot(), self.loop).result(
                SCRAPE_WAIT)
        except Exception:
            return  # the loop is stopping or too busy: this scrape lacks these gauges
        yield GaugeMetricFamily("saline_minions_connected", "Minions connected now",
                                value=snap["connected"])
        keys = GaugeMetricFamily("saline_keys", "Minion keys, by state", labels=["state"])
        for state, count in snap["keys"].items():
            keys.add_metric([state], count)
        yield keys
        yield GaugeMetricFamily("saline_event_subscribers", "`master events` polls waiting now",
                                value=snap["subscribers"])
        yield CounterMetricFamily("saline_events_missed", "Events that subscribers missed "
                                  "because they fell behind", value=snap["missed"])

    async def _snapshot(self) -> dict[str, Any]:
        master = self.master
        return {"connected": len(master.peers.connected_ids()),
                "keys": {s: len(master.store.ids(s)) for s in STATES},
                "subscribers": master.events.waiting, "missed": master.events.missed}

