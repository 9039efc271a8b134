"""R8: the hours threshold, summed in calendar order, and its forecast (`expected_end`).

The rule functions, called directly with worked dates; the same rules through the
service are in tests/service/test_hours_service.py."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from domain.facts import Payment
from domain.rules.hours import (
    counted_hours_by_month,
    expected_end,
    payment_refusal,
    start_month_share,
    threshold_reached_on,
    total_counted_hours,
)

D = date.fromisoformat


FULL = "160.33"


def pay(*months_and_hours: tuple[str, str]) -> list[Payment]:
    """Payments in the order given: ("2021-03", "160.33"), ..."""
    return [
        Payment(f"p{i}", D(month + "-01"), Decimal(hours))
        for i, (month, hours) in enumerate(months_and_hours)
    ]


FROZEN_2021 = frozenset(D(f"2021-{m:02d}-01") for m in range(1, 7))  # 2021-01 .. 2021-06


def test_r8_exactly_410_00_ends_the_trial_that_month() -> None:
    # R8: S = 2021-01-04; 160.33 (Jan) + 160.33 (Feb) + 89.34 (Mar) = 410.00 -> "reaches"
    # means >=, so the trial ends on the last day of March: 2021-03-31
    payments = pay(("2021-01", FULL), ("2021-02", FULL), ("2021-03", "89.34"))
    assert threshold_reached_on(payments, D("2021-01-04"), "full_time") == D("2021-03-31")


def test_r8_409_99_does_not_end_the_trial() -> None:
    # R8: S = 2021-01-04; 160.33 + 160.33 + 89.33 = 409.99 < 410 -> no exit
    payments = pay(("2021-01", FULL), ("2021-02", FULL), ("2021-03", "89.33"))
    assert threshold_reached_on(payments, D("2021-01-04"), "full_time") is None


def test_r8_the_month_end_is_the_last_day_of_february_in_a_leap_year() -> None:
    # R8: S = 2019-12-01 (calendar arithmetic only): Dec 2019
    # 160.33 + Jan 2020 160.33 + Feb 2020 89.34 = 410.00 -> the last day of leap February,
    # 2020-02-29 (threshold_reached_on does not judge the programme window)
    payments = pay(("2019-12", FULL), ("2020-01", FULL), ("2020-02", "89.34"))
    assert threshold_reached_on(payments, D("2019-12-01"), "full_time") == D("2020-02-29")
    # S = 2021-12-01: Dec 2021 160.33 + Jan 2022 160.33 + Feb 2022 89.34 -> 2022-02-28
    payments = pay(("2021-12", FULL), ("2022-01", FULL), ("2022-02", "89.34"))
    assert threshold_reached_on(payments, D("2021-12-01"), "full_time") == D("2022-02-28")


def test_r8_sum_is_in_calendar_order_not_arrival_order() -> None:
    # R8: S = 2021-01-04. Arrival order: Apr 160.33, Mar 160.33, Feb 100.00, Jan 160.33.
    # Calendar order: Jan 160.33, Feb 260.33, Mar 420.66 -> reached in March: 2021-03-31
    payments = pay(("2021-04", FULL), ("2021-03", FULL), ("2021-02", "100.00"), ("2021-01", FULL))
    assert threshold_reached_on(payments, D("2021-01-04"), "full_time") == D("2021-03-31")
    # without January: Feb 100, Mar 260.33, Apr 420.66 -> 2021-04-30
    assert threshold_reached_on(payments[:3], D("2021-01-04"), "full_time") == D("2021-04-30")


def test_r8_months_before_s_month_are_ignored() -> None:
    # R8: S = 2021-03-15. Feb 2021 (before S's month) 160.33 does not count;
    # Mar 160.33 + Apr 160.33 = 320.66; May 100.00 -> 420.66 -> 2021-05-31
    payments = pay(("2021-02", FULL), ("2021-03", FULL), ("2021-04", FULL), ("2021-05", "100"))
    start = D("2021-03-15")
    assert counted_hours_by_month(payments, start, frozenset()) == {
        D("2021-03-01"): Decimal(FULL),
        D("2021-04-01"): Decimal(FULL),
        D("2021-05-01"): Decimal("100"),
    }
    assert threshold_reached_on(payments[:3], start, "full_time") is None
    assert threshold_reached_on(payments, start, "full_time") == D("2021-05-31")
    assert total_counted_hours(payments, start) == Decimal("420.66")


def test_r8_two_payments_for_one_month_add_up() -> None:
    # R8: S = 2021-01-04; Jan 100 + 60.33 (two payments) = 160.33, Feb 160.33, Mar 89.34
    payments = pay(
        ("2021-01", "100"), ("2021-02", FULL), ("2021-01", "60.33"), ("2021-03", "89.34")
    )
    assert threshold_reached_on(payments, D("2021-01-04"), "full_time") == D("2021-03-31")


def test_r8_frozen_months_do_not_count() -> None:
    # R8 frozen_months 2021-01..2021-06: S = 2020-12-01, 160.33 paid every month Dec 2020 to
    # Aug 2021. Counted: Dec 2020, Jul 2021, Aug 2021 = 480.99 -> reached in Aug: 2021-08-31.
    # Without the freeze: Dec + Jan + Feb = 480.99 -> 2021-02-28.
    months = ["2020-12"] + [f"2021-{m:02d}" for m in range(1, 9)]
    payments = pay(*((m, FULL) for m in months))
    start = D("2020-12-01")
    assert threshold_reached_on(payments, start, "full_time") == D("2021-02-28")
    assert threshold_reached_on(payments, start, "full_time", FROZEN_2021) == D("2021-08-31")
    assert total_counted_hours(payments, start, FROZEN_2021) == Decimal("480.99")


def test_r8_part_time_threshold_is_333() -> None:
    # R8 part-time: S = 2021-01-04; 130.00 + 130.00 + 73.00 = 333.00 -> 2021-03-31
    payments = pay(("2021-01", "130.00"), ("2021-02", "130.00"), ("2021-03", "73.00"))
    assert threshold_reached_on(payments, D("2021-01-04"), "part_time") == D("2021-03-31")
    # 72.99 in March -> 332.99 -> not reached
    payments = pay(("2021-01", "130.00"), ("2021-02", "130.00"), ("2021-03", "72.99"))
    assert threshold_reached_on(payments, D("2021-01-04"), "part_time") is None
    # the same 333.00 hours do not end a full-time case (threshold 410)
    payments = pay(("2021-01", "130.00"), ("2021-02", "130.00"), ("2021-03", "73.00"))
    assert threshold_reached_on(payments, D("2021-01-04"), "full_time") is None


def test_r8_payment_refusal_limits() -> None:
    # R8: full-time 160.33 a month is the maximum: 100.00 + 60.33 = 160.33 is accepted,
    # 100.00 + 60.34 = 160.34 is refused
    earlier = pay(("2021-03", "100.00"))
    assert (
        payment_refusal(earlier, Payment("q", D("2021-03-01"), Decimal("60.33")), "full_time")
        is None
    )
    refusal = payment_refusal(earlier, Payment("q", D("2021-03-01"), Decimal("60.34")), "full_time")
    assert refusal is not None and "160.33" in refusal.reason
    assert (refusal.rule, refusal.field) == ("R8", "hours")
    # R8 part-time: 130.00 is the maximum, 130.01 is refused
    assert (
        payment_refusal([], Payment("q", D("2021-03-01"), Decimal("130.00")), "part_time") is None
    )
    refusal = payment_refusal([], Payment("q", D("2021-03-01"), Decimal("130.01")), "part_time")
    assert refusal is not None and "130.00" in refusal.reason
    assert (refusal.rule, refusal.field) == ("R8", "hours")
    # a repeated payment_id is refused
    refusal = payment_refusal(earlier, Payment("p0", D("2021-04-01"), Decimal("1")), "full_time")
    assert refusal is not None and "payment_id" in refusal.reason
    assert (refusal.rule, refusal.field) == ("R8", "payment_id")


def test_r8_forecast_pro_rata_for_s_month() -> None:
    # R8 forecast: S = 2021-01-15 -> 17 of 31 days left: 17/31 x 160.33 = 87.92;
    # Jan 87.92, Feb 248.25, Mar 408.58, Apr 568.91 -> expected end 2021-04-30
    assert start_month_share(D("2021-01-15"), "full_time") == Decimal("87.92")
    assert expected_end([], D("2021-01-15"), "full_time") == D("2021-04-30")


def test_r8_forecast_pro_rata_part_time_and_first_of_month() -> None:
    # R8 part-time: S = 2021-01-15: 17/31 x 130.00 = 71.29
    assert start_month_share(D("2021-01-15"), "part_time") == Decimal("71.29")
    # S = 2021-01-01: the whole month, 160.33 -> Jan 160.33, Feb 320.66, Mar 480.99 -> 03-31
    assert start_month_share(D("2021-01-01"), "full_time") == Decimal(FULL)
    assert expected_end([], D("2021-01-01"), "full_time") == D("2021-03-31")
    # part-time from 2021-01-01: 130, 260, 390 >= 333 -> 2021-03-31
    assert expected_end([], D("2021-01-01"), "part_time") == D("2021-03-31")
    # S = 2021-01-31: 1/31 x 160.33 = 5.17; Jan 5.17, Feb 165.50, Mar 325.83, Apr 486.16
    assert start_month_share(D("2021-01-31"), "full_time") == Decimal("5.17")
    assert expected_end([], D("2021-01-31"), "full_time") == D("2021-04-30")
    # leap February: S = 2020-02-15 -> 15/29 x 160.33 = 82.93
    assert start_month_share(D("2020-02-15"), "full_time") == Decimal("82.93")


def test_r8_forecast_uses_paid_hours_where_paid() -> None:
    # R8 forecast: S = 2021-01-15, Jan paid 160.33 (the full month, not 87.92):
    # Jan 160.33, Feb 320.66 (forecast), Mar 480.99 -> expected 2021-03-31
    assert expected_end(pay(("2021-01", FULL)), D("2021-01-15"), "full_time") == D("2021-03-31")
    # Feb paid 0.00: Jan 87.92, Feb 87.92, Mar 248.25, Apr 408.58, May 568.91 -> 2021-05-31
    assert expected_end(pay(("2021-02", "0")), D("2021-01-15"), "full_time") == D("2021-05-31")
