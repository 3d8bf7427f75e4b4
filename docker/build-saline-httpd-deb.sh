#!/usr/bin/env bash
# Build saline-httpd_1.0_all.deb, the tiny web server package of formulas/web.
#
# The package holds one SysV init script, /etc/init.d/saline-httpd, that runs
# `python3 -m http.server` as an unprivileged user with a pidfile, and its
# conffile /etc/saline-httpd.conf (PORT, BIND, DOCROOT, RUN_AS). The formula
# installs it with pkg.installed `sources:`, so the example needs no network.
#
# Usage: docker/build-saline-httpd-deb.sh [OUT_DIR]
#
#   OUT_DIR   where to write the .deb (default: formulas/web/files of this repo)
#
# Needs bash and dpkg-deb (Debian and derivatives). The build is reproducible:
# fixed mtimes (SOURCE_DATE_EPOCH), root:root ownership, fixed modes and xz,
# so the same dpkg-deb gives the same bytes; tests/docker/test_formulas.py
# rebuilds it and compares it with the committed file.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
out="${1:-$here/../formulas/web/files}"
pkg=saline-httpd
version=1.0
export SOURCE_DATE_EPOCH="${SOURCE_DATE_EPOCH:-1767225600}"  # 2026-01-01T00:00:00Z

command -v dpkg-deb >/dev/null || { echo "build-saline-httpd-deb: dpkg-deb not found" >&2; exit 1; }
root="$(mktemp -d)"
trap 'rm -rf "$root"' EXIT
umask 022
mkdir -p "$root/DEBIAN" "$root/etc/init.d" "$out"

cat >"$root/DEBIAN/control" <<CONTROL
Package: $pkg
Version: $version
Architecture: all
Maintainer: saline developers <saline@example.invalid>
Depends: python3
Section: httpd
Priority: optional
Description: tiny static web server for the saline example formulas
 Serves a directory with python3's http.server, as an unprivileged user,
 from a SysV init script (start, stop, restart, reload, status).
CONTROL

echo "/etc/$pkg.conf" >"$root/DEBIAN/conffiles"

cat >"$root/etc/$pkg.conf" <<'CONF'
# /etc/saline-httpd.conf: read by /etc/init.d/saline-httpd (KEY=value, no quotes).
PORT=8000
BIND=0.0.0.0
DOCROOT=/srv/www/html
RUN_AS=www
CONF

# Stop the server before the package goes away; drop the rc links on purge
# (what debhelper's init-system snippets do).
cat >"$root/DEBIAN/prerm" <<'PRERM'
#!/bin/sh
set -e
if [ "$1" = remove ] && [ -x /etc/init.d/saline-httpd ]; then
    /etc/init.d/saline-httpd stop || true
fi
PRERM
cat >"$root/DEBIAN/postrm" <<'POSTRM'
#!/bin/sh
set -e
if [ "$1" = purge ] && command -v update-rc.d >/dev/null; then
    update-rc.d saline-httpd remove >/dev/null || true
fi
POSTRM

cat >"$root/etc/init.d/$pkg" <<'INIT'
#!/bin/sh
### BEGIN INIT INFO
# Provides:          saline-httpd
# Required-Start:    $local_fs $network $remote_fs
# Required-Stop:     $local_fs $network $remote_fs
# Default-Start:     2 3 4 5
# Default-Stop:      0 1 6
# Short-Description: tiny static web server (python3 -m http.server)
### END INIT INFO
#
# Settings come from /etc/saline-httpd.conf, read as KEY=value lines (the
# file is parsed, never sourced). reload is a restart: http.server has no
# way to re-read settings.

NAME=saline-httpd
CONF=/etc/saline-httpd.conf
PIDFILE=/run/saline-httpd.pid
PYTHON=/usr/bin/python3
# The server is known by its pidfile and its process name (python3): --exec
# would need /proc/PID/exe, which root cannot read for another user's process
# in a container without CAP_SYS_PTRACE.
PROCNAME=python3
PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

setting() {  # setting KEY DEFAULT: the last KEY=value of $CONF, else DEFAULT
    value=""
    [ -r "$CONF" ] && value=$(sed -n "s/^[[:space:]]*$1=\([^[:space:]]*\)[[:space:]]*$/\1/p" "$CONF" | tail -n 1)
    echo "${value:-$2}"
}

PORT=$(setting PORT 8000)
BIND=$(setting BIND 0.0.0.0)
DOCROOT=$(setting DOCROOT /srv/www/html)
RUN_AS=$(setting RUN_AS www)

check_settings() {
    case "$PORT" in
        ''|*[!0-9]*) echo "$NAME: PORT must be a number, not '$PORT' ($CONF)" >&2; exit 6 ;;
    esac
    if ! id "$RUN_AS" >/dev/null 2>&1; then
        echo "$NAME: user '$RUN_AS' does not exist (RUN_AS in $CONF)" >&2; exit 6
    fi
    if [ ! -d "$DOCROOT" ]; then
        echo "$NAME: document root $DOCROOT is missing (DOCROOT in $CONF)" >&2; exit 6
    fi
}

listening() {  # whether something accepts connections on BIND:PORT (0.0.0.0: loopback)
    host=$BIND
    [ "$host" = 0.0.0.0 ] && host=127.0.0.1
    "$PYTHON" -c 'import socket, sys
try:
    socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=0.5).close()
except OSError:
    sys.exit(1)' "$host" "$PORT"
}

running() {
    start-stop-daemon --status --pidfile "$PIDFILE" --name "$PROCNAME"
}

do_start() {
    if running; then
        echo "$NAME is already running"
        return 0
    fi
    check_settings
    start-stop-daemon --start --quiet --background --make-pidfile --pidfile "$PIDFILE" \
        --name "$PROCNAME" --chuid "$RUN_AS" --chdir "$DOCROOT" --startas "$PYTHON" -- \
        -m http.server --bind "$BIND" --directory "$DOCROOT" "$PORT" || return 1
    # Ready when the port answers (at most 10 s), so a check right after start works.
    tries=0
    until listening; do
        tries=$((tries + 1))
        if [ "$tries" -ge 50 ] || ! running; then
            echo "$NAME: did not start listening on $BIND:$PORT" >&2
            return 1
        fi
        sleep 0.2
    done
    echo "Started $NAME on $BIND:$PORT"
}

do_stop() {
    start-stop-daemon --stop --quiet --oknodo --retry TERM/5/KILL/2 --remove-pidfile \
        --pidfile "$PIDFILE" --name "$PROCNAME" || return 1
    echo "Stopped $NAME"
}

case "$1" in
    start) do_start ;;
    stop) do_stop ;;
    restart|reload|force-reload) do_stop && do_start ;;
    status)
        running
        code=$?
        case $code in
            0) echo "$NAME is running (pid $(cat "$PIDFILE"))" ;;
            1) echo "$NAME is not running (stale pidfile $PIDFILE)" ;;
            *) echo "$NAME is not running" ;;
        esac
        exit $code
        ;;
    *)
        echo "Usage: /etc/init.d/$NAME {start|stop|restart|reload|force-reload|status}" >&2
        exit 3
        ;;
esac
INIT

chmod 0755 "$root" "$root/DEBIAN" "$root/etc" "$root/etc/init.d" "$root/etc/init.d/$pkg" \
    "$root/DEBIAN/prerm" "$root/DEBIAN/postrm"
chmod 0644 "$root/DEBIAN/control" "$root/DEBIAN/conffiles" "$root/etc/$pkg.conf"
find "$root" -exec touch --no-dereference --date="@$SOURCE_DATE_EPOCH" {} +
deb="$out/${pkg}_${version}_all.deb"
dpkg-deb -Zxz --root-owner-group --build "$root" "$deb" >/dev/null
echo "$deb"
