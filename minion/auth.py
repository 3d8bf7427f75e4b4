"""Authentication with the master: the retry loop and one handshake.

The minion proves its id with its signing key, checks the master's keys
against its pin (or the join token's fingerprint), and on acceptance opens
the session key; a join token is presented once the master's key is known.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from typing import Any

from common import protocol
from common.crypto import SessionKey, random_bytes, seal
from common.protocol import BadMessage
from common.transport import TransportError
from minion.jobs import Jobs
from minion.masterkey import MasterKeyMismatch

log = logging.getLogger("minion.agent")


def reauth_delay(opts: dict[str, Any], rng: random.Random | None = None) -> float:
    """Seconds to wait before re-authenticating: random in 0..random_reauth_delay."""
    limit = max(0.0, float(opts.get("random_reauth_delay") or 0))
    return (rng or random).uniform(0, limit) if limit else 0.0


class Auth(Jobs):
    """Getting (and keeping) an accepted session with the master."""

    async def _auth_loop(self) -> None:
        delay = 1.0
        cap = float(self.opts["acceptance_wait_time"])
        spread = False
        while True:
            self.wake_auth.clear()
            if spread:
                # Once per lost session; retries then back off as usual.
                spread = False
                await asyncio.sleep(reauth_delay(self.opts))
            if self.status != "accepted":
                ok = await self._authenticate()
                delay = 1.0 if ok else min(delay * 2, cap)
            if self.status == "accepted":
                await self.wake_auth.wait()
                self.status = "reauth"
                spread = True
                continue
            try:
                async with asyncio.timeout(delay):
                    await self.wake_auth.wait()
            except TimeoutError:
                pass

    async def _authenticate(self) -> bool:
        assert self.client is not None
        nonce = random_bytes(protocol.NONCE_SIZE)
        token = None
        if (self.join_token and self.status == "pending" and self.candidate is not None
                and not self.token_tried):
            # Sealed to the master's key, which the pin check below has
            # matched against the token's fingerprint on the first reply.
            self.token_tried = True
            secret = self.join_token.rsplit(".", 1)[0]
            token = seal(self.candidate, secret.encode())
        try:
            data = await self.client.request(
                protocol.make_auth_request(self.pair, self.id, nonce, token),
                float(self.opts["auth_timeout"]),
            )
            reply = protocol.read_auth_reply(data, nonce, self.id)
            self.last_answer = time.monotonic()
            self.pin.check(reply.master)
        except TransportError as exc:
            log.debug("auth: %s", exc)
            return False
        except (BadMessage, MasterKeyMismatch) as exc:
            log.error("auth refused: %s", exc)
            return False
        self.candidate = reply.master
        if reply.status != "accepted":
            if token is not None:
                log.warning("the master did not accept the join token (see its log)")
            elif self.join_token and not self.token_tried and reply.status == "pending":
                self.wake_auth.set()  # now that the master is known, present the token
            if reply.status != self.status:
                log.warning("master says this minion's key is %s (fingerprint %s)",
                            reply.status, self.pair.public.fingerprint())
            self.status = reply.status
            return False
        assert reply.session is not None
        self.pin.pin(reply.master)
        self.session = SessionKey(self.pair.unseal(reply.session))
        self.key_gen = reply.key_gen
        self.box = self.pair.box_to(reply.master)
        self.status = "accepted"
        log.info("authenticated with the master (session generation %d)", self.key_gen)
        await self._send({"kind": "hello", "grains": self.ctx.grains})
        await self._load_pillar()
        await self._flush_unsent()
        held, self.held = self.held, []
        for envelope in held:
            await self._on_job(envelope)
        return True
