"""The composition root: the one module that builds, from the settings, the store, the
application over it (infra/application.py), the Kafka consumer and producer and the
publisher, the local broker, the read models and the clock.

The entry points (infra/cli.py, infra/http, infra/ui, infra/runtime, infra/demo) and the
tools ask it; no other module constructs these (tests may).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kafka import KafkaConsumer, KafkaProducer
from sqlalchemy import create_engine

from infra import projections
from infra.application import Ledighed, StoreSchema
from infra.clock import SYSTEM_CLOCK, Clock, DayClock
from infra.kafka.broker import LocalBroker, default_topics, ensure_topics
from infra.kafka.publisher import Publisher
from infra.settings import Settings
from infra.store import backup as store_backup
from infra.store import key_check
from infra.store.key_check import Access
from infra.store.store import Store, sqlalchemy_url

# The service's claim on a SQLite file (infra/runtime/run.py), re-exported for it.
from infra.store.writer_lock import single_writer as single_writer
from projections.runner import Projection

# How long a Kafka client waits for the brokers it was given before `ledighed run` says so.
BOOTSTRAP_TIMEOUT_MS = 8000


def store(db_url: str, access: Access = "create") -> Store:
    """The event store at `db_url` (`Settings.db_url` or a `--db` option); `access`: what
    the opening may do to the store's keys (infra/store/key_check.py)."""
    return Store(db_url, access)


def application(
    settings: Settings,
    over: Store | None = None,
    at: Clock | None = None,
    access: Access = "create",
) -> Ledighed:
    """The application over the store at `settings.db_url` (or `over` a store a test
    opened already), with its read models (they live as long as the application, so that
    a running service's worklist keeps the cases it has seen) and the clock `at` (by
    default the machine's)."""
    if over is None:
        opened = store(settings.db_url, access)
        opened.cache_size = settings.cache_aggregates
    else:
        opened = over  # a store a test or a tool opened, with the cache it set
    opened.dead_letter_bytes = settings.max_message_bytes
    return Ledighed(
        opened,
        settings,
        clock(settings) if at is None else at,
        read_models=list(read_models(opened).values()),
    )


def store_schema(db_url: str) -> StoreSchema:
    """The store's schema, to check or migrate before the store itself can open."""
    return StoreSchema(
        create_engine(sqlalchemy_url(db_url), hide_parameters=True), sqlalchemy_url(db_url)
    )


def check_keys(db_url: str) -> None:
    """The store's key file checked against it (KeysRefused), before a service makes its
    lock file or starts a broker; for a new SQLite store it is made, as opening would."""
    url = sqlalchemy_url(db_url)
    key_check.keys_for(url, key_check.probe(url), "create")


def init_keys(db_url: str) -> dict[str, Any]:
    """`ledighed keys init`: the key file of a store that has none, made (the only way on
    PostgreSQL without a given LEDIGHED_SECRETS_FILE); its fingerprints recorded in the
    store (a new one is made at this release's schema)."""
    url = sqlalchemy_url(db_url)
    path, made = key_check.init(url)
    found = key_check.probe(url)
    if found.schema is None or found.schema.new or found.schema.at_head:
        Store(url, "write").close()  # records the fingerprints
    return {"key_file": str(path), "made": made, "store": key_check.where(url)}


def backup(db_url: str, dest: Path) -> dict[str, Any]:
    """`ledighed backup DEST`: a consistent copy of a SQLite store beside its key file."""
    return store_backup.backup(sqlalchemy_url(db_url), dest)


def kafka_consumer(settings: Settings, bootstrap: str, **overrides: Any) -> KafkaConsumer:
    """The inbound consumer group's client: offsets committed by hand, after the store."""
    config: dict[str, Any] = {
        "bootstrap_servers": bootstrap,
        "group_id": settings.kafka_group,
        "enable_auto_commit": False,
        "auto_offset_reset": "earliest",
        # A transactional producer's aborted records are never applied; its control records
        # the client skips.
        "isolation_level": "read_committed",
        "max_poll_interval_ms": settings.kafka_max_poll_interval_ms,
        "session_timeout_ms": min(
            settings.kafka_session_timeout_ms, settings.kafka_max_poll_interval_ms
        ),
        "heartbeat_interval_ms": max(
            100,
            min(
                3000,
                min(settings.kafka_session_timeout_ms, settings.kafka_max_poll_interval_ms) // 3,
            ),
        ),
        "client_id": "ledighed-consumer",
        "bootstrap_timeout_ms": BOOTSTRAP_TIMEOUT_MS,
    }
    config.update(overrides)
    return KafkaConsumer(**config)


def kafka_producer(bootstrap: str, **overrides: Any) -> KafkaProducer:
    """Idempotent, acks=all: a retried send is never stored twice, and stays in order."""
    config: dict[str, Any] = {
        "bootstrap_servers": bootstrap,
        "acks": "all",
        "enable_idempotence": True,
        "max_in_flight_requests_per_connection": 5,
        "linger_ms": 5,
        "client_id": "ledighed-publisher",
        "bootstrap_timeout_ms": BOOTSTRAP_TIMEOUT_MS,
    }
    config.update(overrides)
    return KafkaProducer(**config)


def publisher(settings: Settings, bootstrap: str, ledighed: Ledighed) -> Publisher:
    """The publisher: the handover outbox to its topic, rejected records to the DLQs."""
    return Publisher(
        ledighed.store,
        kafka_producer(bootstrap),
        settings.topic_handovers,
        unpublished_handovers=ledighed.unpublished_handovers,
        mark_handovers=ledighed.mark_handovers_published,
    )


def local_broker() -> LocalBroker:
    """The local Kafka-compatible broker (Tansu), not yet started."""
    return LocalBroker()


def create_topics(settings: Settings, bootstrap: str) -> None:
    """The service's topics on the broker at `bootstrap` (those missing; a local broker's)."""
    ensure_topics(bootstrap, default_topics(settings))


def read_models(store: Store) -> dict[str, Projection]:
    """Every read model of the store, by name."""
    return projections.projections(store)


def clock(settings: Settings | None = None) -> Clock:
    """The runtime's clock: the machine's, or the day `LEDIGHED_TODAY` sets."""
    if settings is not None and settings.today is not None:
        return DayClock(settings.today)
    return SYSTEM_CLOCK
