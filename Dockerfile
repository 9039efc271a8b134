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

# Only what the package is built from (pyproject.toml lists the four top-level packages).
WORKDIR /tmp/src
COPY pyproject.toml ./
COPY domain ./domain
COPY projections ./projections
COPY consumers ./consumers
COPY infra ./infra

# Install the project (not editable), check that the installed copy imports, and drop the sources.
RUN pip install . \
    && cd / \
    && python -c "import infra.cli, infra.runtime.run, domain.rules" \
    && ledighed --help > /dev/null \
    && rm -rf /tmp/src

# Run as an unprivileged user; its home is the working directory (`run` never falls back to a
# SQLite file here: it needs LEDIGHED_DB_URL).
RUN useradd --create-home --home-dir /home/ledighed --uid 10001 --user-group ledighed \
    && mkdir /keys && chown ledighed:ledighed /keys && chmod 700 /keys
USER ledighed
WORKDIR /home/ledighed

ENTRYPOINT ["ledighed"]
CMD ["run"]
