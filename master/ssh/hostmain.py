"""What runs on the host inside the zipapp: one function, like `minion call` with a master.

Never imported by the master: the builder copies this file into the zipapp,
where it runs as ``saline_ssh_host`` with the host's own python3. It talks
frames (``saline_ssh_wire``, the master's master/ssh/wire.py) on the stdin
and stdout the SSH command was given. The master's request comes first::

    {"id", "fun", "arg", "kwarg", "jid", "minion_opts", "pillar": bool,
     "grains_max_age": seconds}

then this side computes the host's grains (or reuses an earlier run's
younger than grains_max_age), asks for its pillar when the
master has any (``{"kind": "pillar", "grains"}``: compiled on the master
with these grains), and runs the function. salt:// files are asked for
as the run needs them, with the minion's own file client and the master
file server's requests (file_envs, file_list, file_stat, file_read), so
only those files travel and the master checks every path as its file
server does. The last frame is ``{"kind": "done", "result", "grains"}``.

The minion's modules are reached through importlib because the master
package never imports the minion package; here, inside the zipapp, they
are plain neighbours.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

if TYPE_CHECKING:
    from master.ssh import wire
else:  # the zipapp ships master/ssh/wire.py under this name
    import saline_ssh_wire as wire

# Beside this file: in the zipapp's own directory on the host, so it goes with it.
GRAINS_CACHE = Path(__file__).resolve().parent / ".grains"


class Link:
    """The frame channel to the master: the RemoteFileClient's `Channel`."""

    def __init__(self, reader: BinaryIO, writer: BinaryIO) -> None:
        self.reader, self.writer = reader, writer

    def send(self, message: dict[str, Any]) -> None:
        self.writer.write(wire.pack(message))
        self.writer.flush()

    def receive(self) -> dict[str, Any]:
        message = wire.read_frame(self.reader)
        if message is None:
            raise EOFError("the master closed the channel")
        return message

    def request(self, body: dict[str, Any], timeout: float = 30.0) -> dict[str, Any]:
        """Ask the master (file server, pillar); FileServerError when it refuses."""
        self.send(body)
        reply = self.receive()
        if not reply.get("ok"):
            errors = importlib.import_module("common.fileroots")
            raise errors.FileServerError(str(reply.get("error") or "refused by the master"))
        return reply


def main() -> int:
    """Serve one request from the master; exit 0 unless the channel broke."""
    link = _private_link()
    try:
        request = link.receive()
    except (EOFError, wire.FrameError) as exc:
        sys.stderr.write(f"saline-ssh: bad request: {exc}\n")
        return 2
    root = Path(tempfile.mkdtemp(prefix="saline-ssh-"))
    try:
        answer = run(request, root, link)
    except (EOFError, wire.FrameError, OSError) as exc:
        sys.stderr.write(f"saline-ssh: lost the master: {exc}\n")
        return 2
    finally:
        shutil.rmtree(root, ignore_errors=True)
    link.send({"kind": "done", **answer})
    return 0


def _private_link() -> Link:
    """Frames on private copies of stdin/stdout; fd 0 becomes /dev/null and fd 1 stderr,
    so a command the run starts can neither eat the master's frames nor garble ours."""
    reader = os.fdopen(os.dup(0), "rb")
    writer = os.fdopen(os.dup(1), "wb")
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    os.dup2(2, 1)
    return Link(reader, writer)


def run(request: dict[str, Any], root: Path, link: Link) -> dict[str, Any]:
    """Build a minion in `root` whose files and pillar come from the master; run the function."""
    config = importlib.import_module("common.config")
    overrides = {**(request.get("minion_opts") or {}), "id": request["id"],
                 "root_dir": str(root), "file_client": "remote",
                 "log_file": str(root / "minion.log")}
    opts = config.load("minion", root, overrides=overrides, missing_ok=True)
    ctx = _context(opts, root, float(request.get("grains_max_age") or 0),
                   request.get("minion_opts") or {})
    ctx.files = importlib.import_module("minion.fileclient").RemoteFileClient(
        link, str(root / "cache"))
    if request.get("pillar"):
        ctx.pillar = link.request({"kind": "pillar", "grains": ctx.grains}).get("pillar") or {}
    execute = importlib.import_module("minion.executor").execute
    job = ctx.for_job(request.get("jid"))
    result = execute(job, request["fun"], request.get("arg") or [], request.get("kwarg") or {})
    return {"result": result, "grains": ctx.grains}


def _context(opts: dict[str, Any], root: Path, grains_max_age: float,
             minion_opts: dict[str, Any]) -> Any:
    """Grains and functions of this host, as `minion call` builds them."""
    grains = _grains(opts, root, grains_max_age, minion_opts)
    registry = importlib.import_module("minion.loader").Registry.load(opts, grains)
    return importlib.import_module("minion.context").Context(opts, grains, {}, registry)


def _grains(opts: dict[str, Any], root: Path, max_age: float,
            minion_opts: dict[str, Any]) -> dict[str, Any]:
    """This host's grains: those computed by an earlier run of this zipapp with the same
    id, options and user when younger than `max_age` seconds, else computed now.

    Computing them (and importing their modules) is about a third of a warm
    test.ping's time on the host; a minion daemon computes them once at start.
    """
    key = hashlib.sha256(json.dumps([opts["id"], minion_opts, os.geteuid()], sort_keys=True,
                                    default=str).encode()).hexdigest()[:24]
    path = GRAINS_CACHE / f"{key}.json"
    if max_age > 0:
        try:
            if time.time() - path.stat().st_mtime < max_age:
                cached = json.loads(path.read_text(encoding="utf-8"))
                if isinstance(cached, dict):
                    return cached
        except (OSError, ValueError):
            pass  # none yet, or unreadable: compute
    grains: dict[str, Any] = importlib.import_module("minion.grains.core").compute_grains(
        opts, str(root))
    with contextlib.suppress(OSError):  # a full or read-only home: no cache, the run goes on
        _write_private(path, json.dumps(grains, default=str).encode())
    return grains


def _write_private(path: Path, data: bytes) -> None:
    """Write `path` whole or not at all, 0600 in a 0700 directory."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".grains.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise
