"""R9 to R13, R16, R17 through the case service (the Desk fake): end to end, message in, case out;
the rule functions themselves are tested in tests/unit/test_rules_exits_handover.py."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from tests.fakes import (
    Desk,
    assert_r13_chain,
    hours_paid,
    live,
    meeting_held,
    moved,
    msg,
    notice_signup,
    unemployed,
)

D = date.fromisoformat


FULL = "160.33"


TICK = {"message_id": "tick:2024-01-05", "topic": "tick", "partition": None, "offset": None}


def started(start: str = "2021-03-01", code: int = 751) -> Desk:
    desk = Desk()
    desk.send(unemployed(start, code))
    return desk


def exit_of(desk: Desk) -> tuple[str, str, str] | None:
    exit_ = desk.case().exit
    return (exit_.reason, exit_.on.isoformat(), exit_.rule) if exit_ else None


def content(desk: Desk) -> dict[str, Any]:
    live_handover = desk.case().live_handover
    assert live_handover is not None
    return live_handover["content"]


S_JAN = "2021-01-04"  # Monday: cv 01-04..01-18, availability 02-15..02-22, joint 03-08..03-22


ALL_THREE = [
    meeting_held("cv_and_job", "2021-01-11"),
    meeting_held("availability_and_job", "2021-02-16"),
    meeting_held("joint", "2021-03-09"),
]


PAID_410 = [
    hours_paid("2021-01", FULL),
    hours_paid("2021-02", FULL),
    hours_paid("2021-03", "89.34"),
]


NORMAL_END = {
    "reason": "hours_threshold",
    "effective_on": "2021-03-31",
    "jobcenter_municipality_code": 751,
    "started_on": "2021-01-04",
    "held": {"job": 2, "cv": 1, "availability": 1, "joint": 1},
    # R12: 4 - 2 job and 2 - 1 joint by S + 6 months = 2021-07-04 (a Sunday: R20 does not
    # move the handover's dates)
    "jobcenter_must": {"job": 2, "joint": 1, "by": "2021-07-04"},
    "akasse_must": {"availability_by": "2021-07-04", "joint_at_16_months": "2022-05-04"},
}


def _fresh(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The same messages with new message ids (a Desk treats a repeated id as a duplicate)."""
    return [
        msg(m["type"], **{k: v for k, v in m.items() if k not in ("type", "message_id")})
        for m in messages
    ]


def test_r9_move_out_ends_the_trial_on_the_move_day_and_moving_back_does_not_re_enter() -> None:
    # R9: S = 2021-03-01 in Aarhus (751); moved to Odense (461) on 2021-05-10 -> exit
    # moved_out 2021-05-10, handover to Odense's jobcenter (461) effective 2021-05-10.
    # Moving back to Aarhus on 2021-06-01 does not re-enter the trial: same exit, no revision
    desk = started()
    desk.send(moved("2021-05-10", 461))
    assert exit_of(desk) == ("moved_out", "2021-05-10", "R9")
    assert content(desk)["jobcenter_municipality_code"] == 461
    assert content(desk)["effective_on"] == "2021-05-10"
    desk.send(moved("2021-06-01", 751))
    assert exit_of(desk) == ("moved_out", "2021-05-10", "R9")
    assert len(desk.handovers()) == 1
    assert desk.view("2021-05-09").status == "in_trial"
    assert desk.view("2021-05-10").status == "ended"
    assert desk.view("2021-07-01").status == "ended"
    assert desk.tasks("2021-07-01") == []


def test_r9_r20_a_move_on_a_sunday_is_not_moved_to_a_working_day() -> None:
    # R9 + R20: moved out on Sunday 2021-05-09 -> exit and effective_on stay 2021-05-09
    desk = started()
    desk.send(moved("2021-05-09", 461))
    assert exit_of(desk) == ("moved_out", "2021-05-09", "R9")
    assert content(desk)["effective_on"] == "2021-05-09"


def test_r9_move_between_trial_municipalities_keeps_the_case_and_changes_the_jobcenter() -> None:
    # R9: S = 2021-03-01 in Aarhus (751); moved to København (101) 2021-04-01: still in the
    # trial; opted out 2021-04-20 (R11) -> handover to København's jobcenter (101)
    desk = started()
    desk.send(moved("2021-04-01", 101))
    assert desk.case().exit is None
    assert desk.view("2021-03-31").as_dict("c", None)["municipality_code"] == 751
    assert desk.view("2021-04-01").as_dict("c", None)["municipality_code"] == 101
    assert desk.view("2021-04-01").status == "in_trial"
    desk.send(msg("opted_out", decided_on="2021-04-20", note="helbred"))
    assert content(desk)["jobcenter_municipality_code"] == 101


def test_r9_r13_late_move_between_trial_municipalities_revises_the_jobcenter() -> None:
    # R9 + R13: S = 2021-01-04 in Aarhus; Jan 160.33 + Feb 160.33 + Mar 89.34 -> exit
    # 2021-03-31, handover:1 to 751. Then a move to København (101) effective 2021-03-20
    # arrives: handover:2 (handover_revised) to 101, same exit day, replacing handover:1.
    # A move to Frederiksberg (147) on 2021-04-05, after the exit day, changes nothing.
    desk = started("2021-01-04")
    desk.send_all(
        [hours_paid("2021-01", FULL), hours_paid("2021-02", FULL), hours_paid("2021-03", "89.34")]
    )
    assert content(desk)["jobcenter_municipality_code"] == 751
    desk.send(moved("2021-03-20", 101))
    first, second = desk.handovers()
    assert second["type"] == "handover_revised"
    assert second["replaces"] == first["message_id"]
    assert second["content"]["jobcenter_municipality_code"] == 101
    assert second["content"]["effective_on"] == "2021-03-31"
    assert exit_of(desk) == ("hours_threshold", "2021-03-31", "R8")
    desk.send(moved("2021-04-05", 147))
    assert len(desk.handovers()) == 2
    assert_r13_chain(desk.handovers())


def test_r10_changing_akasse_ends_the_trial_on_the_day_of_change() -> None:
    # R10: S = 2021-03-01, changed a-kasse 2021-04-15 -> exit changed_akasse 2021-04-15
    desk = started()
    desk.send(msg("akasse_changed", changed_on="2021-04-15"))
    assert exit_of(desk) == ("changed_akasse", "2021-04-15", "R10")
    assert content(desk)["reason"] == "changed_akasse"
    assert content(desk)["effective_on"] == "2021-04-15"


def test_r11_opting_out_ends_the_trial_on_the_day_of_decision() -> None:
    # R11: S = 2021-03-01, cv_and_job held 2021-03-08, opted out at it, 2021-03-08 ->
    # exit opted_out 2021-03-08; the meeting on the exit day counts (R12): job 1, cv 1
    desk = started()
    desk.send_all(
        [
            meeting_held("cv_and_job", "2021-03-08"),
            msg("opted_out", decided_on="2021-03-08", note="helbred"),
        ]
    )
    assert exit_of(desk) == ("opted_out", "2021-03-08", "R11")
    assert content(desk)["held"] == {"job": 1, "cv": 1, "availability": 0, "joint": 0}
    assert content(desk)["jobcenter_must"] == {"job": 3, "joint": 2, "by": "2021-09-01"}


@pytest.mark.parametrize("order", ["moved_first", "opted_out_first"])
def test_exit_tie_on_one_day_follows_the_precedence(order: str) -> None:
    # Exit ties (decisions): moved out to Odense and opted out both on 2021-04-20 ->
    # moved_out wins whatever the arrival order
    desk = started()
    messages = [moved("2021-04-20", 461), msg("opted_out", decided_on="2021-04-20", note="x")]
    desk.send_all(messages if order == "moved_first" else messages[::-1])
    assert exit_of(desk) == ("moved_out", "2021-04-20", "R9")
    assert content(desk)["reason"] == "moved_out"
    assert content(desk)["jobcenter_municipality_code"] == 461
    assert_r13_chain(desk.handovers())


def test_r12_normal_hours_threshold_end_with_all_three_meetings_held() -> None:
    # R12: S = 2021-01-04; cv 2021-01-11, availability 2021-02-16, joint 2021-03-09 held;
    # 160.33 + 160.33 + 89.34 = 410.00 -> exit 2021-03-31. Held job 2, cv 1, availability
    # 1, joint 1 -> the jobcenter must hold 2 job + 1 joint by 2021-07-04; the a-kasse an
    # availability conversation by 2021-07-04 and a joint one at 16 months, 2022-05-04
    desk = started(S_JAN)
    desk.send_all(_fresh(ALL_THREE + PAID_410))
    [handover] = desk.handovers()
    assert handover["type"] == "handover"
    assert handover["content"] == NORMAL_END


def test_r12_r13_meetings_held_after_the_handover_but_by_the_exit_day_revise_it() -> None:
    # R12 + R13: the same case with the payments first (exit 2021-03-31 known from the March
    # payment, effective 2021-03-01), then the three meetings: each meeting held on or before
    # the exit day revises the handover; the last one says exactly NORMAL_END
    desk = started(S_JAN)
    desk.send_all(_fresh(PAID_410 + ALL_THREE))
    handovers = desk.handovers()
    assert [h["type"] for h in handovers] == ["handover"] + ["handover_revised"] * 3
    assert handovers[0]["content"]["held"] == {"job": 0, "cv": 0, "availability": 0, "joint": 0}
    assert handovers[-1]["content"] == NORMAL_END
    assert_r13_chain(handovers)


def test_r12_a_meeting_held_after_the_exit_day_does_not_count() -> None:
    # R12: S = 2021-03-01, opted out 2021-03-05, cv held 2021-03-08 (after the exit): held 0
    desk = started()
    desk.send_all(
        [
            msg("opted_out", decided_on="2021-03-05", note="x"),
            meeting_held("cv_and_job", "2021-03-08"),
        ]
    )
    assert len(desk.handovers()) == 1
    assert content(desk)["held"] == {"job": 0, "cv": 0, "availability": 0, "joint": 0}
    assert content(desk)["jobcenter_must"]["job"] == 4


def test_r12_remaining_never_below_zero() -> None:
    # R12: S = 2021-03-01; cv 03-08, extra 03-15, extra 03-22, availability 04-12 = 4 job
    # conversations; joint 05-04; opted out 05-05 -> jobcenter must 0 job, 1 joint
    desk = started()
    desk.send_all(
        [
            meeting_held("cv_and_job", "2021-03-08"),
            meeting_held("extra_job", "2021-03-15"),
            meeting_held("extra_job", "2021-03-22"),
            meeting_held("availability_and_job", "2021-04-12"),
            meeting_held("joint", "2021-05-04"),
            meeting_held("extra_job", "2021-05-04"),
            msg("opted_out", decided_on="2021-05-05", note="x"),
        ]
    )
    assert content(desk)["held"] == {"job": 5, "cv": 1, "availability": 1, "joint": 1}
    assert content(desk)["jobcenter_must"] == {"job": 0, "joint": 1, "by": "2021-09-01"}


@pytest.mark.parametrize(
    ("start", "by", "at_16"),
    [
        ("2021-01-31", "2021-07-31", "2022-05-31"),  # R12: 2021-01-31 + 6 months = 2021-07-31
        ("2021-08-31", "2022-02-28", "2022-12-31"),  # R12: no 2022-02-31 -> 2022-02-28
        ("2023-08-31", "2024-02-29", "2024-12-31"),  # R12: leap February 2024
        ("2020-02-29", "2020-08-29", "2021-06-29"),  # R12: S on a leap day
        ("2021-03-31", "2021-09-30", "2022-07-31"),
    ],
)
def test_r12_handover_dates_at_month_ends(start: str, by: str, at_16: str) -> None:
    # R12: opted out on S itself; jobcenter_must.by = availability_by = S + 6 months,
    # joint_at_16_months = S + 16 months (a missing day becomes the month's last)
    desk = started(start)
    desk.send(msg("opted_out", decided_on=start, note="x"))
    assert content(desk)["jobcenter_must"]["by"] == by
    assert content(desk)["akasse_must"] == {"availability_by": by, "joint_at_16_months": at_16}


def test_r13_late_fact_moving_the_exit_earlier_revises_the_handover() -> None:
    # R13: S = 2021-01-04; payments -> exit hours_threshold 2021-03-31 (handover:1).
    # A change of a-kasse effective 2021-03-10 arrives late: exit changed_akasse 2021-03-10,
    # handover:2 (handover_revised) names handover:1. An opt-out 2021-03-20 (later than the
    # exit) changes nothing: no third handover. Only one handover is live.
    desk = started(S_JAN)
    desk.send_all(_fresh(PAID_410))
    desk.send(msg("akasse_changed", changed_on="2021-03-10"))
    assert exit_of(desk) == ("changed_akasse", "2021-03-10", "R10")
    first, second = desk.handovers()
    assert (first["type"], first["content"]["effective_on"]) == ("handover", "2021-03-31")
    assert second["type"] == "handover_revised"
    assert second["replaces"] == first["message_id"]
    assert (second["content"]["reason"], second["content"]["effective_on"]) == (
        "changed_akasse",
        "2021-03-10",
    )
    desk.send(msg("opted_out", decided_on="2021-03-20", note="x"))
    assert len(desk.handovers()) == 2
    assert live(desk.handovers()) == [second]
    assert desk.case().live_handover == second
    assert_r13_chain(desk.handovers())


def test_r13_a_new_reason_on_the_same_day_revises_the_handover() -> None:
    # R13 "or changes its reason": exit hours_threshold 2021-03-31, then an opt-out decided
    # 2021-03-31 arrives: opted_out takes precedence on the day -> handover_revised
    desk = started(S_JAN)
    desk.send_all(_fresh(PAID_410))
    desk.send(msg("opted_out", decided_on="2021-03-31", note="x"))
    assert exit_of(desk) == ("opted_out", "2021-03-31", "R11")
    first, second = desk.handovers()
    assert second["type"] == "handover_revised" and second["replaces"] == first["message_id"]
    assert second["content"]["reason"] == "opted_out"


def test_r13_exit_decided_events_name_the_exit_they_replace() -> None:
    # R13: exit 2021-03-31 (R8) then 2021-03-10 (R10): the second ExitDecided names the first
    desk = started(S_JAN)
    desk.send_all(_fresh(PAID_410))
    desk.send(msg("akasse_changed", changed_on="2021-03-10"))
    decided = [e for e in desk.book.events(desk.case().id) if type(e).__name__ == "ExitDecided"]
    assert [(e.reason, e.on.isoformat()) for e in decided] == [
        ("hours_threshold", "2021-03-31"),
        ("changed_akasse", "2021-03-10"),
    ]
    assert decided[0].replaces is None
    assert decided[1].replaces == {"reason": "hours_threshold", "on": "2021-03-31", "rule": "R8"}


def test_r13_repeating_the_same_fact_publishes_nothing_new() -> None:
    # R13: opted out 2021-04-20 twice (two messages): one exit, one handover
    desk = started()
    desk.send(msg("opted_out", decided_on="2021-04-20", note="x"))
    desk.send(msg("opted_out", decided_on="2021-04-20", note="again"))
    assert len(desk.handovers()) == 1


def test_r16_only_the_tick_ends_the_programme_and_only_from_2023_12_31() -> None:
    # R16: S = 2023-10-02 in Aarhus, no exit. Reads never apply R16: as of 2024-02-01 the
    # case is in_trial. end_programme on 2023-12-30 does nothing; on 2023-12-31 the case
    # exits programme_ended 2023-12-31 with a handover (by S + 6 months = 2024-04-02);
    # a second tick changes nothing
    desk = started("2023-10-02")
    desk.send(msg("jobcenter_contact", on="2024-01-15", about="ordinary_job", note="x"))
    assert desk.view("2024-02-01").status == "in_trial"
    assert desk.case().exit is None
    case = desk.case()
    pending = len(case.pending_events)
    assert desk.service.end_programme(case, D("2023-12-30"), TICK) is False
    assert case.exit is None and len(case.pending_events) == pending
    assert desk.service.end_programme(case, D("2023-12-31"), TICK) is True
    assert exit_of(desk) == ("programme_ended", "2023-12-31", "R16")
    [handover] = case.handovers
    assert handover["content"]["reason"] == "programme_ended"
    assert handover["content"]["effective_on"] == "2023-12-31"
    assert handover["content"]["jobcenter_must"]["by"] == "2024-04-02"
    assert desk.view("2023-12-30").status == "in_trial"
    assert desk.view("2023-12-31").status == "ended"
    assert desk.service.end_programme(case, D("2024-01-05"), TICK) is False
    assert len(case.handovers) == 1


def test_r16_a_tick_after_2023_12_31_still_ends_it_on_2023_12_31() -> None:
    # R16: S = 2023-10-02; tick on 2024-03-01 -> exit programme_ended on 2023-12-31
    desk = started("2023-10-02")
    assert desk.service.end_programme(desk.case(), D("2024-03-01"), TICK) is True
    assert exit_of(desk) == ("programme_ended", "2023-12-31", "R16")


def test_r16_moves_a_later_known_exit_back_to_2023_12_31() -> None:
    # R16 + R13: S = 2023-11-01; Nov 160.33 + Dec 160.33 + Jan 2024 89.34 -> exit
    # hours_threshold 2024-01-31 (handover:1); tick 2024-01-05 -> programme_ended 2023-12-31,
    # handover_revised (handover:2)
    desk = started("2023-11-01")
    desk.send_all(
        [hours_paid("2023-11", FULL), hours_paid("2023-12", FULL), hours_paid("2024-01", "89.34")]
    )
    assert exit_of(desk) == ("hours_threshold", "2024-01-31", "R8")
    assert desk.service.end_programme(desk.case(), D("2024-01-05"), TICK) is True
    assert exit_of(desk) == ("programme_ended", "2023-12-31", "R16")
    first, second = desk.handovers()
    assert second["type"] == "handover_revised" and second["replaces"] == first["message_id"]
    assert second["content"]["effective_on"] == "2023-12-31"


def test_r16_leaves_cases_that_already_left_or_never_entered_alone() -> None:
    # R16: opted out 2023-11-01 (before 2023-12-31) -> the tick changes nothing
    desk = started("2023-10-02")
    desk.send(msg("opted_out", decided_on="2023-11-01", note="x"))
    assert desk.service.end_programme(desk.case(), D("2024-01-05"), TICK) is False
    assert exit_of(desk) == ("opted_out", "2023-11-01", "R11")
    # R1: outside the trial (Odense) -> nothing
    outside = started("2023-10-02", 461)
    assert outside.service.end_programme(outside.case(), D("2024-01-05"), TICK) is False
    assert outside.case().exit is None
    # R2: a notice-period case -> nothing
    notice = Desk()
    notice.send(notice_signup("2023-12-01", "2024-01-31"))
    assert notice.service.end_programme(notice.case(), D("2024-01-05"), TICK) is False
    # R17: deregistered 2023-12-15 -> nothing, and still no handover
    gone = started("2023-10-02")
    gone.send(msg("deregistered", deregistered_on="2023-12-15"))
    assert gone.service.end_programme(gone.case(), D("2024-01-05"), TICK) is False
    assert gone.handovers() == []


def test_r17_deregistered_closes_the_case_without_handover() -> None:
    # R17: S = 2021-03-01, deregistered 2021-04-01 (got a job) -> exit deregistered
    # 2021-04-01, status ended, no handover, empty worklist
    desk = started()
    desk.send(msg("deregistered", deregistered_on="2021-04-01"))
    assert exit_of(desk) == ("deregistered", "2021-04-01", "R17")
    assert desk.handovers() == []
    assert desk.view("2021-04-01").status == "ended"
    assert desk.tasks("2021-04-01") == []


def test_r17_r13_late_deregistration_withdraws_the_handover() -> None:
    # R17 + R13 (decisions): exit hours_threshold 2021-03-31 published (handover:1); a
    # deregistration effective 2021-03-15 arrives: exit deregistered 2021-03-15 and a
    # handover_withdrawn (handover:2) replaces handover:1; no handover is live
    desk = started(S_JAN)
    desk.send_all(_fresh(PAID_410))
    desk.send(msg("deregistered", deregistered_on="2021-03-15"))
    assert exit_of(desk) == ("deregistered", "2021-03-15", "R17")
    first, second = desk.handovers()
    assert second["type"] == "handover_withdrawn"
    assert second["replaces"] == first["message_id"]
    assert desk.case().live_handover is None
    assert live(desk.handovers()) == []
    # a later exit fact (akasse changed 2021-03-20) publishes nothing new
    desk.send(msg("akasse_changed", changed_on="2021-03-20"))
    assert len(desk.handovers()) == 2
    # an earlier one (akasse changed 2021-03-10) moves the exit before the deregistration:
    # a handover stands again (handover:3, replacing the withdrawal), and only that one
    desk.send(msg("akasse_changed", changed_on="2021-03-10"))
    assert exit_of(desk) == ("changed_akasse", "2021-03-10", "R10")
    third = desk.handovers()[-1]
    assert third["replaces"] == second["message_id"]
    assert third["content"]["reason"] == "changed_akasse"
    assert live(desk.handovers()) == [third]
    assert_r13_chain(desk.handovers())


def test_r17_deregistration_after_the_exit_day_changes_nothing() -> None:
    # R17: exit hours_threshold 2021-03-31; deregistered 2021-04-10 -> same exit, 1 handover
    desk = started(S_JAN)
    desk.send_all(_fresh(PAID_410))
    desk.send(msg("deregistered", deregistered_on="2021-04-10"))
    assert exit_of(desk) == ("hours_threshold", "2021-03-31", "R8")
    assert len(desk.handovers()) == 1


def test_r17_wins_a_tie_with_a_change_of_akasse() -> None:
    # precedence (decisions): deregistered before changed_akasse on the same day 2021-04-01
    desk = started()
    desk.send_all(
        [
            msg("akasse_changed", changed_on="2021-04-01"),
            msg("deregistered", deregistered_on="2021-04-01"),
        ]
    )
    assert exit_of(desk) == ("deregistered", "2021-04-01", "R17")
    assert live(desk.handovers()) == []
