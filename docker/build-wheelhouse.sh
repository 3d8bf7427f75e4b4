#!/usr/bin/env bash
# Build a wheelhouse for the minion image: saline's wheel and its dependencies.
#
# Usage: docker/build-wheelhouse.sh DIR
#
# Writes DIR/saline-*.whl and DIR/deps/*.whl (pyzmq, pynacl, msgpack, jinja2,
# pyyaml, psutil and what they need), so an image installs them with
# `pip install --no-index` and never reaches the network. DIR is emptied first.
#
# The dependency wheels are binary wheels for the image's Python, not the
# host's: SALINE_WHEEL_PYTHON (default 3.11, Debian bookworm's python3) and
# SALINE_WHEEL_ARCH (default: this machine's, e.g. x86_64). saline's own wheel
# is built reproducibly (fixed SOURCE_DATE_EPOCH, from a clean copy of the
# sources), so unchanged sources give a byte-identical wheel and Docker's
# layer cache is reused.
set -euo pipefail

say() { printf 'build-wheelhouse: %s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }

[ $# -eq 1 ] || die "usage: $0 DIR"
out="$1"
repo="$(cd "$(dirname "$0")/.." && pwd)"
pyver="${SALINE_WHEEL_PYTHON:-3.11}"
arch="${SALINE_WHEEL_ARCH:-$(uname -m)}"
python="${PYTHON:-python3}"
"$python" -c 'import sys; assert sys.version_info >= (3, 11)' 2>/dev/null \
    || die "$python must be Python 3.11 or newer (it reads pyproject.toml with tomllib)"

workdir="$(mktemp -d "${TMPDIR:-/tmp}/saline-wheelhouse.XXXXXX")"
trap 'rm -rf "$workdir"' EXIT

mkdir -p "$out"
rm -rf "${out:?}"/*.whl "$out/deps"
mkdir -p "$out/deps"

# A clean copy of the sources: no build/ left over from earlier builds (stale
# modules would end up in the wheel), nothing written into the work tree.
say "building saline's wheel"
tar -C "$repo" -c --exclude=.git --exclude=build --exclude=dist --exclude='*.egg-info' \
    --exclude=__pycache__ --exclude='.*_cache' --exclude=.venv --exclude=tests \
    --exclude=bench --exclude=demo . | tar -C "$workdir" -x
mkdir "$workdir/dist"
(cd "$workdir" && SOURCE_DATE_EPOCH=315532800 PIP_DISABLE_PIP_VERSION_CHECK=1 \
    "$python" -m pip wheel --quiet --no-deps --wheel-dir "$workdir/dist" .) \
    || die "pip wheel of saline failed"
cp "$workdir"/dist/saline-*.whl "$out/"

# The runtime dependencies, as pyproject.toml lists them.
"$python" - "$repo/pyproject.toml" >"$workdir/requirements.txt" <<'PY'
import sys
import tomllib

with open(sys.argv[1], "rb") as f:
    print("\n".join(tomllib.load(f)["project"]["dependencies"]))
PY

# pip does not widen manylinux_2_X platform tags by itself: list every glibc
# up to bookworm's 2.36, and the legacy aliases.
platforms=()
for minor in $(seq 36 -1 5); do
    platforms+=(--platform "manylinux_2_${minor}_${arch}")
done
platforms+=(--platform "manylinux2014_${arch}" --platform "manylinux2010_${arch}"
            --platform "manylinux1_${arch}" --platform any)

say "downloading dependency wheels for CPython $pyver on $arch"
PIP_DISABLE_PIP_VERSION_CHECK=1 "$python" -m pip download --quiet \
    --only-binary=:all: --implementation cp --python-version "$pyver" \
    "${platforms[@]}" --dest "$out/deps" -r "$workdir/requirements.txt" \
    || die "pip download of the dependencies failed (is PyPI reachable?)"

say "wheelhouse ready in $out: $(ls "$out" | grep -c '\.whl$') + $(ls "$out/deps" | wc -l) wheels"
