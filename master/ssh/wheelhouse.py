"""The wheels `master bootstrap` carries to a host: saline's and its dependencies'.

Nothing is fetched on the host. The master makes the wheels from what it has:

- saline: `pip wheel --no-deps` of its source tree when it is installed from
  one (editable), else the installed distribution packed back into a wheel;
- each dependency (pyzmq, pynacl, msgpack, jinja2, pyyaml, psutil and what
  they need): the master's installed distribution packed back into a wheel,
  so the host gets the same versions for the same Python and machine, or a
  wheel from `--wheelhouse DIR` (e.g. docker/build-wheelhouse.sh's, built
  for another Python) which wins over the installed one.

Everything is cached under `<cachedir>/bootstrap/`, named by content, so a
second run builds nothing.
"""

from __future__ import annotations

import base64
import csv
import dataclasses
import hashlib
import importlib
import importlib.metadata as md
import io
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path
from typing import Any


def _packaging(module: str) -> Any:
    """A module of `packaging`, else of pip's own copy (the master has pip)."""
    try:
        return importlib.import_module(f"packaging.{module}")
    except ImportError:
        return importlib.import_module(f"pip._vendor.packaging.{module}")


Requirement = _packaging("requirements").Requirement
canonicalize_name = _packaging("utils").canonicalize_name

SOURCE_DIRS = ("common", "master", "minion")
SOURCE_FILES = ("pyproject.toml", "README.md")
FIXED_TIME = (1980, 1, 1, 0, 0, 0)  # zip entries dated like reproducible wheels
PIP_TIMEOUT = 300


class WheelError(Exception):
    """The wheels cannot be made; the message says what to do."""


@dataclasses.dataclass(frozen=True)
class Wheelhouse:
    """The wheels for a host, as one tar (what is sent) and its digest (what is compared)."""

    wheels: tuple[Path, ...]
    digest: str

    @property
    def size(self) -> int:
        return sum(w.stat().st_size for w in self.wheels)

    def tar(self) -> bytes:
        """The wheels as one uncompressed tar (they are zips already)."""
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
            for wheel in self.wheels:
                info = tarfile.TarInfo(wheel.name)
                info.size, info.mode, info.mtime = wheel.stat().st_size, 0o644, 0
                with wheel.open("rb") as f:
                    tar.addfile(info, f)
        return buf.getvalue()


def build(cachedir: Path, extra: Path | None = None) -> Wheelhouse:
    """Saline's wheel and its dependencies' wheels, cached under `cachedir`/bootstrap."""
    base = Path(cachedir) / "bootstrap"
    base.mkdir(parents=True, exist_ok=True, mode=0o700)
    given = _given_wheels(extra) if extra else {}
    wheels = [given.get("saline") or saline_wheel(base)]
    for name in sorted(dependencies("saline")):
        wheels.append(given.get(name) or repack(md.distribution(name), base / "deps"))
    digest = hashlib.sha256()
    for wheel in sorted(wheels, key=lambda p: p.name):
        digest.update(wheel.name.encode() + b"\0" + _file_sha256(wheel).encode() + b"\n")
    return Wheelhouse(tuple(wheels), digest.hexdigest())


def dependencies(name: str) -> set[str]:
    """Canonical names of what `name` needs to run here, recursively (no extras)."""
    seen: set[str] = set()
    todo = [name]
    while todo:
        for text in md.distribution(todo.pop()).requires or []:
            req = Requirement(text)
            if req.marker is not None and not _applies(req.marker):
                continue
            dep = canonicalize_name(req.name)
            if dep not in seen:
                seen.add(dep)
                todo.append(dep)
    return seen


def _applies(marker: Any) -> bool:
    return bool(marker.evaluate({"extra": ""}))


def _given_wheels(folder: Path) -> dict[str, Path]:
    """Wheels in `folder` (and its deps/ as build-wheelhouse.sh writes it) by project name."""
    if not folder.is_dir():
        raise WheelError(f"--wheelhouse {folder}: not a directory")
    found: dict[str, Path] = {}
    for wheel in sorted([*folder.glob("*.whl"), *folder.glob("deps/*.whl")]):
        found[canonicalize_name(wheel.name.split("-", 1)[0])] = wheel
    return found


def saline_wheel(base: Path) -> Path:
    """saline's own wheel, built once per content of its sources."""
    source = source_tree()
    if source is None:  # installed from a wheel: pack the installed files again
        return repack(md.distribution("saline"), base / "saline")
    key = _tree_digest(source)[:16]
    base.mkdir(parents=True, exist_ok=True, mode=0o700)
    folder = base / f"saline-{key}"
    built = sorted(folder.glob("saline-*.whl")) if folder.is_dir() else []
    if built:
        return built[0]
    with tempfile.TemporaryDirectory(prefix="saline-wheel-") as tmp:
        copy = Path(tmp, "src")
        for name in SOURCE_DIRS:
            shutil.copytree(source / name, copy / name,
                            ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        for name in SOURCE_FILES:
            if (source / name).is_file():
                shutil.copy2(source / name, copy / name)
        dist = Path(tmp, "dist")
        _pip_wheel(copy, dist)
        staged = Path(tmp, "out")
        staged.mkdir()
        wheel = next(dist.glob("saline-*.whl"))
        shutil.copy2(wheel, staged / wheel.name)
        shutil.move(staged, base / f".saline-{key}.{os.getpid()}")
    try:  # one step: a folder is there whole or not at all
        os.replace(base / f".saline-{key}.{os.getpid()}", folder)
    except OSError:  # another bootstrap put it there meanwhile
        shutil.rmtree(base / f".saline-{key}.{os.getpid()}", ignore_errors=True)
    return next(folder.glob("saline-*.whl"))


def source_tree() -> Path | None:
    """The source checkout saline runs from (an editable install), or None."""
    root = Path(__file__).resolve().parents[2]
    if (root / "pyproject.toml").is_file() and all((root / d).is_dir() for d in SOURCE_DIRS):
        return root
    return None


def _pip_wheel(source: Path, dist: Path) -> None:
    """`pip wheel --no-deps`: offline with the local setuptools, else with build isolation."""
    env = {**os.environ, "SOURCE_DATE_EPOCH": "315532800", "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    base = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(dist),
            str(source)]
    errors = []
    for extra in (["--no-build-isolation", "--no-index"], []):
        proc = subprocess.run([*base, *extra], capture_output=True, text=True, env=env,
                              timeout=PIP_TIMEOUT, check=False)
        if proc.returncode == 0 and any(dist.glob("saline-*.whl")):
            return
        errors.append(_last_error(proc.stderr))
    raise WheelError(f"cannot build saline's wheel with pip wheel ({errors[-1]}); "
                     "with no index reachable, install setuptools>=70 here, or give "
                     "--wheelhouse DIR holding a saline wheel")


def _last_error(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if "error" in line.lower()]
    return lines[-1] if lines else (text.strip().splitlines() or ["no output"])[-1]


def _tree_digest(source: Path) -> str:
    digest = hashlib.sha256()
    files = [source / n for n in SOURCE_FILES if (source / n).is_file()]
    for name in SOURCE_DIRS:
        files += sorted(p for p in (source / name).rglob("*.py") if "__pycache__" not in p.parts)
    for path in files:
        digest.update(str(path.relative_to(source)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def repack(dist: md.Distribution, folder: Path) -> Path:
    """Pack an installed distribution back into a wheel (its files as RECORD lists them).

    Console scripts come back from entry_points.txt when pip installs it;
    files installed outside site-packages (data, other scripts) are left out.
    """
    name, version = _wheel_name(dist.metadata["Name"]), dist.version
    tags = _tags(dist)
    out = folder / f"{name}-{version}-{tags}.whl"
    if out.exists():
        return out
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    info = f"{name}-{version}.dist-info"
    records: list[tuple[str, str, str]] = []
    tmp = out.with_name(f".{out.name}.{os.getpid()}")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zf:
        for rel, data in _installed_files(dist, info):
            entry = zipfile.ZipInfo(rel, FIXED_TIME)
            entry.external_attr = (0o755 if rel.endswith(".so") else 0o644) << 16
            entry.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(entry, data)
            hashed = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
            records.append((rel, f"sha256={hashed.decode()}", str(len(data))))
        text = io.StringIO()
        csv.writer(text, lineterminator="\n").writerows([*records, (f"{info}/RECORD", "", "")])
        zf.writestr(zipfile.ZipInfo(f"{info}/RECORD", FIXED_TIME), text.getvalue())
    os.replace(tmp, out)
    return out


def _installed_files(dist: md.Distribution, info: str) -> list[tuple[str, bytes]]:
    """(path in the wheel, bytes) of each installed file worth carrying."""
    out = []
    skip = {"RECORD", "INSTALLER", "REQUESTED", "direct_url.json"}
    for item in dist.files or []:
        rel = str(item)
        parts = Path(rel).parts
        if rel.startswith("..") or "__pycache__" in parts or rel.endswith(".pyc"):
            continue
        if parts[0].endswith(".dist-info"):
            if parts[-1] in skip:
                continue
            rel = "/".join((info, *parts[1:]))
        path = Path(str(dist.locate_file(item)))
        if path.is_file():
            out.append((rel, path.read_bytes()))
    if not any(rel == f"{info}/WHEEL" for rel, _ in out):
        raise WheelError(f"{dist.metadata['Name']}: installed without a WHEEL file; "
                         "give --wheelhouse DIR holding its wheel")
    return out


def _wheel_name(name: str) -> str:
    return re.sub(r"[-_.]+", "_", name).lower()


def _tags(dist: md.Distribution) -> str:
    """The compressed tag set of the wheel's file name, from its WHEEL file."""
    text = dist.read_text("WHEEL") or ""
    tags = [line.split(":", 1)[1].strip() for line in text.splitlines()
            if line.startswith("Tag:")]
    if not tags:
        raise WheelError(f"{dist.metadata['Name']}: its WHEEL file names no tag; give "
                         "--wheelhouse DIR holding its wheel")
    parts = [t.split("-") for t in tags]
    pys, abis, plats = (sorted({p[i] for p in parts}) for i in range(3))
    return f"{'.'.join(pys)}-{'.'.join(abis)}-{'.'.join(plats)}"


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
