#!/usr/bin/env python3
r"""Apply public Salt formulas for real in fresh Debian 12 containers, twice.

Usage (as root, with a Docker Engine):

    python3 bench/formulas_apply.py --repos DIR [--pillars DIR] [--only vim,apt=apt.ppa]
        [--image TAG] [--source DIR | --salt-venv DIR] [--no-systemd] [--timeout 900]
        [--json OUT] [--md OUT]

`--repos` holds formula repositories (`<name>-formula/`, each with its
`pillar.example`); `--pillars` may hold `<name>-formula.sls` files used in
place of a repository's `pillar.example`. Nothing of them is copied into the
image or the project: each formula gets a fresh container from the minion
image with the repository bind-mounted read-only as `file_roots` and a pillar
dir (`top.sls` -> the example pillar) as `pillar_roots`. Inside, the script
runs `minion call --local state.apply SLS` twice (grains as the container
detects them; no systemd as PID 1, so services are handled as Salt does
offline) and prints, per formula: the states of the first run, how many
succeeded, failed and changed, and how many failed or changed in the second
run. A formula passes when the first run has no failure and the second run
neither fails nor changes anything.

Without `--image`, the image is built from this checkout the way the Docker
test tier builds it (docker/base-image.sh, docker/build-wheelhouse.sh,
docker/minion.Dockerfile), tagged `saline/minion:formulas`; the previous
build of that tag is removed. A derived image adds Debian's systemd package
(not running, as on a Debian 12 host in a container: services are offline);
`--no-systemd` skips it. `--source DIR` mounts a saline source tree over the
image's installed package (PYTHONPATH), for trying a fix without a rebuild.
`--salt-venv DIR` runs that host venv's salt-call instead (Salt, the oracle), in
the same containers. Every docker command is bounded; containers and the
derived image are removed afterwards, also on failure or timeout.
See docs/formulas-applied.md for a run.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOCKER_DIR = ROOT / "docker"
IMAGE = "saline/minion:formulas"
BASE_IMAGE = "saline/debian:bookworm"
LABEL = "saline.formulas-apply=1"

# formula repository -> the SLS applied (its init, or the one that makes sense
# in a container without systemd as PID 1).
FORMULAS: dict[str, str] = {
    "vim-formula": "vim",
    "sysstat-formula": "sysstat",
    "logrotate-formula": "logrotate",
    "resolver-formula": "resolver",
    "systemd-formula": "systemd",
    "fail2ban-formula": "fail2ban",
    "snmp-formula": "snmp",
    "collectd-formula": "collectd",
    "apt-formula": "apt.unattended",
    "postfix-formula": "postfix",
    "haproxy-formula": "haproxy",
    "unbound-formula": "unbound",
    "varnish-formula": "varnish",
    "template-formula": "TEMPLATE",
    "syslog-ng-formula": "syslog_ng",
    "openvpn-formula": "openvpn",
    "samba-formula": "samba",
    "keepalived-formula": "keepalived",
    "bind-formula": "bind",
    "mysql-formula": "mysql.client",
    "php-formula": "php.cli",
    "zabbix-formula": "zabbix.agent",
    "nfs-formula": "nfs.client",
    "iptables-formula": "iptables",
    "ufw-formula": "ufw",
}

MINION_CONFIG = """\
id: formula-test
file_client: local
root_dir: /var/lib/saline
file_roots: {base: [/srv/formula]}
pillar_roots: {base: [/srv/pillar]}
log_level: warning
"""
# The same, for Salt's salt-call (--salt-venv): Salt's own default paths.
SALT_CONFIG = """\
id: formula-test
file_client: local
file_roots: {base: [/srv/formula]}
pillar_roots: {base: [/srv/pillar]}
log_level: quiet
"""


def docker(*argv: str, timeout: float = 120,
           input: str | None = None) -> subprocess.CompletedProcess[str]:
    """One docker command, bounded by `timeout` seconds."""
    return subprocess.run(["docker", *argv], capture_output=True, text=True, timeout=timeout,
                          input=input)


def build_image(tag: str) -> None:
    """Build `tag` from this checkout as the Docker test tier does."""
    subprocess.run(["bash", str(DOCKER_DIR / "base-image.sh"), BASE_IMAGE], check=True,
                   timeout=1800)
    previous = docker("image", "inspect", "--format", "{{.Id}}", tag).stdout.strip()
    with tempfile.TemporaryDirectory(prefix="saline-formulas-image-") as context:
        subprocess.run(["bash", str(DOCKER_DIR / "build-wheelhouse.sh"),
                        str(Path(context, "wheelhouse"))], check=True, timeout=600)
        shutil.copy(DOCKER_DIR / "minion.Dockerfile", Path(context, "Dockerfile"))
        built = docker("build", "--quiet", "--build-arg", f"BASE={BASE_IMAGE}", "--tag", tag,
                       "--label", LABEL, context, timeout=1200)
    if built.returncode != 0:
        raise SystemExit(f"docker build failed: {built.stderr.strip()}")
    if previous and previous not in built.stdout:
        docker("rmi", previous)  # the last build of this tag, now untagged
    docker("image", "prune", "--force", "--filter", f"label={LABEL}")


def systemd_image(base: str) -> str:
    """`base` plus Debian's systemd package, not running: Salt's offline mode.

    Debian 12 hosts have systemd; in a container it is not PID 1, so both Salt
    and saline handle services "offline" (nothing started or stopped). The
    package lists are removed again, as in the minion image.
    """
    tag = f"saline/formulas-systemd:{uuid.uuid4().hex[:8]}"  # this run's only
    dockerfile = (f"FROM {base}\n"
                  "RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y "
                  "--no-install-recommends systemd && rm -rf /var/lib/apt/lists/*\n")
    built = docker("build", "--quiet", "--tag", tag, "--label", LABEL, "-", timeout=1200,
                   input=dockerfile)
    if built.returncode != 0:
        raise SystemExit(f"docker build of {tag} failed: {built.stderr.strip()}")
    return tag


@dataclass
class Run:
    """One state.apply: counts by result, and the first failures' comments."""

    seconds: float = 0.0
    states: int = 0
    ok: int = 0
    failed: int = 0
    changed: int = 0
    error: str = ""
    failures: list[str] = field(default_factory=list)
    changes: list[str] = field(default_factory=list)


@dataclass
class Outcome:
    formula: str
    sls: str
    runs: list[Run] = field(default_factory=list)
    error: str = ""

    @property
    def passed(self) -> bool:
        if self.error or len(self.runs) != 2 or any(r.error for r in self.runs):
            return False
        first, second = self.runs
        return (first.states > 0 and first.failed == 0 and second.failed == 0
                and second.changed == 0)


def summarize(proc: subprocess.CompletedProcess[str], seconds: float) -> Run:
    """Count a `state.apply --out json` answer (a render error is a list of strings)."""
    run = Run(seconds=round(seconds, 1))
    try:
        value = json.loads(proc.stdout)["local"]
    except (ValueError, KeyError, TypeError):
        tail = (proc.stderr.strip() or proc.stdout.strip()).splitlines()[-3:]
        run.error = f"no JSON (exit {proc.returncode}): {' | '.join(tail)}"
        return run
    if not isinstance(value, dict):
        lines = value if isinstance(value, list) else [value]
        run.error = "; ".join(str(x) for x in lines)[:600]
        return run
    for tag, ret in sorted(value.items(), key=lambda kv: kv[1].get("__run_num__", 0)):
        run.states += 1
        if ret.get("result") is False:
            run.failed += 1
            run.failures.append(f"{tag}: {str(ret.get('comment'))[:400]}")
        else:
            run.ok += 1
        if ret.get("changes"):
            run.changed += 1
            run.changes.append(f"{tag}: {json.dumps(ret['changes'], default=str)[:300]}")
    return run


def salt_mounts(venv: Path) -> list[str]:
    """`docker run` options mounting a host Salt venv and its interpreter at their paths.

    A venv only links to its base Python (pyvenv.cfg's ``home``), so that
    installation is mounted too; it must run on the image's Debian (a host
    with the same Debian release, as here).
    """
    home = ""
    for line in (venv / "pyvenv.cfg").read_text().splitlines():
        key, _, value = line.partition("=")
        if key.strip() == "home":
            home = value.strip()
    if not home:
        raise SystemExit(f"{venv}/pyvenv.cfg names no base Python (home = ...)")
    base = Path(home).parent  # .../bin -> the installation's prefix
    mounts = ["-v", f"{venv}:{venv}:ro"]
    if not str(base).startswith(("/usr", "/bin", "/lib")):  # the image has its own /usr
        mounts += ["-v", f"{base}:{base}:ro"]
    return mounts


@contextmanager
def container(image: str, repo: Path, pillar: Path, conf: Path,
              extra: list[str]) -> Iterator[str]:
    """A detached container with the formula, pillar and config mounted read-only."""
    name = f"saline-formulas-{uuid.uuid4().hex[:10]}"
    argv = ["run", "--detach", "--init", "--name", name, "--label", LABEL,
            "-v", f"{repo}:/srv/formula:ro", "-v", f"{pillar}:/srv/pillar:ro",
            "-v", f"{conf}:/etc/saline:ro", *extra]
    try:
        started = docker(*argv, "--entrypoint", "sleep", image, "infinity")
        if started.returncode != 0:
            raise RuntimeError(f"docker run failed: {started.stderr.strip()}")
        yield name
    finally:
        docker("rm", "--force", "--volumes", name)


def apply_formula(formula: str, sls: str, args: argparse.Namespace) -> Outcome:
    """Start a container for `formula` and apply `sls` in it twice."""
    outcome = Outcome(formula, sls)
    repo = (args.repos / formula).resolve()
    example = args.pillars / f"{formula}.sls" if args.pillars else None
    if example is None or not example.is_file():
        example = repo / "pillar.example"
    deadline = time.monotonic() + args.timeout
    with tempfile.TemporaryDirectory(prefix="saline-formulas-") as tmp:
        work = Path(tmp)
        (work / "pillar").mkdir()
        (work / "conf").mkdir()
        shutil.copy(example, work / "pillar" / "example.sls")
        (work / "pillar" / "top.sls").write_text("base:\n  '*':\n    - example\n")
        (work / "conf" / "minion").write_text(SALT_CONFIG if args.salt_venv else MINION_CONFIG)
        for path in (work, work / "pillar", work / "conf"):
            path.chmod(0o755)  # read by root in the container; nothing secret here
        extra: list[str] = []
        command = ["minion", "call", "--local", "--out", "json", "state.apply", sls]
        if args.salt_venv is not None:
            extra = salt_mounts(args.salt_venv)
            command = [str(args.salt_venv / "bin" / "salt-call"), "--local", "-c",
                       "/etc/saline", "--out", "json", "state.apply", sls]
        elif args.source is not None:
            extra = ["-v", f"{args.source}:/opt/saline-src:ro",
                     "-e", "PYTHONPATH=/opt/saline-src"]
        try:
            with container(args.image, repo, work / "pillar", work / "conf", extra) as name:
                for _ in range(2):
                    left = deadline - time.monotonic()
                    if left <= 0:
                        raise subprocess.TimeoutExpired("state.apply", args.timeout)
                    start = time.monotonic()
                    proc = docker("exec", name, *command, timeout=left)
                    outcome.runs.append(summarize(proc, time.monotonic() - start))
        except subprocess.TimeoutExpired:
            outcome.error = f"timed out after {args.timeout} s"
        except RuntimeError as exc:
            outcome.error = str(exc)
    return outcome


def table(outcomes: list[Outcome]) -> str:
    """The results as a Markdown table."""
    lines = ["| formula | SLS | states | 1st run ok / failed / changed | 1st run s "
             "| 2nd run failed / changed | 2nd run s | result |",
             "|---|---|---:|---|---:|---|---:|---|"]
    for o in outcomes:
        cells = [o.formula, f"`{o.sls}`"]
        first = o.runs[0] if o.runs else None
        second = o.runs[1] if len(o.runs) > 1 else None
        if first is None or first.error:
            cells += ["-", "error", f"{first.seconds}" if first else "-", "-", "-"]
        else:
            cells += [str(first.states), f"{first.ok} / {first.failed} / {first.changed}",
                      f"{first.seconds}"]
            if second is None or second.error:
                cells += ["error", f"{second.seconds}" if second else "-"]
            else:
                cells += [f"{second.failed} / {second.changed}", f"{second.seconds}"]
        cells.append("**pass**" if o.passed else "fail")
        lines.append("| " + " | ".join(cells) + " |")
    passed = sum(o.passed for o in outcomes)
    lines.append("")
    lines.append(f"{passed} of {len(outcomes)} formulas pass (first run without failure, "
                 "second run without failure or change).")
    return "\n".join(lines)


def details(outcomes: list[Outcome]) -> str:
    """What failed or changed where a formula did not pass."""
    out: list[str] = []
    for o in outcomes:
        if o.passed:
            continue
        out.append(f"- {o.formula} ({o.sls}):" + (f" {o.error}" if o.error else ""))
        for i, run in enumerate(o.runs, 1):
            if run.error:
                out.append(f"  - run {i}: {run.error}")
            for line in run.failures[:5]:
                out.append(f"  - run {i} failed: {line}")
            if i == 2:
                for line in run.changes[:5]:
                    out.append(f"  - run {i} changed: {line}")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repos", type=Path, required=True,
                        help="directory of <name>-formula repositories")
    parser.add_argument("--pillars", type=Path,
                        help="directory of <name>-formula.sls pillars replacing pillar.example")
    parser.add_argument("--only", help="comma-separated formulas (vim or vim-formula); "
                        "NAME=SLS picks the SLS")
    parser.add_argument("--image", help="use this minion image as it is (no build)")
    parser.add_argument("--source", type=Path,
                        help="mount this saline source tree over the image's package")
    parser.add_argument("--salt-venv", type=Path,
                        help="run this host venv's salt-call instead of saline (the oracle), "
                        "in the same containers")
    parser.add_argument("--no-systemd", action="store_true",
                        help="do not add Debian's systemd package to the image (services are "
                        "then run through /etc/init.d scripts)")
    parser.add_argument("--timeout", type=float, default=900,
                        help="seconds per formula, both runs (default 900)")
    parser.add_argument("--json", type=Path, help="write every count and comment here")
    parser.add_argument("--md", type=Path, help="write the table here")
    args = parser.parse_args(argv)

    chosen = dict(FORMULAS)
    if args.only:
        chosen = {}
        for item in args.only.split(","):
            name, _, sls = item.strip().partition("=")
            name = name if name.endswith("-formula") else f"{name}-formula"
            chosen[name] = sls or FORMULAS.get(name) or name.removesuffix("-formula")
    for name in chosen:
        if not (args.repos / name).is_dir():
            parser.error(f"{args.repos / name} is not a directory")
    if args.source is not None:
        args.source = args.source.resolve()
    if args.salt_venv is not None:
        args.salt_venv = args.salt_venv.resolve()
    if args.image is None:
        build_image(IMAGE)
        args.image = IMAGE
    derived = None
    if not args.no_systemd:
        args.image = derived = systemd_image(args.image)

    outcomes: list[Outcome] = []
    try:
        for name, sls in chosen.items():
            outcome = apply_formula(name, sls, args)
            outcomes.append(outcome)
            runs = ", ".join(f"{r.states} states {r.failed} failed {r.changed} changed "
                             f"{r.seconds}s" + (f" ERROR {r.error[:120]}" if r.error else "")
                             for r in outcome.runs)
            print(f"{name} {sls}: {'pass' if outcome.passed else 'FAIL'} {outcome.error} "
                  f"{runs}", file=sys.stderr, flush=True)
    finally:
        if derived is not None:
            docker("rmi", derived)
        docker("image", "prune", "--force", "--filter", f"label={LABEL}")

    text = table(outcomes)
    print(text)
    more = details(outcomes)
    if more:
        print("\nWhere formulas did not pass:\n" + more)
    if args.md:
        args.md.write_text(text + "\n" + (f"\n{more}\n" if more else ""))
    if args.json:
        args.json.write_text(json.dumps([asdict(o) | {"passed": o.passed} for o in outcomes],
                                        indent=2) + "\n")
    return 0 if all(o.passed for o in outcomes) else 1


if __name__ == "__main__":
    sys.exit(main())
