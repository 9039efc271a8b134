"""One order for the member's record (CONTRACT.md, "Order and the member's record"): kept
messages apply in the order they were accepted, each as if it had arrived right after what
it waited for; a message belongs to the case whose period covers its day."""

from __future__ import annotations

from typing import Any

from tests.fakes import (
    Desk,
    holiday_requested,
    meeting_booked,
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
