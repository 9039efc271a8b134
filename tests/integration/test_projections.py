"""The read models (worklist, handover feed): equal to what the events imply, rebuilt alike,
each page and its position committed together, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from typing import Any
from uuid import UUID

import pytest
from sqlalchemy import select

from domain.case import Case
from domain.outbound import WorklistItem, dump
from domain.params import Settings
from domain.view import case_view
from infra import projections
from infra.cli import main
from infra.demo.demo_data import generate_lines
from infra.ingest import file_records
from infra.reads import all_cases, handover_message, handovers, worklist
from infra.store.store import Store
from projections import runner
from projections.handovers import HandoverFeed, mark_published, unpublished
from projections.runner import Page
from projections.tables import handover_feed, handover_published, metadata, positions
from projections.worklist import CASE_EVENTS, Worklist
from tests.scenario_helpers import SCENARIOS, ingest, scenario_lines

RULES = Settings()
HANDED_OVER: type[Any] = Case.HandedOver  # type: ignore[attr-defined]
DAYS = [date(2021, d, 1) for d in range(1, 13)] + [
    date(2021, 3, 5),
    date(2021, 4, 21),
    date(2021, 5, 10),
    date(2022, 3, 1),
    date(2024, 1, 15),
]
ADVISERS = [None, "anna", "bent", "carl", "nobody"]


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    """A store whose ingests leave the read models to a catch-up (no inline projection):
    the runner is what these tests are about; test_inline_projection.py is about the other."""
    store = Store(db_url)
    store.project_inline = False
    yield store
    store.close()


def load(store: Store, *names: str) -> None:
    """Ingest scenario files (no catch-up: reads must catch up themselves)."""
    for name in names:
        with open(SCENARIOS / name, encoding="utf-8") as stream:
            ingest(store, RULES, file_records(stream, name))


def load_year(store: Store, members: int = 60) -> None:
    ingest(store, RULES, file_records(generate_lines(seed=11, members=members), "year"), 200)


def direct_worklist(store: Store, day: date, adviser: str | None) -> list[dict[str, Any]]:
    """The worklist as it was computed before the read model: every case replayed."""
    cprs = store.cprs()
    rows = []
    for case in all_cases(store):
        view = case_view(case.facts, day, RULES)
        if adviser is not None and view.adviser != adviser:
            continue
        rows += [
            dump(
                WorklistItem,
                {
                    "case_id": str(case.id),
                    "cpr": cprs.get(case.member_id),
                    "task": task.task,
                    "due_by": task.due_by.isoformat(),
                    "overdue": task.overdue,
                    "adviser": view.adviser,
                },
            )
            for task in view.tasks()
        ]
    return sorted(rows, key=lambda r: (r["due_by"], r["case_id"], r["task"]))


def direct_handovers(store: Store) -> list[dict[str, Any]]:
    cprs = store.cprs()
    return [
        handover_message(event, cprs.get(event.member_id))
        for _, event in store.notifications(HANDED_OVER)
    ]


def assert_equal_to_the_events(store: Store) -> None:
    for day in DAYS:
        for adviser in ADVISERS:
            assert worklist(store, day, RULES, adviser) == direct_worklist(store, day, adviser), (
                day,
                adviser,
            )
    assert handovers(store) == direct_handovers(store)


def snapshot(store: Store) -> dict[str, list[dict[str, Any]]]:
    """Every row of the projections' tables, in primary key order."""
    with store.engine.connect() as conn:
        return {
            table.name: [
                dict(row._mapping)
                for row in conn.execute(select(table).order_by(*table.primary_key.columns))
            ]
            for table in metadata.sorted_tables
        }


def stored_position(store: Store, name: str) -> int:
    with store.engine.connect() as conn:
        return runner.position(conn, name)


def last_id(store: Store, *event_classes: type[Any]) -> int:
    """The notification id of the last stored event of these classes."""
    return max(i for i, _ in store.notifications(*event_classes))


def test_read_models_equal_what_the_events_imply_scenarios(store: Store) -> None:
    load(store, *sorted(p.name for p in SCENARIOS.glob("*.jsonl")))
    assert_equal_to_the_events(store)
    assert handovers(store) and worklist(store, date(2021, 4, 21), RULES)
    assert stored_position(store, "worklist") == last_id(store, *CASE_EVENTS)
    assert stored_position(store, "handovers") == last_id(store, HANDED_OVER)


def test_read_models_equal_what_the_events_imply_a_year_in_small_pages(store: Store) -> None:
    """A generated year, caught up 37 events to a page: many pages, cases across them."""
    load_year(store)
    applied = [
        runner.catch_up(store.engine, store.read_page, projection, page_size=37)
        for projection in (Worklist(store.case), HandoverFeed())
    ]
    assert applied[0] > 10 * 37 and applied[1] > 5
    assert_equal_to_the_events(store)


def test_rebuild_gives_the_same_rows_and_positions(store: Store) -> None:
    load_year(store, members=40)
    projections.catch_up(store)
    before = snapshot(store)
    assert before["ledighed_worklist_cases"] and before["ledighed_handover_feed"]
    assert projections.rebuild(store, quiet=True) == {
        "worklist": sum(1 for _ in store.notifications(*CASE_EVENTS)),
        "handovers": len(before["ledighed_handover_feed"]),
    }
    assert snapshot(store) == before
    projections.rebuild(store, ["handovers"], quiet=True)
    assert snapshot(store) == before


class Failing:
    """The projection, but its `apply` fails after it wrote its rows."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.name = inner.name
        self.event_classes = inner.event_classes
        self.calls = 0

    def clear(self, conn: Any) -> None:
        self.inner.clear(conn)

    def apply(self, conn: Any, events: Page) -> None:
        self.inner.apply(conn, events)
        self.calls += 1
        raise RuntimeError("the disk is full")


def test_a_failed_page_leaves_rows_and_position_as_they_were(store: Store) -> None:
    load(store, "02_late_move_revises_handover.jsonl")
    projections.catch_up(store)
    load(store, "01_normal_full_time_aarhus.jsonl")  # a new case and a handover
    for projection in (Worklist(store.case), HandoverFeed()):
        before = snapshot(store)
        failing = Failing(projection)
        with pytest.raises(RuntimeError, match="disk is full"):
            runner.catch_up(store.engine, store.read_page, failing)
        assert failing.calls == 1
        assert snapshot(store) == before
        with pytest.raises(RuntimeError):
            runner.rebuild(store.engine, store.read_page, failing)
        assert snapshot(store) != before  # the rebuild's clearing is its own transaction
        runner.catch_up(store.engine, store.read_page, projection)
    assert_equal_to_the_events(store)


def test_two_runners_never_apply_one_page_twice(store: Store) -> None:
    """Another runner moves the position between our read and our write: ours re-reads the
    position and goes on from there (a feed row applied twice would break its primary key)."""
    load(store, "02_late_move_revises_handover.jsonl")
    ours, theirs = HandoverFeed(), HandoverFeed()

    def read_page(after: int, limit: int, topics: Any) -> Page:
        page = store.read_page(after, limit, topics)
        if after == 0:
            runner.catch_up(store.engine, store.read_page, theirs)
        return page

    assert runner.catch_up(store.engine, read_page, ours) == 0
    assert stored_position(store, "handovers") == last_id(store, HANDED_OVER)
    assert handovers(store) == direct_handovers(store)
    assert len(handovers(store)) == 2


def test_a_rebuild_keeps_the_published_marks(store: Store) -> None:
    load(store, "02_late_move_revises_handover.jsonl", "01_normal_full_time_aarhus.jsonl")
    projections.catch_up(store)
    with store.engine.begin() as conn:
        outbox = unpublished(conn, 10)
        assert [row.position for row in outbox] == sorted(row.position for row in outbox)
        assert len(outbox) == 3
        mark_published(conn, [outbox[0].message_id, outbox[1].message_id])
        mark_published(conn, [outbox[0].message_id])  # again: no-op
    projections.rebuild(store, ["handovers"], quiet=True)
    with store.engine.connect() as conn:
        assert unpublished(conn, 10) == [outbox[2]]
        assert unpublished(conn, 0) == []
        marked = conn.execute(select(handover_published.c.message_id)).scalars().all()
        assert sorted(marked) == sorted([outbox[0].message_id, outbox[1].message_id])
        assert len(conn.execute(select(handover_feed)).all()) == 3
    assert outbox[2].payload["type"] in ("handover", "handover_revised")
    assert "cpr" not in json.dumps(outbox[2].payload)


def test_catch_up_after_more_ingests_applies_only_the_new_events(store: Store) -> None:
    load(store, "04_worklist_two_advisers.jsonl")
    first = projections.catch_up(store)
    assert first["worklist"] == sum(1 for _ in store.notifications(*CASE_EVENTS))
    worklist_at = stored_position(store, "worklist")
    handovers_at = stored_position(store, "handovers")
    load(store, "01_normal_full_time_aarhus.jsonl", "08_two_cases_one_member.jsonl")
    new_case_events = sum(1 for _ in store.notifications(*CASE_EVENTS, start=worklist_at + 1))
    new_handovers = sum(1 for _ in store.notifications(HANDED_OVER, start=handovers_at + 1))
    assert new_case_events > 0 and new_handovers == 1
    assert projections.catch_up(store) == {
        "worklist": new_case_events,
        "handovers": new_handovers,
    }
    assert projections.catch_up(store) == {"worklist": 0, "handovers": 0}
    assert_equal_to_the_events(store)


def test_a_case_is_loaded_only_when_first_seen_in_the_middle_of_its_history(
    store: Store,
) -> None:
    """From the start of the log each case is replayed from its own events; a case whose
    earlier events lie before the position is loaded once, then moved on by its events."""
    name = "01_normal_full_time_aarhus.jsonl"
    lines = scenario_lines(name)
    loaded: list[UUID] = []

    def load_case(case_id: UUID) -> Case:
        loaded.append(case_id)
        return store.case(case_id)

    ingest(store, RULES, file_records(lines[:4], name))
    assert runner.catch_up(store.engine, store.read_page, Worklist(load_case), page_size=2) > 2
    assert loaded == []
    ingest(store, RULES, file_records(lines[4:], name))
    assert runner.catch_up(store.engine, store.read_page, Worklist(load_case), page_size=2) > 4
    assert len(loaded) == 1
    assert_equal_to_the_events(store)


def test_command_line_rebuild_and_status(store: Store, capsys: pytest.CaptureFixture[str]) -> None:
    url = store.url
    path = str(SCENARIOS / "02_late_move_revises_handover.jsonl")
    assert main(["ingest", path, "--db", url, "--json", "--quiet"]) == 0
    capsys.readouterr()
    head = store.log_head()

    assert main(["projections", "status", "--db", url, "--json"]) == 0
    status = json.loads(capsys.readouterr().out)
    assert status == [  # `ingest` applied its batches to them in its transactions
        {"name": "worklist", "position": head, "head": head, "pending": 0, "caught_up": True},
        {
            "name": "handovers",
            "position": head,
            "head": head,
            "pending": 0,
            "caught_up": True,
        },
    ]

    before = snapshot(store)
    assert main(["projections", "rebuild", "--db", url, "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {
        "worklist": sum(1 for _ in store.notifications(*CASE_EVENTS)),
        "handovers": 2,
    }
    assert main(["projections", "rebuild", "handovers", "--db", url]) == 0
    captured = capsys.readouterr()
    assert captured.out.strip() == "rebuilt handovers (2 events applied)"
    assert "handovers" in captured.err and "100%" in captured.err  # the progress bar
    assert snapshot(store) == before
    assert main(["projections", "rebuild", "handovers", "--quiet", "--db", url]) == 0
    captured = capsys.readouterr()
    assert captured.out.strip() == "rebuilt handovers (2 events applied)"
    assert "100%" not in captured.err  # --quiet: no progress bar

    assert main(["projections", "status", "--db", url]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["read", "model", "state", "position", "log", "head"]
    assert all("caught up" in line for line in lines[1:])
    with store.engine.begin() as conn:  # the feed set back to the log's start: behind
        conn.execute(positions.update().where(positions.c.name == "handovers").values(position=0))
    assert main(["projections", "status", "--db", url, "--json"]) == 0
    feed = json.loads(capsys.readouterr().out)[1]
    assert (feed["pending"], feed["caught_up"]) == (2, False)
    with pytest.raises(SystemExit):
        main(["projections", "rebuild", "audit", "--db", url])


def test_the_positions_table_holds_one_row_per_projection(store: Store) -> None:
    projections.catch_up(store)
    projections.catch_up(store)
    with store.engine.connect() as conn:
        rows = conn.execute(select(positions).order_by(positions.c.name)).all()
    assert [tuple(row) for row in rows] == [("handovers", 0), ("worklist", 0)]
