"""The shell commands `master ssh` runs on a host, as pure functions.

On the host the zipapp lives unpacked in ``~/.cache/saline-ssh/<hash>/`` (so
python3 keeps its bytecode there and warm runs skip compiling). A run tries
the cached copy first; only when it is missing does the master upload it:
the bytes go to a hidden temp directory beside it, are checked against
their sha256, unpacked, and renamed into place in one step, so a dropped
connection leaves no half-written copy that a later run would use.
"""

from __future__ import annotations

import shlex

CACHE = ".cache/saline-ssh"
NEED_UPLOAD = 99  # the run's exit status when the host has no copy of this zipapp
TOO_OLD = 3  # the bootstrap's exit status for a python3 older than MIN_PYTHON
NEED_UPLOAD_WORD = "saline-ssh: not cached"

# Runs with the host's python3 (any 3.x): check, unpack, rename into place.
INSTALL = """\
import hashlib, io, os, shutil, sys, tempfile, zipfile
name, digest = sys.argv[1], sys.argv[2]
base = os.path.join(os.path.expanduser("~"), ".cache", "saline-ssh")
data = sys.stdin.buffer.read()
if hashlib.sha256(data).hexdigest() != digest:
    sys.exit("saline-ssh: the zipapp arrived damaged (%d bytes, hash mismatch)" % len(data))
try:
    os.makedirs(base, 0o700, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix="." + name + ".", dir=base)
    zipfile.ZipFile(io.BytesIO(data)).extractall(tmp)
    os.chmod(tmp, 0o700)
    try:
        os.rename(tmp, os.path.join(base, name))
    except OSError:
        shutil.rmtree(tmp, ignore_errors=True)
        if not os.path.isfile(os.path.join(base, name, "__main__.py")):
            raise
except OSError as exc:
    sys.exit("saline-ssh: cannot install into %s: %s" % (base, exc))
"""


def cache_dir(name: str) -> str:
    """The zipapp's directory on the host, for the host's shell ($HOME expanded there)."""
    return f'"$HOME/{CACHE}/{name}"'


def run_command(name: str, sudo: bool = False, sudo_user: str | None = None,
                sudo_passwd: bool = False) -> str:
    """Run the cached zipapp (frames on stdin/stdout), or exit NEED_UPLOAD when it is not there.

    Without the zipapp it exits at once, reading nothing: the master's write of
    the request may then meet a closed channel, which it ignores (the exit status
    says what happened).

    With `sudo_passwd` sudo reads the password from the first line of stdin.
    """
    python = " ".join([*_sudo(sudo, sudo_user, sudo_passwd), "python3", "-I"])
    where = cache_dir(name)
    return (f"D={where}; if [ -f \"$D/__main__.py\" ]; then exec {python} \"$D\"; "
            f"else echo '{NEED_UPLOAD_WORD}' >&2; exit {NEED_UPLOAD}; fi")


def install_command(name: str, digest: str) -> str:
    """Receive the zipapp on stdin and put it in place (as the login user)."""
    return f"python3 -c {shlex.quote(INSTALL)} {shlex.quote(name)} {shlex.quote(digest)}"


def _sudo(sudo: bool, user: str | None, passwd: bool) -> list[str]:
    if not sudo and not user:
        return []
    words = ["sudo", "-S", "-p", "''"] if passwd else ["sudo", "-n"]
    if user:
        words += ["-u", shlex.quote(user)]
    return words
