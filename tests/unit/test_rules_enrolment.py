"""R1 enrolment, R2 notice-period sign-up and R3 education order.

The rule functions, called directly with worked dates; the same rules through the
service are in tests/service/test_enrolment_service.py."""

from __future__ import annotations

from datetime import date

import pytest

from domain.rules.enrolment import (
    education_order_applies,
    is_under_age_limit,
    notice_signup_refusal,
    outside_reason,
)

D = date.fromisoformat


@pytest.mark.parametrize(
    ("start", "code", "expected"),
    [
        ("2020-01-01", 751, None),  # R1: first day of the window, Aarhus
        ("2023-12-31", 101, None),  # R1: last day of the window, København
        ("2021-03-01", 147, None),  # Frederiksberg
        ("2021-03-01", 330, None),  # Slagelse
        ("2021-03-01", 630, None),  # Vejle
        ("2021-03-01", 607, None),  # Fredericia
        ("2021-03-01", 621, None),  # Kolding
        ("2019-12-31", 751, "window"),  # R1: the day before the window
        ("2024-01-01", 751, "window"),  # R1: the day after the window
        ("2021-03-01", 461, "municipality"),  # R1: Odense is not a trial municipality
        ("2021-03-01", 411, "municipality"),  # R1: Christiansø is Danish, not in the trial
        ("2024-01-01", 461, "window"),  # both wrong: the window is named
    ],
)
def test_r1_outside_reason(start: str, code: int, expected: str | None) -> None:
    assert outside_reason(D(start), code) == expected


def test_r2_notice_signup_refusal_reasons() -> None:
    # R2: 2021-02-01 in Aarhus is accepted
    assert notice_signup_refusal(D("2021-02-01"), 751) is None
    # R2: 2021-02-01 in Odense (461) is refused: not a trial municipality
    refusal = notice_signup_refusal(D("2021-02-01"), 461)
    assert refusal is not None and "municipality" in refusal.reason
    assert (refusal.rule, refusal.field) == ("R2", "municipality_code")
    # R2: 2019-12-15 and 2024-01-02 lie outside the window 2020-01-01..2023-12-31
    for day in ("2019-12-15", "2024-01-02"):
        refusal = notice_signup_refusal(D(day), 751)
        assert refusal is not None and "window" in refusal.reason
        assert (refusal.rule, refusal.field) == ("R2", "signed_up_on")


def test_r3_exactly_25_on_s_is_not_under_25() -> None:
    # R3: born 1996-03-01, S = 2021-03-01 is the 25th birthday -> not under 25
    assert not is_under_age_limit(D("1996-03-01"), D("2021-03-01"))
    # R3: S = 2021-02-28, one day before the 25th birthday -> under 25
    assert is_under_age_limit(D("1996-03-01"), D("2021-02-28"))


def test_r3_leap_day_birthday() -> None:
    # R3: born 1996-02-29; S = 2021-03-01 is after any reading of the 25th birthday
    assert not is_under_age_limit(D("1996-02-29"), D("2021-03-01"))
    # R3 (code's choice, month arithmetic as R12): the 25th birthday in common year 2021
    # is 2021-02-28, so on S = 2021-02-28 the member is 25 and not under 25
    assert not is_under_age_limit(D("1996-02-29"), D("2021-02-28"))
    assert is_under_age_limit(D("1996-02-29"), D("2021-02-27"))
    # born 2000-02-29, S = 2020-02-29 (leap day, 20th birthday) -> under 25
    assert is_under_age_limit(D("2000-02-29"), D("2020-02-29"))


@pytest.mark.parametrize(
    ("vocational", "children", "expected"),
    [(False, False, True), (True, False, False), (False, True, False), (True, True, False)],
)
def test_r3_target_group_needs_no_education_and_no_children(
    vocational: bool, children: bool, expected: bool
) -> None:
    # R3: born 1998-06-15, S = 2021-03-01 (22 years old)
    assert (
        education_order_applies(D("1998-06-15"), D("2021-03-01"), vocational, children) is expected
    )
