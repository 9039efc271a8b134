"""Order independence as a property (issue 20; CONTRACT.md, "Order and the member's record").

A member with one, two or three cases in sequence (notice periods, payments across cases,
moves, deregistrations, holidays and bookings, sickness, decisions before their requests),
split over the five default topics, each in calendar order. Hypothesis feeds the same
messages in many interleavings that keep each topic's own order, through the application's
batch path (`infra.ingest.apply_records`) in batches of random sizes, the store reloaded
from its events after each batch, and requires the same cases (their reported facts and
what they show on several days), worklist, live handovers, kept messages and dead letters
as calendar order gives.

Kept out, and why: an R14 clash between a booking and a request on different topics (the
decision follows the order accepted, by the contract); and an earlier case ending by a
message on another topic than the registrations (a `deregistered`, jobnet.events): read
after messages of the next case, it leaves them on the open earlier case until then, where
a rule may refuse one for good (a second `cv_and_job`, R4) or an exit they imply may let
the next registration in too early. Earlier cases here end by `akasse_changed` (R10), on
the registrations' own topic; tests/service/test_member_record_order.py has the worked
two-case orders with a deregistration read last. `LEDIGHED_ORDER_EXAMPLES` raises the example count
(`LEDIGHED_ORDER_EXAMPLES=2000 pytest tests/unit/test_order_independence.py`).
"""

from __future__ import annotations

import itertools
import json
import os
from datetime import date, timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from consumers.records import InboundRecord
from domain.calendar import first_of_month
from domain.case import Case
from domain.params import DEFAULT_SETTINGS
from domain.view import case_view
from infra.ingest import Report, apply_records
from tests.fakes import BIRTH_DATE, CPR, FakeBook, FakeUnitOfWork

EXAMPLES = int(os.environ.get("LEDIGHED_ORDER_EXAMPLES", "60"))
TOPICS = ("akasse.members", "payments.hours", "cpr.addresses", "jobnet.events", "adviser.actions")
Message = dict[str, Any]


def _day(day: date) -> str:
    return day.isoformat()


@st.composite
def member_year(draw: st.DrawFn) -> dict[str, list[Message]]:
    """One member's messages, by topic, each topic in calendar order."""
    ids = itertools.count(1)
    dated: list[tuple[date, str, Message]] = []

    def add(day: date, topic: str, type_: str, **fields: Any) -> None:
        message = {"message_id": f"o-{next(ids)}", "type": type_, "cpr": CPR, **fields}
        dated.append((day, topic, message))

    cases = draw(st.integers(min_value=1, max_value=3))
    start = date(2021, 1, 4) + timedelta(days=draw(st.integers(0, 60)))
    for number in range(cases):
        last = number == cases - 1
        if draw(st.booleans()):  # R2: a notice period first
            signed = start - timedelta(days=draw(st.integers(1, 20)))
            add(
                signed,
                "akasse.members",
                "notice_signup",
                signed_up_on=_day(signed),
                employment_ends_on=_day(start - timedelta(days=1)),
                municipality_code=751,
            )
        add(
            start,
            "akasse.members",
            "unemployed",
            registered_on=_day(start),
            insurance="full_time",
            municipality_code=draw(st.sampled_from([751, 101])),
            birth_date=BIRTH_DATE,
            vocational_education=False,
            has_children=False,
        )
        length = draw(st.integers(40, 120))
        end = start + timedelta(days=length)  # the case's own exit day, earlier cases only
        month = first_of_month(start)
        while month <= end:  # R8: hours by month; three full months reach 410
            add(
                month,
                "payments.hours",
                "hours_paid",
                payment_id=f"p-{number}-{month:%Y-%m}",
                month=f"{month:%Y-%m}",
                hours=draw(st.sampled_from([80, 120, 160.33])),
            )
            month = first_of_month(month + timedelta(days=32))
        booked = start + timedelta(days=draw(st.integers(1, 12)))
        add(booked, "adviser.actions", "meeting_booked", kind="cv_and_job", on=_day(booked))
        if draw(st.booleans()):
            add(booked, "adviser.actions", "meeting_held", kind="cv_and_job", held_on=_day(booked))
        # R14: a holiday from S + 25 on, never on a booked day; enough notice via jobnet, or
        # short notice by phone, which the adviser decides (possibly read before the request)
        asked = start + timedelta(days=draw(st.integers(2, 20)))
        first_day = start + timedelta(days=25 + draw(st.integers(0, 5)))
        channel = draw(st.sampled_from(["jobnet", "phone"]))
        if (first_day - asked).days < 14:
            channel = "phone"
        add(
            asked,
            "jobnet.events",
            "holiday_requested",
            request_id=f"h-{number}",
            requested_on=_day(asked),
            first_day=_day(first_day),
            last_day=_day(first_day + timedelta(days=2)),
            channel=channel,
        )
        if (first_day - asked).days < 14:
            decided = asked + timedelta(days=1)
            add(
                decided,
                "adviser.actions",
                "holiday_decided",
                request_id=f"h-{number}",
                decided_on=_day(decided),
                approved=draw(st.booleans()),
            )
        if draw(st.booleans()):  # R15: a sickness report, late or not
            sick = start + timedelta(days=draw(st.integers(3, 30)))
            reported = sick + timedelta(days=draw(st.integers(0, 2)))
            add(
                reported,
                "jobnet.events",
                "sickness_reported",
                sick_from=_day(sick),
                reported_on=_day(reported),
            )
        if draw(st.booleans()):  # R9: a move, within the trial or out of it
            moved = start + timedelta(days=draw(st.integers(5, 39)))
            add(
                moved,
                "cpr.addresses",
                "moved",
                moved_on=_day(moved),
                municipality_code=draw(st.sampled_from([147, 630, 153])),
            )
        # Only the last case may end by a deregistration, read on another topic than the
        # registrations: see the module's docstring.
        ends = ["akasse_changed", "deregistered", None] if last else [None]
        ending = draw(st.sampled_from(ends))
        if ending == "akasse_changed" or (ending is None and not last):  # R10
            add(end, "akasse.members", "akasse_changed", changed_on=_day(end))
        elif ending == "deregistered":  # R17, on another topic than the next registration
            add(end, "jobnet.events", "deregistered", deregistered_on=_day(end))
        # The next case a month or more later, in a month of its own (R8: a month's hours)
        gap = draw(st.integers(52, 110))  # a sign-up 20 days before S still after the end
        start = first_of_month(end + timedelta(days=gap)) + timedelta(days=draw(st.integers(0, 20)))
    topics: dict[str, list[Message]] = {topic: [] for topic in TOPICS}
    for _, topic, message in sorted(dated, key=lambda d: d[0]):  # stable: topic order kept
        topics[topic].append(message)
    return topics


def _calendar_order(topics: dict[str, list[Message]]) -> list[Message]:
    """Every topic merged by day (each topic's own order kept)."""
    position = {id(m): (TOPICS.index(t), i) for t, ms in topics.items() for i, m in enumerate(ms)}
    merged = [m for ms in topics.values() for m in ms]
    return sorted(merged, key=lambda m: (_effective(m), position[id(m)]))


def _effective(message: Message) -> str:
    for key in (
        "signed_up_on",
        "registered_on",
        "on",
        "held_on",
        "decided_on",
        "requested_on",
        "reported_on",
        "moved_on",
        "changed_on",
        "deregistered_on",
    ):
        if key in message:
            return str(message[key])
    return str(message["month"]) + "-01"


def _interleave(topics: dict[str, list[Message]], picks: list[int]) -> list[Message]:
    """The topics merged, taking the next message of the topic `picks` names each time."""
    queues = [list(q) for q in topics.values() if q]
    merged: list[Message] = []
    pick = iter(picks)
    while queues:
        queue = queues[next(pick, 0) % len(queues)]
        merged.append(queue.pop(0))
        queues = [q for q in queues if q]
    return merged


def _outcome(order: list[Message], sizes: list[int]) -> dict[str, Any]:
    """Through the batch path in batches of `sizes` (cycled), reloaded after each batch."""
    book = FakeBook()
    records = [
        InboundRecord.from_line(json.dumps(m).encode(), "order", number)
        for number, m in enumerate(order, start=1)
    ]
    size = itertools.cycle(sizes)
    index = 0
    while index < len(records):
        batch = records[index : index + next(size)]
        apply_records(FakeUnitOfWork(book), DEFAULT_SETTINGS, batch, Report())
        book.reload()
        index += len(batch)
    member_id = book.member_id(CPR)
    assert member_id is not None
    member = book.member(member_id)
    cases = [book.case(case_id) for case_id in member.case_ids]
    return {
        "cases": [_case(case) for case in cases],
        "kept": sorted(k["source"]["message_id"] for k in member.waiting),
        "dead_letters": sorted((d["message_id"], d["error"]) for d in book.dead_letters),
    }


def _case(case: Case) -> dict[str, Any]:
    facts = case.facts
    assert facts.start is not None
    days = [facts.start + timedelta(days=n) for n in (0, 3, 20, 45, 90, 200)]
    if case.exit is not None:
        days.append(case.exit.on)
    live = case.live_handover
    return {
        "reported": {
            name: sorted(repr(fact) for fact in getattr(facts, name))
            for name in facts.__dataclass_fields__
            if name not in ("notice", "registration", "exits")
        },
        "notice": facts.notice,
        "registration": facts.registration,
        "exit": case.exit,
        "shown": {
            day: case_view(facts, day, DEFAULT_SETTINGS).as_dict("case", None) for day in days
        },
        "worklist": {
            day: [
                (t.task, t.due_by, t.overdue)
                for t in case_view(facts, day, DEFAULT_SETTINGS).tasks()
            ]
            for day in days
        },
        "live_handover": None if live is None else live["content"],
    }


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    member_year(),
    st.lists(st.integers(0, 4), min_size=0, max_size=60),
    st.lists(st.integers(1, 7), min_size=1, max_size=5),
)
def test_every_interleaving_of_the_topics_gives_the_same_member(
    topics: dict[str, list[Message]], picks: list[int], sizes: list[int]
) -> None:
    in_order = _calendar_order(topics)
    reference = _outcome(in_order, [len(in_order)])  # one batch
    assert reference["dead_letters"] == []
    assert _outcome(_interleave(topics, picks), sizes) == reference
