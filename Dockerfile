# drill, with the PostgreSQL 15 programs its restore drill runs (initdb, pg_ctl, postgres,
# pg_restore, psql, pg_amcheck).
#
#   docker build -t drill:0.1.0 .
#   docker run --rm --init --read-only --tmpfs /tmp -v drill-work:/var/lib/drill/work \
#     -v drill-reports:/var/lib/drill/reports -v "$PWD/drill.toml:/etc/drill/drill.toml:ro" drill:0.1.0
#
# Nothing secret is built in: the config is mounted at /etc/drill/drill.toml, credentials come from
# the environment or the platform (IRSA, Workload Identity), reports go to a volume. See deploy/README.md.

FROM python:3.11-slim-bookworm AS builder

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /src
# Only what the wheel is built from; the .dockerignore keeps everything else out of the context.
COPY pyproject.toml README.md ./
COPY drill/ drill/
COPY checks/ checks/
COPY reports/ reports/
RUN pip wheel --no-deps --wheel-dir /wheels . \
    && pip install --prefix=/install /wheels/drill-*.whl


FROM python:3.11-slim-bookworm

LABEL org.opencontainers.image.title="drill" \
      org.opencontainers.image.description="Backup resilience verifier and restore-drill CLI for PostgreSQL backups" \
      org.opencontainers.image.version="0.1.0" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.base.name="docker.io/library/python:3.11-slim-bookworm"

# postgresql-15 brings initdb, pg_ctl, postgres and the amcheck extension; postgresql-client-15
# brings pg_restore, psql, pg_amcheck and libpq5 (which psycopg loads). drill refuses a dump from a
# newer PostgreSQL than its pg_restore, so this major must be at least the dumps' (see deploy/README.md).
# Debian would create and configure a "main" cluster on install; drill makes its own throwaway ones.
# pgbackrest reads pgBackRest stanzas (info, repo-ls) and restores them for the physical drill; it
# should be at least as new as the release that wrote the repositories.
RUN set -eux; \
    apt-get update; \
    apt-get install -y --no-install-recommends postgresql-common; \
    sed -ri 's/^#?[[:space:]]*create_main_cluster[[:space:]]*=.*$/create_main_cluster = false/' \
        /etc/postgresql-common/createcluster.conf; \
    apt-get install -y --no-install-recommends postgresql-15 postgresql-client-15 pgbackrest; \
    rm -rf /var/lib/apt/lists/*

# A numeric, non-root user: initdb refuses root, and needs its user in /etc/passwd, so the UID the
# pod runs as (runAsUser) must be this one.
RUN set -eux; \
    groupadd --system --gid 10001 drill; \
    useradd --system --uid 10001 --gid 10001 --home-dir /var/lib/drill --no-create-home \
        --shell /usr/sbin/nologin drill; \
    install -d -m 0755 /etc/drill; \
    install -d -o 10001 -g 10001 -m 0750 /var/lib/drill /var/lib/drill/reports /var/lib/drill/work

COPY --from=builder /install /usr/local

# /etc/drill: the config, mounted read-only. /var/lib/drill/reports: the report directory (a volume).
# /var/lib/drill/work and /tmp: scratch clusters and downloads (writable; tmpfs or emptyDir).
ENV PATH=/usr/lib/postgresql/15/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1

WORKDIR /var/lib/drill
USER 10001:10001

ENTRYPOINT ["drill"]
CMD ["run", "-c", "/etc/drill/drill.toml"]
