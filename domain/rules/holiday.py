"""R14: holiday in the trial needs the a-kasse's approval, decided when the request arrives."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from domain.facts import Booking, HolidayStatus
from domain.params import HOLIDAY_NOTICE_DAYS


def notice_days(requested_on: date, first_day: date) -> int:
    """R14: notice = first holiday day - day requested."""
    return (first_day - requested_on).days


def decide_holiday(
    requested_on: date,
    first_day: date,
    last_day: date,
    channel: str,
    bookings: Iterable[Booking],
) -> tuple[HolidayStatus, str | None]:
    """R14: the status of a holiday request and why, from the facts known when it arrives.

    Enough notice (by any channel) is approved unless a holiday day falls on a booked
    meeting; short notice via jobnet is rejected; short notice by message or phone waits
    for the adviser.
    """
    if notice_days(requested_on, first_day) >= HOLIDAY_NOTICE_DAYS:
        if any(first_day <= b.on <= last_day for b in bookings):
            return "pending", "clash"
        return "approved", None
    if channel == "jobnet":
        return "rejected", "short_notice_via_jobnet"
    return "pending", "short_notice"
