"""What is served is covered by the chain (issue 26, point 4): an attacker with write access
to the database who swaps two members' CPRs in the registry, edits the published handover
feed or deletes entries of the access log is reported by `audit verify` (the CLI's JSON and
text, and GET /audit/verify), on SQLite and PostgreSQL; an untouched store verifies clean."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete, insert, select, update

from infra import bootstrap
from infra.cli import main
from infra.http.api import create_app
from infra.settings import Settings
from infra.store.store import Store
from infra.store.tables import access_log, access_log_members, chain_seals, members
from projections.tables import handover_feed
from tests.scenario_helpers import SCENARIOS

TOKENS = "t-aud=auditor:ida"
AUDITOR = {"Authorization": "Bearer t-aud"}


def ingest(db_url: str, *names: str) -> None:
    for name in names:
        assert main(["ingest", str(SCENARIOS / name), "--quiet", "--db", db_url]) == 0


def verified(db_url: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, dict[str, Any], str]:
    """`audit verify` three ways: its exit code and JSON (the same over HTTP), and its text."""
    capsys.readouterr()
    code = main(["audit", "verify", "--json", "--db", db_url])
    report = json.loads(capsys.readouterr().out)
    assert main(["audit", "verify", "--db", db_url]) == code
    text = capsys.readouterr().out
    store = Store(db_url)
    try:
        client = TestClient(create_app(Settings(db_url=db_url, api_tokens=TOKENS), store))
        answer = client.get("/audit/verify", headers=AUDITOR)
        assert answer.status_code == 200
        assert answer.json() == report
    finally:
        store.close()
    return code, report, text


def test_an_untouched_store_verifies_clean(db_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    ingest(db_url, "01_normal_full_time_aarhus.jsonl", "02_late_move_revises_handover.jsonl")
    code, report, text = verified(db_url, capsys)
    assert code == 0
    assert report["members_checked"] == 2
    assert report["registry_breaks"] == []
    assert "2 registry rows checked, all bound" in text


def test_two_members_cpr_and_birth_date_swapped_are_reported(
    db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    ingest(db_url, "01_normal_full_time_aarhus.jsonl", "02_late_move_revises_handover.jsonl")
    store = Store(db_url)
    try:
        with store.engine.begin() as conn:
            (a, cpr_a, birth_a), (b, cpr_b, birth_b) = conn.execute(
                select(members.c.member_id, members.c.cpr, members.c.birth_date).order_by(
                    members.c.member_id
                )
            ).all()
            where = members.c.member_id
            conn.execute(update(members).where(where == a).values(cpr=None))  # unique CPRs
            conn.execute(update(members).where(where == b).values(cpr=cpr_a, birth_date=birth_a))
            conn.execute(update(members).where(where == a).values(cpr=cpr_b, birth_date=birth_b))
    finally:
        store.close()
    code, report, text = verified(db_url, capsys)
    assert code == 1
    problem = "the registry's CPR or birth date is not the one bound to the member"
    assert report["registry_breaks"] == [
        {"member_id": a, "problem": problem},
        {"member_id": b, "problem": problem},
    ]
    assert report["breaks"] == []  # the events themselves are untouched
    assert "2 registry rows checked, 2 not bound to its member" in text
    assert f"member {a[:8]}: {problem}" in text
    for cpr in (cpr_a, cpr_b):  # the report names members by their opaque ids only
        assert cpr not in json.dumps(report) and cpr not in text


def test_an_erased_member_is_skipped(db_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    ingest(db_url, "01_normal_full_time_aarhus.jsonl", "02_late_move_revises_handover.jsonl")
    store = Store(db_url)
    try:
        with store.engine.connect() as conn:
            cpr = conn.execute(select(members.c.cpr).limit(1)).scalar_one()
    finally:
        store.close()
    assert main(["erase", cpr, "--db", db_url]) == 0
    code, report, _ = verified(db_url, capsys)
    assert (code, report["members_checked"], report["registry_breaks"]) == (0, 1, [])


def feed_rows(db_url: str) -> list[Any]:
    store = Store(db_url)
    try:
        with store.engine.connect() as conn:
            return list(conn.execute(select(handover_feed).order_by(handover_feed.c.position)))
    finally:
        store.close()


def tamper_feed(db_url: str, statement: Any) -> None:
    store = Store(db_url)
    try:
        with store.engine.begin() as conn:
            conn.execute(statement)
    finally:
        store.close()


def edited(row: Any) -> dict[str, Any]:
    """The row's payload with another jobcenter: the handover sent elsewhere."""
    payload = dict(row.payload)
    payload["jobcenter_municipality_code"] = "0101"
    assert payload != row.payload
    return payload


def test_an_edited_feed_row_is_reported(db_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    ingest(db_url, "02_late_move_revises_handover.jsonl")
    rows = feed_rows(db_url)
    assert len(rows) >= 2
    code, report, text = verified(db_url, capsys)
    assert (code, report["feed_rows_checked"], report["feed_breaks"]) == (0, len(rows), [])
    assert f"{len(rows)} handover feed rows checked, as their events make them" in text
    row = rows[0]
    where = handover_feed.c.position == row.position
    tamper_feed(db_url, update(handover_feed).where(where).values(payload=edited(row)))
    code, report, text = verified(db_url, capsys)
    assert code == 1
    problem = "the feed row is not what its handover event makes"
    assert report["feed_breaks"] == [
        {"position": row.position, "message_id": row.message_id, "problem": problem}
    ]
    assert f"position {row.position} ({row.message_id}): {problem}" in " ".join(text.split())


def test_a_deleted_and_an_added_feed_row_are_reported(
    db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    ingest(db_url, "02_late_move_revises_handover.jsonl")
    first, second = feed_rows(db_url)[:2]
    tamper_feed(db_url, delete(handover_feed).where(handover_feed.c.position == first.position))
    forged = {**second._mapping, "position": 10**6, "message_id": "forged-1"}
    tamper_feed(db_url, insert(handover_feed).values(**forged))
    code, report, _ = verified(db_url, capsys)
    assert code == 1
    assert report["feed_breaks"] == [
        {
            "position": first.position,
            "message_id": first.message_id,
            "problem": "a handover event with no feed row",
        },
        {
            "position": 10**6,
            "message_id": "forged-1",
            "problem": "a feed row with no handover event at its position",
        },
    ]


def test_an_edited_outbox_row_is_refused_before_publishing(
    db_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    ingest(db_url, "02_late_move_revises_handover.jsonl")
    rows = feed_rows(db_url)
    row = rows[0]
    where = handover_feed.c.position == row.position
    tamper_feed(db_url, update(handover_feed).where(where).values(payload=edited(row)))
    ledighed = bootstrap.application(Settings(db_url=db_url))
    try:
        with caplog.at_level(logging.ERROR, logger="ledighed.publisher"):
            due = ledighed.unpublished_handovers(100)
        # the edited row is not sent; the others are, in feed order
        assert [m["message_id"] for m in due] == [r.message_id for r in rows[1:]]
        assert ledighed.handovers_refused == 1
        refusals = [r for r in caplog.records if "refused" in r.getMessage()]
        assert [(r.position, r.message_id) for r in refusals] == [  # type: ignore[attr-defined]
            (row.position, row.message_id)
        ]
    finally:
        ledighed.close()


def read_cases(db_url: str, times: int) -> None:
    """Reads of personal data over HTTP, each an access log entry."""
    store = Store(db_url)
    try:
        tokens = "t-adv=adviser:anna"
        client = TestClient(create_app(Settings(db_url=db_url, api_tokens=tokens), store))
        for _ in range(times):
            answer = client.get("/cases/0203851234", headers={"Authorization": "Bearer t-adv"})
            assert answer.status_code == 200
    finally:
        store.close()


def log_ids(db_url: str) -> list[int]:
    store = Store(db_url)
    try:
        with store.engine.connect() as conn:
            return list(conn.execute(select(access_log.c.entry_id).order_by("entry_id")).scalars())
    finally:
        store.close()


def test_an_untouched_access_log_verifies(db_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    ingest(db_url, "01_normal_full_time_aarhus.jsonl")
    read_cases(db_url, 3)
    code, report, text = verified(db_url, capsys)
    assert (code, report["access_log_breaks"]) == (0, [])
    assert report["access_log_checked"] == len(log_ids(db_url)) >= 3
    assert "access log entries checked, the chain holds to its sealed head" in text


def test_an_entry_deleted_in_the_middle_is_reported(
    db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    ingest(db_url, "01_normal_full_time_aarhus.jsonl")
    read_cases(db_url, 3)
    _, middle, last = log_ids(db_url)[-3:]
    tamper_feed(db_url, delete(access_log_members).where(access_log_members.c.entry_id == middle))
    tamper_feed(db_url, delete(access_log).where(access_log.c.entry_id == middle))
    code, report, text = verified(db_url, capsys)
    assert code == 1
    problem = (
        "the entry's content, its members or its predecessor (deleted?) does not match its link"
    )
    assert report["access_log_breaks"] == [{"entry_id": last, "problem": problem}]
    assert f"entry {last}: " in text


def test_an_edited_entry_and_a_removed_member_are_reported(
    db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    ingest(db_url, "01_normal_full_time_aarhus.jsonl")
    read_cases(db_url, 3)
    first, middle, _ = log_ids(db_url)[-3:]
    tamper_feed(db_url, update(access_log).where(access_log.c.entry_id == first).values(reader="x"))
    tamper_feed(db_url, delete(access_log_members).where(access_log_members.c.entry_id == middle))
    code, report, _ = verified(db_url, capsys)
    assert code == 1
    assert [b["entry_id"] for b in report["access_log_breaks"]] == [first, middle]


def test_the_newest_entries_deleted_are_reported(
    db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    ingest(db_url, "01_normal_full_time_aarhus.jsonl")
    read_cases(db_url, 3)
    *_, kept, second_last, last = log_ids(db_url)
    for entry_id in (second_last, last):
        where = access_log_members.c.entry_id == entry_id
        tamper_feed(db_url, delete(access_log_members).where(where))
        tamper_feed(db_url, delete(access_log).where(access_log.c.entry_id == entry_id))
    code, report, _ = verified(db_url, capsys)
    assert code == 1
    assert report["access_log_breaks"] == [
        {
            "entry_id": last,
            "problem": f"the newest entries after entry {kept} are missing (the head is at {last})",
        }
    ]


def test_the_whole_access_log_deleted_with_its_head_is_reported(
    db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    ingest(db_url, "01_normal_full_time_aarhus.jsonl")
    read_cases(db_url, 2)
    tamper_feed(db_url, delete(access_log_members))
    tamper_feed(db_url, delete(access_log))
    tamper_feed(db_url, delete(chain_seals).where(chain_seals.c.originator_id == "access-log"))
    code, report, _ = verified(db_url, capsys)
    assert code == 1
    assert report["access_log_breaks"] == [
        {"entry_id": 0, "problem": "the access log's sealed head is missing"}
    ]
    assert report["breaks"] == []  # the events' seals are another matter


def test_a_head_moved_back_without_the_key_is_reported(
    db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    ingest(db_url, "01_normal_full_time_aarhus.jsonl")
    read_cases(db_url, 3)
    *_, kept, last = log_ids(db_url)
    store = Store(db_url)
    try:
        with store.engine.connect() as conn:
            link = conn.execute(
                select(access_log.c.link).where(access_log.c.entry_id == kept)
            ).scalar_one()
    finally:
        store.close()
    # the newest entry deleted and the head set to the one before it, its seal unchanged
    tamper_feed(db_url, delete(access_log_members).where(access_log_members.c.entry_id == last))
    tamper_feed(db_url, delete(access_log).where(access_log.c.entry_id == last))
    head = chain_seals.c.originator_id == "access-log"
    tamper_feed(db_url, update(chain_seals).where(head).values(originator_version=kept, hash=link))
    code, report, _ = verified(db_url, capsys)
    assert code == 1
    assert report["access_log_breaks"] == [
        {"entry_id": kept, "problem": "the access log's head seal is forged"}
    ]


def test_concurrent_readers_never_fork_the_chain(
    db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from infra.store import access_log as log

    ingest(db_url, "01_normal_full_time_aarhus.jsonl")
    store = Store(db_url)
    try:

        def read(n: int) -> None:
            for _ in range(5):
                log.record(
                    store.engine, store.secrets, reader=f"r{n}", role="auditor",
                    source="api", what="case", parameters={}, member_ids=[], rows=0,
                )  # fmt: skip

        with ThreadPoolExecutor(6) as pool:
            list(pool.map(read, range(6)))
    finally:
        store.close()
    code, report, _ = verified(db_url, capsys)
    assert (code, report["access_log_checked"], report["access_log_breaks"]) == (0, 30, [])
