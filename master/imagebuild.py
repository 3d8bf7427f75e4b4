"""`master image build`: apply formulas in a fresh container and commit it as an image.

Run on the host of a running master (it talks to the master's local socket
and to the Docker Engine through the ``docker`` SDK):

1. a join token for this build only (one use, a few minutes, the build's
   minion id ``build-<random>``), so no key has to be accepted by hand;
2. a container from ``--from`` with ``--add-host salt:<bridge gateway>`` and a
   minion config written into ``/etc/saline/minion`` before it starts;
3. once the minion is connected, ``state.apply <mods>`` (with ``test``,
   ``pillar`` and ``saltenv``), its highstate output streamed;
4. on success the minion's keys, cache and config are removed, the container
   is stopped and committed (CMD, ENTRYPOINT, EXPOSE, ``org.saline.*``
   labels) and removed; on failure it is left running for inspection and
   nothing is committed.

The build minion's key is deleted from the master (and the session key
rotated) and the token revoked whatever happens. The master must listen
where containers can reach it: ``interface:`` must be the Docker bridge
gateway (e.g. 172.17.0.1) or 0.0.0.0.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import os
import secrets
import sys
import time
from pathlib import Path
from typing import Any

import yaml

from common.args import typed
from common.crypto import KeyPair
from master import imagebuild_docker as dock
from master.keys import KeyStore
from master.localclient import CommandFailed, LocalClient, MasterUnavailable, try_notify
from master.runcmd import Follow
from master.tokens import TokenStore

CONNECT_TIMEOUT = 60.0
TOKEN_TTL = 300
PENDING_GRACE = 10.0  # a minion with a good token is accepted long before
ANY_ADDRESS = ("0.0.0.0", "*", "::", "[::]")


class BuildFailed(Exception):
    """The build did not produce an image; the text says why (one line)."""


def parse_pillar(items: list[str]) -> dict[str, Any]:
    """``a:b=1`` ``a:c=x`` -> ``{"a": {"b": 1, "c": "x"}}``."""
    out: dict[str, Any] = {}
    for item in items:
        key, sep, text = item.partition("=")
        parts = key.split(":")
        if not sep or not all(p.strip() for p in parts):
            raise ValueError(f"bad --pillar {item!r}: use KEY=VALUE (nested keys with ':')")
        node = out
        for part in parts[:-1]:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                raise ValueError(f"--pillar {item!r}: {part!r} is already a value")
            node = child
        if isinstance(node.get(parts[-1]), dict):
            raise ValueError(f"--pillar {item!r}: {key!r} already has nested keys")
        node[parts[-1]] = typed(text)
    return out


def pillar_keys(pillar: dict[str, Any], prefix: str = "") -> list[str]:
    """The leaf keys of `pillar`, ``a:b`` style, sorted."""
    keys: list[str] = []
    for key, value in pillar.items():
        path = f"{prefix}{key}"
        keys += pillar_keys(value, f"{path}:") if isinstance(value, dict) and value else [path]
    return sorted(keys)


def formula_hash(roots: list[str]) -> str:
    """sha256 over every file under the environment's roots: paths (sorted) and contents."""
    digest = hashlib.sha256()
    for index, root in enumerate(roots):
        base = Path(root)
        files: list[str] = []
        for dirpath, dirnames, filenames in os.walk(base):
            dirnames.sort()
            files += [os.path.relpath(os.path.join(dirpath, f), base) for f in filenames]
        for rel in sorted(files):
            data = Path(base, rel).read_bytes()
            digest.update(f"{index}:{rel}\0{len(data)}\0".encode())
            digest.update(data)
    return "sha256:" + digest.hexdigest()


def check_formula(roots: list[str], saltenv: str, mod: str) -> None:
    """Refuse, before any container starts, a formula the master cannot serve."""
    base = mod.replace(".", "/")
    wanted = (f"{base}.sls", f"{base}/init.sls")
    if not any(Path(root, rel).is_file() for root in roots for rel in wanted):
        raise ValueError(
            f"no formula {mod!r} in the master's file_roots ({saltenv}: {', '.join(roots)}): "
            f"neither {wanted[0]} nor {wanted[1]}; point file_roots at your formulas "
            f"(the repository's examples are in its formulas/ directory)")


def minion_config(minion_id: str, opts: dict[str, Any], token: str | None) -> str:
    conf: dict[str, Any] = {"id": minion_id, "master": "salt",
                            "master_port": int(opts["ret_port"]),
                            "acceptance_wait_time": 2}
    if token:
        conf["join_token"] = token
    return yaml.safe_dump(conf, sort_keys=False)


def say(text: str) -> None:
    print(f"image build: {text}", file=sys.stderr, flush=True)


class Progress(Follow):
    """Follow's streaming of returns, with an elapsed-time line on a terminal."""

    label = "applying"
    started = 0.0

    def _show_progress(self) -> None:
        if self.progress:
            elapsed = time.monotonic() - self.started
            sys.stderr.write(f"\r{self.label}: {elapsed:.0f} s")
            sys.stderr.flush()


def main(args: argparse.Namespace, opts: dict[str, Any]) -> int:
    try:
        plan = Plan(args, opts)
    except ValueError as exc:
        print(f"master: error: image build: {exc}", file=sys.stderr)
        return 2
    try:
        return plan.run()
    except (dock.DockerUnavailable, dock.BuildError, BuildFailed, MasterUnavailable) as exc:
        print(f"master: error: image build: {exc}", file=sys.stderr)
        return 1
    except CommandFailed as exc:
        print(f"master: error: image build: the master refused: {exc}", file=sys.stderr)
        return 1


class Plan:
    """One `master image build` run."""

    def __init__(self, args: argparse.Namespace, opts: dict[str, Any]) -> None:
        self.args = args
        self.opts = opts
        self.mods = [m.strip() for m in args.apply.split(",") if m.strip()]
        if not self.mods:
            raise ValueError("--apply names no formula")
        self.pillar = parse_pillar(args.pillar)
        self.repo, self.tag = dock.split_tag(args.tag)
        self.cmd = dock.exec_form(args.cmd) if args.cmd is not None else None
        self.entrypoint = dock.exec_form(args.entrypoint) if args.entrypoint is not None \
            else None
        self.expose = [dock.expose_port(p) for p in args.expose]
        roots = opts["file_roots"].get(args.saltenv)
        if not roots:
            raise ValueError(f"no environment {args.saltenv!r} in the master's file_roots")
        self.roots = list(roots)
        for mod in self.mods:
            check_formula(self.roots, args.saltenv, mod)
        self.minion_id = f"build-{secrets.token_hex(4)}"
        self.name = f"saline-{self.minion_id}"

    # -- checks -----------------------------------------------------------------
    def _master_address(self, client: Any) -> str:
        """The bridge gateway, after checking the master listens there."""
        gateway = dock.bridge_gateway(client)
        interface = str(self.opts["interface"])
        conf = self.opts.get("conf_file", "the master config")
        if interface not in ANY_ADDRESS and interface != gateway:
            raise BuildFailed(
                f"the master listens on {interface}, which containers cannot reach; they reach "
                f"this host at the Docker bridge gateway {gateway}: set `interface: {gateway}` "
                f"(or 0.0.0.0) in {conf} and restart the master")
        port = int(self.opts["ret_port"])
        if not dock.can_connect(gateway, port):
            raise BuildFailed(
                f"nothing answers on {gateway}:{port}, where the containers will look for "
                f"the master (interface: {interface} in {conf}); restart the master after "
                f"changing it, and check that no firewall blocks the bridge")
        return gateway

    # -- the run ----------------------------------------------------------------
    def run(self) -> int:
        local = LocalClient(self.opts)
        try:
            local.call("status")
            client = dock.connect()
            gateway = self._master_address(client)
            fhash = formula_hash(self.roots)
            base = dock.get_image(client, self.args.base)
            return self._build(client, local, gateway, base, fhash)
        finally:
            local.close()

    def _build(self, client: Any, local: LocalClient, gateway: str, base: Any,
               fhash: str) -> int:
        pki = Path(self.opts["pki_dir"])
        tokens = TokenStore(pki)
        master_fp = KeyPair.load_or_create(pki, "master").public.fingerprint()
        token = tokens.create(master_fp, TOKEN_TTL, 1, self.minion_id)
        box: dock.BuildContainer | None = None
        keep = True
        try:
            say(f"container {self.name} from {self.args.base}, minion {self.minion_id}, "
                f"master at salt={gateway}")
            box = dock.BuildContainer(client, self.args.base, self.name, gateway)
            box.write_config(minion_config(self.minion_id, self.opts, token))
            box.start()
            self._wait_connected(local, box)
            ret = self._apply(local)
            failures = failed_states(ret)
            if failures:
                self._report_failure(failures)
                return 1
            box.stop_minion()
            if self.args.test:
                say("test run: no state failed; nothing committed")
                keep = False
                box.remove()
                return 0
            self._commit(box, base, fhash)
            keep = False
            box.remove()
            return 0
        except (BuildFailed, dock.BuildError) as exc:
            print(f"master: error: image build: {exc}", file=sys.stderr)
            return 1
        except KeyboardInterrupt:
            say("interrupted")
            return 130
        finally:
            tokens.revoke(token.split(".", 1)[0])
            if box is not None and keep:
                with contextlib.suppress(dock.BuildError):
                    box.stop_minion()
                say(f"container {self.name} kept for inspection: docker exec -it {self.name} sh "
                    f"(remove it with: docker rm -f {self.name})")
            if KeyStore(pki).delete(self.minion_id):
                try_notify(self.opts, "keys_changed", accepted=[], removed=[self.minion_id])

    def _wait_connected(self, local: LocalClient, box: dock.BuildContainer) -> None:
        store = KeyStore(Path(self.opts["pki_dir"]))
        started = time.monotonic()
        deadline = started + CONNECT_TIMEOUT
        checked = started
        while self.minion_id not in local.call("status")["connected"]:
            now = time.monotonic()
            if now > deadline:
                raise BuildFailed(f"minion {self.minion_id} did not connect within "
                                  f"{CONNECT_TIMEOUT:g} s; its output:\n{box.logs()}")
            if now - checked > 1.0:
                checked = now
                logs = box.logs(5) if box.running() else None
                if logs is None or "saline build: minion exited" in logs:
                    raise BuildFailed(f"the minion in {self.name} stopped:\n{box.logs()}")
                if now - started > PENDING_GRACE and store.state_of(self.minion_id) == "pending":
                    raise BuildFailed(
                        f"the key of {self.minion_id} stays pending: the master did not take "
                        f"the build's join token (a saline without join tokens in the image? "
                        f"see the master's log); the minion's output:\n{box.logs()}")
            time.sleep(0.1)
        # The job channel is up once a ping comes back (a minion that has just
        # authenticated may not have its subscription at the master yet).
        for _ in range(10):
            if self._ping(local):
                say(f"minion {self.minion_id} connected in {time.monotonic() - started:.1f} s")
                return
        raise BuildFailed(f"minion {self.minion_id} is connected but does not answer test.ping")

    def _ping(self, local: LocalClient) -> bool:
        job = local.call("publish", tgt=self.minion_id, tgt_type="list", fun="test.ping",
                         arg=[], kwarg={}, user="image build")
        if not job["jid"]:
            return False
        cursor, deadline = 0, time.monotonic() + 2.0
        while time.monotonic() < deadline:
            state = local.call("job_wait", timeout=15, jid=job["jid"], cursor=cursor, wait=0.5)
            if not state.get("known"):
                return False
            cursor = state["cursor"]
            if any(e["minion"] == self.minion_id and e["return"] is True
                   for e in state["events"]):
                return True
        return False

    def _apply(self, local: LocalClient) -> Any:
        kwarg: dict[str, Any] = {"saltenv": self.args.saltenv}
        if self.args.test:
            kwarg["test"] = True
        if self.pillar:
            kwarg["pillar"] = self.pillar
        mods = ",".join(self.mods)
        say(f"state.apply {mods}" + (" test=True" if self.args.test else "")
            + f" saltenv={self.args.saltenv}")
        job = local.call("publish", tgt=self.minion_id, tgt_type="list", fun="state.apply",
                         arg=[mods], kwarg=kwarg, user="image build")
        if not job["jid"]:
            raise BuildFailed(f"minion {self.minion_id} is no longer known to the master")
        follow = Progress(local, job, self.args.timeout, "highstate", False,
                          (self.args.state_output, self.args.state_verbose))
        follow.label = f"applying {mods} on {self.minion_id}"
        follow.started = time.monotonic()
        follow.run()
        event = follow.returns.get(self.minion_id)
        if event is None:
            raise BuildFailed(f"no result from {self.minion_id} within {self.args.timeout:g} s "
                              f"(-t to wait longer)")
        if not event.get("success") and not failed_states(event["return"]):
            return {"error": event["return"]}
        return event["return"]

    def _report_failure(self, failures: list[str]) -> None:
        print(f"image build failed; {len(failures)} failed state(s) or error(s):", file=sys.stderr)
        for line in failures:
            print(f"  {line}", file=sys.stderr)

    def _commit(self, box: dock.BuildContainer, base: Any, fhash: str) -> None:
        if self.args.keep_minion:
            box.write_config(minion_config(self.minion_id, self.opts, None))
        else:
            box.remove_minion_state()
        box.stop()
        labels = {"org.saline.formulas": ",".join(self.mods),
                  "org.saline.pillar-keys": ",".join(pillar_keys(self.pillar)),
                  "org.saline.formula-hash": fhash,
                  "org.saline.saltenv": self.args.saltenv}
        if self.cmd is not None and self.entrypoint is None and \
                (base.attrs.get("Config") or {}).get("Entrypoint"):
            say(f"note: --cmd without --entrypoint keeps the base image's ENTRYPOINT "
                f"{base.attrs['Config']['Entrypoint']}; pass --entrypoint '' to drop it")
        changes = dock.commit_changes(base.attrs.get("Config") or {}, self.entrypoint, self.cmd,
                                      self.expose, labels)
        image = box.commit(self.repo, self.tag, changes,
                           f"saline image build: state.apply {','.join(self.mods)}")
        print(f"image: {image.id}")
        print(f"tag: {self.repo}:{self.tag}")


def failed_states(ret: Any) -> list[str]:
    """One line per failed state (or error) of a state.apply return; [] if all went well."""
    if isinstance(ret, list):
        return [f"compile error: {err}" for err in ret] or ["compile error"]
    if not isinstance(ret, dict):
        return [f"error: {ret}"]
    if set(ret) == {"error"}:
        return [f"error: {ret['error']}"]
    states = {tag: r for tag, r in ret.items() if isinstance(r, dict) and "result" in r}
    if not states:
        return [f"error: {ret}"] if ret else []
    out = []
    for tag, state in sorted(states.items(), key=lambda kv: kv[1].get("__run_num__", 0)):
        if state.get("result") is False:
            parts = tag.split("_|-")
            what = f"{parts[1]} ({parts[0]}.{parts[3]})" if len(parts) == 4 else tag
            comment = str(state.get("comment", "")).strip().splitlines()
            out.append(f"{what}: {comment[0] if comment else 'failed'}")
    return out
