"""Calendar arithmetic of the rules: month steps, month ends and Danish working days (R20)."""

from __future__ import annotations

import calendar as _stdlib_calendar
from datetime import date, timedelta
from functools import cache

import holidays
from dateutil.relativedelta import relativedelta


def add_days(day: date, days: int) -> date:
    """Plain calendar arithmetic: "S + N days"."""
    return day + timedelta(days=days)


def add_months(day: date, months: int) -> date:
    """R12: S + N calendar months; a day missing in the target month becomes its last day."""
    result: date = day + relativedelta(months=months)
    return result


def first_of_month(day: date) -> date:
    """The first day of the month that `day` lies in."""
    return day.replace(day=1)


def last_of_month(day: date) -> date:
    """R8: the last day of the month that `day` lies in."""
    return day.replace(day=_stdlib_calendar.monthrange(day.year, day.month)[1])


def days_in_month(day: date) -> int:
    """How many days the month of `day` has."""
    return _stdlib_calendar.monthrange(day.year, day.month)[1]


def next_month(month: date) -> date:
    """The first day of the month after `month`."""
    return first_of_month(month) + relativedelta(months=1)


@cache
def _danish_holidays(year: int) -> frozenset[date]:
    # The holidays package knows Store bededag up to and including 2023, as R20 wants.
    return frozenset(holidays.country_holidays("DK", years=year).keys())


def is_working_day(day: date) -> bool:
    """R20: Monday to Friday and not a Danish public holiday."""
    return day.weekday() < 5 and day not in _danish_holidays(day.year)


def working_day_on_or_before(day: date) -> date:
    """R20: a due-by date on a weekend or holiday moves back to the working day before it."""
    while not is_working_day(day):
        day -= timedelta(days=1)
    return day


def working_day_on_or_after(day: date) -> date:
    """R20: a due-from date on a weekend or holiday moves forward to the next working day."""
    while not is_working_day(day):
        day += timedelta(days=1)
    return day
