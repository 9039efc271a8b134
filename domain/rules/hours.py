"""R8: the hours threshold, counted in calendar order, and the forecast of when it is reached."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from domain.calendar import days_in_month, first_of_month, last_of_month, next_month
from domain.errors import Refusal
from domain.facts import Payment
from domain.params import FULL_MONTH_HOURS, HOURS_THRESHOLD, Insurance

_MAX_FORECAST_MONTHS = 240


def counted_hours_by_month(
    payments: Iterable[Payment], start: date, frozen_months: frozenset[date]
) -> dict[date, Decimal]:
    """R8: hours per payment month that count: S's month on, frozen months left out."""
    first_month = first_of_month(start)
    by_month: dict[date, Decimal] = {}
    for payment in payments:
        if payment.month < first_month or payment.month in frozen_months:
            continue
        by_month[payment.month] = by_month.get(payment.month, Decimal(0)) + payment.hours
    return by_month


def threshold_reached_on(
    payments: Iterable[Payment],
    start: date,
    insurance: Insurance,
    frozen_months: frozenset[date] = frozenset(),
) -> date | None:
    """R8: the last day of the month in which the running sum of paid hours first reaches
    the threshold (>=), summing months in calendar order whatever order they arrived in."""
    by_month = counted_hours_by_month(payments, start, frozen_months)
    running = Decimal(0)
    for month in sorted(by_month):
        running += by_month[month]
        if running >= HOURS_THRESHOLD[insurance]:
            return last_of_month(month)
    return None


def start_month_share(start: date, insurance: Insurance) -> Decimal:
    """R8: the forecast's pro-rata hours for S's month, by days from S to the month's end."""
    days_left = days_in_month(start) - start.day + 1
    share = FULL_MONTH_HOURS[insurance] * days_left / days_in_month(start)
    return share.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def expected_end(
    payments: Iterable[Payment],
    start: date,
    insurance: Insurance,
    frozen_months: frozenset[date] = frozenset(),
) -> date | None:
    """R8 forecast: paid hours where paid, a full month (pro rata for S's month) where not.

    The forecast never ends the trial by itself; None when no month can reach the threshold.
    """
    by_month = counted_hours_by_month(payments, start, frozen_months)
    month = first_of_month(start)
    running = Decimal(0)
    for _ in range(_MAX_FORECAST_MONTHS):
        if month in by_month:
            running += by_month[month]
        elif month not in frozen_months:
            is_start_month = month == first_of_month(start)
            running += (
                start_month_share(start, insurance)
                if is_start_month
                else FULL_MONTH_HOURS[insurance]
            )
        if running >= HOURS_THRESHOLD[insurance]:
            return last_of_month(month)
        month = next_month(month)
    return None


def total_counted_hours(
    payments: Iterable[Payment], start: date, frozen_months: frozenset[date] = frozenset()
) -> Decimal:
    """R8: the hours that count towards the threshold."""
    return sum(counted_hours_by_month(payments, start, frozen_months).values(), Decimal(0))


def payment_refusal(
    earlier: Iterable[Payment], payment: Payment, insurance: Insurance
) -> Refusal | None:
    """R8: a payment is refused when its id was used before (field payment_id) or its month
    would pass the full-month maximum, 160.33 full-time, 130.00 part-time (field hours)."""
    month_total = payment.hours
    for other in earlier:
        if other.payment_id == payment.payment_id:
            reason = f"R8: payment_id {payment.payment_id!r} was already recorded for this case"
            return Refusal("R8", reason, "payment_id")
        if other.month == payment.month:
            month_total += other.hours
    limit = FULL_MONTH_HOURS[insurance]
    if month_total > limit:
        reason = (
            f"R8: hours for {payment.month:%Y-%m} would total {month_total}, "
            f"above the {insurance} maximum of {limit} for one month"
        )
        return Refusal("R8", reason, "hours")
    return None
