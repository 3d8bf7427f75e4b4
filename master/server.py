"""The master daemon: owns the sockets and dispatches each message by kind.

Three sockets: PUB (jobs and notices out), ROUTER on the return port (auth,
boxed minion requests) and ROUTER on a local IPC socket (the `master`
command). A handler that raises turns into an error reply and a log line;
nothing a peer sends can stop the loops.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import time
from collections.abc import Awaitable, Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from common import codec, fields, logs, protocol, targeting
from common.codec import ProtocolError
from common.crypto import CryptoError, SessionKey
from common.ids import new_jid
from common.protocol import BadMessage
from common.ratelog import RateLog
from common.transport import TransportError, tcp_address
from common.transport.aio import Server
from master import events, local, metrics
from master.keys import TooManyPending, autosign_allows
from master.peers import Peers
from master.pending import PendingRoutes
from master.resources import Refused, Resources, bounded_grains
from master.store import StoreError, open_store
from master.tokens import TokenError
from master.tracker import Trackers

log = logging.getLogger(__name__)

KEY_WATCH_SECONDS = 1.0
MAX_IN_FLIGHT = 256
# Boxed requests whose work is slow or blocking: run in worker threads.
THREADED = frozenset({"pillar", "file_list", "file_stat", "file_read"})
# A request handler gets the message and the routing id of the connection.
Handler = Callable[[dict[str, Any], bytes], Awaitable[bytes]]


class Master:
    """All of the master's state, and the loops that serve its sockets."""

    def __init__(self, opts: dict[str, Any]) -> None:
        self.opts = opts
        # Keys, tokens, jobs and the key pair: pki files and SQLite, or the
        # cluster store shared with other masters (master/store/).
        self.stores = open_store(opts, daemon=True)
        self.pair = self.stores.master_pair()
        self.store = self.stores.keys(int(opts["max_pending_keys"]))
        self.tokens = self.stores.tokens()
        self.events = events.EventBus()
        self.key_watch = events.KeyWatch(self.store, self.events)
        self.peers = Peers(self.store, self.pair, float(opts["heartbeat_interval"]), self.events)
        self.cache = self.stores.jobs()
        self.stores.joined(opts, self.pair)
        self.cache.prune(float(opts["keep_jobs"]))
        self.grains = bounded_grains(self.cache.all_grains())
        self.trackers = Trackers()
        self.session = SessionKey()
        # Time-based so that a restarted master never reuses a generation.
        self.key_gen = time.time_ns() // 1_000_000
        self.seq = 0
        self.metrics: metrics.Metrics | None = None
        self.known_accepted = set(self.store.ids("accepted"))
        self.stopping = asyncio.Event()
        self.request_handlers: dict[str, Handler] = {
            "auth": self.on_auth,
            "req": self.on_request,
        }
        self.resources = Resources(opts)
        self.ratelog = RateLog(log)
        self.pending_routes = PendingRoutes()
        self.ret_server: Server | None = None
        self.workers = ThreadPoolExecutor(max_workers=4, thread_name_prefix="serve")
        self.boxed_handlers: dict[str, Callable[[str, dict[str, Any]], dict[str, Any]]] = {
            "hello": self.on_hello,
            "hb": lambda minion, body: {},
            "bye": self.on_bye,
            "ack": self.on_ack,
            "ret": self.on_return,
            "pillar": self.on_pillar,
            **self.resources.handlers(),
        }

    # -- lifecycle ----------------------------------------------------------
    async def serve(self) -> None:
        """Bind the sockets and serve until SIGINT/SIGTERM."""
        opts = self.opts
        iface, size = opts["interface"], int(opts["max_msg_size"])
        ret_server = Server(tcp_address(iface, opts["ret_port"]), size, self._on_disconnect)
        self.ret_server = ret_server
        local_server = local.bind(self, size)
        self.metrics = metrics.start(self)
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, self.stopping.set)
        log.info(
            "master ready: minions connect to %s, fingerprint %s",
            ret_server.address, self.pair.public.fingerprint(),
        )
        self.events.emit(*events.master_started(self.pair.public.fingerprint()))
        tasks = [
            asyncio.ensure_future(self._serve_requests(ret_server)),
            asyncio.ensure_future(local.serve(self, local_server)),
            asyncio.ensure_future(self._watch_keys()),
        ]
        await self.stopping.wait()
        await self.events.close()  # parked `master events` polls hear it first
        metrics.stop(self.metrics)
        for task in tasks:
            task.cancel()
        for sock in (ret_server, local_server):
            sock.close()
        self.cache.close()
        log.info("master stopped")

    async def _serve_requests(self, server: Server) -> None:
        # Each request is its own task, so a slow one (a pillar compile, a
        # big file read, both in worker threads) never holds up the others;
        # the semaphore bounds how many are in flight.
        slots = asyncio.Semaphore(MAX_IN_FLIGHT)
        tasks: set[asyncio.Task[None]] = set()
        while True:
            peer, rid, payload, address = await server.recv_from()
            await slots.acquire()
            task = asyncio.ensure_future(self._answer(server, peer, rid, payload, address))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
            task.add_done_callback(lambda _: slots.release())

    async def _answer(self, server: Server, peer: bytes, rid: bytes, payload: bytes,
                      address: str = "") -> None:
        try:
            reply = await self.dispatch(payload, peer)
        except (BadMessage, ProtocolError) as exc:
            # Once a minute per source address: a peer repeating bad frames,
            # even over new connections, must not fill the log.
            self.ratelog.warning(f"rejected:{address or peer.hex()}",
                                 "rejected a request from %s: %s", address or "?", exc)
            reply = protocol.error_reply(str(exc))
        except Exception:
            log.exception("request handler failed")
            reply = protocol.error_reply("internal error")
        await server.send(peer, rid, reply)

    async def dispatch(self, payload: bytes, route: bytes = b"") -> bytes:
        msg = protocol.open_envelope(payload, tuple(self.request_handlers))
        return await self.request_handlers[msg["kind"]](msg, route)

    def _on_disconnect(self, route: bytes) -> None:
        # A minion whose every connection closed (killed, stopped) is not
        # connected: `master run` stops waiting for it at once.
        for minion in self.peers.disconnected(route):
            log.info("minion %s disconnected", minion)
            self.trackers.gone(minion)

    # -- auth ---------------------------------------------------------------
    async def on_auth(self, msg: dict[str, Any], route: bytes = b"") -> bytes:
        req = protocol.read_auth_request(msg)
        if req.token is not None and self._token_admits(req):
            status = self.store.admit(req.minion_id, req.keys)
        else:
            auto = bool(self.opts["auto_accept"]) or autosign_allows(
                self.opts["autosign_file"], req.minion_id
            )
            try:
                status = self.store.register(req.minion_id, req.keys, auto)
            except TooManyPending as exc:
                # One source for all: a flood of new ids logs once a minute.
                self.ratelog.warning("max_pending_keys", "new key of %s refused: %s",
                                     req.minion_id, exc)
                return protocol.error_reply(f"key not recorded: {exc}; try later")
        session = None
        if status == "accepted":
            session = self.session
            self.known_accepted.add(req.minion_id)
            # Connected from its first boxed request (the hello), which also
            # names the connection its jobs are to be pushed down.
        elif status == "pending" and route:
            self.pending_routes.remember(req.minion_id, route)
        self.key_watch.saw(req.minion_id, status)
        log.debug("auth from %s: %s", req.minion_id, status)
        return protocol.make_auth_reply(self.pair, req, status, session, self.key_gen)

    def _token_admits(self, req: protocol.AuthRequest) -> bool:
        assert req.token is not None
        state = self.store.state_of(req.minion_id)
        if state not in (None, "pending") or (
                state == "pending" and self.store.read("pending", req.minion_id) != req.keys):
            # A token never overrides a rejected, denied or different key,
            # and such an attempt does not use up the token.
            log.warning("join token from %s ignored: its key is %s", req.minion_id,
                        state if state != "pending" else "pending with another key")
            return False
        try:
            presented = self.pair.unseal(req.token).decode()
            why = self.tokens.redeem(presented, req.minion_id)
        except (CryptoError, UnicodeDecodeError, TokenError) as exc:
            why = str(exc)
        if why:
            log.warning("join token from %s refused: %s", req.minion_id, why)
            return False
        log.info("minion %s joined with a token", req.minion_id)
        return True

    # -- boxed requests -----------------------------------------------------
    async def on_request(self, msg: dict[str, Any], route: bytes = b"") -> bytes:
        minion = protocol.request_sender(msg)
        logs.bind(minion=minion)  # each request is its own task: JSON logs name the minion
        peer = self.peers.get(minion)
        if peer is None:
            log.warning("request from %s, whose key is not accepted: refused", minion)
            return protocol.error_reply("not accepted")
        body = protocol.open_request(msg, peer.box)
        self.peers.seen(minion, route or None, listen=body.get("listen") is True)
        handler = self.boxed_handlers[body["kind"]]
        try:
            fields.check_request(body)
            if body["kind"] in THREADED:
                loop = asyncio.get_running_loop()
                extra = await loop.run_in_executor(self.workers, handler, minion, body)
            else:
                extra = handler(minion, body)
        except (Refused, ProtocolError) as exc:
            # Inside the box: the minion can trust it, and need not re-auth.
            return protocol.make_reply(
                peer.box, {"ok": False, "error": str(exc), "key_gen": self.key_gen})
        return protocol.make_reply(peer.box, {"ok": True, "key_gen": self.key_gen, **extra})

    def on_hello(self, minion: str, body: dict[str, Any]) -> dict[str, Any]:
        grains = body.get("grains")
        if isinstance(grains, dict):
            self.resources.check_data(minion, "grains", grains)
            # Grains are the minion's word, except its id: that is the key
            # it authenticated with, so pillar templates cannot be fooled.
            grains = {**grains, "id": minion}
            self.grains[minion] = grains
            self.cache.save_grains(minion, grains)
        return {}

    def on_bye(self, minion: str, body: dict[str, Any]) -> dict[str, Any]:
        # A minion stopping cleanly says so before its sockets close: it is
        # not connected from now on (until it is heard from again), and runs
        # waiting for it report it at once instead of at their timeout.
        self.peers.left(minion)
        self.trackers.gone(minion)
        log.info("minion %s said goodbye", minion)
        return {}

    def on_pillar(self, minion: str, body: dict[str, Any]) -> dict[str, Any]:
        # In a worker thread: fresh grains are kept in memory only here (the
        # job cache's SQLite connection belongs to the event loop's thread).
        grains = body.get("grains")
        if isinstance(grains, dict):
            self.resources.check_data(minion, "grains", grains)
            self.grains[minion] = {**grains, "id": minion}
        return self.resources.compile_pillar(minion, body, self.grains.get(minion))

    def on_ack(self, minion: str, body: dict[str, Any]) -> dict[str, Any]:
        tracker = self.trackers.get(str(body.get("jid")))
        if tracker is not None:
            if minion not in tracker.acked and tracker.targets(minion):
                self.events.emit(*events.job_ack(tracker.jid, minion))
            tracker.ack(minion)
        return {}

    def on_return(self, minion: str, body: dict[str, Any]) -> dict[str, Any]:
        jid = codec.field(body, "jid", str)
        ret = codec.field(body, "ret", dict)
        logs.bind(jid=jid, fun=ret.get("fun"))
        if not self._targeted(jid, minion):
            self.ratelog.warning(f"ret:{minion}", "return from %s for job %s, which is unknown or "
                                 "did not target it: dropped", minion, jid)
            return {}
        wanted = {k: ret.get(k) for k in ("return", "success", "retcode", "fun", "duration")}
        if not self.cache.add_return(jid, minion, wanted):
            log.warning("return from %s for unknown job %s dropped", minion, jid)
            return {}
        self.events.emit(*events.job_ret(jid, minion, wanted))
        tracker = self.trackers.get(jid)
        if tracker is not None:
            tracker.ret(minion, wanted)
        return {}

    def _targeted(self, jid: str, minion: str) -> bool:
        # A job this master follows knows its expected minions and its target
        # (re-judged for a minion whose grains changed after the publish);
        # an older job (before a restart) only its expected list.
        tracker = self.trackers.get(jid)
        if tracker is not None:
            return tracker.targets(minion)
        expected = self.cache.expected(jid)
        return expected is not None and minion in expected

    # -- jobs ---------------------------------------------------------------
    def compile_target(self, tgt: Any, tgt_type: str, delimiter: str) -> targeting.Target:
        """Parse a target once, with this master's nodegroups."""
        return targeting.compile(
            tgt, tgt_type, nodegroups=self.opts["nodegroups"], delimiter=delimiter
        )

    def expected_minions(self, match: targeting.Target) -> list[str]:
        """Accepted minions the target reaches, judged from their last grains."""
        return [m for m in sorted(self.known_accepted) if self._reaches(match, m)]

    def _reaches(self, match: targeting.Target, minion: str) -> bool:
        try:
            return match({"id": minion, "grains": self.grains.get(minion, {}),
                          "pillar": self.resources.pillars.get(minion, {})})
        except RecursionError:
            # Data that slipped past the bounds spoils only its own minion.
            self.ratelog.warning(f"match:{minion}", "grains or pillar of %s too deep "
                                 "to match: minion skipped", minion)
            return False

    async def publish(self, req: dict[str, Any]) -> dict[str, Any]:
        """Start a job: record it, publish it, and say whom it should reach."""
        tgt, tgt_type = req["tgt"], req.get("tgt_type", "glob")
        delimiter = req.get("delimiter") or ":"
        match = self.compile_target(tgt, tgt_type, delimiter)
        expected = self.expected_minions(match)
        if not expected:
            return {"jid": None, "expected": [], "connected": []}
        self.seq += 1
        uses_groups = tgt_type == "nodegroup" or "N@" in str(tgt)
        job = protocol.Job(
            jid=new_jid(), tgt=tgt, tgt_type=tgt_type, fun=req["fun"],
            arg=list(req.get("arg") or []), kwarg=dict(req.get("kwarg") or {}),
            ts=time.time(), seq=self.seq, delimiter=delimiter,
            nodegroups=dict(self.opts["nodegroups"]) if uses_groups else {},
        )
        self.cache.add_job(job.to_map(), expected, str(req.get("user") or ""))
        self.events.emit(*events.job_new(job, expected, str(req.get("user") or "")))
        self.trackers.start(job.jid, expected, None if match.id_only else (
            lambda m: m in self.known_accepted and self._reaches(match, m)))
        await self._send_jobs(job, expected if match.id_only else None)
        return {"jid": job.jid, "expected": expected, "connected": self.peers.connected_ids()}

    async def _send_jobs(self, job: protocol.Job, only: list[str] | None) -> None:
        """Push `job` to the listening minions: `only` those (each its own copy), or all.

        A target decided by id alone reaches only its minions, signed for
        each one's topic; any other target reaches every listening minion,
        which judges it against its own grains and pillar.
        """
        if only is None:
            payload = protocol.make_publish(
                self.pair, self.session, self.key_gen, protocol.TOPIC_ALL, job)
            await self._push(self.peers.push_routes().values(), payload)
            return
        routes = self.peers.push_routes(only)
        for minion, route in routes.items():
            payload = protocol.make_publish(self.pair, self.session, self.key_gen,
                                            protocol.minion_topic(minion), job)
            await self._push([route], payload)

    async def _push(self, routes: Iterable[bytes], payload: bytes) -> None:
        # ROUTER drops what a gone or full connection cannot take: a slow
        # minion never holds up the others.
        assert self.ret_server is not None
        for route in routes:
            await self.ret_server.send(route, protocol.PUSH_RID, payload)

    async def notice(self, event: str, **data: Any) -> None:
        """Push a signed notice (accepted keys, session rotated) to the listening minions."""
        payload = protocol.make_notice(self.pair, event, **data)
        await self._push(self.peers.push_routes().values(), payload)

    async def _watch_keys(self) -> None:
        # `master key` tells us what it changed, but a key file removed by
        # hand (or while the notice got lost) must shut the minion out too.
        # A cluster store wakes the watch as soon as another master changes a key.
        while True:
            await self.store.changed(KEY_WATCH_SECONDS)
            try:
                self.peers.sweep()  # minions gone silent are told as disconnected
                self.stores.tick(lambda: len(self.peers.connected_ids()))
                await self.keys_changed([], [])
            except Exception:
                log.exception("key watch failed")

    async def keys_changed(self, accepted: list[str], removed: list[str]) -> None:
        """React to key changes: wake accepted minions, rotate on removal.

        The caller's lists are merged with what the key store shows now, so
        a change is acted on once whoever notices it first.
        """
        # Listed only when the accepted directory changed (pending keys,
        # however many, are never listed here).
        now = set(self.store.ids("accepted"))
        removed = sorted(set(removed) | (self.known_accepted - now))
        accepted = sorted((set(accepted) | (now - self.known_accepted)) & now)
        self.known_accepted = now
        self.key_watch.update()
        for minion in removed:
            self.peers.forget(minion)
            self.grains.pop(minion, None)
            self.resources.forget(minion)
            self.cache.forget_minion(minion)
        if removed:
            self.session = SessionKey()
            self.key_gen = max(self.key_gen + 1, time.time_ns() // 1_000_000)
            log.info("session key rotated (generation %d) after removing %s",
                     self.key_gen, ", ".join(removed))
            await self.notice("rotate", key_gen=self.key_gen)
        if accepted:
            await self._tell_accepted(accepted)

    async def _tell_accepted(self, accepted: list[str]) -> None:
        # Pending minions do not listen yet: the notice goes down the
        # connection each last authenticated on, so it asks again now.
        payload = protocol.make_notice(self.pair, "accepted", ids=accepted)
        routes = set(self.pending_routes.take(accepted).values())
        await self._push(routes | set(self.peers.push_routes().values()), payload)


def run(opts: dict[str, Any]) -> int:
    """Start the master in the foreground; the return value is the exit code."""
    try:
        master = Master(opts)
    except StoreError as exc:
        log.error("cannot start: %s", exc)
        return 2
    except (OSError, ValueError) as exc:
        log.error("cannot start: %s", exc)
        return 1
    try:
        asyncio.run(master.serve())
    except (TransportError, local.AlreadyRunning) as exc:
        log.error("%s", exc)
        return 1
    finally:
        master.workers.shutdown(wait=False, cancel_futures=True)
    with contextlib.suppress(Exception):
        master.cache.close()
        master.stores.close()
    return 0
