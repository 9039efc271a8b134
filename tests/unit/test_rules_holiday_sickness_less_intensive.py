"""R14 holiday, R15 sickness, R18 less intensive effort and R7 bookings.

The rule functions, called directly with worked dates; the same rules through the
service are in tests/service/test_holiday_sickness_less_intensive_service.py."""

from __future__ import annotations

from datetime import date

import pytest

from domain.facts import (
    Booking,
    CaseFacts,
    LessIntensive,
    MeetingHeld,
    Sickness,
    facts_from_json,
    facts_to_json,
)
from domain.rules.bookings import standing_bookings
from domain.rules.holiday import decide_holiday, notice_days
from domain.rules.less_intensive import decide_less_intensive, lasting_on, waives
from domain.rules.sickness import is_late_report

D = date.fromisoformat


def test_r14_notice_is_first_holiday_day_minus_day_requested() -> None:
    # R14: requested 2021-03-01, first day 2021-03-15 -> 14 days
    assert notice_days(D("2021-03-01"), D("2021-03-15")) == 14
    assert notice_days(D("2021-03-02"), D("2021-03-15")) == 13


@pytest.mark.parametrize(
    ("requested_on", "channel", "expected"),
    [
        ("2021-03-01", "jobnet", ("approved", None)),  # R14: 14 days via jobnet
        ("2021-02-20", "jobnet", ("approved", None)),  # R14: 23 days via jobnet
        ("2021-03-02", "jobnet", ("rejected", "short_notice_via_jobnet")),  # 13 days
        ("2021-03-15", "jobnet", ("rejected", "short_notice_via_jobnet")),  # 0 days
        ("2021-03-02", "message", ("pending", "short_notice")),  # R14: 13 days by message
        ("2021-03-14", "phone", ("pending", "short_notice")),  # R14: 1 day by phone
        ("2021-03-01", "phone", ("approved", None)),  # decisions: enough notice, any channel
        ("2021-03-01", "message", ("approved", None)),
    ],
)
def test_r14_decision_by_notice_and_channel(
    requested_on: str, channel: str, expected: tuple[str, str | None]
) -> None:
    # R14: holiday 2021-03-15..2021-03-19, no bookings
    got = decide_holiday(D(requested_on), D("2021-03-15"), D("2021-03-19"), channel, [])
    assert got == expected


def test_r14_a_holiday_day_on_a_booked_meeting_is_pending_clash() -> None:
    # R14: holiday 2021-03-15..2021-03-19 requested 2021-03-01 (14 days) via jobnet
    bookings = [Booking("cv_and_job", D("2021-03-19"))]  # R14: the last holiday day
    assert decide_holiday(
        D("2021-03-01"), D("2021-03-15"), D("2021-03-19"), "jobnet", bookings
    ) == ("pending", "clash")
    bookings = [Booking("cv_and_job", D("2021-03-15"))]  # the first holiday day
    assert decide_holiday(
        D("2021-03-01"), D("2021-03-15"), D("2021-03-19"), "jobnet", bookings
    ) == ("pending", "clash")
    bookings = [Booking("cv_and_job", D("2021-03-22"))]  # the Monday after: no clash
    assert decide_holiday(
        D("2021-03-01"), D("2021-03-15"), D("2021-03-19"), "jobnet", bookings
    ) == ("approved", None)
    # short notice via jobnet is rejected whatever the bookings
    bookings = [Booking("cv_and_job", D("2021-03-15"))]
    assert decide_holiday(
        D("2021-03-10"), D("2021-03-15"), D("2021-03-19"), "jobnet", bookings
    ) == ("rejected", "short_notice_via_jobnet")


def test_r7_standing_bookings_latest_per_kind_until_held() -> None:
    # R7: cv booked 2021-03-10 then re-booked 2021-03-12: only 2021-03-12 stands; once cv is
    # held nothing of that kind stands; an extra_job booking stands until one is held on or
    # after it
    bookings = [
        Booking("cv_and_job", D("2021-03-10")),
        Booking("cv_and_job", D("2021-03-12")),
        Booking("extra_job", D("2021-03-25")),
    ]
    assert standing_bookings(bookings, []) == [bookings[1], bookings[2]]
    held = [MeetingHeld("cv_and_job", D("2021-03-11")), MeetingHeld("extra_job", D("2021-03-20"))]
    assert standing_bookings(bookings, held) == [bookings[2]]
    held.append(MeetingHeld("extra_job", D("2021-03-25")))
    assert standing_bookings(bookings, held) == []


@pytest.mark.parametrize(
    ("starts_on", "documented", "expected"),
    [
        ("2021-04-12", True, ("approved", None)),  # R18: 42 days after 2021-03-01
        ("2021-03-01", True, ("approved", None)),  # R18: starts the day it is requested
        ("2021-04-13", True, ("rejected", "too_early")),  # R18: 43 days
        ("2021-04-12", False, ("rejected", "undocumented")),
        ("2021-06-01", False, ("rejected", "undocumented")),  # both: undocumented is named
    ],
)
def test_r18_decision(starts_on: str, documented: bool, expected: tuple[str, str | None]) -> None:
    # R18: requested 2021-03-01
    assert decide_less_intensive(D("2021-03-01"), D(starts_on), documented) == expected


def test_r18_approval_lasts_from_requested_on_to_starts_on_both_included() -> None:
    # R18: requested 2021-03-05, starts 2021-04-10 -> lasts 2021-03-05..2021-04-10
    approval = LessIntensive(D("2021-03-05"), "job", D("2021-04-10"), True, "approved", None)
    assert not lasting_on([approval], D("2021-03-04"))
    assert lasting_on([approval], D("2021-03-05"))
    assert lasting_on([approval], D("2021-04-10"))
    assert not lasting_on([approval], D("2021-04-11"))
    assert waives([approval], D("2021-04-10"))
    rejected = LessIntensive(D("2021-03-05"), "job", D("2021-04-30"), True, "rejected", "too_early")
    assert not lasting_on([rejected], D("2021-03-10"))


def test_r15_a_report_on_2021_03_10_of_sickness_from_2021_03_08_is_late() -> None:
    # R15: reported on the first sick day is on time; a day or more after it is late
    assert is_late_report(D("2021-03-08"), D("2021-03-10")) is True
    assert is_late_report(D("2021-03-08"), D("2021-03-08")) is False


def test_r15_the_late_flag_is_the_stored_decision_and_old_read_model_rows_still_have_it() -> None:
    # The fact carries the flag its event stored; a worklist row written before the fact
    # kept it (no "late_report" in its JSON) is given the same flag.
    assert Sickness(D("2021-03-08"), D("2021-03-08"), True).late_report is True
    row = facts_to_json(CaseFacts(sickness=(Sickness(D("2021-03-08"), D("2021-03-10"), True),)))
    del row["sickness"][0]["late_report"]
    assert facts_from_json(row).sickness[0].late_report is True
