# The ledighed service: `docker build -t ledighed .`, then `docker run ledighed run --kafka HOST:PORT`
# (or `docker compose up -d --build`, see docker-compose.yml). Any other `ledighed` command works
# the same way: `docker run --rm -e LEDIGHED_DB_URL=... ledighed worklist --json`.
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

# Run as an unprivileged user; its home is the working directory (a SQLite file, if no
# LEDIGHED_DB_URL is given, lands here).
RUN useradd --create-home --home-dir /home/ledighed --uid 10001 --user-group ledighed \
    && mkdir /keys && chown ledighed:ledighed /keys && chmod 700 /keys
USER ledighed
WORKDIR /home/ledighed

ENTRYPOINT ["ledighed"]
CMD ["run"]
