"""Tamper evidence: every stored event chains onto its predecessor's hash; `ledighed audit
verify` finds the first broken link per case, on SQLite and PostgreSQL."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import delete, func, select, update

from infra.cli import main
from infra.store.store import Store
from tests.scenario_helpers import SCENARIOS


def verify(db_url: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, dict[str, object]]:
    capsys.readouterr()
    code = main(["audit", "verify", "--json", "--db", db_url])
    return code, json.loads(capsys.readouterr().out)


def ingest(db_url: str, name: str, *options: str) -> None:
    assert main(["ingest", str(SCENARIOS / name), "--quiet", "--db", db_url, *options]) == 0


def test_an_untouched_store_verifies_also_across_batches(
    db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # One message a transaction: every chain is continued from the stored hashes.
    ingest(db_url, "02_late_move_revises_handover.jsonl", "--batch-size", "1")
    ingest(db_url, "01_normal_full_time_aarhus.jsonl")
    code, report = verify(db_url, capsys)
    assert code == 0
    assert report["breaks"] == []
    assert isinstance(report["events_checked"], int) and report["events_checked"] > 20


def test_a_row_edited_behind_the_systems_back_is_caught(
    db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    ingest(db_url, "01_normal_full_time_aarhus.jsonl")
    store = Store(db_url)
    events = store.events_table
    try:
        with store.engine.begin() as conn:
            originator, state = conn.execute(
                select(events.c.originator_id, events.c.state)
                .where(events.c.originator_version == 4)
                .limit(1)
            ).one()
            forged = bytes(state).replace(b"160.33", b"170.33").replace(b"2021", b"2020", 1)
            assert forged != bytes(state)
            conn.execute(
                update(events)
                .where(events.c.originator_id == originator, events.c.originator_version == 4)
                .values(state=forged)
            )
    finally:
        store.close()
    code, report = verify(db_url, capsys)
    assert code == 1
    assert report["breaks"] == [
        {
            "aggregate_id": str(originator),
            "version": 4,
            "problem": "the event's content or its predecessor does not match its stored hash",
        }
    ]


def test_a_removed_row_is_caught_as_a_missing_version(
    db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    ingest(db_url, "01_normal_full_time_aarhus.jsonl")
    store = Store(db_url)
    events = store.events_table
    try:
        with store.engine.begin() as conn:
            originator = conn.execute(  # a case with a fourth event after the third
                select(events.c.originator_id).where(events.c.originator_version == 4).limit(1)
            ).scalar_one()
            conn.execute(
                delete(events).where(
                    events.c.originator_id == originator, events.c.originator_version == 3
                )
            )
    finally:
        store.close()
    code, report = verify(db_url, capsys)
    assert code == 1
    assert report["breaks"] == [
        {
            "aggregate_id": str(originator),
            "version": 3,
            "problem": "version 3 is missing (next stored is 4)",
        }
    ]


def test_a_chain_cut_at_its_end_is_caught(db_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    ingest(db_url, "01_normal_full_time_aarhus.jsonl")
    store = Store(db_url)
    events = store.events_table
    try:
        with store.engine.begin() as conn:
            originator, last = conn.execute(
                select(events.c.originator_id, func.max(events.c.originator_version))
                .group_by(events.c.originator_id)
                .order_by(func.max(events.c.originator_version).desc())
                .limit(1)
            ).one()
            conn.execute(
                delete(events).where(
                    events.c.originator_id == originator, events.c.originator_version == last
                )
            )
    finally:
        store.close()
    code, report = verify(db_url, capsys)
    assert code == 1
    assert report["breaks"] == [
        {
            "aggregate_id": str(originator),
            "version": last,
            "problem": f"version {last} is missing (its hash is stored, the event is not)",
        }
    ]
