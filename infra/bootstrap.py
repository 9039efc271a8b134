"""The composition root: the one module that builds the adapters from the settings (the
store, the Kafka consumer and producer, the local broker, the read models, the clock).

The entry points (infra/cli.py, infra/http, infra/runtime, infra/demo) and the tools ask it;
no other module constructs these (tests may).
"""

from __future__ import annotations

from typing import Any

from kafka import KafkaConsumer, KafkaProducer

from infra import projections
from infra.kafka.broker import LocalBroker
from infra.clock import SYSTEM_CLOCK, Clock
from infra.settings import Settings
from infra.store.store import Store
from projections.runner import Projection

# How long a Kafka client waits for the brokers it was given before `ledighed run` says so.
BOOTSTRAP_TIMEOUT_MS = 8000


def store(db_url: str) -> Store:
    """The event store at `db_url` (`Settings.db_url` or a `--db` option)."""
    return Store(db_url)


def kafka_consumer(settings: Settings, bootstrap: str, **overrides: Any) -> KafkaConsumer:
    """The inbound consumer group's client: offsets committed by hand, after the store."""
    config: dict[str, Any] = {
        "bootstrap_servers": bootstrap,
        "group_id": settings.kafka_group,
        "enable_auto_commit": False,
        "auto_offset_reset": "earliest",
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


def local_broker() -> LocalBroker:
    """The local Kafka-compatible broker (Tansu), not yet started."""
    return LocalBroker()


def read_models(store: Store) -> dict[str, Projection]:
    """Every read model of the store, by name."""
    return projections.projections(store)


def clock() -> Clock:
    """The runtime's clock: the machine's."""
    return SYSTEM_CLOCK
