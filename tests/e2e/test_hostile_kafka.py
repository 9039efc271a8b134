"""Hostile records through the real consumer, the local broker and PostgreSQL: each goes to
the DLQ unchanged with its reason, and the good records around it apply."""

from __future__ import annotations

import json
from datetime import date

import pytest
from kafka import KafkaProducer

from domain.untrusted import DEFAULT_MAX_MESSAGE_BYTES
from infra.reads import worklist
from infra.settings import Settings
from infra.store.store import Store
from tests.kafka_helpers import ServiceThreads, hours, read_until, registration, wait_for

pytestmark = pytest.mark.kafka

CPR = "0101901234"  # born 1990-01-01


def adviser(message_id: str, name: str) -> bytes:
    message = {
        "message_id": message_id,
        "type": "adviser_assigned",
        "cpr": CPR,
        "adviser": name,
        "assigned_on": "2021-03-02",
    }
    return json.dumps(message).encode()


def contact(message_id: str, note: str) -> bytes:
    message = {
        "message_id": message_id,
        "type": "jobcenter_contact",
        "cpr": CPR,
        "on": "2021-03-03",
        "about": "ordinary_job",
        "note": note,
    }
    return json.dumps(message).encode()


# In the order produced, all with the member's key (one partition): good, then each kind of
# hostile record, then good again.
RECORDS: list[tuple[bytes, str | None, str | None]] = [
    (json.dumps(registration("k-1", CPR)).encode(), None, None),
    (adviser("k-2", "anna").replace(b"anna", b"\xffnna"), "not UTF-8 text", None),
    (
        contact("k-3", "x").replace(b'"x"', b"[" * 2000 + b"]" * 2000),
        "nested more than 32 levels",
        None,
    ),
    (adviser("k-4", "an\u0000na"), "control character (U+0000)", "adviser"),
    (contact("k-5", "\ud800"), "lone surrogate (U+D800)", "note"),
    (contact("k-6", "x" * 70_000), "more than the limit of 65536", None),
    (adviser("k-7", "anna"), None, None),
    (json.dumps(hours("k-8", "2021-03", 100, CPR)).encode(), None, None),
    (json.dumps(hours("k-9", "2021-04", "12.5", CPR)).encode(), "is a string", "hours"),  # type: ignore[arg-type]
]


def test_hostile_records_go_to_the_dlq_and_the_good_ones_around_them_apply(
    kafka_settings: Settings, fresh_postgres_url: str, services: ServiceThreads
) -> None:
    settings = kafka_settings.model_copy(update={"db_url": fresh_postgres_url})
    service = services.start(settings)
    # The first daily tick (R16, today is after the trial) before anything is produced.
    wait_for(lambda: service.last_tick is not None, what="the service's first tick")
    producer = KafkaProducer(
        bootstrap_servers=settings.kafka_bootstrap,
        acks="all",
        max_in_flight_requests_per_connection=1,
    )
    try:
        for value, _, _ in RECORDS:
            producer.send(settings.topic_members, key=CPR.encode(), value=value)
        producer.flush(timeout=30)
    finally:
        producer.close()

    hostile = [(value, says, field) for value, says, field in RECORDS if says is not None]
    dlq = read_until(
        settings.kafka_bootstrap or "",
        f"{settings.topic_members}.dlq",
        lambda records: len(records) >= len(hostile),
    )
    # unchanged, but for the one over the size limit: its first 64 KiB, saying so
    kept = DEFAULT_MAX_MESSAGE_BYTES
    assert [record.value for record in dlq] == [value[:kept] for value, _, _ in hostile]
    for record, (value, says, field) in zip(dlq, hostile, strict=True):
        headers = dict(record.headers)
        assert headers.get("truncated") == (str(len(value)).encode() if len(value) > kept else None)
        assert says in headers["error"].decode()
        assert headers["error_field"].decode() == (field or "")
        assert headers["source_topic"] == settings.topic_members.encode()
    wait_for(lambda: service.sink.totals.accepted == 3, what="the three good records")
    assert services.alive() and not services.errors

    store = Store(fresh_postgres_url)
    try:
        (case,) = store.cases_of(CPR)
        assert [p.hours for p in case.facts.payments] == [100]
        assert len(store.dead_letters()) == len(hostile)
        tasks = worklist(store, date(2021, 3, 10), settings.rule_settings())
        assert {task["adviser"] for task in tasks} == {"anna"}
    finally:
        store.close()
