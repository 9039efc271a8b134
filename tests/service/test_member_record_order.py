"""One order for the member's record (CONTRACT.md, "Order and the member's record"): kept
messages apply in the order they were accepted, each as if it had arrived right after what
it waited for; a message belongs to the case whose period covers its day."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal
from typing import Any

from domain.case import Case
from domain.facts import CaseFacts
from domain.params import DEFAULT_SETTINGS
from domain.view import case_view
from tests.fakes import (
    Desk,
    holiday_requested,
    hours_paid,
    meeting_booked,
    meeting_held,
    moved,
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


# --- cases in sequence: a message after the latest case's exit waits for the next case -----


def _two_cases(*june: dict[str, Any]) -> tuple[Desk, Desk]:
    """Case 1: S = 2021-01-04, deregistered 2021-03-15 (R17). Case 2: S = 2021-06-01. The
    June messages read after the second registration, read before it, read before even the
    first case's deregistration (which then lets them go to the member's record), and the
    deregistration read last of all (the second registration waits for it, R1)."""
    registered, gone = unemployed("2021-01-04"), msg("deregistered", deregistered_on="2021-03-15")
    second = unemployed("2021-06-01")
    natural, early, before_exit, last = Desk(), Desk(), Desk(), Desk()
    for desk, order in (
        (natural, [registered, gone, second, *june]),
        (early, [registered, gone, *june, second]),
        (before_exit, [registered, *june, gone, second]),
        (last, [registered, second, *june, gone]),  # R1: the registration waits for the exit
    ):
        for message in order:
            desk.try_send(message)
        assert desk.rejected == []
        assert len(desk.cases()) == 2
        assert desk.member().waiting == []
    for desk in (early, before_exit, last):
        for index in (0, 1):
            assert _reported(desk.cases()[index]) == _reported(natural.cases()[index])
            for day in ("2021-03-01", "2021-06-20", "2021-09-01"):
                assert _shown(desk.cases()[index], day) == _shown(natural.cases()[index], day)
            assert desk.cases()[index].exit == natural.cases()[index].exit
            assert _content(desk.cases()[index].live_handover) == _content(
                natural.cases()[index].live_handover
            )
    first_case = early.cases()[0]
    assert first_case.exit is not None and first_case.exit.on == date(2021, 3, 15)
    return natural, early


def _shown(case: Case, day: str) -> dict[str, Any]:
    return case_view(case.facts, date.fromisoformat(day), DEFAULT_SETTINGS).as_dict("case", None)


def _reported(case: Case) -> CaseFacts:
    """The facts reported to the case; not `exits`, the stored decision's list of the exits
    known (R13), which names what each decision saw (a later exit too, read before the
    earlier one) and shows, as of any day, the same exit."""
    return replace(case.facts, exits=())


def _exit(desk: Desk, index: int) -> tuple[str, str] | None:
    exit_ = desk.cases()[index].exit
    return None if exit_ is None else (exit_.reason, exit_.on.isoformat())


def test_r8_june_hours_read_before_the_second_registration_end_the_second_case() -> None:
    # 3 x 160.33 for June to August reach 410 in August (R8): the second case exits
    # 2021-08-31 with its handover; the first (ended 2021-03-15) keeps no hours.
    hours = [hours_paid(month, "160.33") for month in ("2021-06", "2021-07", "2021-08")]
    _, early = _two_cases(*hours)
    assert early.cases()[0].facts.payments == ()
    assert len(early.cases()[1].facts.payments) == 3
    assert _exit(early, 1) == ("hours_threshold", "2021-08-31")
    live = early.cases()[1].live_handover
    assert live is not None and live["content"]["reason"] == "hours_threshold"


def test_r4_a_june_meeting_read_before_the_second_registration_is_the_second_cases() -> None:
    # cv_and_job held 2021-06-10, within S + 14 days of the second S (R4): held there, not
    # shown held three months after the first case's exit.
    _, early = _two_cases(meeting_held("cv_and_job", "2021-06-10"))
    assert early.cases()[0].facts.meetings == ()
    assert [m.held_on for m in early.cases()[1].facts.meetings] == [date(2021, 6, 10)]
    assert not any(t[0].startswith("meeting:cv_and_job") for t in early.tasks("2021-06-20"))


def test_r9_a_july_move_out_read_before_the_second_registration_ends_the_second_case() -> None:
    # Moved to 0153 Brøndby (outside the trial) on 2021-07-05: moved_out (R9), handed over.
    _, early = _two_cases(moved("2021-07-05", 153))
    assert early.cases()[0].facts.moves == ()
    assert _exit(early, 1) == ("moved_out", "2021-07-05")
    assert early.cases()[1].live_handover is not None


def test_r17_a_july_deregistration_read_before_the_second_registration_ends_the_second_case() -> (
    None
):
    _, early = _two_cases(msg("deregistered", deregistered_on="2021-07-20"))
    assert len(early.cases()[0].facts.deregistrations) == 1
    assert _exit(early, 1) == ("deregistered", "2021-07-20")


def test_what_the_ended_case_covers_stays_the_ended_cases() -> None:
    # February's hours paid late (a month before the exit) and a joint meeting held on the
    # exit day 2021-03-15 belong to the first case, read before or after the second S.
    late_pay = hours_paid("2021-02", "100")
    on_exit_day = meeting_held("cv_and_job", "2021-03-15")
    _, early = _two_cases(late_pay, on_exit_day)
    first, second = early.cases()
    assert [p.month for p in first.facts.payments] == [date(2021, 2, 1)]
    assert [m.held_on for m in first.facts.meetings] == [date(2021, 3, 15)]
    assert second.facts.payments == () and second.facts.meetings == ()


# --- late announcements: a notice sign-up read after the registration it announces --------


def test_r2_a_notice_signup_read_after_its_registration_is_recorded_on_that_case() -> None:
    # Signed up 2021-02-01 (employment ends 2021-02-28), registered 2021-03-01: read the
    # other way round the sign-up is accepted, not a dead letter, and the case is the same
    # (its notice from 2021-02-01; R1 and R3 decided from S, unchanged).
    signup = notice_signup("2021-02-01", "2021-02-28")
    registration = unemployed("2021-03-01")
    booked = meeting_booked("cv_and_job", "2021-03-05")
    late, natural = Desk(), Desk()
    late.send_all([registration, booked, signup])
    natural.send_all([signup, registration, booked])
    assert late.rejected == [] and len(late.cases()) == 1
    assert late.case().facts == natural.case().facts
    assert late.case().facts.opened_on == date(2021, 2, 1)
    for day in ("2021-02-10", "2021-03-02"):
        assert _shown(late.case(), day) == _shown(natural.case(), day)


def test_r2_a_notice_signup_dated_after_s_announces_no_registration_of_it() -> None:
    # A sign-up on 2021-03-10, after S = 2021-03-01, is not recorded on that case: it waits
    # for the case to end (R1), as a registration would.
    desk = Desk()
    desk.send(unemployed("2021-03-01"))
    desk.send(notice_signup("2021-03-10", "2021-03-31"))
    assert desk.case().facts.notice is None and len(desk.cases()) == 1
    assert [k["message"]["type"] for k in desk.member().waiting] == ["notice_signup"]


def test_r7_a_kept_booking_the_rules_refuse_at_the_registration_is_the_same_dead_letter() -> None:
    # Notice from 2021-02-01, a booking on 2021-02-20 read in the notice period (kept),
    # S = 2021-03-01: the booking lies before S (R7). Registration first, it is rejected on
    # arrival; kept, it is rejected when the registration comes: the same dead letter, its
    # id free again, nothing left waiting.
    signup = notice_signup("2021-02-01", "2021-02-28")
    registration = unemployed("2021-03-01")
    booking = meeting_booked("cv_and_job", "2021-02-20")
    kept, natural = Desk(), Desk()
    for message in (signup, booking, registration):
        kept.try_send(message)
    for message in (signup, registration, booking):
        natural.try_send(message)
    assert kept.rejected == natural.rejected
    [(message_id, error)] = kept.rejected
    assert message_id == booking["message_id"] and "R7" in error
    assert [d["message_id"] for d in kept.book.dead_letters] == [message_id]
    assert kept.member().waiting == [] and message_id not in kept.book.processed
    assert kept.case().facts.bookings == ()
