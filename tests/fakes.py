"""An in-memory `Book` for `domain.service.CaseService`: a fake, not a mock.

`FakeBook` keeps members and cases in dicts, the way a unit of work of the real store
does, and "saves" a batch by collecting the aggregates' pending events into an
in-memory event log. `reload()` rebuilds every aggregate from that log, so a test can
check that what was decided is exactly what the stored events say.

`Desk` drives the service the way `ledighed ingest` does: each message is parsed by
`domain.messages.parse_message`, a repeated message id is a no-op, and a message the
rules refuse (`Rejected`) must have changed nothing.
"""

from __future__ import annotations

import copy
import itertools
from collections.abc import Iterable
from datetime import date
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate

from domain.case import Case
from domain.errors import Rejected
from domain.member import Member
from domain.messages import parse_message
from domain.params import DEFAULT_SETTINGS, Settings
from domain.service import CaseService
from domain.view import CaseView, case_view

CPR = "0101901234"  # born 1990-01-01: 31 years old in 2021, never in the R3 group
BIRTH_DATE = "1990-01-01"


class FakeBook:
    """The service's `Book`: dicts of members and cases, and an in-memory event log."""

    def __init__(self) -> None:
        self.registry: dict[str, UUID] = {}  # CPR -> member id (the member registry)
        self.birth_dates: dict[UUID, date] = {}
        self.members: dict[UUID, Member] = {}
        self.cases: dict[UUID, Case] = {}
        self.stored: dict[UUID, list[Any]] = {}  # aggregate id -> its saved events

    # --- the Book protocol ---------------------------------------------------------------

    def member_id(self, cpr: str) -> UUID | None:
        return self.registry.get(cpr)

    def enrol(self, cpr: str, birth_date: date, member: Member) -> None:
        assert cpr not in self.registry, "a member is enrolled once"
        self.registry[cpr] = member.id
        self.birth_dates[member.id] = birth_date
        self.add(member)

    def member(self, member_id: UUID) -> Member:
        return self.members[member_id]

    def case(self, case_id: UUID) -> Case:
        return self.cases[case_id]

    def add(self, aggregate: Case | Member) -> None:
        if isinstance(aggregate, Member):
            self.members[aggregate.id] = aggregate
        else:
            self.cases[aggregate.id] = aggregate

    # --- saving and loading --------------------------------------------------------------

    def aggregates(self) -> list[Aggregate]:
        return [*self.members.values(), *self.cases.values()]

    def pending_counts(self) -> dict[UUID, int]:
        return {a.id: len(a.pending_events) for a in self.aggregates()}

    def commit(self) -> int:
        """Save the batch: move every pending event into the event log (as copies)."""
        saved = 0
        for aggregate in self.aggregates():
            events = aggregate.collect_events()
            self.stored.setdefault(aggregate.id, []).extend(copy.deepcopy(events))
            saved += len(events)
        return saved

    def reload(self) -> None:
        """Commit, then rebuild every aggregate from its stored events alone."""
        self.commit()
        for member_id in list(self.members):
            self.members[member_id] = replay(self.stored[member_id])  # type: ignore[assignment]
        for case_id in list(self.cases):
            self.cases[case_id] = replay(self.stored[case_id])  # type: ignore[assignment]

    def events(self, aggregate_id: UUID) -> list[Any]:
        """Every event of the aggregate: saved ones, then pending ones."""
        aggregate = self.members.get(aggregate_id) or self.cases[aggregate_id]
        return [*self.stored.get(aggregate_id, []), *aggregate.pending_events]


def replay(events: Iterable[Any]) -> Aggregate:
    """An aggregate rebuilt from (copies of) its events, first to last."""
    aggregate: Any = None
    for event in copy.deepcopy(list(events)):
        aggregate = event.mutate(aggregate)
    assert aggregate is not None
    return aggregate


class Desk:
    """Drives a `CaseService` over a `FakeBook`, one parsed message at a time."""

    def __init__(self, settings: Settings = DEFAULT_SETTINGS) -> None:
        self.book = FakeBook()
        self.settings = settings
        self.service = CaseService(self.book, settings)
        self.accepted: list[str] = []
        self.duplicates = 0
        self.rejected: list[tuple[str, str]] = []
        self._offsets = itertools.count(1)

    def send(self, message: dict[str, Any]) -> None:
        """Apply one message; raises `Rejected` (after checking nothing changed)."""
        parsed = parse_message(message)
        if parsed.message_id in self.accepted:
            self.duplicates += 1
            return
        source = {
            "message_id": parsed.message_id,
            "topic": "test",
            "partition": None,
            "offset": next(self._offsets),
        }
        before = self.book.pending_counts()
        known = set(before)
        try:
            self.service.handle(parsed, source)
        except Rejected as error:
            self.rejected.append((parsed.message_id, error.reason))
            after = self.book.pending_counts()
            assert set(after) == known, f"a rejected message added an aggregate: {error.reason}"
            assert after == before, f"a rejected message changed an aggregate: {error.reason}"
            raise
        self.accepted.append(parsed.message_id)

    def try_send(self, message: dict[str, Any]) -> str | None:
        """Apply one message; the reason it was refused, or None when it was accepted."""
        try:
            self.send(message)
        except Rejected as error:
            return error.reason
        return None

    def send_all(self, messages: Iterable[dict[str, Any]]) -> None:
        for message in messages:
            self.send(message)

    # --- reading -------------------------------------------------------------------------

    def cases(self, cpr: str = CPR) -> list[Case]:
        member_id = self.book.member_id(cpr)
        if member_id is None:
            return []
        return [self.book.case(case_id) for case_id in self.book.member(member_id).case_ids]

    def case(self, cpr: str = CPR) -> Case:
        """The member's latest case."""
        cases = self.cases(cpr)
        assert cases, f"member {cpr} has no case"
        return cases[-1]

    def member(self, cpr: str = CPR) -> Member:
        member_id = self.book.member_id(cpr)
        assert member_id is not None
        return self.book.member(member_id)

    def view(self, day: date | str, cpr: str = CPR) -> CaseView:
        on = date.fromisoformat(day) if isinstance(day, str) else day
        return case_view(self.case(cpr).facts, on, self.settings)

    def tasks(self, day: date | str, cpr: str = CPR) -> list[tuple[str, str, bool]]:
        """The worklist of the member's latest case as of `day`: (task, due_by, overdue)."""
        return [(t.task, t.due_by.isoformat(), t.overdue) for t in self.view(day, cpr).tasks()]

    def handovers(self, cpr: str = CPR) -> list[dict[str, Any]]:
        return self.case(cpr).handovers


# --- message builders ------------------------------------------------------------------------

_ids = itertools.count(1)


def msg(type_: str, cpr: str = CPR, message_id: str | None = None, **fields: Any) -> dict[str, Any]:
    """An inbound message dict as the contract has it, with a fresh message id."""
    return {
        "message_id": message_id or f"m-{next(_ids)}",
        "type": type_,
        "cpr": cpr,
        **fields,
    }


def notice_signup(
    signed_up_on: str, employment_ends_on: str, municipality_code: int = 751, **kw: Any
) -> dict[str, Any]:
    """R2: a member under notice signs up before the last day of employment."""
    return msg(
        "notice_signup",
        signed_up_on=signed_up_on,
        employment_ends_on=employment_ends_on,
        municipality_code=municipality_code,
        **kw,
    )


def unemployed(
    registered_on: str,
    municipality_code: int = 751,
    insurance: str = "full_time",
    cpr: str = CPR,
    birth_date: str = BIRTH_DATE,
    vocational_education: bool = False,
    has_children: bool = False,
    **extra: Any,
) -> dict[str, Any]:
    return msg(
        "unemployed",
        cpr=cpr,
        registered_on=registered_on,
        insurance=insurance,
        municipality_code=municipality_code,
        birth_date=birth_date,
        vocational_education=vocational_education,
        has_children=has_children,
        **extra,
    )


def hours_paid(month: str, hours: str | float, payment_id: str | None = None, **kw: Any) -> dict:
    return msg(
        "hours_paid", payment_id=payment_id or f"p-{next(_ids)}", month=month, hours=hours, **kw
    )


def moved(moved_on: str, municipality_code: int, **kw: Any) -> dict[str, Any]:
    return msg("moved", moved_on=moved_on, municipality_code=municipality_code, **kw)


def meeting_held(kind: str, held_on: str, **kw: Any) -> dict[str, Any]:
    return msg("meeting_held", kind=kind, held_on=held_on, **kw)


def meeting_booked(kind: str, on: str, **kw: Any) -> dict[str, Any]:
    return msg("meeting_booked", kind=kind, on=on, **kw)


def holiday_requested(
    request_id: str, requested_on: str, first_day: str, last_day: str, channel: str, **kw: Any
) -> dict[str, Any]:
    return msg(
        "holiday_requested",
        request_id=request_id,
        requested_on=requested_on,
        first_day=first_day,
        last_day=last_day,
        channel=channel,
        **kw,
    )


def less_intensive(
    requested_on: str, starts_on: str, documented: bool = True, reason: str = "job", **kw: Any
) -> dict[str, Any]:
    return msg(
        "less_intensive_requested",
        requested_on=requested_on,
        starts_on=starts_on,
        documented=documented,
        reason=reason,
        **kw,
    )


def handover_id(handover: dict[str, Any]) -> str:
    """A handover's message id without its case id: `handover:<n>`."""
    return handover["message_id"].split(":", 1)[1]


def live(handovers: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """R13: the handovers that no later one replaces (and that are not withdrawals)."""
    replaced = {h["replaces"] for h in handovers if h["replaces"]}
    return [
        h
        for h in handovers
        if h["message_id"] not in replaced and h["type"] != "handover_withdrawn"
    ]


def assert_r13_chain(handovers: list[dict[str, Any]]) -> None:
    """R13: numbered 1..n, each after the first replaces the one before; one live at most."""
    assert [handover_id(h) for h in handovers] == [
        f"handover:{n}" for n in range(1, len(handovers) + 1)
    ]
    if handovers:
        assert handovers[0]["type"] == "handover"
        assert handovers[0]["replaces"] is None
    for previous, current in itertools.pairwise(handovers):
        assert current["replaces"] == previous["message_id"]
        assert current["type"] in ("handover_revised", "handover_withdrawn")
    assert len(live(handovers)) <= 1
