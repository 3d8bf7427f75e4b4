#!/usr/bin/env bash
# Build a minimal Debian bookworm image with debootstrap and `docker import` it.
#
# No image registry is needed: the root file system comes from Debian's
# package mirror. If the image already exists it is reused and the script
# exits at once, so it is cheap to call before every test session.
#
# Usage: docker/base-image.sh [IMAGE]
#
#   IMAGE                   image to create (default: $SALINE_BASE_IMAGE,
#                           else saline/debian:bookworm)
#   SALINE_DEBIAN_MIRROR    mirror (default: http://deb.debian.org/debian)
#   SALINE_DEBIAN_SUITE     suite (default: bookworm)
#   SALINE_BASE_REBUILD=1   build again even if the image exists
#
# Needs root (debootstrap creates device nodes and chroots) and a running
# Docker Engine. Installs debootstrap with apt-get when it is missing.
set -euo pipefail

image="${1:-${SALINE_BASE_IMAGE:-saline/debian:bookworm}}"
mirror="${SALINE_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
suite="${SALINE_DEBIAN_SUITE:-bookworm}"
packages="python3,python3-venv,ca-certificates"

say() { printf 'base-image: %s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }

image_exists() { docker image inspect "$image" >/dev/null 2>&1; }

if image_exists && [ "${SALINE_BASE_REBUILD:-}" != 1 ]; then
    say "$image exists; reusing it (SALINE_BASE_REBUILD=1 builds it again)"
    exit 0
fi

command -v docker >/dev/null || die "docker is not installed"
docker info >/dev/null 2>&1 || die "the Docker Engine does not answer (docker info failed)"
[ "$(id -u)" = 0 ] || die "debootstrap needs root; run this script as root (or with sudo)"

# One build at a time on a machine: a second caller waits, then reuses.
exec 9>"${TMPDIR:-/tmp}/saline-base-image.lock"
flock 9
if image_exists && [ "${SALINE_BASE_REBUILD:-}" != 1 ]; then
    say "$image was built meanwhile; reusing it"
    exit 0
fi

if ! command -v debootstrap >/dev/null; then
    say "installing debootstrap with apt-get"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends debootstrap >/dev/null
fi

# Not under /tmp: it may be a small tmpfs, or mounted nodev.
workdir="$(mktemp -d /var/tmp/saline-base.XXXXXX)"
cleanup() {
    # debootstrap mounts proc and sys in the target; never delete through them.
    awk -v dir="$workdir/" 'index($2, dir) == 1 { print $2 }' /proc/mounts \
        | sort -r | while read -r mnt; do umount -l "$mnt" || true; done
    rm -rf --one-file-system "$workdir"
}
trap cleanup EXIT

rootfs="$workdir/rootfs"
say "debootstrap $suite from $mirror (minbase + $packages); this takes a few minutes"
start=$SECONDS
if ! debootstrap --variant=minbase --include="$packages" "$suite" "$rootfs" "$mirror" \
        >"$workdir/debootstrap.log" 2>&1; then
    tail -n 20 "$workdir/debootstrap.log" >&2 || true
    if [ -f "$rootfs/debootstrap/debootstrap.log" ]; then
        tail -n 20 "$rootfs/debootstrap/debootstrap.log" >&2
    fi
    die "debootstrap failed (mirror $mirror)"
fi

# Drop what an image does not need: downloaded .debs, package lists, logs.
rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/* \
    "$rootfs"/var/log/*.log "$rootfs"/var/log/apt/* "$rootfs"/tmp/*

say "importing the root file system as $image"
tar --numeric-owner -C "$rootfs" -c . | docker import \
    --change 'ENV LANG=C.UTF-8' \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'CMD ["/bin/bash"]' \
    --message "debootstrap --variant=minbase $suite ($packages)" \
    - "$image" >/dev/null
say "built $image in $((SECONDS - start)) s"
