"""What runs on the host inside the zipapp: one function, like `minion call --local`.

Never imported by the master: the builder copies this file into the zipapp,
where it runs as ``saline_ssh_host`` with the host's own python3. It reads
one JSON request on stdin::

    {"id", "fun", "arg", "kwarg", "jid", "minion_opts", "pillar", "files"}

where ``files`` maps salt:// paths to their text (only what the run needs),
and writes one JSON answer on stdout: ``{"result": <executor's dict>,
"grains": {...}}``. The minion's modules are reached through importlib
because the master package never imports the minion package; here, inside
the zipapp, they are plain neighbours.
"""

from __future__ import annotations

import base64
import importlib
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any


def main() -> int:
    """Run the request on stdin; print the answer on stdout; exit 0 unless it could not run."""
    try:
        request = json.loads(sys.stdin.buffer.read().decode("utf-8"))
    except ValueError as exc:
        sys.stderr.write(f"saline-ssh: bad request on stdin: {exc}\n")
        return 2
    root = Path(tempfile.mkdtemp(prefix="saline-ssh-"))
    try:
        answer = run(request, root)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    sys.stdout.write(json.dumps(answer, default=_plain, separators=(",", ":")))
    sys.stdout.flush()
    return 0


def run(request: dict[str, Any], root: Path) -> dict[str, Any]:
    """Build a masterless minion in `root` from the request and run its function."""
    config = importlib.import_module("common.config")
    fileroots = root / "files"
    _write_files(fileroots, request.get("files") or {})
    overrides = {**(request.get("minion_opts") or {}), "id": request["id"],
                 "root_dir": str(root), "file_client": "local",
                 "file_roots": {"base": [str(fileroots)]}, "pillar_roots": {"base": []},
                 "log_file": str(root / "minion.log")}
    opts = config.load("minion", root, overrides=overrides, missing_ok=True)
    ctx = _context(opts, root)
    ctx.files = importlib.import_module("minion.fileclient").LocalFileClient(opts["file_roots"])
    ctx.pillar = request.get("pillar") or {}
    execute = importlib.import_module("minion.executor").execute
    job = ctx.for_job(request.get("jid"))
    result = execute(job, request["fun"], request.get("arg") or [], request.get("kwarg") or {})
    return {"result": result, "grains": ctx.grains}


def _context(opts: dict[str, Any], root: Path) -> Any:
    """Grains and functions of this host, as `minion call` builds them."""
    grains = importlib.import_module("minion.grains.core").compute_grains(opts, str(root))
    registry = importlib.import_module("minion.loader").Registry.load(opts, grains)
    return importlib.import_module("minion.context").Context(opts, grains, {}, registry)


def _write_files(base: Path, files: dict[str, str]) -> None:
    """Lay out the salt:// files the master sent (base64), refusing paths that leave `base`."""
    base.mkdir(mode=0o700)
    for rel, data in files.items():
        path = (base / rel).resolve()
        if base.resolve() not in path.parents:
            raise ValueError(f"file path leaves the file root: {rel!r}")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(data))
        os.chmod(path, 0o600)


def _plain(value: Any) -> Any:
    """JSON for what JSON cannot say itself: bytes as text, anything else by str()."""
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)
