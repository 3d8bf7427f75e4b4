"""What `master bootstrap` runs on a host, with the host's own python3 (any 3.x).

Sent as the source of `python3 -c` over the SSH connection; it imports
nothing of saline's. `python3 -c SRC STEP ROOT`, the step's input as JSON on
stdin (the wheels' tar for `install`), one JSON object on stdout; a failure
is one line on stderr and exit status 1. ROOT is "/" except in tests.

Steps, each changing nothing when there is nothing to change:
  probe      the host's python, machine, init system and what is installed
  install    the wheels (tar on stdin) into the venv ROOT/opt/saline
  configure  write ROOT/etc/saline/minion; the minion makes its key; its public key
  start      the systemd unit, or `minion start -d`; restart when asked
"""

import json
import os
import platform
import shutil
import subprocess
import sys
import tarfile
import tempfile

MARKER = ".saline-bootstrap"
UNIT = "/etc/systemd/system/saline-minion.service"
PUBKEY = """
import sys
from pathlib import Path
from common import config
from common.crypto import KeyPair
opts = config.load("minion", Path(sys.argv[1]))
print(KeyPair.load_or_create(Path(opts["pki_dir"]), "minion").public.dumps(), end="")
"""


class Failed(Exception):
    """One line for the master to show."""


def paths(root):
    venv = os.path.join(root, "opt", "saline")
    return {"venv": venv, "marker": os.path.join(venv, MARKER),
            "confdir": os.path.join(root, "etc", "saline"),
            "minion": os.path.join(venv, "bin", "minion"),
            "link": os.path.join(root, "usr", "local", "bin", "minion")}


def systemd(root):
    """True where systemd runs this host (and saline goes to the real root)."""
    return root == "/" and os.path.isdir("/run/systemd/system") and bool(shutil.which("systemctl"))


def probe(root, request):
    p = paths(root)
    try:
        with open(p["marker"]) as f:
            installed = json.load(f).get("wheelhouse")
    except (OSError, ValueError):
        installed = None
    try:
        import ensurepip  # noqa: F401
        import venv  # noqa: F401
        has_venv = True
    except ImportError:
        has_venv = False
    return {"python": list(sys.version_info[:3]), "machine": platform.machine(),
            "venv": has_venv, "installed": installed, "systemd": systemd(root),
            "root": os.geteuid() == 0}


def run(argv, what, timeout=600):
    try:
        proc = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              text=True, timeout=timeout)
    except OSError as exc:
        raise Failed(f"{what}: {exc.strerror or exc}") from None
    except subprocess.TimeoutExpired:
        raise Failed(f"{what}: no end within {timeout} s") from None
    if proc.returncode != 0:
        lines = [ln.strip() for ln in proc.stdout.splitlines() if ln.strip()]
        errors = [ln for ln in lines if "error" in ln.lower()] or lines or ["no output"]
        raise Failed(f"{what}: {errors[-1]}")
    return proc.stdout


def install(root, request):
    """Unpack the wheels, make the venv if needed, pip install them offline."""
    p = paths(root)
    parent = os.path.dirname(p["venv"])
    os.makedirs(parent, exist_ok=True)
    work = tempfile.mkdtemp(prefix=".saline-wheels.", dir=parent)
    try:
        with tarfile.open(fileobj=sys.stdin.buffer, mode="r|") as tar:
            for member in tar:
                name = os.path.basename(member.name)
                if not member.isfile() or not name.endswith(".whl") or name != member.name:
                    raise Failed(f"unexpected entry {member.name!r} in the wheels' tar")
                data = tar.extractfile(member)
                with open(os.path.join(work, name), "wb") as out:
                    shutil.copyfileobj(data, out)  # type: ignore[arg-type]
        if not os.path.exists(os.path.join(p["venv"], "bin", "python")):
            run([sys.executable, "-m", "venv", p["venv"]], "cannot make the venv " + p["venv"])
        wheels = sorted(os.path.join(work, n) for n in os.listdir(work))
        run([os.path.join(p["venv"], "bin", "python"), "-m", "pip", "install", "--quiet",
             "--no-index", "--find-links", work, "--force-reinstall",
             "--disable-pip-version-check", *wheels], "pip install")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    link_command(p)
    write_file(p["marker"], json.dumps({"wheelhouse": request["wheelhouse"]}) + "\n", 0o644)
    return {"changed": True}


def link_command(p):
    """`minion` on PATH as /usr/local/bin/minion (what the systemd unit runs)."""
    os.makedirs(os.path.dirname(p["link"]), exist_ok=True)
    if os.path.islink(p["link"]) and os.readlink(p["link"]) == p["minion"]:
        return
    tmp = p["link"] + ".saline-new"
    if os.path.lexists(tmp):
        os.unlink(tmp)
    os.symlink(p["minion"], tmp)
    os.replace(tmp, p["link"])


def write_file(path, text, mode):
    """Write `text` to `path` in one step (temp file, rename); False if it was so already."""
    try:
        with open(path) as f:
            if f.read() == text and (os.stat(path).st_mode & 0o777) == mode:
                return False
    except OSError:
        pass
    folder = os.path.dirname(path)
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".saline.", dir=folder)
    try:
        with os.fdopen(fd, "w") as f:
            f.write(text)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise
    return True


def configure(root, request):
    """The minion config; then the minion's own key pair, made here if it has none."""
    p = paths(root)
    os.makedirs(p["confdir"], mode=0o755, exist_ok=True)
    changed = write_file(os.path.join(p["confdir"], "minion"), request["config"], 0o600)
    python = os.path.join(p["venv"], "bin", "python")
    pub = run([python, "-c", PUBKEY, p["confdir"]], "cannot make the minion's key")
    return {"changed": changed, "pub": pub}


def start(root, request):
    """Run the minion: enable and start the unit, or a plain daemon; restart if asked."""
    p = paths(root)
    if systemd(root):
        unit = write_file(UNIT, request["unit"], 0o644)
        if unit:
            run(["systemctl", "daemon-reload"], "systemctl daemon-reload")
        active = subprocess.call(["systemctl", "is-active", "--quiet",
                                  "saline-minion.service"]) == 0
        enabled = subprocess.call(["systemctl", "is-enabled", "--quiet",
                                   "saline-minion.service"]) == 0
        if not enabled:
            run(["systemctl", "enable", "saline-minion.service"], "systemctl enable")
        if request["restart"] or unit or not active:
            run(["systemctl", "restart", "saline-minion.service"], "systemctl restart")
            return {"changed": True, "how": "systemd"}
        return {"changed": not enabled, "how": "systemd"}
    cmd = [p["minion"], "-c", p["confdir"]]
    running = subprocess.call([*cmd, "status"], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL) == 0
    if running and not request["restart"]:
        return {"changed": False, "how": "daemon"}
    if running:
        run([*cmd, "stop"], "minion stop")
    run([*cmd, "start", "-d"], "minion start -d")
    return {"changed": True, "how": "daemon"}


STEPS = {"probe": probe, "install": install, "configure": configure, "start": start}


def main():
    step, root = sys.argv[1], sys.argv[2]
    request = {} if step == "install" else json.loads(sys.stdin.read() or "{}")
    if step == "install":
        request = {"wheelhouse": sys.argv[3]}
    try:
        answer = STEPS[step](root, request)
    except Failed as exc:
        print(str(exc), file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"{exc.filename or step}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    print(json.dumps(answer))
    return 0


if __name__ == "__main__":
    sys.exit(main())
