"""Two service instances on one database, each with its own store and aggregate cache: a unit
of work that fails on the other's writes must leave nothing unsaved in its cache."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest
from sqlalchemy import text

from consumers.records import InboundRecord
from domain.params import Settings
from infra.ingest import Report, apply_batch
from infra.store.store import Store
from infra.tick import tick
from tests.kafka_helpers import hours, registration

pytestmark = pytest.mark.postgres

CPR = "0101851001"


def _record(message: dict[str, Any], offset: int) -> InboundRecord:
    return InboundRecord(raw=json.dumps(message), topic="t", partition=0, offset=offset)


def test_a_tick_reads_the_cases_from_the_log_not_a_stale_cache(
    fresh_postgres_url: str,
) -> None:
    mine, other = Store(fresh_postgres_url), Store(fresh_postgres_url)
    try:
        apply_batch(mine, Settings(), [_record(registration("w-1", CPR), 1)], Report())
        # The other instance saves a payment: `mine` still caches the case without it.
        apply_batch(other, Settings(), [_record(hours("w-2", "2021-03", 100, CPR), 2)], Report())
        # R16 reads every case in one pass over the log, so it builds on the payment.
        assert tick(mine, date(2024, 1, 2), Settings()).exits == 1
        held = {
            "message_id": "w-3",
            "type": "meeting_held",
            "cpr": CPR,
            "kind": "cv_and_job",
            "held_on": "2021-03-10",
        }
        apply_batch(mine, Settings(), [_record(held, 3)], Report())
        with mine.engine.connect() as conn:
            rows = conn.execute(
                text(
                    "SELECT originator_version, topic FROM ledighed_events "
                    "WHERE topic LIKE 'domain.case:%' ORDER BY originator_version"
                )
            ).all()
        # No gap, nothing lost: the tick's events follow the payment, the meeting follows them
        # (and the handover it revises).
        names = [t.rsplit(".", 1)[1] for _, t in rows]
        assert [v for v, _ in rows] == list(range(1, len(rows) + 1))
        assert names[:4] == ["Opened", "Registered", "HoursPaid", "ProgrammeEnded"]
        assert "MeetingHeld" in names[names.index("HandedOver") :]
        assert tick(mine, date(2024, 1, 2), Settings()).exits == 0  # once
    finally:
        mine.close()
        other.close()
