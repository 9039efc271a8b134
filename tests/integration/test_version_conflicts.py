"""One conflict error: every duplicate version, on either store and every insert path, is the
library's IntegrityError, and ingest, the HTTP API and the consumer retry a real conflict
(two stores on one database, one holding a stale cached case) instead of surfacing it."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any
from uuid import uuid4

import pytest
from eventsourcing.persistence import IntegrityError, StoredEvent
from fastapi.testclient import TestClient
from kafka import TopicPartition
from sqlalchemy import insert, text

from consumers.inbound import Backoff, InboundConsumer
from consumers.records import InboundRecord
from domain.params import Settings as RuleSettings
from infra.http.api import create_app
from infra.ingest import file_records
from infra.settings import Settings
from infra.store.bulk import bulk_insert
from infra.store.store import Store
from infra.store.tables import event_hashes, processed_messages
from tests.kafka_helpers import hours, registration
from tests.scenario_helpers import TRIAL_DAY, ingest

CPR = "0101851001"
HELD = {
    "message_id": "c-3",
    "type": "meeting_held",
    "cpr": CPR,
    "kind": "cv_and_job",
    "held_on": "2021-03-10",
}


@pytest.fixture
def two_stores(db_url: str) -> Iterator[tuple[Store, Store]]:
    """Two stores on one database, each with its own aggregate cache (two instances)."""
    mine, other = Store(db_url), Store(db_url)
    try:
        yield mine, other
    finally:
        mine.close()
        other.close()


def _lines(*messages: dict[str, Any]) -> Iterator[InboundRecord]:
    return file_records([json.dumps(m) for m in messages], "conflicts.jsonl")


def _conflicts_seen(store: Store, monkeypatch: pytest.MonkeyPatch) -> list[Exception]:
    """The conflicts the store's recorder raises from now on (the insert still raises)."""
    seen: list[Exception] = []
    insert_events = store.app.recorder.insert_events

    def spied(*args: Any, **kwargs: Any) -> Any:
        try:
            return insert_events(*args, **kwargs)
        except Exception as error:
            seen.append(error)
            raise

    monkeypatch.setattr(store.app.recorder, "insert_events", spied)
    return seen


def _case_events(store: Store) -> list[tuple[int, str]]:
    with store.engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT originator_version, topic FROM ledighed_events "
                "WHERE topic LIKE 'domain.case:%' ORDER BY originator_version"
            )
        ).all()
    return [(version, topic.rsplit(".", 1)[1]) for version, topic in rows]


# --- every insert path raises the one class -----------------------------------------------


def test_a_duplicate_version_is_the_librarys_integrity_error(db_url: str) -> None:
    store = Store(db_url)
    try:
        event = StoredEvent(uuid4(), 1, "topic", b"{}")
        assert store.app.recorder.insert_events([event]) == [1]
        with pytest.raises(IntegrityError):  # COPY on PostgreSQL, executemany on SQLite
            store.app.recorder.insert_events([event])
    finally:
        store.close()


def test_a_duplicate_in_the_hash_chain_is_the_librarys_integrity_error(db_url: str) -> None:
    store = Store(db_url)
    try:
        originator = uuid4()
        with store.engine.begin() as conn:  # a hash left behind for a version not stored
            conn.execute(
                insert(event_hashes),
                {"originator_id": str(originator), "originator_version": 1, "hash": "0" * 64},
            )
        with pytest.raises(IntegrityError):
            store.app.recorder.insert_events([StoredEvent(originator, 1, "topic", b"{}")])
        assert store.app.recorder.select_events(originator) == []  # nothing half-written
    finally:
        store.close()


def test_a_duplicate_row_through_bulk_insert_is_the_librarys_integrity_error(db_url: str) -> None:
    store = Store(db_url)
    row = {"message_hash": "0" * 64, "member_id": str(uuid4()), "recorded_at": datetime.now(UTC)}
    try:
        with store.engine.begin() as conn:
            conn.execute(insert(processed_messages), row)
        with pytest.raises(IntegrityError), store.engine.begin() as conn:
            bulk_insert(conn, processed_messages, [row])
    finally:
        store.close()


# --- a real conflict, retried --------------------------------------------------------------


def test_ingest_retries_a_batch_that_conflicts_with_another_store(
    two_stores: tuple[Store, Store], monkeypatch: pytest.MonkeyPatch
) -> None:
    mine, other = two_stores
    ingest(mine, RuleSettings(), _lines(registration("c-1", CPR)))
    # The other store saves a payment: `mine` still caches the case without it.
    ingest(other, RuleSettings(), _lines(hours("c-2", "2021-03", 100, CPR)))
    conflicts = _conflicts_seen(mine, monkeypatch)

    report = ingest(mine, RuleSettings(), _lines(HELD))

    assert [type(error) for error in conflicts] == [IntegrityError]  # the stale case's save
    assert (report.accepted, report.rejected, report.duplicates) == (1, [], 0)
    assert _case_events(mine) == [
        (1, "Opened"),
        (2, "Registered"),
        (3, "HoursPaid"),
        (4, "MeetingHeld"),
    ]


def test_the_http_api_retries_a_post_that_conflicts_with_another_store(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    api_store, other = Store(db_url), Store(db_url)
    try:
        # a calendar inside the trial: past its end, the post would also end the case (R16)
        settings = Settings(db_url=db_url, api_tokens="t-sys=system", today=TRIAL_DAY)
        app = create_app(settings, api_store)
        client = TestClient(app)
        headers = {"Authorization": "Bearer t-sys"}
        first = client.post("/messages", json=registration("c-1", CPR), headers=headers)
        assert first.status_code == 200, first.text
        ingest(other, RuleSettings(), _lines(hours("c-2", "2021-03", 100, CPR)))
        conflicts = _conflicts_seen(api_store, monkeypatch)

        response = client.post("/messages", json=HELD, headers=headers)

        assert response.status_code == 200, response.text
        assert response.json() == {"accepted": True, "duplicate": False, "message_id": "c-3"}
        assert [type(error) for error in conflicts] == [IntegrityError]
        assert _case_events(api_store)[-2:] == [(3, "HoursPaid"), (4, "MeetingHeld")]
    finally:
        api_store.close()
        other.close()


class _OneRecordConsumer:
    """Enough of KafkaConsumer for one poll of one record."""

    def subscribe(self, topics: Sequence[str], listener: Any) -> None:
        self.topics = topics

    def poll(self, timeout_ms: int, max_records: int) -> dict[TopicPartition, list[Any]]:
        record = SimpleNamespace(offset=7, value=json.dumps(HELD).encode(), key=None)
        return {TopicPartition("jobnet.events", 0): [record]}

    def assignment(self) -> set[TopicPartition]:
        return {TopicPartition("jobnet.events", 0)}

    def commit(self, offsets: Any, timeout_ms: int | None = None) -> None:
        self.committed = offsets


class _SinkThatConflictsOnce:
    def __init__(self) -> None:
        self.attempts = 0

    def apply(self, records: Sequence[InboundRecord], offsets: dict[tuple[str, int], int]) -> None:
        self.attempts += 1
        if self.attempts == 1:
            raise IntegrityError("duplicate key value violates unique constraint")

    def positions(self, partitions: Sequence[tuple[str, int]]) -> dict[tuple[str, int], int]:
        return {}


def test_the_consumer_applies_a_conflicting_batch_again_at_once() -> None:
    sink, waits = _SinkThatConflictsOnce(), []
    consumer = InboundConsumer(
        _OneRecordConsumer(),  # type: ignore[arg-type]
        sink,
        ["jobnet.events"],
        backoff=Backoff(sleep=waits.append),
    )
    assert consumer.poll_once() == 1
    assert sink.attempts == 2
    assert waits == []  # a conflict is not an outage: no back-off


def test_report_of_a_retried_batch_counts_the_saved_attempt_only(
    two_stores: tuple[Store, Store],
) -> None:
    mine, other = two_stores
    ingest(mine, RuleSettings(), _lines(registration("c-1", CPR)))
    ingest(other, RuleSettings(), _lines(hours("c-2", "2021-03", 100, CPR)))
    bad = {"message_id": "c-4", "type": "meeting_held", "cpr": CPR}  # no kind: rejected
    report = ingest(mine, RuleSettings(), _lines(HELD, bad))
    assert (report.accepted, len(report.rejected)) == (1, 1)
    assert len(mine.dead_letters()) == 1  # the failed attempt's dead letter was rolled back
