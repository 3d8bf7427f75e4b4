"""The zipapp `master ssh` sends to a host: saline's minion side in one file.

It holds what `minion call --local` needs to run one function (minion/ and
common/ without the daemon, the zmq transport and the nacl crypto), this
package's host entry, and pure-Python copies of PyYAML, Jinja2,
MarkupSafe and msgpack taken from the master's own install (their C
speed-ups left out), so the host needs nothing but python3. A nacl-free
stand-in takes common/crypto.py's place (see crypto_standin), and a small
psutil fallback serves hosts without psutil. Built deterministically
(sorted names, fixed times and modes): the same sources give the same
bytes, so the content hash names it and a host re-receives it only when
saline changed. The host keeps it unpacked
(see `remote`); python3 runs the directory as it would run the zip.

Building costs ~0.3 s, so `cached` keeps the built file under the master's
cachedir, named by a stamp of its sources (path, size, mtime of each) and
by its own hash, and builds again only when a source changed.
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib.util
import io
import os
import zipfile
from collections.abc import Iterable, Iterator
from pathlib import Path

from common.atomic import write_atomic

# The oldest python3 the minion side runs on: it uses `isinstance(x, A | B)`
# and `zip(strict=True)` (3.10) and tomllib (3.11, only for the toml serializer).
MIN_PYTHON = (3, 10)
ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
PACKAGES = ("common", "minion")
# Only the daemon (sockets, keys, pid files, the command line) uses these.
DAEMON_ONLY = frozenset({
    "common/transport", "common/crypto.py", "common/codec.py", "common/protocol.py",
    "common/fields.py", "common/daemon.py", "common/pidfile.py", "common/clihelp.py",
    "common/completion.py", "common/privileges.py", "common/ratelog.py",
    "minion/__main__.py", "minion/agent.py", "minion/fleet.py", "minion/auth.py",
    "minion/channel.py",
    "minion/jobs.py", "minion/session.py", "minion/masterkey.py", "minion/statusfile.py",
    "minion/lifecycle.py", "minion/replay.py", "minion/oneshot.py", "minion/complete.py",
    "minion/cli.py", "minion/services.py",
})
VENDORED = ("yaml", "jinja2", "markupsafe", "msgpack")
FIXED_TIME = (1980, 1, 1, 0, 0, 0)
# Runs first on the host, so it must parse on any python3 (and python2) to say
# in one line that the host's python is too old.
BOOTSTRAP = """\
import sys
if sys.version_info < {min_python}:
    sys.stderr.write("saline-ssh: the host's python3 is %d.%d; saline needs Python {shown} "
                     "or later\\n" % tuple(sys.version_info[:2]))
    sys.exit(3)
sys.path.append(sys.path[0] + "/_fallback")
import saline_ssh_host
sys.exit(saline_ssh_host.main())
"""


# common/config.py imports PyYAML at the top, for reading config files; a host
# run never reads one (its options come in the request), and importing PyYAML
# is ~15% of a warm test.ping on the host. The zipapp's copy gets a stand-in
# that imports PyYAML on first use instead (same behaviour, later cost).
LAZY_YAML = """\
class _LazyYaml:
    \"\"\"PyYAML, imported on first use (a run on an SSH host reads no config file).\"\"\"

    def __getattr__(self, name):
        import yaml as real

        return getattr(real, name)


yaml = _LazyYaml()
"""


@dataclasses.dataclass(frozen=True)
class Zipapp:
    """A built zipapp: its bytes and the hash that names it on the host."""

    data: bytes
    digest: str  # sha256 of data, hex

    @property
    def name(self) -> str:
        """The short hash the host's cache directory is named by."""
        return self.digest[:16]


def build(root: Path = ROOT) -> Zipapp:
    """Pack the minion side, the host entry and the vendored libraries."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        for arcname, data in sorted(members(root)):
            info = zipfile.ZipInfo(arcname, FIXED_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, data, compresslevel=9)
    data = buf.getvalue()
    return Zipapp(data, hashlib.sha256(data).hexdigest())


def cached(cachedir: Path, root: Path = ROOT) -> Zipapp:
    """The zipapp from `cachedir/ssh/` when its sources are unchanged, else built and kept."""
    folder = Path(cachedir) / "ssh"
    stamp = sources_stamp(root)
    for old in folder.glob(f"zipapp-{stamp}-*.pyz") if folder.is_dir() else ():
        data = old.read_bytes()
        digest = hashlib.sha256(data).hexdigest()
        if old.name == _file_name(stamp, digest):  # a damaged file is built again
            return Zipapp(data, digest)
    app = build(root)
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        for old in folder.glob("zipapp-*.pyz"):  # built from older sources
            old.unlink(missing_ok=True)
        write_atomic(folder / _file_name(stamp, app.digest), app.data, 0o600)
    except OSError:  # a cachedir we cannot write: build every time, as before
        pass
    return app


def _file_name(stamp: str, digest: str) -> str:
    return f"zipapp-{stamp}-{digest[:16]}.pyz"


def sources_stamp(root: Path = ROOT) -> str:
    """A short hash of every file the build reads (and the builder's own files): path,
    size and mtime, so an edit, a saline upgrade or a new vendored library changes it."""
    digest = hashlib.sha256(repr((MIN_PYTHON, str(root))).encode())
    bases = [HERE, *(root / pkg for pkg in PACKAGES), *(_package_dir(n) for n in VENDORED)]
    for base in bases:
        for path in sorted(_sources(base)):
            st = os.stat(path)
            digest.update(f"{path}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    return digest.hexdigest()[:16]


def members(root: Path = ROOT) -> Iterator[tuple[str, bytes]]:
    """(name in the zip, bytes) of every file the zipapp holds."""
    shown = ".".join(map(str, MIN_PYTHON))
    yield "__main__.py", BOOTSTRAP.format(min_python=MIN_PYTHON, shown=shown).encode()
    yield "saline_ssh_host.py", (HERE / "hostmain.py").read_bytes()
    yield "saline_ssh_wire.py", (HERE / "wire.py").read_bytes()
    yield "_fallback/psutil.py", (HERE / "psutil_fallback.py").read_bytes()
    yield "common/crypto.py", (HERE / "crypto_standin.py").read_bytes()
    for pkg in PACKAGES:
        for path in _sources(root / pkg):
            rel = path.relative_to(root).as_posix()
            if rel == "common/config.py":
                yield rel, _lazy_yaml(path.read_bytes())
            elif not _daemon_only(rel):
                yield rel, path.read_bytes()
    for name in VENDORED:
        base = _package_dir(name)
        for path in _sources(base):
            yield f"{name}/{path.relative_to(base).as_posix()}", path.read_bytes()


def _lazy_yaml(source: bytes) -> bytes:
    """config.py with its top-level `import yaml` made lazy (unchanged if there is none)."""
    return source.replace(b"\nimport yaml\n", b"\n" + LAZY_YAML.encode(), 1)


def _sources(base: Path) -> Iterable[Path]:
    return (p for p in base.rglob("*.py") if "__pycache__" not in p.parts)


def _daemon_only(rel: str) -> bool:
    return rel in DAEMON_ONLY or any(rel.startswith(d + "/") for d in DAEMON_ONLY)


def _package_dir(name: str) -> Path:
    spec = importlib.util.find_spec(name)
    if spec is None or spec.origin is None:
        raise RuntimeError(f"{name} is not installed on the master; the zipapp needs it")
    return Path(spec.origin).parent
