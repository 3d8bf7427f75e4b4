# A saline minion image, installed offline from a wheelhouse.
#
# The build context is a directory holding only this file and `wheelhouse/`
# as docker/build-wheelhouse.sh writes it (saline-*.whl and deps/*.whl), never
# the repository. Nothing is fetched from PyPI. Build:
#
#   docker/base-image.sh                      # saline/debian:bookworm, from debootstrap
#   ctx=$(mktemp -d) && docker/build-wheelhouse.sh "$ctx/wheelhouse"
#   cp docker/minion.Dockerfile "$ctx/Dockerfile"
#   docker build --build-arg BASE=saline/debian:bookworm -t saline/minion "$ctx"
#
# Run it with `--init`, as the tests do: the minion is then not PID 1, so
# SIGTERM from `docker stop` is delivered and the zombies of commands that
# jobs start are reaped (Docker's bundled tini does both):
#
#   docker run -d --init --name m1 saline/minion                  # minion start, master "salt"
#   docker run --rm --init saline/minion call --local test.ping   # no master needed
#   docker run -d --init --add-host salt:10.0.0.1 saline/minion   # where the master is
#
# Config lives in /etc/saline/minion (`master: salt`); mount your own over it.

ARG BASE=debian:bookworm-slim
FROM ${BASE}

# Metadata first: each step costs a container commit with the classic
# builder, and up here they stay cached when only saline's wheel changes.
ENV LANG=C.UTF-8 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PATH=/opt/saline/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
ENTRYPOINT ["minion"]
CMD ["start"]

# Images built with debootstrap (docker/base-image.sh) have python3 and venv
# already; a stock debian:bookworm-slim base gets them from apt.
RUN if ! python3 -c 'import ensurepip, venv' 2>/dev/null; then \
        apt-get update \
        && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
            python3 python3-venv ca-certificates \
        && rm -rf /var/lib/apt/lists/*; \
    fi \
    && python3 -m venv /opt/saline \
    && mkdir -p /etc/saline \
    && printf 'master: salt\n' > /etc/saline/minion

# Dependencies first: their layer stays cached while only saline changes.
COPY wheelhouse/deps/ /opt/wheelhouse/deps/
RUN /opt/saline/bin/pip install --no-index --find-links /opt/wheelhouse/deps \
        /opt/wheelhouse/deps/*.whl

COPY wheelhouse/saline-*.whl /opt/wheelhouse/
RUN /opt/saline/bin/pip install --no-index --find-links /opt/wheelhouse/deps \
        /opt/wheelhouse/saline-*.whl \
    && /opt/saline/bin/pip check \
    && rm -rf /opt/wheelhouse
