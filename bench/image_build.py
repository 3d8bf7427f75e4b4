#!/usr/bin/env python3
"""Docker benchmark: `master image build` and a minion container's first ping.

Usage: python bench/image_build.py [--image saline/minion:test] [--runs R]

Starts a master on the Docker bridge gateway (free ports, a temp dir) with a
small web formula (a page and `python3 -m http.server`), then prints the
median of R runs of:

- `master image build` of that formula from IMAGE, as a whole command (the
  base image is cached; the result is removed after each run);
- `docker run` of a minion container (its config, mounted, names the master;
  an auto-accepting master, so no key step) until its first `test.ping` answer.

Needs a Docker Engine, the `docker` Python SDK and IMAGE (the tests build
saline/minion:test; docker/minion.Dockerfile says how to build one).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import yaml

from tests.cluster import Cluster, wait_for

FORMULA = """\
page:
  file.managed:
    - name: /srv/www/index.html
    - makedirs: True
    - contents: "{{ pillar.get('greeting', 'hello') }}"
server:
  cmd.run:
    - name: nohup python3 -m http.server 8000 --directory /srv/www >/dev/null 2>&1 &
    - require:
      - file: page
"""


def docker(*args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["docker", *args], capture_output=True, text=True, timeout=timeout)


def gateway() -> str:
    import docker as sdk
    from master.imagebuild_docker import bridge_gateway

    return bridge_gateway(sdk.from_env())


def image_build(cluster: Cluster, image: str) -> tuple[float, dict[str, float]]:
    tag = f"saline-bench/web:{uuid.uuid4().hex[:8]}"
    start = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "master", "-c", str(cluster.master_dir), "image", "build",
         "--from", image, "--apply", "web", "--tag", tag, "--pillar", "greeting=bench",
         "--cmd", "python3 -m http.server 8000 --directory /srv/www", "--entrypoint", "",
         "--expose", "8000", "--state-output", "terse"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=cluster.env)
    marks: dict[str, float] = {}
    assert proc.stderr is not None
    for line in proc.stderr:
        if "connected in" in line:
            marks["connected"] = time.perf_counter() - start
        elif "state.apply" in line:
            marks["applying"] = time.perf_counter() - start
    out = proc.stdout.read() if proc.stdout else ""
    code = proc.wait(600)
    elapsed = time.perf_counter() - start
    if code != 0:
        raise SystemExit(f"image build failed ({code}):\n{out}")
    docker("rmi", "--force", tag)
    return elapsed, marks


def first_ping(cluster: Cluster, image: str, gw: str, tmp: Path) -> float:
    minion_id = f"bench-{uuid.uuid4().hex[:6]}"
    conf = tmp / f"{minion_id}.yaml"
    conf.write_text(yaml.safe_dump({
        "id": minion_id, "master": "salt", "master_port": cluster.ret_port,
        "publish_port": cluster.pub_port, "log_level": "warning"}))
    conf.chmod(0o644)
    start = time.perf_counter()
    run = docker("run", "--detach", "--init", "--name", minion_id, "--add-host", f"salt:{gw}",
                 "--volume", f"{conf}:/etc/saline/minion:ro", image)
    if run.returncode != 0:
        raise SystemExit(run.stderr)
    try:
        def answered() -> bool:
            data, _ = cluster.run_json("-t", "1", "-L", minion_id, "test.ping")
            return data.get(minion_id) is True

        wait_for(answered, 60, 0.05, f"{minion_id} answering")
        return time.perf_counter() - start
    finally:
        docker("rm", "--force", minion_id)
        cluster.master_cmd("key", "delete", "-y", minion_id)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--image", default="saline/minion:test")
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    runs = max(1, min(args.runs, 20))
    if docker("image", "inspect", args.image).returncode != 0:
        raise SystemExit(f"no image {args.image}: build it first (see docker/README.md)")
    gw = gateway()
    with tempfile.TemporaryDirectory(prefix="saline-bench-") as tmp:
        base = Path(tmp)
        roots = base / "formulas"
        roots.mkdir()
        (roots / "web.sls").write_text(FORMULA)
        cluster = Cluster(base / "c", interface=gw, auto_accept=True, log_level="warning",
                          file_roots={"base": [str(roots)]})
        cluster.start_master()
        try:
            builds = [image_build(cluster, args.image) for _ in range(runs)]
            pings = [first_ping(cluster, args.image, gw, base) for _ in range(runs)]
        finally:
            cluster.close()
    totals = [b[0] for b in builds]
    connected = [b[1].get("connected", 0.0) for b in builds]
    applying = [b[1].get("applying", 0.0) for b in builds]
    print(f"image: {args.image}, {runs} runs, medians")
    print(f"master image build (page + http.server), whole command: "
          f"{statistics.median(totals):.2f} s")
    print(f"  of which: container up + minion joined {statistics.median(connected):.2f} s, "
          f"state run + clean + commit + remove "
          f"{statistics.median(totals) - statistics.median(applying):.2f} s")
    print(f"docker run of a minion container -> first test.ping answer: "
          f"{statistics.median(pings):.2f} s (min {min(pings):.2f}, max {max(pings):.2f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
