"""The service tests' fake runs the real batch path: `FakeUnitOfWork` implements the same
unit-of-work port (`infra.ports.UnitOfWorkPort`) as the store's `UnitOfWork`, and
`infra.ingest.apply_records` (ingest's and the consumers' path) runs on it."""

from __future__ import annotations

import inspect
import json
from datetime import date

import pytest

from consumers.records import InboundRecord
from domain.errors import Rejected
from domain.messages import InvalidMessage
from domain.params import DEFAULT_SETTINGS
from infra.ingest import Report, apply_records
from infra.ports import UnitOfWorkPort
from infra.store.unit_of_work import UnitOfWork
from tests.fakes import CPR, Desk, FakeBook, FakeUnitOfWork, meeting_held, msg, unemployed

PORT = [
    name
    for name, member in inspect.getmembers(UnitOfWorkPort)
    if inspect.isfunction(member) and not name.startswith("_")
]


def test_the_port_names_what_the_batch_path_and_the_service_use() -> None:
    assert {"member_id", "enrol", "member", "case", "add"} <= set(PORT)  # the Book
    assert {"is_duplicate", "accept", "reject", "commit", "check_unchanged"} <= set(PORT)


@pytest.mark.parametrize("name", PORT)
def test_the_store_and_the_fake_implement_the_port_alike(name: str) -> None:
    port = list(inspect.signature(getattr(UnitOfWorkPort, name)).parameters)
    assert list(inspect.signature(getattr(UnitOfWork, name)).parameters) == port
    assert list(inspect.signature(getattr(FakeUnitOfWork, name)).parameters) == port


def records(*messages: dict[str, object]) -> list[InboundRecord]:
    return [
        InboundRecord.from_line(json.dumps(m).encode(), "batch.jsonl", n)
        for n, m in enumerate(messages, start=1)
    ]


def test_one_batch_deduplicates_rejects_and_commits_at_once() -> None:
    # R1 S = 2021-03-01; R4 cv_and_job held 2021-03-08; the same id again in the batch is
    # a duplicate; held twice under a new id is refused by R4; a line that is no message
    # is refused by the parser. Nothing is saved before commit.
    book = FakeBook()
    registration = unemployed("2021-03-01")
    held = meeting_held("cv_and_job", "2021-03-08")
    again = meeting_held("cv_and_job", "2021-03-09")
    batch = records(registration, held, held, again)
    batch.append(InboundRecord.from_line(b"{not json", "batch.jsonl", 5))
    report = Report()
    apply_records(FakeUnitOfWork(book), DEFAULT_SETTINGS, batch, report)
    assert (report.accepted, report.duplicates) == (2, 1)
    assert [(r["line"], r["error_field"]) for r in report.rejected] == [(4, "kind"), (5, None)]
    assert book.processed == {registration["message_id"], held["message_id"]}
    assert [d["source"]["offset"] for d in book.dead_letters] == [4, 5]
    assert all(not a.pending_events for a in book.aggregates())  # all saved
    assert report.events == sum(len(events) for events in book.stored.values())
    # a later batch: what was accepted is a duplicate, a refused id may come again
    later = Report()
    apply_records(FakeUnitOfWork(book), DEFAULT_SETTINGS, records(held), later)
    assert (later.accepted, later.duplicates) == (0, 1)


def test_r16_past_the_programme_end_by_the_calendar_on_the_fake_too() -> None:
    # S = 2023-10-02 in Aarhus; the batch's calendar day is 2024-03-01: the case ends
    # 2023-12-31 as the tick of 2024-03-01 (infra/tick.py), in the same batch
    book = FakeBook()
    report = Report()
    uow = FakeUnitOfWork(book)
    apply_records(
        uow, DEFAULT_SETTINGS, records(unemployed("2023-10-02")), report,
        calendar_day=date(2024, 3, 1),
    )  # fmt: skip
    assert report.programme_ended == 1
    (case,) = book.cases.values()
    assert (case.exit.reason, case.exit.on) == ("programme_ended", date(2023, 12, 31))
    ended = [e for e in book.stored[case.id] if type(e).__name__ == "ProgrammeEnded"]
    assert [e.source["message_id"] for e in ended] == ["tick:2024-03-01"]


def test_the_desk_says_the_real_paths_outcome() -> None:
    desk = Desk()
    registration = unemployed("2021-03-01", cpr=CPR)
    desk.send(registration)
    with pytest.raises(InvalidMessage):
        desk.send(msg("hours_paid", payment_id="p", month="2021-03", hours="160.34"))
    desk.send(meeting_held("cv_and_job", "2021-03-08"))
    with pytest.raises(Rejected, match="R4"):
        desk.send(meeting_held("cv_and_job", "2021-03-09"))
    assert [d["field"] for d in desk.book.dead_letters] == ["hours", "kind"]
    desk.send(registration)  # the same id again: a no-op
    with pytest.raises(Rejected):  # the same registration under another id: refused
        desk.send({**registration, "message_id": "another"})
    assert desk.duplicates == 1
    assert len(desk.accepted) == 2 and len(desk.rejected) == 3
