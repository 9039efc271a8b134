"""Helpers for tests against the local broker: settings with topic names of their own."""

from __future__ import annotations

import contextlib
import json
import logging
import secrets
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

import pytest
from kafka import KafkaConsumer, KafkaProducer, TopicPartition

from infra.kafka.broker import default_topics, ensure_topics
from infra.settings import Settings
from tests.scenario_helpers import TRIAL_DAY

if TYPE_CHECKING:
    from infra.runtime.service import Service

# Short enough for a consumer group to join fast on Tansu (see CONTRACT.md).
TEST_MAX_POLL_INTERVAL_MS = 6000
TEST_SESSION_TIMEOUT_MS = 6000
TEST_HEARTBEAT_INTERVAL_MS = 1000

TOPIC_FIELDS = (
    "topic_members",
    "topic_payments",
    "topic_addresses",
    "topic_jobnet",
    "topic_adviser",
    "topic_handovers",
)


def unique_settings(bootstrap: str, suffix: str | None = None, **overrides: Any) -> Settings:
    """Settings for `bootstrap` whose topics and consumer group carry a random suffix."""
    suffix = suffix or secrets.token_hex(4)
    defaults = Settings.model_fields
    values: dict[str, Any] = {
        field: f"{defaults[field].default}-{suffix}" for field in TOPIC_FIELDS
    }
    values.update(
        kafka_bootstrap=bootstrap,
        kafka_group=f"ledighed-test-{suffix}",
        kafka_max_poll_interval_ms=TEST_MAX_POLL_INTERVAL_MS,
        kafka_session_timeout_ms=TEST_SESSION_TIMEOUT_MS,
        # The streams are the trial's years: the service's calendar stands on a day inside
        # it, so that R16 (past the programme end, each batch ends its cases) stays out of
        # tests of the service's mechanics; tests/integration/test_programme_end_in_batch.py
        # and tests/e2e/test_kafka_service.py give it a later day on purpose.
        today=TRIAL_DAY,
    )
    values.update(overrides)
    return Settings(**values)


def settings_with_topics(bootstrap: str, **overrides: Any) -> Settings:
    """`unique_settings`, with all of its topics created on the broker."""
    settings = unique_settings(bootstrap, **overrides)
    ensure_topics(bootstrap, default_topics(settings))
    return settings


def consumer_timeouts() -> dict[str, int]:
    """kafka-python consumer options that let a group join within a second or two on Tansu."""
    return {
        "max_poll_interval_ms": TEST_MAX_POLL_INTERVAL_MS,
        "session_timeout_ms": TEST_SESSION_TIMEOUT_MS,
        "heartbeat_interval_ms": TEST_HEARTBEAT_INTERVAL_MS,
    }


# --- shared by the end-to-end tests (tests/e2e/test_kafka_service.py,
# tests/e2e/test_kafka_failures.py)


def registration(message_id: str, cpr: str, registered_on: str = "2021-03-01") -> dict[str, Any]:
    """An `unemployed` message: full time, Aarhus (751), born as the CPR says (19xx)."""
    return {
        "message_id": message_id,
        "type": "unemployed",
        "cpr": cpr,
        "registered_on": registered_on,
        "insurance": "full_time",
        "municipality_code": 751,
        "birth_date": f"19{cpr[4:6]}-{cpr[2:4]}-{cpr[0:2]}",
        "vocational_education": True,
        "has_children": False,
    }


def hours(message_id: str, month: str, paid: float, cpr: str) -> dict[str, Any]:
    """An `hours_paid` message with a payment id of its own."""
    return {
        "message_id": message_id,
        "type": "hours_paid",
        "cpr": cpr,
        "payment_id": f"pay-{message_id}",
        "month": month,
        "hours": paid,
    }


def produce(settings: Settings, topic: str, records: list[dict[str, Any] | bytes]) -> None:
    """Send the records one at a time, each acknowledged before the next (key = CPR)."""
    producer = KafkaProducer(bootstrap_servers=settings.kafka_bootstrap, acks="all")
    try:
        for record in records:
            value = record if isinstance(record, bytes) else json.dumps(record).encode()
            key = None if isinstance(record, bytes) else str(record["cpr"]).encode()
            producer.send(topic, key=key, value=value).get(timeout=10)
    finally:
        producer.close()


def produce_all(bootstrap: str, messages: Sequence[tuple[str, dict[str, Any]]]) -> None:
    """Send (topic, message) pairs keyed by CPR and wait for all; a producer with one request
    in flight, so that each partition gets its messages in the order given."""
    producer = KafkaProducer(
        bootstrap_servers=bootstrap,
        acks="all",
        max_in_flight_requests_per_connection=1,
        linger_ms=5,
    )
    try:
        futures = [
            producer.send(topic, key=str(m["cpr"]).encode(), value=json.dumps(m).encode())
            for topic, m in messages
        ]
        producer.flush(timeout=30)
        for future in futures:
            future.get(timeout=10)
    finally:
        producer.close()


def read_topic(settings: Settings, topic: str, count: int, timeout_s: float = 30) -> list[Any]:
    """The first `count` records of a topic (all partitions), or fail after the timeout."""
    consumer = KafkaConsumer(
        topic,
        bootstrap_servers=settings.kafka_bootstrap,
        group_id=f"reader-{topic}",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        **consumer_timeouts(),
    )
    records: list[Any] = []
    deadline = time.monotonic() + timeout_s
    try:
        while len(records) < count and time.monotonic() < deadline:
            for batch in consumer.poll(timeout_ms=500).values():
                records.extend(batch)
    finally:
        consumer.close()
    assert len(records) >= count, f"only {len(records)} of {count} records on {topic}"
    return records


def read_until(
    bootstrap: str,
    topic: str,
    done: Callable[[list[Any]], bool],
    timeout_s: float = 30,
) -> list[Any]:
    """Every record of a topic from its beginning, without a consumer group (all partitions
    assigned, each read in order), until `done(records)` or the timeout; then the records."""
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    records: list[Any] = []
    try:
        deadline = time.monotonic() + timeout_s
        partitions = consumer.partitions_for_topic(topic)
        while not partitions and time.monotonic() < deadline:
            time.sleep(0.2)
            partitions = consumer.partitions_for_topic(topic)
        assigned = [TopicPartition(topic, p) for p in sorted(partitions or ())]
        consumer.assign(assigned)
        consumer.seek_to_beginning(*assigned)
        while time.monotonic() < deadline:
            for batch in consumer.poll(timeout_ms=300).values():
                records.extend(batch)
            if done(records):
                break
    finally:
        consumer.close()
    return records


def wait_for(condition: Callable[[], bool], timeout_s: float = 30, what: str = "") -> None:
    """Return once `condition()` holds; fail the test after the timeout."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    pytest.fail(f"timed out after {timeout_s:g} s waiting for {what}")


class ServiceThreads:
    """Services (infra.runtime.service.Service) each in a thread of its own; `stop_all` at the end.

    An exception that ends a service's `run()` is kept in `errors`, so that a test can
    assert that the service did not crash.
    """

    def __init__(self) -> None:
        self.started: list[tuple[Service, threading.Thread]] = []
        self.errors: list[BaseException] = []

    def start(self, settings: Settings) -> Service:
        from infra.runtime.service import Service

        service = Service(settings, settings.kafka_bootstrap or "", report_every_s=1)

        def run() -> None:
            try:
                service.run()
            except BaseException as error:  # kept for the test to report
                self.errors.append(error)
                raise

        thread = threading.Thread(target=run, daemon=True, name=f"service-{len(self.started)}")
        thread.start()
        self.started.append((service, thread))
        return service

    def alive(self) -> bool:
        return all(thread.is_alive() for _, thread in self.started)

    def stop(self, service: Service, timeout_s: float = 30) -> None:
        for started, thread in self.started:
            if started is service:
                service.stop()
                thread.join(timeout=timeout_s)
                assert not thread.is_alive(), f"the service did not stop within {timeout_s:g} s"

    def stop_all(self, timeout_s: float = 30) -> None:
        for service, _ in self.started:
            service.stop()
        for _, thread in self.started:
            thread.join(timeout=timeout_s)
        assert not any(t.is_alive() for _, t in self.started), "a service did not stop"


class LogCounter(logging.Handler):
    """The service's log lines (logger `ledighed` and below) at `level` or above, by message."""

    def __init__(self, level: int) -> None:
        super().__init__(level)
        self.seen: Counter[str] = Counter()

    def emit(self, record: logging.LogRecord) -> None:
        self.seen[record.getMessage()] += 1


@contextlib.contextmanager
def counting_log(level: int) -> Iterator[LogCounter]:
    """A LogCounter on the `ledighed` logger for the block's length."""
    handler = LogCounter(level)
    logger = logging.getLogger("ledighed")
    logger.addHandler(handler)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)
