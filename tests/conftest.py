"""Shared fixtures: throwaway PostgreSQL databases on the local server."""

from __future__ import annotations

import os
import secrets
import tempfile
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy.engine import URL, make_url

from infra.store.secrets import create as _create_key_file
from infra.store.secrets import default_path

DEFAULT_PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"

# The key file of a PostgreSQL store (infra/store/secrets.py) is looked for in the user's config
# dir when no LEDIGHED_SECRETS_FILE is set: for the tests (and the commands they run), a
# temporary one, with one key file in it that every test's database uses, as `ledighed keys
# init` makes it (a PostgreSQL store makes none of its own).
os.environ.setdefault("XDG_CONFIG_HOME", tempfile.mkdtemp(prefix="ledighed-test-config-"))
_create_key_file(default_path("postgresql://"))


def _admin_url() -> URL:
    return make_url(os.environ.get("LEDIGHED_TEST_PG_URL", DEFAULT_PG_URL))


def _libpq_dsn(url: URL) -> str:
    """The admin URL as a plain libpq URL for psycopg (without the '+psycopg' driver)."""
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def _unreachable(url: URL, error: Exception) -> None:
    where = url.render_as_string(hide_password=True)
    reason = f"PostgreSQL is not reachable at {where}: {error}"
    if os.environ.get("LEDIGHED_SKIP_POSTGRES") == "1":
        pytest.skip(f"LEDIGHED_SKIP_POSTGRES=1 and {reason}")
    pytest.fail(
        f"{reason}. Start it (.ci/run does) or set LEDIGHED_SKIP_POSTGRES=1 to skip on purpose.",
        pytrace=False,
    )


def _create_database() -> tuple[URL, str]:
    import psycopg

    admin = _admin_url()
    name = f"ledighed_test_{secrets.token_hex(6)}"
    try:
        with psycopg.connect(_libpq_dsn(admin), autocommit=True, connect_timeout=5) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.OperationalError as error:
        _unreachable(admin, error)
    return admin, name


def _drop_database(admin: URL, name: str) -> None:
    import psycopg

    with psycopg.connect(_libpq_dsn(admin), autocommit=True, connect_timeout=5) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _database_url(admin: URL, name: str) -> str:
    return admin.set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh database for the whole test session; its SQLAlchemy URL; dropped afterwards."""
    admin, name = _create_database()
    try:
        yield _database_url(admin, name)
    finally:
        _drop_database(admin, name)


@pytest.fixture
def fresh_postgres_url() -> Iterator[str]:
    """A fresh, empty database for one test; its SQLAlchemy URL; dropped afterwards."""
    admin, name = _create_database()
    try:
        yield _database_url(admin, name)
    finally:
        _drop_database(admin, name)


@pytest.fixture(scope="session")
def kafka_broker() -> Iterator[object]:
    """One local Tansu broker (infra.kafka.broker.LocalBroker) for the whole test session."""
    from infra.kafka.broker import BrokerError, LocalBroker

    broker = LocalBroker()
    try:
        broker.start()
    except BrokerError as error:
        if os.environ.get("LEDIGHED_SKIP_KAFKA") == "1":
            pytest.skip(f"LEDIGHED_SKIP_KAFKA=1 and the local broker did not start: {error}")
        pytest.fail(f"the local broker did not start: {error}", pytrace=False)
    try:
        yield broker
    finally:
        broker.stop()


@pytest.fixture
def kafka_settings(kafka_broker):
    """Settings for the session's broker with topics and a group of this test's own (created)."""
    from tests.kafka_helpers import settings_with_topics

    return settings_with_topics(kafka_broker.bootstrap)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Any) -> str:
    """One test, every store: a SQLite file, or a fresh PostgreSQL database (fails loudly
    when the server is down)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/s.db"
    return str(request.getfixturevalue("fresh_postgres_url"))


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """Each phase's report on the test item (`item.rep_call`), for fixtures that act on the
    outcome (the scenario tests' golden files)."""
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report
