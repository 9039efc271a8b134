"""The service against the real local broker and a real store: records in, handovers out."""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Callable, Iterator
from datetime import date
from typing import Any

import pytest
from kafka import KafkaProducer

from infra.clock import DayClock
from infra.runtime.service import Service
from infra.settings import Settings
from infra.store.store import Store
from tests.kafka_helpers import hours, produce, read_topic, registration, wait_for

pytestmark = pytest.mark.kafka

CPR = "0101901234"  # born 1990-01-01


def _registration(message_id: str, cpr: str = CPR) -> dict[str, Any]:
    return registration(message_id, cpr)


def _hours(message_id: str, month: str, paid: float, cpr: str = CPR) -> dict[str, Any]:
    return hours(message_id, month, paid, cpr)


@pytest.fixture
def running_service(kafka_settings: Settings, tmp_path: Any) -> Iterator[Callable[[], Service]]:
    """Start the service in a thread on a SQLite file; stopped at the end of the test."""
    started: list[tuple[Service, threading.Thread]] = []
    settings = kafka_settings.model_copy(update={"db_url": f"sqlite:///{tmp_path}/service.db"})

    def start() -> Service:
        service = Service(settings, settings.kafka_bootstrap or "", report_every_s=1)
        thread = threading.Thread(target=service.run, daemon=True)
        thread.start()
        started.append((service, thread))
        return service

    yield start
    for service, thread in started:
        service.stop()
        thread.join(timeout=30)
        assert not thread.is_alive(), "the service did not stop within 30 s"


def test_r8_hours_reaching_410_in_may_2021_publish_one_handover_on_the_feed(
    kafka_settings: Settings, running_service: Callable[[], Service]
) -> None:
    # S = 2021-03-01; 160.33 + 160.33 + 89.34 = 410.00 in May: exit 2021-05-31 (R8, R12).
    settings = kafka_settings
    produce(settings, settings.topic_members, [_registration("e2e-1")])
    produce(
        settings,
        settings.topic_payments,
        [
            _hours("e2e-2", "2021-03", 160.33),
            _hours("e2e-3", "2021-04", 160.33),
            _hours("e2e-4", "2021-05", 89.34),
        ],
    )
    running_service()
    (record,) = read_topic(settings, settings.topic_handovers, 1)
    handover = json.loads(record.value)
    assert record.key == handover["case_id"].encode()
    assert handover["message_id"] == f"{handover['case_id']}:handover:1"
    assert handover["type"] == "handover" and handover["replaces"] is None
    assert handover["cpr"] == CPR
    assert handover["reason"] == "hours_threshold"
    assert handover["effective_on"] == "2021-05-31"
    assert handover["jobcenter_must"] == {"job": 4, "joint": 2, "by": "2021-09-01"}


def test_a_poison_record_goes_to_the_dlq_unchanged_and_the_good_ones_around_it_apply(
    kafka_settings: Settings, running_service: Callable[[], Service]
) -> None:
    settings = kafka_settings
    poison = b'{"message_id": "p-2", "type": "hours_paid", "cpr": "0101901234", "mon'
    produce(settings, settings.topic_members, [_registration("p-1")])
    produce(settings, settings.topic_members, [poison])
    produce(settings, settings.topic_members, [_hours("p-3", "2021-03", 100)])
    service = running_service()
    (dead,) = read_topic(settings, f"{settings.topic_members}.dlq", 1)
    assert dead.value == poison
    headers = dict(dead.headers)
    assert headers["source_topic"] == settings.topic_members.encode()
    assert headers["error"].startswith(b"not valid JSON") or b"JSON" in headers["error"]
    assert set(headers) == {
        "error",
        "error_field",
        "source_topic",
        "source_partition",
        "source_offset",
    }
    wait_for(lambda: service.sink.totals.accepted == 2, what="the two good records")
    store = Store(settings.model_copy(update={"db_url": service.ledighed.store.url}).db_url)
    try:
        (case,) = store.cases_of(CPR)
        assert [p.hours for p in case.facts.payments] == [100]
        assert len(store.dead_letters()) == 1
    finally:
        store.close()


@pytest.mark.parametrize("limit", [None, 4 * 1024 * 1024], ids=["kept-cut", "kept-whole"])
def test_a_2_mib_record_never_freezes_the_service_and_its_dlq_copy_goes_cut(
    kafka_settings: Settings, tmp_path: Any, limit: int | None
) -> None:
    """Issue 26, point 2: a 2 MiB record between good ones. Its dead letter keeps its first
    LEDIGHED_MAX_MESSAGE_BYTES (64 KiB by default; with 4 MiB it is kept whole and refused
    for its note), and its copy on `<topic>.dlq` fits the producer's 1 MiB, cut, saying so:
    the good records behind it apply and the DLQ is not stuck on it."""
    settings = kafka_settings.model_copy(update={"db_url": f"sqlite:///{tmp_path}/big.db"})
    if limit is not None:
        settings = settings.model_copy(update={"max_message_bytes": limit})
    big = json.dumps(
        {"message_id": "big-2", "type": "jobcenter_contact", "cpr": CPR, "on": "2021-03-05",
         "about": "ordinary_job", "note": "x" * (2 * 1024 * 1024)}
    ).encode()
    producer = KafkaProducer(
        bootstrap_servers=settings.kafka_bootstrap, acks="all", max_request_size=8 << 20
    )
    try:
        for value in (
            json.dumps(_registration("big-1")).encode(),
            big,
            json.dumps(_hours("big-3", "2021-03", 100)).encode(),
        ):
            producer.send(settings.topic_members, key=CPR.encode(), value=value).get(timeout=30)
    finally:
        producer.close()
    poison = b'{"message_id": "big-4", "cpr": "0101901234", "mon'  # a DLQ letter behind it
    produce(settings, settings.topic_members, [poison])

    service = Service(settings, settings.kafka_bootstrap or "", report_every_s=1)
    thread = threading.Thread(target=service.run, daemon=True)
    thread.start()
    try:
        wait_for(lambda: service.sink.totals.accepted == 2, what="the good records", timeout_s=60)
        copies = read_topic(settings, f"{settings.topic_members}.dlq", 2, timeout_s=60)
        # Two partitions: the copies' order between them is the broker's, not the test's.
        cut, after = sorted(copies, key=lambda r: "truncated" not in dict(r.headers))
        headers = dict(cut.headers)
        assert headers["truncated"] == str(len(big)).encode()
        assert headers["original_sha256"] == hashlib.sha256(big).hexdigest().encode()
        kept = 64 * 1024 if limit is None else None
        assert (len(cut.value) == kept) if kept else (512 * 1024 < len(cut.value) < 1 << 20)
        assert big.startswith(cut.value)
        assert headers["source_offset"] == b"1" and after.value == poison
        letters = service.ledighed.store.dead_letters()
        (letter,) = [row for row in letters if big.startswith(row["value"])]
        assert len(letters) == 2 and int(headers["dead_letter_id"]) == letter["id"]
        assert letter["cut"] == (
            {"length": len(big), "sha256": hashlib.sha256(big).hexdigest()} if kept else None
        )
        assert len(letter["value"]) == (kept or len(big))
        assert service.publisher.dead_letters_published == 2
    finally:
        service.stop()
        thread.join(timeout=30)
    store = Store(settings.db_url)
    try:
        (case,) = store.cases_of(CPR)
        assert [p.hours for p in case.facts.payments] == [100]
    finally:
        store.close()


def test_a_failing_dead_letter_publish_stops_neither_the_tick_nor_the_rest(
    kafka_settings: Settings, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 26, point 2: the follow-up steps fail on their own. The DLQ publish fails every
    time; the records behind the poison apply, the daily tick runs (R16) and the handover
    they make reaches the feed."""
    from infra.kafka.publisher import Publisher

    attempts: list[int] = []

    def refused(self: Publisher, limit: int) -> int:
        attempts.append(limit)
        raise RuntimeError("the DLQ refuses everything")

    monkeypatch.setattr(Publisher, "publish_dead_letters", refused)
    settings = kafka_settings.model_copy(update={"db_url": f"sqlite:///{tmp_path}/f.db"})
    produce(settings, settings.topic_members, [_registration("f-1"), b'{"message_id": "f-x'])
    produce(settings, settings.topic_payments, [
        _hours("f-2", "2021-03", 160.33), _hours("f-3", "2021-04", 160.33),
        _hours("f-4", "2021-05", 89.34),
    ])
    service = Service(settings, settings.kafka_bootstrap or "", report_every_s=1)
    thread = threading.Thread(target=service.run, daemon=True)
    thread.start()
    try:
        (record,) = read_topic(settings, settings.topic_handovers, 1, timeout_s=60)
        assert json.loads(record.value)["reason"] == "hours_threshold"
        wait_for(lambda: service.sink.totals.accepted == 4, what="the good records")
        assert service.last_tick == service.clock.today()  # the tick ran
        assert attempts and service.publisher.dead_letters_published == 0
    finally:
        service.stop()
        thread.join(timeout=30)


def test_r16_a_case_consumed_after_the_days_tick_has_left_the_trial_at_once(
    kafka_settings: Settings, tmp_path: Any
) -> None:
    # The service's calendar says 2024-03-01. Its daily tick runs at start; a member who
    # registers 2023-10-02 in Aarhus arrives after it: the batch that applies the
    # registration ends the case, effective 2023-12-31, as the tick of 2024-03-01 (R16),
    # without waiting for the next day's tick.
    settings = kafka_settings.model_copy(update={"db_url": f"sqlite:///{tmp_path}/service.db"})
    clock = DayClock(date(2024, 3, 1))
    service = Service(settings, settings.kafka_bootstrap or "", report_every_s=1, clock=clock)
    thread = threading.Thread(target=service.run, daemon=True)
    thread.start()
    try:
        produce(settings, settings.topic_members, [_registration("t-1", "0202801234")])
        wait_for(lambda: service.sink.totals.accepted == 1, what="the first registration")
        wait_for(lambda: service.last_tick == clock.day, what="the day's tick")
        produce(settings, settings.topic_members, [registration("t-2", CPR, "2023-10-02")])
        wait_for(lambda: service.sink.totals.accepted == 2, what="the late registration")
        # each batch ended its case (0202801234 registered 2021-03-01, never left the trial)
        assert service.sink.totals.programme_ended == 2
        (case,) = service.ledighed.store.cases_of(CPR)
        assert (case.exit.reason, case.exit.on) == ("programme_ended", date(2023, 12, 31))
    finally:
        service.stop()
        thread.join(timeout=30)
