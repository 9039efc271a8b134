"""R1, R2, R3 through the case service (the Desk fake): end to end, message in, case out;
the rule functions themselves are tested in tests/unit/test_rules_enrolment.py."""

from __future__ import annotations

from datetime import date

import pytest

from domain.errors import Rejected
from tests.fakes import Desk, hours_paid, meeting_booked, msg, notice_signup, unemployed

D = date.fromisoformat
# CPR numbers whose birth dates matter for R3 (the birth date must match the CPR).
CPR_1996_03_01 = "0103961234"  # 7th digit 1: 1900s -> born 1996-03-01
CPR_2000_02_29 = "2902004123"  # 7th digit 4, year 00: 2000s -> born 2000-02-29
CPR_1998_06_15 = "1506981234"  # born 1998-06-15


def _notice(desk: Desk, signed_up_on: str = "2021-02-01", ends: str = "2021-02-28") -> None:
    desk.send(notice_signup(signed_up_on, ends))


def test_r1_in_trial_case_starts_on_s_with_the_meeting_plan() -> None:
    # R1: S = 2021-03-01 in Aarhus (751) -> in_trial, cv_and_job due 2021-03-01..2021-03-15
    desk = Desk()
    desk.send(unemployed("2021-03-01", 751))
    view = desk.view("2021-03-01")
    assert view.status == "in_trial"
    assert view.facts.registration is not None
    assert view.facts.registration.outside_reason is None
    assert desk.tasks("2021-03-01") == [("meeting:cv_and_job", "2021-03-15", False)]
    assert desk.handovers() == []


def test_r1_outside_trial_by_municipality_has_no_tasks_no_meetings_no_handover() -> None:
    # R1: S = 2021-03-01 in Odense (461) -> outside_trial, reason municipality
    desk = Desk()
    desk.send(unemployed("2021-03-01", 461))
    view = desk.view("2021-06-01")
    assert view.status == "outside_trial"
    assert view.as_dict("c", None)["outside_reason"] == "municipality"
    assert view.meetings == ()
    assert view.tasks() == []
    assert view.expected_end is None
    # hours paid do not end a case that is outside the trial
    desk.send_all([hours_paid(f"2021-0{n}", "160.33") for n in (3, 4, 5)])
    assert desk.case().exit is None
    assert desk.handovers() == []


@pytest.mark.parametrize("start", ["2019-12-31", "2024-01-01"])
def test_r1_outside_trial_by_window(start: str) -> None:
    # R1: S = 2019-12-31 (before 2020-01-01) or 2024-01-01 (after 2023-12-31) in Aarhus
    desk = Desk()
    desk.send(unemployed(start, 751))
    view = desk.view(start)
    assert view.status == "outside_trial"
    assert view.as_dict("c", None)["outside_reason"] == "window"
    assert view.tasks() == []


def test_r1_r7_outside_trial_case_takes_no_booking() -> None:
    # R1/R7: S = 2021-03-01 in Odense (461): a booking on 2021-03-05 is refused
    desk = Desk()
    desk.send(unemployed("2021-03-01", 461))
    with pytest.raises(Rejected, match="R7"):
        desk.send(meeting_booked("cv_and_job", "2021-03-05"))


def test_r1_young_member_outside_trial_is_not_given_an_education_order_exit() -> None:
    # R1 before R3: born 1998-06-15, S = 2021-03-01 in Odense (461): outside_trial, no exit
    desk = Desk()
    desk.send(unemployed("2021-03-01", 461, cpr=CPR_1998_06_15, birth_date="1998-06-15"))
    case = desk.case(CPR_1998_06_15)
    assert case.exit is None
    assert case.handovers == []
    assert desk.view("2021-03-01", CPR_1998_06_15).status == "outside_trial"


def test_r2_notice_signup_outside_trial_municipality_is_refused() -> None:
    # R2: sign-up 2021-02-01 from Odense (461) -> Rejected, field municipality_code
    desk = Desk()
    with pytest.raises(Rejected) as refused:
        desk.send(
            msg(
                "notice_signup",
                signed_up_on="2021-02-01",
                employment_ends_on="2021-02-28",
                municipality_code=461,
            )
        )
    assert refused.value.field == "municipality_code"
    assert "R2" in refused.value.reason
    assert desk.cases() == []


def test_r2_notice_signup_outside_window_is_refused() -> None:
    # R2: sign-up 2019-12-15 (before 2020-01-01) in Aarhus -> Rejected, field signed_up_on
    desk = Desk()
    with pytest.raises(Rejected) as refused:
        desk.send(
            msg(
                "notice_signup",
                signed_up_on="2019-12-15",
                employment_ends_on="2020-01-31",
                municipality_code=751,
            )
        )
    assert refused.value.field == "signed_up_on"
    assert "window" in refused.value.reason


def test_r2_notice_period_then_registration_starts_the_trial_on_its_own_s() -> None:
    # R2: sign-up 2021-02-01 (Aarhus), employment ends 2021-02-28; registered 2021-03-01
    desk = Desk()
    _notice(desk)
    notice_view = desk.view("2021-02-15")
    assert notice_view.status == "notice_period"
    assert notice_view.tasks() == []
    assert notice_view.as_dict("c", None)["started_on"] is None
    case_id = desk.case().id
    desk.send(unemployed("2021-03-01", 751))
    assert desk.case().id == case_id, "the registration starts the notice-period case"
    assert len(desk.cases()) == 1
    view = desk.view("2021-03-01")
    assert view.status == "in_trial"
    assert view.facts.start == D("2021-03-01")
    # S is the registration day, not the sign-up day: cv_and_job due by 2021-03-15
    assert desk.tasks("2021-03-01") == [("meeting:cv_and_job", "2021-03-15", False)]
    # as of a day in the notice period the case still shows notice_period
    assert desk.view("2021-02-20").status == "notice_period"


def test_r2_r1_registration_after_notice_from_a_non_trial_municipality_is_outside_trial() -> None:
    # R2 then R1: signed up 2021-02-01 in Aarhus, but registered 2021-03-01 living in
    # Odense (461): R1 judges the municipality on S -> outside_trial, reason municipality
    desk = Desk()
    _notice(desk)
    desk.send(unemployed("2021-03-01", 461))
    view = desk.view("2021-03-01")
    assert view.status == "outside_trial"
    assert view.as_dict("c", None)["outside_reason"] == "municipality"


def test_r2_notice_period_takes_no_booking_but_parks_it_until_the_registration() -> None:
    # R2/R7: in the notice period (signed up 2021-02-01) there is no S, so no booking yet.
    # A booking for 2021-03-05 read before the registration (another topic read ahead) is
    # parked on the member; the registration with S = 2021-03-01 applies it. One for
    # 2021-02-10, before S, stays kept in the member's record and never applies.
    desk = Desk()
    _notice(desk)
    desk.send(meeting_booked("cv_and_job", "2021-03-05"))
    desk.send(meeting_booked("cv_and_job", "2021-02-10"))
    assert desk.case().facts.bookings == ()
    desk.send(unemployed("2021-03-01", 751))
    assert [b.on.isoformat() for b in desk.case().facts.bookings] == ["2021-03-05"]
    applied = [k["applied_to"] is not None for k in desk.member().kept]
    assert applied == [True, False]


def test_r2_registration_before_the_sign_up_is_refused() -> None:
    # R2: signed up 2021-02-01, "registered" 2021-01-20 -> Rejected
    desk = Desk()
    _notice(desk)
    with pytest.raises(Rejected):
        desk.send(unemployed("2021-01-20", 751))


def test_r2_r17_notice_period_ends_on_deregistration_without_handover() -> None:
    # R2 + R17: signed up 2021-02-01, deregistered 2021-02-20 (kept the job): ended, no handover
    desk = Desk()
    _notice(desk)
    desk.send(msg("deregistered", deregistered_on="2021-02-20"))
    case = desk.case()
    assert case.exit is not None
    assert (case.exit.reason, case.exit.on) == ("deregistered", D("2021-02-20"))
    assert case.handovers == []
    assert desk.view("2021-02-19").status == "notice_period"
    assert desk.view("2021-02-20").status == "ended"


def test_r2_notice_period_ended_then_a_later_registration_opens_a_new_case() -> None:
    # R2: notice case 2021-02-01 ended by akasse_changed 2021-02-10 (no handover);
    # registered 2021-05-03 -> a second case, in the trial
    desk = Desk()
    _notice(desk)
    desk.send(msg("akasse_changed", changed_on="2021-02-10"))
    assert desk.case().handovers == []
    desk.send(unemployed("2021-05-03", 751))
    assert len(desk.cases()) == 2
    assert desk.view("2021-05-03").status == "in_trial"


def test_r3_education_order_exits_on_s_with_handover() -> None:
    # R3: born 1998-06-15, S = 2021-03-01 (22), no education, no children, Aarhus
    # -> exit education_order on 2021-03-01, handover to 751 effective 2021-03-01;
    # nothing held: jobcenter must 4 job + 2 joint by 2021-09-01; 16 months = 2022-07-01
    desk = Desk()
    desk.send(unemployed("2021-03-01", 751, cpr=CPR_1998_06_15, birth_date="1998-06-15"))
    case = desk.case(CPR_1998_06_15)
    assert case.exit is not None
    assert (case.exit.reason, case.exit.on, case.exit.rule) == (
        "education_order",
        D("2021-03-01"),
        "R3",
    )
    assert desk.view("2021-03-01", CPR_1998_06_15).status == "ended"
    assert desk.view("2021-03-01", CPR_1998_06_15).tasks() == []
    [handover] = case.handovers
    assert handover["type"] == "handover"
    assert handover["replaces"] is None
    assert handover["content"] == {
        "reason": "education_order",
        "effective_on": "2021-03-01",
        "jobcenter_municipality_code": 751,
        "started_on": "2021-03-01",
        "held": {"job": 0, "cv": 0, "availability": 0, "joint": 0},
        "jobcenter_must": {"job": 4, "joint": 2, "by": "2021-09-01"},
        "akasse_must": {"availability_by": "2021-09-01", "joint_at_16_months": "2022-07-01"},
    }
    # the Registered event stores the decision, not the birth date
    events = desk.book.events(case.id)
    registered = next(e for e in events if type(e).__name__ == "Registered")
    assert registered.education_order is True
    assert registered.rule == "R3"
    assert not hasattr(registered, "birth_date")


def test_r3_exactly_25_on_s_stays_in_the_trial() -> None:
    # R3: born 1996-03-01, S = 2021-03-01 (25th birthday): not under 25 -> in_trial
    desk = Desk()
    desk.send(unemployed("2021-03-01", 751, cpr=CPR_1996_03_01, birth_date="1996-03-01"))
    assert desk.case(CPR_1996_03_01).exit is None
    assert desk.view("2021-03-01", CPR_1996_03_01).status == "in_trial"


def test_r3_one_day_before_the_25th_birthday_exits() -> None:
    # R3: born 1996-03-01, S = 2021-02-28 (24 years and 364 days) -> education_order
    desk = Desk()
    desk.send(unemployed("2021-02-28", 751, cpr=CPR_1996_03_01, birth_date="1996-03-01"))
    case = desk.case(CPR_1996_03_01)
    assert case.exit is not None and case.exit.reason == "education_order"
    assert case.exit.on == D("2021-02-28")


def test_r3_leap_day_born_2000_exits_and_handover_dates_from_a_leap_s() -> None:
    # R3: born 2000-02-29, S = 2020-02-29 (turns 20 that day) -> education_order on S;
    # R12: S + 6 months = 2020-08-29, S + 16 months = 2021-06-29
    desk = Desk()
    desk.send(unemployed("2020-02-29", 101, cpr=CPR_2000_02_29, birth_date="2000-02-29"))
    [handover] = desk.handovers(CPR_2000_02_29)
    assert handover["content"]["reason"] == "education_order"
    assert handover["content"]["effective_on"] == "2020-02-29"
    assert handover["content"]["jobcenter_municipality_code"] == 101
    assert handover["content"]["jobcenter_must"]["by"] == "2020-08-29"
    assert handover["content"]["akasse_must"]["joint_at_16_months"] == "2021-06-29"


@pytest.mark.parametrize(("vocational", "children"), [(True, False), (False, True)])
def test_r3_young_member_with_education_or_children_stays(vocational: bool, children: bool) -> None:
    # R3: born 1998-06-15, S = 2021-03-01, with vocational education or children -> in_trial
    desk = Desk()
    desk.send(
        unemployed(
            "2021-03-01",
            751,
            cpr=CPR_1998_06_15,
            birth_date="1998-06-15",
            vocational_education=vocational,
            has_children=children,
        )
    )
    assert desk.case(CPR_1998_06_15).exit is None
    assert desk.case(CPR_1998_06_15).handovers == []
