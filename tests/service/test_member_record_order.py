"""One order for the member's record (CONTRACT.md, "Order and the member's record"): kept
messages apply in the order they were accepted, each as if it had arrived right after what
it waited for; a message belongs to the case whose period covers its day."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from tests.fakes import (
    Desk,
    holiday_requested,
    hours_paid,
    meeting_booked,
    msg,
    notice_signup,
    unemployed,
)


def _r14_clash_messages() -> dict[str, dict[str, Any]]:
    """A notice period from 2021-02-01, S = 2021-03-01; a cv_and_job booked on 2021-03-24;
    holiday 2021-03-22..26 asked for via jobnet on 2021-03-02 (20 days' notice)."""
    return {
        "signup": notice_signup("2021-02-01", "2021-02-28"),
        "booking": meeting_booked("cv_and_job", "2021-03-24"),
        "request": holiday_requested("h1", "2021-03-02", "2021-03-22", "2021-03-26", "jobnet"),
        "unemployed": unemployed("2021-03-01"),
    }


def _holiday(desk: Desk) -> tuple[str, str | None]:
    (request,) = desk.case().facts.holiday_requests
    return request.status, request.reason


def test_r14_registration_first_the_booking_then_the_request_gives_pending_clash() -> None:
    m = _r14_clash_messages()
    desk = Desk()
    desk.send_all([m["signup"], m["unemployed"], m["booking"], m["request"]])
    assert _holiday(desk) == ("pending", "clash")
    assert ("holiday:h1", "2021-03-22", False) in desk.tasks("2021-03-10")


def test_r14_booking_and_request_kept_before_the_registration_apply_in_the_order_accepted() -> None:
    # Both read in the notice period, booking first: kept, then replayed as accepted (the
    # booking, then the request), not by effective day (the request's 2021-03-02 is earlier
    # than the booked 2021-03-24), so R14 sees the booking: pending, clash, as above.
    m = _r14_clash_messages()
    desk = Desk()
    desk.send_all([m["signup"], m["booking"], m["request"]])
    assert len(desk.member().waiting) == 2
    desk.send(m["unemployed"])
    assert desk.member().waiting == []
    assert _holiday(desk) == ("pending", "clash")
    assert ("holiday:h1", "2021-03-22", False) in desk.tasks("2021-03-10")


def test_r14_request_accepted_before_the_booking_is_approved_in_either_order() -> None:
    # The other way round, request first, both before the registration: approved, as when
    # the registration comes first and the request is read before the booking.
    m = _r14_clash_messages()
    kept = Desk()
    kept.send_all([m["signup"], m["request"], m["booking"], m["unemployed"]])
    in_order = Desk()
    in_order.send_all([m["signup"], m["unemployed"], m["request"], m["booking"]])
    assert _holiday(kept) == _holiday(in_order) == ("approved", None)


# --- issue 26 point 5: an exit read before the registration it follows ----------------------


def _same_case(orders: list[list[dict[str, Any]]]) -> list[Desk]:
    desks = []
    for order in orders:
        desk = Desk()
        for message in order:
            desk.try_send(message)
        desks.append(desk)
    first = desks[0]
    for desk in desks[1:]:
        assert desk.rejected == first.rejected == []
        assert len(desk.cases()) == len(first.cases()) == 1
        assert desk.case().facts == first.case().facts
        assert desk.case().exit == first.case().exit
        assert _content(desk.case().live_handover) == _content(first.case().live_handover)
    return desks


def _content(handover: dict[str, Any] | None) -> dict[str, Any] | None:
    return None if handover is None else handover["content"]


def test_r2_r17_deregistered_read_before_the_unemployed_it_follows_joins_the_case() -> None:
    # Notice from 2021-02-01, S = 2021-03-01, March paid, deregistered 2021-04-15 (R17). Read
    # deregistered first, the notice case ends (R2); the registration on 2021-03-01, before
    # that exit, is the same case's (not a dead letter): S, its hours and the R17 exit.
    signup = notice_signup("2021-02-01", "2021-02-28")
    registration = unemployed("2021-03-01")
    paid = hours_paid("2021-03", "160.33")
    gone = msg("deregistered", deregistered_on="2021-04-15")
    late, _ = _same_case(
        [[signup, gone, paid, registration], [signup, registration, paid, gone]]
    )
    case = late.case()
    assert case.facts.start == date(2021, 3, 1)
    assert case.exit is not None and (case.exit.reason, case.exit.on) == (
        "deregistered",
        date(2021, 4, 15),
    )
    assert [p.hours for p in case.facts.payments] == [Decimal("160.33")]
    assert case.handovers == []  # R17: no handover


def test_r2_r10_akasse_changed_read_before_the_unemployed_gives_the_handover() -> None:
    # The same with akasse_changed on 2021-04-15 (R10): the notice case ended without a
    # handover (R2); once the registration joins it, the case is in the trial and the R12
    # handover is published, as when the registration is read first.
    signup = notice_signup("2021-02-01", "2021-02-28")
    registration = unemployed("2021-03-01")
    left = msg("akasse_changed", changed_on="2021-04-15")
    late, _ = _same_case([[signup, left, registration], [signup, registration, left]])
    live = late.case().live_handover
    assert live is not None
    assert live["content"]["reason"] == "changed_akasse"
    assert live["content"]["effective_on"] == "2021-04-15"
