"""R14, R15, R18 through the case service (the Desk fake): end to end, message in, case out;
the rule functions themselves are tested in
tests/unit/test_rules_holiday_sickness_less_intensive.py."""

from __future__ import annotations

from datetime import date

import pytest

from domain.errors import Rejected
from domain.facts import Booking, Sickness
from domain.rules.sickness import bookings_to_rebook
from domain.view import holiday_dicts
from tests.fakes import (
    Desk,
    holiday_requested,
    hours_paid,
    less_intensive,
    meeting_booked,
    meeting_held,
    msg,
    notice_signup,
    unemployed,
)

D = date.fromisoformat


S = "2021-03-01"  # Monday: cv 03-01..03-15, availability 04-12..04-19, joint 05-03..05-17


def started(start: str = S) -> Desk:
    desk = Desk()
    desk.send(unemployed(start))
    return desk


def holidays(desk: Desk, day: str) -> list[tuple[object, object, object]]:
    """R14: (request_id, status, reason) of each request, as the case object shows it."""
    return [
        (h["request_id"], h["status"], h["reason"]) for h in holiday_dicts(desk.view(day).facts)
    ]


def decided(desk: Desk, request_id: str, approved: bool, on: str = "2021-03-05") -> None:
    desk.send(msg("holiday_decided", request_id=request_id, decided_on=on, approved=approved))


def test_r14_enough_notice_via_jobnet_is_approved_automatically() -> None:
    # R14: requested 2021-03-01 for 2021-03-15..2021-03-19 (14 days) via jobnet -> approved
    desk = started()
    desk.send(holiday_requested("h1", "2021-03-01", "2021-03-15", "2021-03-19", "jobnet"))
    assert holidays(desk, "2021-03-01") == [("h1", "approved", None)]
    assert [t for t in desk.tasks("2021-03-01") if t[0].startswith("holiday")] == []


def test_r14_short_notice_via_jobnet_is_rejected() -> None:
    # R14: requested 2021-03-02 for 2021-03-15 (13 days) via jobnet -> rejected
    desk = started()
    desk.send(holiday_requested("h1", "2021-03-02", "2021-03-15", "2021-03-19", "jobnet"))
    assert holidays(desk, "2021-03-02") == [("h1", "rejected", "short_notice_via_jobnet")]
    # a decision on a request that is not pending is refused
    with pytest.raises(Rejected, match="not pending"):
        decided(desk, "h1", True)


def test_r14_short_notice_by_phone_waits_for_the_adviser() -> None:
    # R14: requested by phone 2021-03-10 for 2021-03-15..2021-03-16 (5 days) -> pending;
    # worklist task holiday:h1 due by the first holiday day 2021-03-15, overdue on 03-16;
    # the adviser approves 2021-03-11 -> approved, the task is gone
    desk = started()
    desk.send(holiday_requested("h1", "2021-03-10", "2021-03-15", "2021-03-16", "phone"))
    assert holidays(desk, "2021-03-10") == [("h1", "pending", "short_notice")]
    assert desk.view("2021-03-10").as_dict("c", None)["holidays"] == [
        {
            "request_id": "h1",
            "first_day": "2021-03-15",
            "last_day": "2021-03-16",
            "status": "pending",
            "reason": "short_notice",
            "rule": "R14",
        }
    ]
    assert ("holiday:h1", "2021-03-15", False) in desk.tasks("2021-03-10")
    assert ("holiday:h1", "2021-03-15", True) in desk.tasks("2021-03-16")
    decided(desk, "h1", True, on="2021-03-11")
    assert holidays(desk, "2021-03-11") == [("h1", "approved", None)]
    assert holidays(desk, "2021-03-10") == [("h1", "pending", "short_notice")]  # as of before
    assert [t for t in desk.tasks("2021-03-11") if t[0].startswith("holiday")] == []
    # a second decision is refused
    with pytest.raises(Rejected, match="not pending"):
        decided(desk, "h1", False, on="2021-03-12")


def test_r14_adviser_rejection_shows_reason_adviser() -> None:
    # R14: requested by message 2021-03-10 for 2021-03-15 -> pending; rejected 2021-03-11
    desk = started()
    desk.send(holiday_requested("h1", "2021-03-10", "2021-03-15", "2021-03-15", "message"))
    decided(desk, "h1", False, on="2021-03-11")
    assert holidays(desk, "2021-03-11") == [("h1", "rejected", "adviser")]


def test_r14_clash_with_a_standing_booking_is_pending() -> None:
    # R14 + R7: availability_and_job booked on 2021-04-14; holiday 2021-04-12..2021-04-16
    # requested 2021-03-20 via jobnet (23 days) -> pending, reason clash, task due 2021-04-12
    desk = started()
    desk.send(meeting_booked("availability_and_job", "2021-04-14"))
    desk.send(holiday_requested("h1", "2021-03-20", "2021-04-12", "2021-04-16", "jobnet"))
    assert holidays(desk, "2021-03-20") == [("h1", "pending", "clash")]
    assert ("holiday:h1", "2021-04-12", False) in desk.tasks("2021-03-20")


def test_r14_a_rebooked_or_held_meeting_does_not_clash() -> None:
    # R14 + R7: cv booked 2021-03-31, re-booked to 2021-03-12 (the latest booking stands);
    # holiday 2021-03-29..2021-04-02 requested 2021-03-05 (24 days) -> approved
    desk = started()
    desk.send_all(
        [meeting_booked("cv_and_job", "2021-03-31"), meeting_booked("cv_and_job", "2021-03-12")]
    )
    desk.send(holiday_requested("h1", "2021-03-05", "2021-03-29", "2021-04-02", "jobnet"))
    assert holidays(desk, "2021-03-05") == [("h1", "approved", None)]
    # joint booked 2021-05-10 but already held 2021-05-04: no clash with 2021-05-10..05-14
    desk.send_all([meeting_booked("joint", "2021-05-10"), meeting_held("joint", "2021-05-04")])
    desk.send(holiday_requested("h2", "2021-04-20", "2021-05-10", "2021-05-14", "jobnet"))
    assert ("h2", "approved", None) in holidays(desk, "2021-05-10")


def test_r14_the_decision_is_made_on_arrival_and_never_redecided() -> None:
    # R14 (contract): approved on arrival 2021-03-01 for 2021-03-15..19; a booking on
    # 2021-03-17 made afterwards does not turn it into a clash, as of any day
    desk = started()
    desk.send(holiday_requested("h1", "2021-03-01", "2021-03-15", "2021-03-19", "jobnet"))
    desk.send(meeting_booked("cv_and_job", "2021-03-17"))
    for day in ("2021-03-01", "2021-03-17", "2021-06-01"):
        assert holidays(desk, day) == [("h1", "approved", None)]


def test_r14_a_decision_before_its_request_is_parked_and_applied_when_the_request_comes() -> None:
    # R14 (order across topics): the adviser's approval of h1 on 2021-03-11 is read before
    # jobnet's phone request of 2021-03-10 for 2021-03-15..16 -> parked on the member, then
    # applied when the request arrives: approved, as if they had come in order
    desk = started()
    decided(desk, "h1", True, on="2021-03-11")
    assert holidays(desk, "2021-03-11") == []
    assert [k["applied_to"] for k in desk.member().kept] == [None]
    desk.send(holiday_requested("h1", "2021-03-10", "2021-03-15", "2021-03-16", "phone"))
    assert holidays(desk, "2021-03-11") == [("h1", "approved", None)]
    assert holidays(desk, "2021-03-10") == [("h1", "pending", "short_notice")]
    assert [k["applied_to"] for k in desk.member().kept] == [desk.case().id]


def test_r14_repeated_request_ids_are_refused() -> None:
    desk = started()
    desk.send(holiday_requested("h1", "2021-03-01", "2021-03-15", "2021-03-19", "jobnet"))
    with pytest.raises(Rejected, match="already received"):
        desk.send(holiday_requested("h1", "2021-03-02", "2021-03-22", "2021-03-26", "jobnet"))


def test_r15_reported_on_the_first_sick_day_is_no_task() -> None:
    # R15: sick from 2021-03-08, reported 2021-03-08 -> recorded, nothing on the worklist
    desk = started()
    desk.send(msg("sickness_reported", sick_from="2021-03-08", reported_on="2021-03-08"))
    assert len(desk.case().facts.sickness) == 1
    assert [t for t in desk.tasks("2021-03-08") if t[0].startswith("sickness")] == []


def test_r15_late_report_is_flagged() -> None:
    # R15: sick from 2021-03-08, reported 2021-03-10 -> task sickness:late_report due by
    # 2021-03-10, never overdue; not shown as of 2021-03-09 (not yet reported)
    desk = started()
    desk.send(msg("sickness_reported", sick_from="2021-03-08", reported_on="2021-03-10"))
    assert ("sickness:late_report", "2021-03-10", False) in desk.tasks("2021-03-10")
    assert ("sickness:late_report", "2021-03-10", False) in desk.tasks("2021-04-01")
    assert [t for t in desk.tasks("2021-03-09") if t[0].startswith("sickness")] == []
    late = [e for e in desk.book.events(desk.case().id) if type(e).__name__ == "SicknessReported"]
    assert late[0].late_report is True


def test_r15_a_sick_day_on_a_booked_meeting_flags_it_rebook() -> None:
    # R15: cv_and_job booked on 2021-03-09; sick from 2021-03-08, reported 2021-03-10 ->
    # task meeting:cv_and_job:rebook due by cv's due-by 2021-03-15; overdue from 2021-03-16.
    # Re-booking it on 2021-03-12 (after the known sick days) clears the flag.
    desk = started()
    desk.send(meeting_booked("cv_and_job", "2021-03-09"))
    desk.send(msg("sickness_reported", sick_from="2021-03-08", reported_on="2021-03-10"))
    assert ("meeting:cv_and_job:rebook", "2021-03-15", False) in desk.tasks("2021-03-10")
    assert ("meeting:cv_and_job:rebook", "2021-03-15", True) in desk.tasks("2021-03-16")
    desk.send(meeting_booked("cv_and_job", "2021-03-12"))
    assert [t for t in desk.tasks("2021-03-12") if t[0].endswith(":rebook")] == []


def test_r15_holding_the_meeting_clears_the_rebook_flag() -> None:
    # R15: cv booked 2021-03-09, sick 2021-03-09 reported 2021-03-09 -> rebook; cv held
    # 2021-03-11 -> no rebook task
    desk = started()
    desk.send(meeting_booked("cv_and_job", "2021-03-09"))
    desk.send(msg("sickness_reported", sick_from="2021-03-09", reported_on="2021-03-09"))
    assert ("meeting:cv_and_job:rebook", "2021-03-15", False) in desk.tasks("2021-03-09")
    desk.send(meeting_held("cv_and_job", "2021-03-11"))
    assert desk.tasks("2021-03-11") == []


def test_r15_a_booking_after_the_known_sick_days_is_not_flagged() -> None:
    # R15 (decisions): sick days known = sick_from..reported_on; booked 2021-03-12, sick from
    # 2021-03-08 reported 2021-03-08 -> no rebook
    desk = started()
    desk.send(meeting_booked("cv_and_job", "2021-03-12"))
    desk.send(msg("sickness_reported", sick_from="2021-03-08", reported_on="2021-03-08"))
    assert desk.tasks("2021-03-08") == [("meeting:cv_and_job", "2021-03-15", False)]
    # pure: the same rule
    assert bookings_to_rebook(
        [Sickness(D("2021-03-08"), D("2021-03-10"))],
        [Booking("cv_and_job", D("2021-03-10")), Booking("joint", D("2021-03-11"))],
    ) == [Booking("cv_and_job", D("2021-03-10"))]


def test_r15_no_sickness_task_once_the_case_left_the_trial() -> None:
    # R15: late report 2021-03-10 (sick from 03-08); opted out 2021-03-12 -> no tasks
    desk = started()
    desk.send(msg("sickness_reported", sick_from="2021-03-08", reported_on="2021-03-10"))
    desk.send(msg("opted_out", decided_on="2021-03-12", note="x"))
    assert desk.tasks("2021-03-12") == []


def test_r18_shown_on_the_case_and_decided_with_the_message() -> None:
    # R18: requested 2021-03-05 starts 2021-04-10 (36 days), documented -> approved until
    # 2021-04-10; the request event stores the decision, rule R18
    desk = started()
    desk.send(less_intensive("2021-03-05", "2021-04-10", reason="folkepension"))
    assert desk.view("2021-03-05").as_dict("c", None)["less_intensive"] == {
        "status": "approved",
        "reason": None,
        "until": "2021-04-10",
        "rule": "R18",
    }
    assert desk.view("2021-03-04").as_dict("c", None)["less_intensive"] is None
    [event] = [
        e for e in desk.book.events(desk.case().id) if type(e).__name__ == "LessIntensiveRequested"
    ]
    assert (event.status, event.refusal, event.rule) == ("approved", None, "R18")


def test_r18_rejected_too_early_and_undocumented_on_the_case() -> None:
    # R18: requested 2021-03-05 starts 2021-04-20 (46 days) -> rejected too_early;
    # then documented=false for 2021-04-10 -> rejected undocumented (the latest is shown)
    desk = started()
    desk.send(less_intensive("2021-03-05", "2021-04-20"))
    assert desk.view("2021-03-05").as_dict("c", None)["less_intensive"] == {
        "status": "rejected",
        "reason": "too_early",
        "until": "2021-04-20",
        "rule": "R18",
    }
    desk.send(less_intensive("2021-03-06", "2021-04-10", documented=False))
    shown = desk.view("2021-03-06").as_dict("c", None)["less_intensive"]
    assert shown is not None and shown["reason"] == "undocumented"  # type: ignore[index]


def test_r18_hours_still_count_while_approved() -> None:
    # R18: S = 2021-01-04, approved 2021-03-01..2021-04-10; Jan 160.33 + Feb 160.33 +
    # Mar 89.34 = 410.00 -> exit hours_threshold 2021-03-31 all the same
    desk = started("2021-01-04")
    desk.send(less_intensive("2021-03-01", "2021-04-10"))
    desk.send_all(
        [
            hours_paid("2021-01", "160.33"),
            hours_paid("2021-02", "160.33"),
            hours_paid("2021-03", "89.34"),
        ]
    )
    exit_ = desk.case().exit
    assert exit_ is not None and (exit_.reason, exit_.on) == ("hours_threshold", D("2021-03-31"))
    assert desk.view("2021-03-15").status == "in_trial"


def test_r18_r15_no_rebook_task_while_the_approval_lasts() -> None:
    # R18 + R15: cv booked 2021-03-09, sick 2021-03-09 (rebook); approved 2021-03-09..
    # 2021-04-10 -> no meeting task at all on 2021-03-10, the late report stays
    desk = started()
    desk.send(meeting_booked("cv_and_job", "2021-03-09"))
    desk.send(msg("sickness_reported", sick_from="2021-03-08", reported_on="2021-03-09"))
    desk.send(less_intensive("2021-03-09", "2021-04-10"))
    assert desk.tasks("2021-03-10") == [("sickness:late_report", "2021-03-09", False)]


def test_r7_booking_before_s_is_refused() -> None:
    # R7: notice sign-up 2021-02-01, S = 2021-03-01; a booking on 2021-02-20 (in the case,
    # before S) is refused; one on S is accepted
    desk = Desk()
    desk.send(notice_signup("2021-02-01", "2021-02-28"))
    # in the notice period there is nothing to book yet: parked until the registration,
    # which then refuses it (before S) and leaves it kept in the member's record
    desk.send(meeting_booked("cv_and_job", "2021-02-20"))
    desk.send(unemployed(S))
    assert desk.case().facts.bookings == ()
    assert [k["applied_to"] for k in desk.member().kept] == [None]
    with pytest.raises(Rejected, match="R7") as refused:
        desk.send(meeting_booked("cv_and_job", "2021-02-20"))
    assert refused.value.field == "on"
    desk.send(meeting_booked("cv_and_job", S))
    assert desk.case().facts.bookings == (Booking("cv_and_job", D(S)),)


def test_r7_booking_after_the_exit_day_waits_for_the_next_case() -> None:
    # R7: opted out 2021-03-10; booking on 2021-03-10 is the case's, one on 2021-03-11 lies
    # after its exit: kept in the member's record for the next case (CONTRACT.md)
    desk = started()
    desk.send(msg("opted_out", decided_on="2021-03-10", note="x"))
    desk.send(meeting_booked("cv_and_job", "2021-03-10"))
    desk.send(meeting_booked("cv_and_job", "2021-03-11"))
    assert desk.case().facts.bookings == (Booking("cv_and_job", D("2021-03-10")),)
    assert [k["message"]["on"] for k in desk.member().waiting] == ["2021-03-11"]


def test_r7_booking_on_a_case_outside_the_trial_is_refused() -> None:
    # R7: S = 2021-03-01 in Odense (461) -> outside_trial; booking 2021-03-05 refused
    desk = Desk()
    desk.send(unemployed(S, 461))
    with pytest.raises(Rejected, match="R7"):
        desk.send(meeting_booked("cv_and_job", "2021-03-05"))
