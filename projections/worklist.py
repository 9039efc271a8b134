"""The worklist's read model: each case's current facts, and a day's views computed from them."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from datetime import date
from typing import Any
from uuid import UUID

from sqlalchemy import Connection, delete, or_, select

from domain.case import Case
from domain.facts import facts_from_json, facts_to_json
from domain.params import Settings
from domain.view import CaseView, case_view
from projections.runner import Page
from projections.tables import upsert, worklist_advisers, worklist_cases

CASE_EVENTS: tuple[type[Any], ...] = tuple(
    cls for cls in vars(Case).values() if isinstance(cls, type) and issubclass(cls, Case.Event)
)


class Worklist:
    """On any event of a case: the case's row, from its state at that event or later.

    The cases seen are kept and moved on by the page's events (as a replay does), so a
    rebuild loads none; a case first seen in the middle of its history is loaded once with
    `load_case` (its current state, which must be a copy of its own: it is moved on here).
    """

    name = "worklist"
    event_classes: Sequence[type[Any]] = CASE_EVENTS

    def __init__(self, load_case: Callable[[UUID], Case], keep: int = 100_000) -> None:
        self.load_case = load_case
        self.keep = keep
        self._cases: OrderedDict[UUID, Case] = OrderedDict()

    def clear(self, conn: Connection) -> None:
        conn.execute(delete(worklist_cases))
        conn.execute(delete(worklist_advisers))

    def apply(self, conn: Connection, events: Page) -> None:
        touched = {event.originator_id: self._case_at(event) for _, event in events}
        write_rows(conn, [case_row(case) for case in touched.values()])

    def apply_saved(self, conn: Connection, events: Page, aggregates: Mapping[UUID, Any]) -> None:
        """The rows of the cases these just-saved events belong to, from the cases in memory
        (each as the batch left it: what `apply` computes for the batch's last event)."""
        touched = dict.fromkeys(event.originator_id for _, event in events)
        write_rows(conn, [case_row(aggregates[case_id]) for case_id in touched])

    def _case_at(self, event: Any) -> Case:
        """The case as of `event` or later."""
        case_id, version = event.originator_id, event.originator_version
        case = self._cases.pop(case_id, None)
        if case is None and version == 1:
            case = event.mutate(None)
        elif case is not None and version == case.version + 1:
            case = event.mutate(case)
        elif case is None or version > case.version:
            case = self.load_case(case_id)
        # otherwise the case is at or beyond this event already (loaded so, or a page again)
        self._cases[case_id] = case
        if len(self._cases) > self.keep:
            self._cases.popitem(last=False)
        return case


def write_rows(conn: Connection, rows: Sequence[dict[str, Any] | None]) -> None:
    """The cases' rows, and each of their advisers in the advisers' index (added, never
    removed: the read checks the facts again, so a superset is harmless)."""
    cases = [row for row in rows if row is not None]
    upsert(conn, worklist_cases, cases)
    pairs = {
        (a["adviser"], row["case_id"])
        for row in cases
        for a in row["facts"]["advisers"]
        if a["adviser"]
    }
    advisers = [{"adviser": adviser, "case_id": case_id} for adviser, case_id in sorted(pairs)]
    upsert(conn, worklist_advisers, advisers, update=False)


def case_row(case: Case) -> dict[str, Any] | None:
    """The case's row; none before it has a notice sign-up or a registration."""
    facts = case.facts
    if facts.notice is None and facts.registration is None:
        return None
    return {
        "case_id": str(case.id),
        "member_id": str(case.member_id),
        "adviser": facts.adviser(),
        "opened_on": facts.opened_on,
        "exit_on": case.exit.on if case.exit else None,
        "in_trial": case.is_in_trial,
        "facts": facts_to_json(facts),
    }


def worklist_rows(
    conn: Connection, day: date, settings: Settings, adviser: str | None = None
) -> list[tuple[str, str, CaseView]]:
    """(case id, member id, view on `day`) of every case that may have tasks on `day`.

    Only cases in the trial, opened by `day` and not left by then can have tasks; the exit
    stored is the earliest of every fact, so `exit_on <= day` means the case had ended by
    `day`. The adviser is the one of `day` (the view's), not the latest, so that filter is
    applied to the view: a case is skipped early only if the adviser never had it.
    """
    table = worklist_cases
    query = select(table.c.case_id, table.c.member_id, table.c.facts).where(
        table.c.in_trial,
        table.c.opened_on <= day,
        or_(table.c.exit_on.is_(None), table.c.exit_on > day),
    )
    if adviser is not None:  # only the cases this adviser ever had, by the advisers' index
        had = worklist_advisers
        query = query.join(had, had.c.case_id == table.c.case_id).where(had.c.adviser == adviser)
    query = query.order_by(table.c.case_id)
    rows = []
    for case_id, member_id, data in conn.execute(query):
        facts = facts_from_json(data)
        if adviser is not None and all(a.adviser != adviser for a in facts.advisers):
            continue
        view = case_view(facts, day, settings)
        if adviser is None or view.adviser == adviser:
            rows.append((case_id, member_id, view))
    return rows


def advisers(conn: Connection) -> list[str]:
    """Every adviser a case of the worklist has had, by name (the advisers' index)."""
    column = worklist_advisers.c.adviser
    return list(conn.execute(select(column).distinct().order_by(column)).scalars())
