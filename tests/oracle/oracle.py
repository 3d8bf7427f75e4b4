"""Run one oracle case through Salt or saline and normalise the answer.

A case is a directory ``tests/oracle/cases/<area>/<case>/``: its files are
the minion's ``file_roots`` (``case.yaml``, ``expected.json`` and ``pillar/``
left out), ``pillar/`` is its ``pillar_roots``, and ``case.yaml`` says what to
call (see CONTRIBUTING.md, "Oracle cases"). Both implementations run
masterless in a fresh temp root laid out the same way::

    ROOT/srv      the case's files, with @ROOT@ replaced by ROOT
    ROOT/pillar   the case's pillar/
    ROOT/work     where formulas may write (also the ``tmp`` grain)
    ROOT/conf     the minion config dir
    ROOT/var      the implementation's root_dir (cache, pki, logs)

The answer of each call is its JSON return and exit code, plus a snapshot of
``ROOT/work`` afterwards, with the temp root, times, durations, pids and jids
replaced so that Salt's recorded answer and saline's compare as equal JSON.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import stat
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).resolve().parent
CASES = HERE / "cases"
PROJECT = HERE.parents[1]
SALT_CALL = os.environ.get("SALT_CALL", "/tmp/salt-venv/bin/salt-call")
TOKEN = "@ROOT@"
# Keys whose values change on every run; their presence still counts.
VOLATILE = {"start_time": "@TIME@", "duration": "@DURATION@", "pid": "@PID@", "jid": "@JID@",
            "_stamp": "@TIME@"}
SNAPSHOT_TEXT_LIMIT = 4096
CALL_TIMEOUT = 120


@dataclass
class Case:
    """One case directory and its parsed ``case.yaml``."""

    path: Path
    spec: dict[str, Any]

    @property
    def name(self) -> str:
        return self.path.relative_to(CASES).as_posix()

    @property
    def calls(self) -> list[list[str]]:
        return [[str(w) for w in call] for call in self.spec.get("calls", [])]

    @property
    def expected_file(self) -> Path:
        return self.path / "expected.json"


@dataclass
class Answer:
    """What one call returned, normalised."""

    ret: Any
    retcode: int
    files: dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {"ret": self.ret, "retcode": self.retcode, "files": self.files}


def load_cases(pattern: str = "*") -> list[Case]:
    """Every case whose ``<area>/<case>`` name matches the glob ``pattern``."""
    from fnmatch import fnmatch

    found = []
    for spec_file in sorted(CASES.glob("*/*/case.yaml")):
        case = Case(spec_file.parent, yaml.safe_load(spec_file.read_text()) or {})
        if fnmatch(case.name, pattern) or fnmatch(case.path.name, pattern):
            found.append(case)
    return found


def _subst(value: Any, root: str) -> Any:
    if isinstance(value, str):
        return value.replace(TOKEN, root)
    if isinstance(value, list):
        return [_subst(v, root) for v in value]
    if isinstance(value, dict):
        return {_subst(k, root): _subst(v, root) for k, v in value.items()}
    return value


def _copy_tree(src: Path, dst: Path, root: str, skip: set[str]) -> None:
    dst.mkdir(parents=True, exist_ok=True)
    for item in sorted(src.iterdir()):
        if item.name in skip:
            continue
        target = dst / item.name
        if item.is_symlink():
            target.symlink_to(os.readlink(item))
        elif item.is_dir():
            _copy_tree(item, target, root, set())
        else:
            data = item.read_bytes()
            if TOKEN.encode() in data:
                data = data.replace(TOKEN.encode(), root.encode())
            target.write_bytes(data)
            target.chmod(item.stat().st_mode & 0o777)


def prepare(case: Case, root: Path, impl: str) -> Path:
    """Lay out ``root`` for ``case`` and write the minion config; return the config dir."""
    text = str(root)
    _copy_tree(case.path, root / "srv", text, {"case.yaml", "expected.json", "pillar"})
    if (case.path / "pillar").is_dir():
        _copy_tree(case.path / "pillar", root / "pillar", text, set())
    else:
        (root / "pillar").mkdir()
    (root / "work").mkdir()
    conf = root / "conf"
    conf.mkdir()
    grains = {"tmp": f"{text}/work", **_subst(case.spec.get("grains") or {}, text)}
    opts: dict[str, Any] = {
        "id": "oracle",
        "file_client": "local",
        "root_dir": f"{text}/var",
        "file_roots": {"base": [f"{text}/srv"]},
        "pillar_roots": {"base": [f"{text}/pillar"]},
        "grains": grains,
        "log_level": "quiet" if impl == "salt" else "critical",
        **_subst(case.spec.get("minion_config") or {}, text),
    }
    if impl == "salt":
        opts["log_file"] = f"{text}/var/log/minion"
    (conf / "minion").write_text(yaml.safe_dump(opts, default_flow_style=False))
    for rel, body in (_subst(case.spec.get("setup_files") or {}, text)).items():
        path = root / "work" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(str(body))
    return conf


def command(impl: str, conf: Path, call: list[str], out: list[str]) -> list[str]:
    """The argv that runs ``call`` masterless with ``impl``, printed with ``out``."""
    if impl == "salt":
        return [SALT_CALL, "--local", "-c", str(conf), "--no-color", *out, *call]
    return [sys.executable, "-m", "minion", "-c", str(conf), "call", "--local", *call, *out]


def run_call(impl: str, conf: Path, call: list[str], root: Path,
             out: list[str] | None = None) -> Answer:
    """Run one call and normalise what it returned (its text, for an ``out`` other than json)."""
    env = {**os.environ, "NO_COLOR": "1", "PYTHONPATH": str(PROJECT)}
    env.pop("SALINE_CONFIG_DIR", None)
    argv = command(impl, conf, _subst(call, str(root)), out or ["--out", "json"])
    proc = subprocess.run(argv, capture_output=True, text=True, env=env, cwd=str(root),
                          timeout=CALL_TIMEOUT, check=False)
    files = snapshot(root / "work", str(root))
    if out:
        text = proc.stdout
        if out[1] == "json":
            # Key order inside a mapping is not data: compare the JSON sorted.
            with contextlib.suppress(ValueError):
                text = json.dumps(json.loads(text), indent=4, sort_keys=True) + "\n"
        return Answer(normalise_text(text, str(root)), proc.returncode, files)
    ret: Any
    try:
        data = json.loads(proc.stdout)
        ret = data["local"] if isinstance(data, dict) and set(data) == {"local"} else data
    except ValueError:
        # No JSON: the call failed before it could return; keep its first error line.
        lines = [ln.strip() for ln in proc.stderr.splitlines()]
        errors = [ln for ln in lines if ln and ln != "Usage:"]
        ret = {"__no_json__": True, "error": errors[0] if errors else ""}
    return Answer(normalise(ret, str(root)), proc.returncode, files)


def run_case(case: Case, impl: str, root: Path) -> list[Answer]:
    """Every call of ``case`` in one fresh root, in order."""
    conf = prepare(case, root, impl)
    out = None
    if case.spec.get("out"):
        out = ["--out", str(case.spec["out"]), *map(str, case.spec.get("out_options", []))]
    return [run_call(impl, conf, call, root, out) for call in case.calls]


TEXT_VOLATILE = [
    (re.compile(r"(Started: +)\d\d:\d\d:\d\d\.\d+"), r"\1@TIME@"),
    (re.compile(r"(Duration: +)[\d.]+ ms"), r"\1@DURATION@"),
    (re.compile(r"Total run time: +[\d.]+ m?s"), "Total run time: @DURATION@"),
    (re.compile(r"([\"']?start_time[\"']?:\s+[\"']?)\d\d:\d\d:\d\d\.\d+"), r"\1@TIME@"),
    (re.compile(r"([\"']?duration[\"']?:\s+)[\d.]+"), r"\1@DURATION@"),
    (re.compile(r"([\"']?pid[\"']?:\s+)\d+"), r"\1@PID@"),
]


def normalise_text(text: str, root: str) -> str:
    """An outputter's text with the temp root, times, durations and pids replaced."""
    text = _scrub(text, root)
    for pattern, repl in TEXT_VOLATILE:
        text = pattern.sub(repl, text)
    return text


def normalise(value: Any, root: str, key: str = "") -> Any:
    """Replace the temp root and volatile values so two runs compare equal."""
    if key in VOLATILE and value is not None:
        return VOLATILE[key]
    if isinstance(value, str):
        return _scrub(value, root)
    if isinstance(value, list):
        return [normalise(v, root) for v in value]
    if isinstance(value, dict):
        return {_scrub(str(k), root): normalise(v, root, str(k)) for k, v in value.items()}
    return value


def _scrub(text: str, root: str) -> str:
    text = text.replace(root, TOKEN)
    # Salt prints jids (20 digits) in a few comments.
    return re.sub(r"\b20\d{18}\b", "@JID@", text)


def snapshot(work: Path, root: str) -> dict[str, Any]:
    """Every path under ``work``: its kind, mode and (small, text) content."""
    out: dict[str, Any] = {}
    for path in sorted(_walk(work)):
        rel = path.relative_to(work).as_posix()
        st = path.lstat()
        mode = f"{stat.S_IMODE(st.st_mode):04o}"
        if stat.S_ISLNK(st.st_mode):
            out[rel] = {"link": _scrub(os.readlink(path), root)}
        elif stat.S_ISDIR(st.st_mode):
            out[rel] = {"dir": mode}
        else:
            data = path.read_bytes()
            entry: dict[str, Any] = {"mode": mode, "size": len(data)}
            if len(data) <= SNAPSHOT_TEXT_LIMIT:
                with contextlib.suppress(UnicodeDecodeError):
                    entry["text"] = _scrub(data.decode(), root)
            out[rel] = entry
    return out


def _walk(top: Path) -> Iterator[Path]:
    for dirpath, dirnames, filenames in os.walk(top):
        for name in dirnames + filenames:
            yield Path(dirpath, name)


def apply_differences(answers: list[dict[str, Any]], differences: list[dict[str, Any]]
                      ) -> list[dict[str, Any]]:
    """Blank every value a case lists as a kept difference (``path`` may use ``*``)."""
    out = json.loads(json.dumps(answers))
    for diff in differences:
        index, *rest = diff["path"]
        if index >= len(out):
            continue
        if rest and rest[0] in ("@retcode", "@files"):
            _blank(out[index], [rest[0][1:], *rest[1:]])
        else:
            _blank(out[index], ["ret", *rest])
    return out


def _blank(node: Any, path: list[Any]) -> None:
    if not path:
        return
    head, rest = path[0], path[1:]
    if isinstance(node, list) and isinstance(head, int) and head < len(node):
        targets = [head]
    elif isinstance(node, dict):
        targets = list(node) if head == "*" else [head] if head in node else []
    else:
        return
    for t in targets:
        if rest:
            _blank(node[t], rest)
        else:
            node[t] = "@KEPT_DIFFERENCE@"


@contextlib.contextmanager
def fresh_root() -> Iterator[Path]:
    """A new, empty temp root for one run, removed afterwards.

    Every root has a path of the same length, so that text wrapped by an
    outputter (YAML folds long lines) wraps at the same place for Salt and
    saline once the root is replaced by ``@ROOT@``.
    """
    root = Path(tempfile.mkdtemp(prefix="oracle-", dir="/tmp"))
    try:
        yield root
    finally:
        shutil.rmtree(root, ignore_errors=True)


def first_difference(want: Any, got: Any, where: str = "") -> str | None:
    """A one-line description of the first place ``got`` differs from ``want``."""
    if isinstance(want, dict) and isinstance(got, dict):
        for key in sorted(set(want) | set(got), key=str):
            if key not in got:
                return f"{where}/{key}: missing (Salt has {_short(want[key])})"
            if key not in want:
                return f"{where}/{key}: extra (saline has {_short(got[key])})"
            found = first_difference(want[key], got[key], f"{where}/{key}")
            if found:
                return found
        return None
    if isinstance(want, list) and isinstance(got, list):
        if len(want) != len(got):
            return (f"{where}: {len(got)} items, Salt has {len(want)}: "
                    f"{_short(got)} vs {_short(want)}")
        for index, (w, g) in enumerate(zip(want, got, strict=True)):
            found = first_difference(w, g, f"{where}[{index}]")
            if found:
                return found
        return None
    if want != got or type(want) is not type(got):
        return f"{where}: saline {_short(got)} != Salt {_short(want)}"
    return None


def _short(value: Any) -> str:
    text = json.dumps(value, sort_keys=True)
    return text if len(text) < 300 else text[:297] + "..."
