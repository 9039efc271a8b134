"""Order across topics does not matter (issue 11): the same messages, read in any
interleaving that keeps each topic's own order, give the same case, worklist, live
handover and refusals. A message that needs one not yet read is parked, not rejected."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from domain.errors import Rejected
from tests.fakes import (
    Desk,
    holiday_requested,
    hours_paid,
    meeting_booked,
    meeting_held,
    msg,
    notice_signup,
)
from tests.fakes import unemployed as unemployed_message

DAYS = ("2021-02-15", "2021-03-09", "2021-03-12", "2021-04-30", "2021-06-30")


def topics() -> dict[str, list[dict[str, Any]]]:
    """One member's year as five upstream topics, each in its own order: a notice period
    (R2), S = 2021-03-01, a booking and a meeting (R4, R7), a phone holiday request the
    adviser approves (R14), a late sickness report (R15), hours up to the R8 threshold."""
    return {
        "akasse.members": [
            notice_signup("2021-02-01", "2021-02-28"),
            unemployed_message("2021-03-01", 751),
        ],
        "adviser.actions": [
            meeting_booked("cv_and_job", "2021-03-05"),
            meeting_held("cv_and_job", "2021-03-05"),
            msg("holiday_decided", request_id="h1", decided_on="2021-03-11", approved=True),
        ],
        "jobnet.events": [
            holiday_requested("h1", "2021-03-10", "2021-03-15", "2021-03-16", "phone"),
            msg("sickness_reported", sick_from="2021-03-08", reported_on="2021-03-09"),
        ],
        "payments.hours": [
            hours_paid("2021-03", 160.33),
            hours_paid("2021-04", 160.33),
            hours_paid("2021-05", 160.33),
        ],
    }


def outcome(order: list[dict[str, Any]]) -> dict[str, Any]:
    desk = Desk()
    refused = []
    for message in order:
        try:
            desk.send(message)
        except Rejected as error:
            refused.append((message["message_id"], error.reason))
    case = desk.case()
    live = case.live_handover
    return {
        "views": {day: desk.view(day).as_dict("case", None) for day in DAYS},
        "tasks": {day: desk.tasks(day) for day in DAYS},
        "exit": case.exit,
        "live_handover": None if live is None else live["content"],
        "refused": sorted(refused),
    }


def interleave(streams: dict[str, list[dict[str, Any]]], picks: list[int]) -> list[dict[str, Any]]:
    """Merge the topics, taking the next message of the topic `picks` names each time."""
    queues = [list(s) for s in streams.values()]
    merged = []
    for pick in picks:
        waiting = [q for q in queues if q]
        merged.append(waiting[pick % len(waiting)].pop(0))
    return merged


def test_in_order_the_year_ends_on_the_hours_threshold_with_one_handover() -> None:
    streams = topics()
    in_order = [m for stream in streams.values() for m in stream]
    result = outcome(sorted(in_order, key=_day))
    assert result["refused"] == []
    assert result["exit"].reason == "hours_threshold"  # 3 x 160.33 > 410 (R8)
    assert result["live_handover"] is not None
    assert result["views"]["2021-03-12"]["holidays"][0]["status"] == "approved"


@settings(max_examples=150, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=3), min_size=10, max_size=10))
def test_any_interleaving_of_the_topics_gives_the_same_case(picks: list[int]) -> None:
    streams = topics()
    reference = outcome(sorted([m for s in streams.values() for m in s], key=_day))
    assert outcome(interleave(streams, picks)) == reference


def _day(message: dict[str, Any]) -> str:
    """The day a message happened, to replay the year in calendar order."""
    for key in (
        "signed_up_on",
        "registered_on",
        "on",
        "held_on",
        "decided_on",
        "requested_on",
        "reported_on",
    ):
        if key in message:
            return str(message[key])
    return str(message["month"]) + "-28"


def test_a_message_parked_more_than_30_days_is_given_up_and_no_longer_taken_over() -> None:
    # A booking read 2021-02-10 while the case (signed up 2021-02-01) is in its notice
    # period is parked. Recorded 2026-01-01 09:00; as of 2026-01-31 09:00 it has waited 30
    # days (kept), as of 2026-01-31 09:01 more than 30 (given up); a registration after
    # that does not apply it.
    from datetime import UTC, datetime

    desk = Desk()
    desk.send(notice_signup("2021-02-01", "2021-02-28"))
    booking = meeting_booked("cv_and_job", "2021-03-05")
    desk.send(booking)
    parked_at = {booking["message_id"]: datetime(2026, 1, 1, 9, 0, tzinfo=UTC)}
    tick = {"message_id": "tick", "topic": "tick", "partition": None, "offset": None}
    member = desk.member()
    at_30 = datetime(2026, 1, 31, 9, 0, tzinfo=UTC)
    assert desk.service.give_up_waiting(member, parked_at, at_30, tick)[0] == []
    due, reason = desk.service.give_up_waiting(
        member, parked_at, datetime(2026, 1, 31, 9, 1, tzinfo=UTC), tick
    )
    assert [k["source"]["message_id"] for k in due] == [booking["message_id"]]
    assert "more than 30 days" in reason
    assert member.waiting == []
    desk.send(unemployed_message("2021-03-01", 751))
    assert desk.case().facts.bookings == ()
