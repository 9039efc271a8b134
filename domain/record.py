"""The member's record: a fact a case let go, back as the message (without CPR) that brought it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from domain import facts as f


def _day(value: date) -> str:
    return value.isoformat()


# By the tuple of CaseFacts a fact sits in: the message type and its fields (CONTRACT.md).
_MESSAGES: dict[str, tuple[str, Callable[[Any], dict[str, Any]]]] = {
    "advisers": (
        "adviser_assigned",
        lambda x: {"adviser": x.adviser, "assigned_on": _day(x.effective_on)},
    ),
    "payments": (
        "hours_paid",
        lambda x: {"payment_id": x.payment_id, "month": f"{x.month:%Y-%m}", "hours": str(x.hours)},
    ),
    "moves": (
        "moved",
        lambda x: {"municipality_code": x.municipality_code, "moved_on": _day(x.effective_on)},
    ),
    "akasse_changes": ("akasse_changed", lambda x: {"changed_on": _day(x.effective_on)}),
    "deregistrations": ("deregistered", lambda x: {"deregistered_on": _day(x.effective_on)}),
    "opt_outs": ("opted_out", lambda x: {"decided_on": _day(x.effective_on), "note": x.note}),
    "bookings": ("meeting_booked", lambda x: {"kind": x.kind, "on": _day(x.on)}),
    "meetings": ("meeting_held", lambda x: {"kind": x.kind, "held_on": _day(x.held_on)}),
    "extra_meetings_agreed": (
        "extra_meetings_agreed",
        lambda x: {"agreed_on": _day(x.effective_on)},
    ),
    "profiles": (
        "profile_assessed",
        lambda x: {"assessed_on": _day(x.effective_on), "result": x.result},
    ),
    "holiday_requests": (
        "holiday_requested",
        lambda x: {
            "request_id": x.request_id,
            "requested_on": _day(x.requested_on),
            "first_day": _day(x.first_day),
            "last_day": _day(x.last_day),
            "channel": x.channel,
        },
    ),
    "holiday_decisions": (
        "holiday_decided",
        lambda x: {
            "request_id": x.request_id,
            "decided_on": _day(x.effective_on),
            "approved": x.approved,
        },
    ),
    "sickness": (
        "sickness_reported",
        lambda x: {"sick_from": _day(x.sick_from), "reported_on": _day(x.reported_on)},
    ),
    "less_intensive": (
        "less_intensive_requested",
        lambda x: {
            "requested_on": _day(x.requested_on),
            "reason": x.reason,
            "starts_on": _day(x.starts_on),
            "documented": x.documented,
        },
    ),
    "jobcenter_contacts": (
        "jobcenter_contact",
        lambda x: {"on": _day(x.effective_on), "about": x.about, "note": x.note},
    ),
}

# Every tuple a reported message fills; an exit that moves before one of these facts lets it
# go, hours (R8) aside: a payment stays with the latest case begun by its month.
RELEASED_ON_EXIT = tuple(name for name in _MESSAGES if name != "payments")


def message_of(name: str, fact: Any, message_id: str) -> dict[str, Any]:
    """The inbound message (as kept in the member's record: no CPR) that brought `fact`."""
    type_, fields = _MESSAGES[name]
    return {"message_id": message_id, "type": type_, **fields(fact)}


assert set(_MESSAGES) | {"notice", "registration", "programme_ended", "exits"} == {
    field for field in f.CaseFacts.__dataclass_fields__
}, "every reported fact has its message"
