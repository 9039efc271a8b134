"""R20 working days and the month arithmetic of R8 and R12 (domain/calendar.py)."""

from __future__ import annotations

from datetime import date

import pytest

from domain.calendar import (
    add_days,
    add_months,
    days_in_month,
    first_of_month,
    is_working_day,
    last_of_month,
    next_month,
    working_day_on_or_after,
    working_day_on_or_before,
)
from domain.rules.meetings import extra_window, mandatory_window

D = date.fromisoformat

# --- month arithmetic (R12: "S + 6 calendar months", a missing day becomes the month's last)


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        # R12: S = 2021-01-31, + 6 months = 2021-07-31 (July has a 31st)
        ("2021-01-31", 6, "2021-07-31"),
        # R12: 2021-08-31 + 6 months: there is no 2022-02-31, so 2022-02-28
        ("2021-08-31", 6, "2022-02-28"),
        # R12: 2023-08-31 + 6 months lands in leap February: 2024-02-29
        ("2023-08-31", 6, "2024-02-29"),
        # R12: 2024-02-29 + 6 months = 2024-08-29 (the 29th exists in August)
        ("2024-02-29", 6, "2024-08-29"),
        # 2024-02-29 + 12 months: no 2025-02-29, so 2025-02-28
        ("2024-02-29", 12, "2025-02-28"),
        # S = 2020-02-29 (a leap day inside the trial window) + 6 months = 2020-08-29
        ("2020-02-29", 6, "2020-08-29"),
        # R12 16 months: 2020-02-29 + 16 months = 2021-06-29
        ("2020-02-29", 16, "2021-06-29"),
        # R12 16 months: 2020-10-31 + 16 months = 2022-02-28
        ("2020-10-31", 16, "2022-02-28"),
        # R12 16 months: 2021-08-31 + 16 months = 2022-12-31
        ("2021-08-31", 16, "2022-12-31"),
        # R12: 2021-03-31 + 6 months: no 2021-09-31, so 2021-09-30
        ("2021-03-31", 6, "2021-09-30"),
        # R3: 25 years (300 months) after a 1996-02-29 birth is 2021-02-28
        ("1996-02-29", 300, "2021-02-28"),
        # R3: 25 years after a 2000-02-29 birth is 2025-02-28
        ("2000-02-29", 300, "2025-02-28"),
    ],
)
def test_r12_add_months_clamps_to_the_last_day_of_a_shorter_month(
    start: str, months: int, expected: str
) -> None:
    assert add_months(D(start), months) == D(expected)


def test_r12_add_months_never_rolls_into_the_next_month() -> None:
    # 2021-01-29/30/31 + 1 month all stay in February 2021 (2021-02-28), none is 2021-03-0x
    for day in ("2021-01-29", "2021-01-30", "2021-01-31"):
        assert add_months(D(day), 1) == D("2021-02-28")
    # 2020-01-30 + 1 month = 2020-02-29 (leap year)
    assert add_months(D("2020-01-30"), 1) == D("2020-02-29")


def test_plain_day_arithmetic_crosses_month_and_year_ends() -> None:
    # R4: S + 14 days is plain calendar arithmetic: 2022-12-12 + 14 = 2022-12-26
    assert add_days(D("2022-12-12"), 14) == D("2022-12-26")
    # leap year: 2020-02-15 + 14 = 2020-02-29; 2021-02-15 + 14 = 2021-03-01
    assert add_days(D("2020-02-15"), 14) == D("2020-02-29")
    assert add_days(D("2021-02-15"), 14) == D("2021-03-01")
    # across the new year: 2022-12-20 + 42 = 2023-01-31
    assert add_days(D("2022-12-20"), 42) == D("2023-01-31")


@pytest.mark.parametrize(
    ("day", "first", "last", "length"),
    [
        ("2021-02-10", "2021-02-01", "2021-02-28", 28),  # R8: February of a common year
        ("2020-02-10", "2020-02-01", "2020-02-29", 29),  # R8: leap February 2020
        ("2024-02-29", "2024-02-01", "2024-02-29", 29),  # R8: leap February 2024
        ("2021-04-30", "2021-04-01", "2021-04-30", 30),
        ("2021-12-01", "2021-12-01", "2021-12-31", 31),
    ],
)
def test_r8_month_first_last_and_length(day: str, first: str, last: str, length: int) -> None:
    assert first_of_month(D(day)) == D(first)
    assert last_of_month(D(day)) == D(last)
    assert days_in_month(D(day)) == length


def test_r8_next_month_goes_to_the_first_day_across_the_year_end() -> None:
    # 2021-12-15 -> 2022-01-01; 2020-01-31 -> 2020-02-01
    assert next_month(D("2021-12-15")) == D("2022-01-01")
    assert next_month(D("2020-01-31")) == D("2020-02-01")


# --- R20 working days -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "why"),
    [
        ("2023-05-05", "Store bededag 2023 (a Friday), still a holiday in 2023"),
        ("2022-05-13", "Store bededag 2022"),
        ("2020-05-08", "Store bededag 2020"),
        ("2022-12-26", "2. juledag 2022 (a Monday)"),
        ("2021-04-01", "Skærtorsdag 2021"),
        ("2021-04-02", "Langfredag 2021"),
        ("2021-04-05", "2. påskedag 2021"),
        ("2021-05-13", "Kristi himmelfartsdag 2021"),
        ("2021-05-24", "2. pinsedag 2021"),
        ("2021-01-01", "Nytårsdag 2021 (a Friday)"),
        ("2022-12-24", "a Saturday (juleaftensdag)"),
        ("2022-12-25", "a Sunday (1. juledag)"),
        ("2021-03-06", "a Saturday"),
        ("2021-03-07", "a Sunday"),
    ],
)
def test_r20_not_a_working_day(day: str, why: str) -> None:
    assert not is_working_day(D(day)), why


@pytest.mark.parametrize(
    ("day", "why"),
    [
        ("2024-04-26", "the Friday that was Store bededag: abolished from 2024"),
        ("2021-03-08", "an ordinary Monday"),
        ("2022-12-23", "Friday before Christmas 2022"),
        ("2023-05-04", "Thursday before Store bededag 2023"),
        ("2023-05-08", "Monday after Store bededag 2023"),
        ("2021-03-31", "Wednesday before Easter 2021"),
    ],
)
def test_r20_a_working_day(day: str, why: str) -> None:
    assert is_working_day(D(day)), why


def test_r20_due_by_moves_back_and_due_from_moves_forward() -> None:
    # R20: 2022-12-26 (2. juledag, Monday) back over 25th (Sun) and 24th (Sat) to 2022-12-23
    assert working_day_on_or_before(D("2022-12-26")) == D("2022-12-23")
    # R20: 2022-12-24 (Saturday) forward over 25th and 26th to Tuesday 2022-12-27
    assert working_day_on_or_after(D("2022-12-24")) == D("2022-12-27")
    # R20: Easter 2021 - forward from Skærtorsdag 2021-04-01 to Tuesday 2021-04-06
    assert working_day_on_or_after(D("2021-04-01")) == D("2021-04-06")
    # R20: back from 2. påskedag 2021-04-05 to Wednesday 2021-03-31
    assert working_day_on_or_before(D("2021-04-05")) == D("2021-03-31")
    # a working day stays where it is
    assert working_day_on_or_before(D("2021-03-08")) == D("2021-03-08")
    assert working_day_on_or_after(D("2021-03-08")) == D("2021-03-08")


def test_r20_cv_due_by_moves_before_second_christmas_day_2022() -> None:
    # R20: S = 2022-12-12, S+14 = 2022-12-26 is 2. juledag -> cv_and_job due by 2022-12-23
    window = mandatory_window("cv_and_job", D("2022-12-12"))
    assert (window.due_from, window.due_by) == (D("2022-12-12"), D("2022-12-23"))


def test_r20_store_bededag_2023_moves_the_due_by_but_2024_does_not() -> None:
    # R20: S = 2023-04-21, S+14 = 2023-05-05 (Store bededag) -> due by Thursday 2023-05-04
    assert mandatory_window("cv_and_job", D("2023-04-21")).due_by == D("2023-05-04")
    # R20: S = 2024-04-12, S+14 = 2024-04-26: an ordinary Friday in 2024, not moved
    assert mandatory_window("cv_and_job", D("2024-04-12")).due_by == D("2024-04-26")


def test_r20_store_bededag_2023_moves_a_due_from_forward_but_2024_does_not() -> None:
    # R20: S = 2023-03-24, S+42 = 2023-05-05 (Store bededag) -> availability due from Monday
    # 2023-05-08; S+49 = 2023-05-12 is a Friday and stays
    window = mandatory_window("availability_and_job", D("2023-03-24"))
    assert (window.due_from, window.due_by) == (D("2023-05-08"), D("2023-05-12"))
    # S = 2024-03-15, S+42 = 2024-04-26: a working day in 2024
    window = mandatory_window("availability_and_job", D("2024-03-15"))
    assert (window.due_from, window.due_by) == (D("2024-04-26"), D("2024-05-03"))


def test_r20_a_saturday_start_moves_the_cv_due_from_to_monday() -> None:
    # R20: S = 2021-03-06 (Saturday): cv_and_job due from Monday 2021-03-08;
    # S+14 = 2021-03-20 (Saturday) -> due by Friday 2021-03-19
    window = mandatory_window("cv_and_job", D("2021-03-06"))
    assert (window.due_from, window.due_by) == (D("2021-03-08"), D("2021-03-19"))


def test_r20_new_years_day_moves_a_due_from_forward() -> None:
    # R20: S = 2020-10-26, S+63 = 2020-12-28 (Mon) - joint due from 2020-12-28,
    # S+77 = 2021-01-11 (Mon): both working days
    window = mandatory_window("joint", D("2020-10-26"))
    assert (window.due_from, window.due_by) == (D("2020-12-28"), D("2021-01-11"))
    # R20: S = 2020-10-30, S+63 = 2021-01-01 (Nytårsdag) -> due from Monday 2021-01-04
    # (2021-01-02/03 are a weekend); S+77 = 2021-01-15 (Friday)
    window = mandatory_window("joint", D("2020-10-30"))
    assert (window.due_from, window.due_by) == (D("2021-01-04"), D("2021-01-15"))


def test_r20_r5_extra_job_due_by_moves_back_over_easter_2021() -> None:
    # R5 + R20: latest meeting held 2021-03-22 -> extra_job due from 2021-03-23, by
    # 2021-03-22 + 14 = 2021-04-05 (2. påskedag) -> back over 04-04, 04-03, 04-02
    # (Langfredag), 04-01 (Skærtorsdag) to Wednesday 2021-03-31
    window = extra_window(D("2021-03-22"))
    assert (window.due_from, window.due_by, window.rule) == (
        D("2021-03-23"),
        D("2021-03-31"),
        "R5",
    )
