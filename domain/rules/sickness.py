"""R15: sickness reported late, and booked meetings that fall on a sick day."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from domain.facts import Booking, Sickness


def is_late_report(sick_from: date, reported_on: date) -> bool:
    """R15: sickness is reported on the day it begins; a report after the first sick day is
    late (flagged on the worklist)."""
    return reported_on > sick_from


def sick_on(sickness: Sickness, booking: Booking) -> bool:
    """R15: the booking falls on a day known to be sick: from the first sick day to the report.

    A report carries no last sick day, so the days known to be sick are those up to the report.
    """
    return sickness.sick_from <= booking.on <= max(sickness.reported_on, sickness.sick_from)


def bookings_to_rebook(sickness: Iterable[Sickness], bookings: Iterable[Booking]) -> list[Booking]:
    """R15: the booked meetings that a sick day falls on."""
    reports = list(sickness)
    return [b for b in bookings if any(sick_on(s, b) for s in reports)]
