"""R4, R5, R18, R20 through the case service (the Desk fake): end to end, message in, case out;
the rule functions themselves are tested in tests/unit/test_rules_meetings.py."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from domain.errors import Rejected
from tests.fakes import Desk, less_intensive, meeting_held, msg, notice_signup, unemployed

D = date.fromisoformat


S = "2021-03-01"  # a Monday; S+14, S+42, S+49, S+63 and S+77 are all working days


def meetings(desk: Desk, day: str) -> list[dict[str, Any]]:
    return [m.as_dict() for m in desk.view(day).meetings]


def state_of(desk: Desk, day: str, kind: str) -> str:
    [meeting] = [m for m in desk.view(day).meetings if m.kind == kind and m.held_on is None]
    return meeting.state


def started(start: str = S) -> Desk:
    desk = Desk()
    desk.send(unemployed(start))
    return desk


def extra(desk: Desk, day: str) -> list[tuple[str, str, str | None, str]]:
    return [
        (
            m.due_from.isoformat(),
            m.due_by.isoformat(),
            m.held_on.isoformat() if m.held_on else None,
            m.state,
        )
        for m in desk.view(day).meetings
        if m.kind == "extra_job"
    ]


def test_r4_plan_for_s_2021_03_01() -> None:
    # R4: S = 2021-03-01 -> cv_and_job 2021-03-01..2021-03-15 (S..S+14),
    # availability_and_job 2021-04-12..2021-04-19 (S+42..S+49),
    # joint 2021-05-03..2021-05-17 (S+63..S+77)
    assert meetings(started(), S) == [
        {
            "kind": "cv_and_job",
            "due_from": "2021-03-01",
            "due_by": "2021-03-15",
            "held_on": None,
            "state": "due",
            "rule": "R4",
        },
        {
            "kind": "availability_and_job",
            "due_from": "2021-04-12",
            "due_by": "2021-04-19",
            "held_on": None,
            "state": "due",
            "rule": "R4",
        },
        {
            "kind": "joint",
            "due_from": "2021-05-03",
            "due_by": "2021-05-17",
            "held_on": None,
            "state": "due",
            "rule": "R4",
        },
    ]


def test_r4_overdue_from_the_day_after_due_by() -> None:
    # R4: cv_and_job due by 2021-03-15: due on 2021-03-15, overdue from 2021-03-16
    desk = started()
    assert state_of(desk, "2021-03-15", "cv_and_job") == "due"
    assert state_of(desk, "2021-03-16", "cv_and_job") == "overdue"
    assert desk.tasks("2021-03-15") == [("meeting:cv_and_job", "2021-03-15", False)]
    assert desk.tasks("2021-03-16") == [("meeting:cv_and_job", "2021-03-15", True)]


def test_r4_worklist_lists_a_meeting_from_its_due_from_date() -> None:
    # R4: availability_and_job due from 2021-04-12: not on the worklist on 2021-04-11
    desk = started()
    desk.send(meeting_held("cv_and_job", "2021-03-08"))
    assert desk.tasks("2021-04-11") == []
    assert desk.tasks("2021-04-12") == [("meeting:availability_and_job", "2021-04-19", False)]


@pytest.mark.parametrize(
    ("kind", "held_on", "state"),
    [
        ("cv_and_job", "2021-03-01", "held"),  # R4: on S, the first day of the window
        ("cv_and_job", "2021-03-15", "held"),  # R4: on the due-by day
        ("cv_and_job", "2021-03-16", "late"),  # R4: the day after due-by
        ("availability_and_job", "2021-04-09", "early"),  # R4: before 2021-04-12
        ("availability_and_job", "2021-04-19", "held"),
        ("joint", "2021-05-18", "late"),  # R4: after 2021-05-17
    ],
)
def test_r4_held_in_or_outside_its_window(kind: str, held_on: str, state: str) -> None:
    # R4: S = 2021-03-01; a meeting held outside its window is recorded, flagged early/late
    desk = started()
    desk.send(meeting_held(kind, held_on))
    [view] = [m for m in desk.view("2021-06-01").meetings if m.kind == kind]
    assert (view.held_on, view.state) == (D(held_on), state)


def test_r4_early_and_late_meetings_still_count_in_the_handover() -> None:
    # R4 + R12: S = 2021-03-01; cv held late 2021-03-16, availability early 2021-04-09,
    # then opted out 2021-04-20 (R11): held job 2, cv 1, availability 1 -> jobcenter must 2 job
    desk = started()
    desk.send_all(
        [
            meeting_held("cv_and_job", "2021-03-16"),
            meeting_held("availability_and_job", "2021-04-09"),
            msg("opted_out", decided_on="2021-04-20", note="health"),
        ]
    )
    [handover] = desk.handovers()
    assert handover["content"]["held"] == {"job": 2, "cv": 1, "availability": 1, "joint": 0}
    assert handover["content"]["jobcenter_must"]["job"] == 2
    assert handover["content"]["jobcenter_must"]["joint"] == 2


def test_r4_a_mandatory_meeting_held_twice_is_refused() -> None:
    # R4: cv_and_job held 2021-03-08, reported held again 2021-03-09 -> Rejected
    desk = started()
    desk.send(meeting_held("cv_and_job", "2021-03-08"))
    with pytest.raises(Rejected, match="already held"):
        desk.send(meeting_held("cv_and_job", "2021-03-09"))


def test_r4_a_meeting_held_before_s_is_kept_outside_the_case() -> None:
    # R4 + routing: S = 2021-03-01, cv_and_job "held" 2021-02-26: no case covers that day,
    # so the message is kept in the member's record and the case's cv_and_job stays due
    desk = started()
    desk.send(meeting_held("cv_and_job", "2021-02-26"))
    assert desk.case().facts.meetings == ()
    assert [k["message"]["type"] for k in desk.member().kept] == ["meeting_held"]
    assert state_of(desk, "2021-03-02", "cv_and_job") == "due"


def test_r4_a_meeting_held_in_the_notice_period_before_s_is_refused() -> None:
    # R2 + R4: notice sign-up 2021-02-01, S = 2021-03-01; cv_and_job "held" 2021-02-26 falls
    # in the case (opened 2021-02-01) but before S -> Rejected (field held_on)
    desk = Desk()
    desk.send(notice_signup("2021-02-01", "2021-02-28"))
    desk.send(unemployed(S))
    with pytest.raises(Rejected) as refused:
        desk.send(meeting_held("cv_and_job", "2021-02-26"))
    assert refused.value.field == "held_on"


def test_r4_r12_meetings_not_held_when_the_case_left_are_handed_over() -> None:
    # R4 + R12: S = 2021-03-01, cv held 2021-03-08, moved out to Odense 2021-04-01 (R9):
    # as of 2021-04-01 availability and joint are handed_over; a joint held 2021-05-04, after
    # the exit, is not the case's (kept for a next case) and not counted; the worklist is empty
    desk = started()
    desk.send_all(
        [
            meeting_held("cv_and_job", "2021-03-08"),
            msg("moved", moved_on="2021-04-01", municipality_code=461),
        ]
    )
    states = {m.kind: m.state for m in desk.view("2021-04-01").meetings}
    assert states == {
        "cv_and_job": "held",
        "availability_and_job": "handed_over",
        "joint": "handed_over",
    }
    # as of 2021-03-31 (exit known, still ahead) the plan is still running
    assert state_of(desk, "2021-03-31", "availability_and_job") == "due"
    desk.send(meeting_held("joint", "2021-05-04"))
    [joint] = [m for m in desk.view("2021-06-01").meetings if m.kind == "joint"]
    assert (joint.held_on, joint.state) == (None, "handed_over")
    assert [k["message"]["held_on"] for k in desk.member().waiting] == ["2021-05-04"]
    assert desk.handovers()[-1]["content"]["held"]["joint"] == 0
    assert desk.tasks("2021-06-01") == []


def test_r20_cv_due_by_moves_before_second_christmas_day_2022() -> None:
    # R20: S = 2022-12-12, S+14 = 2022-12-26 is 2. juledag -> due by Friday 2022-12-23;
    # overdue as of Tuesday 2022-12-27, but not as of 2022-12-23
    desk = started("2022-12-12")
    [cv] = [m for m in desk.view("2022-12-12").meetings if m.kind == "cv_and_job"]
    assert (cv.due_from, cv.due_by) == (D("2022-12-12"), D("2022-12-23"))
    assert state_of(desk, "2022-12-23", "cv_and_job") == "due"
    assert state_of(desk, "2022-12-24", "cv_and_job") == "overdue"
    # S+42 = 2023-01-23 (Mon), S+49 = 2023-01-30 (Mon): not moved
    [availability] = [m for m in desk.view("2022-12-12").meetings if m.kind.startswith("avail")]
    assert (availability.due_from, availability.due_by) == (D("2023-01-23"), D("2023-01-30"))


def test_r20_store_bededag_2023_moves_the_availability_due_from() -> None:
    # R20: S = 2023-03-24; S+42 = 2023-05-05 (Store bededag) -> due from 2023-05-08; the
    # worklist shows no availability task on 2023-05-05, and shows it on 2023-05-08
    desk = started("2023-03-24")
    desk.send(meeting_held("cv_and_job", "2023-03-27"))
    assert desk.tasks("2023-05-05") == []
    assert desk.tasks("2023-05-08") == [("meeting:availability_and_job", "2023-05-12", False)]


def test_r5_no_extra_meeting_without_an_agreement() -> None:
    desk = started()
    desk.send(meeting_held("cv_and_job", "2021-03-08"))
    assert extra(desk, "2021-04-30") == []


def test_r5_extra_job_due_14_days_after_the_latest_meeting_held() -> None:
    # R5: S = 2021-03-01, cv held 2021-03-08, extra meetings agreed 2021-03-10 ->
    # extra_job due from 2021-03-11, by 2021-03-10 + 14 = 2021-03-24 (the agreement is later
    # than the meeting); held 2021-03-22 -> the next is due by 2021-03-22 + 14 = 2021-04-05
    # (2. påskedag) -> R20 2021-03-31
    desk = started()
    desk.send_all(
        [
            meeting_held("cv_and_job", "2021-03-08"),
            msg("extra_meetings_agreed", agreed_on="2021-03-10"),
        ]
    )
    assert extra(desk, "2021-03-10") == [("2021-03-11", "2021-03-24", None, "due")]
    assert ("meeting:extra_job", "2021-03-24", False) in desk.tasks("2021-03-11")
    assert extra(desk, "2021-03-25") == [("2021-03-11", "2021-03-24", None, "overdue")]
    desk.send(meeting_held("extra_job", "2021-03-22"))
    assert extra(desk, "2021-03-22") == [
        ("2021-03-11", "2021-03-24", "2021-03-22", "held"),
        ("2021-03-23", "2021-03-31", None, "due"),
    ]


def test_r5_exactly_one_extra_job_open_and_it_stays_overdue_until_held() -> None:
    # R5: agreed 2021-03-02 (S = 2021-03-01, nothing held): due by 2021-03-16; nothing held
    # until 2021-04-20: on 2021-04-19 still exactly one open extra_job, overdue since
    # 2021-03-17; held late 2021-04-20 -> "late", the next due by 2021-05-04
    desk = started()
    desk.send(msg("extra_meetings_agreed", agreed_on="2021-03-02"))
    assert extra(desk, "2021-04-19") == [("2021-03-03", "2021-03-16", None, "overdue")]
    assert ("meeting:extra_job", "2021-03-16", True) in desk.tasks("2021-04-19")
    desk.send(meeting_held("extra_job", "2021-04-20"))
    assert extra(desk, "2021-04-20") == [
        ("2021-03-03", "2021-03-16", "2021-04-20", "late"),
        ("2021-04-21", "2021-05-04", None, "due"),
    ]


def test_r5_any_meeting_held_restarts_the_14_days() -> None:
    # R5: agreed 2021-03-02; the mandatory cv_and_job held 2021-03-09 is the latest meeting:
    # extra_job due by 2021-03-23
    desk = started()
    desk.send_all(
        [
            msg("extra_meetings_agreed", agreed_on="2021-03-02"),
            meeting_held("cv_and_job", "2021-03-09"),
        ]
    )
    assert extra(desk, "2021-03-09") == [("2021-03-10", "2021-03-23", None, "due")]


def test_r5_no_open_extra_job_once_the_case_left_the_trial() -> None:
    # R5 "for as long as the case is in the trial": agreed 2021-03-02, a-kasse changed
    # 2021-03-20 (R10): as of 2021-03-20 no open extra_job
    desk = started()
    desk.send_all(
        [
            msg("extra_meetings_agreed", agreed_on="2021-03-02"),
            msg("akasse_changed", changed_on="2021-03-20"),
        ]
    )
    assert extra(desk, "2021-03-19") == [("2021-03-03", "2021-03-16", None, "overdue")]
    assert extra(desk, "2021-03-20") == []


def test_r5_extra_jobs_count_as_job_conversations() -> None:
    # R5 + R12: S = 2021-03-01; cv 2021-03-08, extra 2021-03-22, extra 2021-04-01, then
    # opted out 2021-04-06 -> held job 3, cv 1 -> jobcenter must 1 job, 2 joint
    desk = started()
    desk.send_all(
        [
            meeting_held("cv_and_job", "2021-03-08"),
            msg("extra_meetings_agreed", agreed_on="2021-03-08"),
            meeting_held("extra_job", "2021-03-22"),
            meeting_held("extra_job", "2021-04-01"),
            msg("opted_out", decided_on="2021-04-06", note="health"),
        ]
    )
    content = desk.handovers()[-1]["content"]
    assert content["held"] == {"job": 3, "cv": 1, "availability": 0, "joint": 0}
    assert content["jobcenter_must"] == {"job": 1, "joint": 2, "by": "2021-09-01"}


def test_r18_meeting_due_by_in_the_approved_period_is_waived_for_good() -> None:
    # R18: S = 2021-03-01; less intensive requested 2021-03-05, starts 2021-04-10 (36 days,
    # documented) -> approved, lasting 2021-03-05..2021-04-10. cv_and_job due by 2021-03-15
    # falls in it -> waived, also after the period; availability due by 2021-04-19 does not
    desk = started()
    desk.send(less_intensive("2021-03-05", "2021-04-10"))
    assert state_of(desk, "2021-03-04", "cv_and_job") == "due"  # before the request
    assert state_of(desk, "2021-03-05", "cv_and_job") == "waived"
    assert state_of(desk, "2021-05-01", "cv_and_job") == "waived"
    assert desk.tasks("2021-03-20") == []
    assert state_of(desk, "2021-04-12", "availability_and_job") == "due"
    assert desk.tasks("2021-04-12") == [("meeting:availability_and_job", "2021-04-19", False)]


def test_r18_no_meeting_task_while_it_lasts_overdue_ones_included() -> None:
    # R18: S = 2021-03-01, cv not held (overdue from 2021-03-16). Less intensive requested
    # 2021-03-20, starts 2021-04-30 (41 days) -> approved 2021-03-20..2021-04-30.
    # cv's due-by 2021-03-15 is before the period: it stays overdue but leaves the worklist
    # while the approval lasts; availability due by 2021-04-19 falls in it -> waived.
    desk = started()
    desk.send(less_intensive("2021-03-20", "2021-04-30", reason="barsel"))
    assert desk.tasks("2021-03-19") == [("meeting:cv_and_job", "2021-03-15", True)]
    assert desk.tasks("2021-03-20") == []
    assert desk.tasks("2021-04-30") == []
    assert state_of(desk, "2021-03-25", "cv_and_job") == "overdue"
    assert state_of(desk, "2021-04-20", "availability_and_job") == "waived"
    # the day after the period (2021-05-01) the overdue cv is back; joint from 2021-05-03
    assert desk.tasks("2021-05-01") == [("meeting:cv_and_job", "2021-03-15", True)]
    assert desk.tasks("2021-05-03") == [
        ("meeting:cv_and_job", "2021-03-15", True),
        ("meeting:joint", "2021-05-17", False),
    ]
    # R18: the case stays in the trial
    assert desk.view("2021-04-01").status == "in_trial"


def test_r18_a_rejected_request_waives_nothing() -> None:
    # R18: requested 2021-03-05, starts 2021-04-20 (46 days > 42) -> rejected too_early;
    # cv_and_job is overdue on 2021-03-16 as usual
    desk = started()
    desk.send(less_intensive("2021-03-05", "2021-04-20"))
    assert state_of(desk, "2021-03-16", "cv_and_job") == "overdue"
    assert desk.tasks("2021-03-16") == [("meeting:cv_and_job", "2021-03-15", True)]


def test_r18_an_open_extra_job_due_in_the_period_is_waived() -> None:
    # R18 + R5: agreed 2021-03-02 -> extra_job due by 2021-03-16; less intensive approved
    # 2021-03-05..2021-04-10 -> the open extra_job is waived
    desk = started()
    desk.send_all(
        [
            msg("extra_meetings_agreed", agreed_on="2021-03-02"),
            less_intensive("2021-03-05", "2021-04-10", reason="efterloen"),
        ]
    )
    assert extra(desk, "2021-03-20") == [("2021-03-03", "2021-03-16", None, "waived")]


def test_r5_an_agreement_dated_before_s_is_refused() -> None:
    # R2 + R5: notice sign-up 2021-02-01, S = 2021-03-01; extra_meetings_agreed dated
    # 2021-02-10 (in the notice period, reported after S) is refused (field agreed_on), so no
    # extra_job can be due before S (it was accepted and due 2021-02-11..2021-02-24 before
    # commit cbfde12)
    desk = Desk()
    desk.send(notice_signup("2021-02-01", "2021-02-28"))
    desk.send(unemployed(S))
    with pytest.raises(Rejected) as refused:
        desk.send(msg("extra_meetings_agreed", agreed_on="2021-02-10"))
    assert refused.value.field == "agreed_on"
    assert extra(desk, S) == []
    # on S itself it is accepted: extra_job due from 2021-03-02, by 2021-03-15
    desk.send(msg("extra_meetings_agreed", agreed_on=S))
    assert extra(desk, S) == [("2021-03-02", "2021-03-15", None, "due")]
