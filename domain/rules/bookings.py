"""R7: bookings, and which of them still stand."""

from __future__ import annotations

from collections.abc import Iterable

from domain.facts import Booking, MeetingHeld


def standing_bookings(bookings: Iterable[Booking], held: Iterable[MeetingHeld]) -> list[Booking]:
    """R7: the latest booking of each kind, unless a meeting of that kind was held since.

    A later booking of the same kind re-books the meeting; a mandatory meeting once held
    needs no booking; an extra_job booking stands until an extra_job is held on or after it.
    """
    latest: dict[str, Booking] = {}
    for booking in bookings:
        latest[booking.kind] = booking
    held_list = list(held)
    standing = []
    for kind, booking in latest.items():
        if kind == "extra_job":
            done = any(m.kind == kind and m.held_on >= booking.on for m in held_list)
        else:
            done = any(m.kind == kind for m in held_list)
        if not done:
            standing.append(booking)
    return standing
