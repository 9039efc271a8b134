"""An in-memory store for the batch path: fakes, not mocks.

`FakeBook` is the store's state: members and cases in dicts, an in-memory event log, the
ids of accepted messages and the dead letters. `reload()` rebuilds every aggregate from
that log, so a test can check that what was decided is exactly what the stored events say.

`FakeUnitOfWork` is one batch over a `FakeBook`: it implements the same unit-of-work port
(`infra.ports.UnitOfWorkPort`) as the store's `UnitOfWork`, so the real batch path runs on
it: `infra.ingest.apply_records` parses, deduplicates, decides, keeps refusals as dead
letters, and commits.

`Desk` sends each message through that path as a batch of its own, the way `ledighed
ingest --batch-size 1` does, and says the outcome as the tests want it: an `InvalidMessage`
or a `Rejected` raised (the real path has checked that a refused message changed nothing).
"""

from __future__ import annotations

import copy
import itertools
import json
import re
from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate

from consumers.records import InboundRecord
from domain.case import Case
from domain.errors import Rejected
from domain.member import Member
from domain.messages import InvalidMessage, parse_message
from domain.params import DEFAULT_SETTINGS, Settings
from domain.service import CaseService
from domain.view import CaseView, case_view
from infra.ingest import Report, apply_records

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
        self.processed: set[str] = set()  # ids of accepted messages (saved)
        self.dead_letters: list[dict[str, Any]] = []  # refused messages (saved)

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


class FakeUnitOfWork:
    """One batch over a `FakeBook`, by the unit-of-work port (`infra.ports.UnitOfWorkPort`):
    the book's aggregates are the batch's (a fake has no cache to load from), and what the
    batch accepted or refused is saved to the book at `commit`, all at once."""

    def __init__(self, book: FakeBook) -> None:
        self.book = book
        self._accepted: list[str] = []
        self._dead_letters: list[dict[str, Any]] = []
        self._before: dict[UUID, int] = {}
        self._touched: set[UUID] = set()

    # --- the Book protocol: the book's own --------------------------------------------------

    def member_id(self, cpr: str) -> UUID | None:
        return self.book.member_id(cpr)

    def enrol(self, cpr: str, birth_date: date, member: Member) -> None:
        self.book.enrol(cpr, birth_date, member)

    def member(self, member_id: UUID) -> Member:
        self._touched.add(member_id)
        return self.book.member(member_id)

    def case(self, case_id: UUID) -> Case:
        self._touched.add(case_id)
        return self.book.case(case_id)

    def add(self, aggregate: Case | Member) -> None:
        self._touched.add(aggregate.id)
        self.book.add(aggregate)

    # --- the batch's outcomes ----------------------------------------------------------------

    def prefetch(self, cprs: Iterable[str], message_ids: Iterable[str]) -> None:
        """Nothing to fetch: the book is in memory."""

    def is_duplicate(self, message_id: str) -> bool:
        return message_id in self.book.processed or message_id in self._accepted

    def begin_message(self) -> None:
        self._before = self.book.pending_counts()

    def check_unchanged(self) -> None:
        after = self.book.pending_counts()
        if set(after) != set(self._before) or after != self._before:
            raise RuntimeError("a rejected message changed an aggregate or added one: a bug")

    def accept(self, message_id: str, member_id: Any) -> None:
        assert member_id in self.book.members
        self._accepted.append(message_id)

    def reject(
        self,
        raw: str,
        error: str,
        field: str | None,
        message_id: str | None,
        source: dict[str, Any],
        value: bytes | None = None,
        key: bytes | None = None,
    ) -> None:
        self._dead_letters.append(
            {"raw": raw, "error": error, "field": field, "message_id": message_id, "source": source}
        )

    def withdraw(self, message_id: str) -> None:
        if message_id in self._accepted:
            self._accepted.remove(message_id)
        self.book.processed.discard(message_id)

    def cases(self) -> list[Case]:
        return [self.book.cases[i] for i in self._touched if i in self.book.cases]

    def commit(self, offsets: Mapping[tuple[str, int], int] | None = None, group: str = "") -> int:
        saved = self.book.commit()
        self.book.processed.update(self._accepted)
        self.book.dead_letters.extend(self._dead_letters)
        return saved


def _json_line(message: dict[str, Any]) -> bytes:
    """The message as upstream sends it, a JSON object; hours the tests write as a decimal
    string ("160.33") go as the JSON number with the same digits, as the contract has them."""
    text = json.dumps(message, default=str)
    return re.sub(r'"hours": "(-?[0-9]+(?:\.[0-9]+)?)"', r'"hours": \1', text).encode()


def replay(events: Iterable[Any]) -> Aggregate:
    """An aggregate rebuilt from (copies of) its events, first to last."""
    aggregate: Any = None
    for event in copy.deepcopy(list(events)):
        aggregate = event.mutate(aggregate)
    assert aggregate is not None
    return aggregate


class Desk:
    """Sends messages through ingest's batch path on a `FakeUnitOfWork`, a batch each."""

    def __init__(self, settings: Settings = DEFAULT_SETTINGS) -> None:
        self.book = FakeBook()
        self.settings = settings
        self.service = CaseService(self.book, settings)  # for the tick's entry (R16)
        self.accepted: list[str] = []
        self.duplicates = 0
        self.rejected: list[tuple[str, str]] = []
        self._lines = itertools.count(1)

    def send(self, message: dict[str, Any]) -> None:
        """Apply one message as a batch of its own (source: topic `test`, the offset its
        number); raises the `InvalidMessage` or `Rejected` that refused it."""
        line = _json_line(message)
        record = InboundRecord.from_line(line, "test", next(self._lines))
        report = Report()
        apply_records(FakeUnitOfWork(self.book), self.settings, [record], report)
        self.duplicates += report.duplicates
        if report.accepted:
            self.accepted.append(str(message["message_id"]))
        for refused in report.rejected:
            self.rejected.append((refused["message_id"], refused["error"]))
            if refused["message_id"] != message["message_id"]:
                continue  # a kept message refused once what it waited for came
            try:
                parse_message(line)
            except InvalidMessage:
                raise
            raise Rejected(refused["error"], refused["error_field"])

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
