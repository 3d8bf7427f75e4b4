# A saline master image, installed offline from a wheelhouse (the same way as
# docker/minion.Dockerfile: the build context holds only this file and
# `wheelhouse/` from docker/build-wheelhouse.sh; nothing comes from PyPI):
#
#   docker/base-image.sh                      # saline/debian:bookworm, from debootstrap
#   ctx=$(mktemp -d) && docker/build-wheelhouse.sh "$ctx/wheelhouse"
#   cp docker/master.Dockerfile "$ctx/Dockerfile"
#   docker build --build-arg BASE=saline/debian:bookworm -t saline/master "$ctx"
#
# The config is /etc/saline/master (`interface: 0.0.0.0`, port 4506);
# formulas are read from /etc/saline/formulas and pillar from
# /etc/saline/pillar: mount yours there (docker/compose.yaml does). Keys and
# the job cache live under /etc/saline (pki/, cache/): give it a volume to
# keep them. Run it with `--init` so `docker stop` reaches the master:
#
#   docker run -d --init --name master -v "$PWD/formulas:/etc/saline/formulas:ro" saline/master
#   docker exec master master key list

ARG BASE=debian:bookworm-slim
FROM ${BASE}

ENV LANG=C.UTF-8 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PATH=/opt/saline/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
EXPOSE 4506/tcp
ENTRYPOINT ["master"]
CMD ["start"]

RUN if ! python3 -c 'import ensurepip, venv' 2>/dev/null; then \
        apt-get update \
        && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
            python3 python3-venv ca-certificates \
        && rm -rf /var/lib/apt/lists/*; \
    fi \
    && python3 -m venv /opt/saline \
    && mkdir -p /etc/saline/formulas /etc/saline/pillar \
    && printf 'interface: 0.0.0.0\nret_port: 4506\n' > /etc/saline/master

COPY wheelhouse/deps/ /opt/wheelhouse/deps/
RUN /opt/saline/bin/pip install --no-index --find-links /opt/wheelhouse/deps \
        /opt/wheelhouse/deps/*.whl

COPY wheelhouse/saline-*.whl /opt/wheelhouse/
RUN /opt/saline/bin/pip install --no-index --find-links /opt/wheelhouse/deps \
        /opt/wheelhouse/saline-*.whl \
    && /opt/saline/bin/pip check \
    && rm -rf /opt/wheelhouse
