"""An outbox row edited in the database is never published (issue 26, point 4): the
publisher's batch is checked against the events at its positions, on the real broker."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import select, update

from infra import bootstrap
from infra.cli import main
from infra.settings import Settings
from projections.tables import handover_feed
from tests.kafka_helpers import read_topic
from tests.scenario_helpers import SCENARIOS

pytestmark = pytest.mark.kafka


def test_an_edited_outbox_row_is_not_published_and_the_rest_are(
    kafka_settings: Settings, tmp_path: Any
) -> None:
    url = f"sqlite:///{tmp_path}/s.db"
    scenario = SCENARIOS / "02_late_move_revises_handover.jsonl"
    assert main(["ingest", str(scenario), "--quiet", "--db", url]) == 0
    settings = kafka_settings.model_copy(update={"db_url": url})
    ledighed = bootstrap.application(settings)
    try:
        with ledighed.store.engine.begin() as conn:
            rows = list(conn.execute(select(handover_feed).order_by(handover_feed.c.position)))
            edited = {**rows[0].payload, "jobcenter_municipality_code": "0101"}
            where = handover_feed.c.position == rows[0].position
            conn.execute(update(handover_feed).where(where).values(payload=edited))
        publisher = bootstrap.publisher(settings, settings.kafka_bootstrap or "", ledighed)
        try:
            assert publisher.publish_handovers(100) == len(rows) - 1
            assert publisher.publish_handovers(100) == 0  # refused again, never sent
        finally:
            publisher.producer.close(timeout=5)
        assert ledighed.handovers_refused == 2
    finally:
        ledighed.close()
    sent = read_topic(settings, settings.topic_handovers, len(rows) - 1)
    ids = [json.loads(r.value)["message_id"] for r in sent]
    assert ids == [r.message_id for r in rows[1:]]
