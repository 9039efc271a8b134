"""The adviser's forms: which contract message each one sends, and its fields as the message's."""

from __future__ import annotations

import json
import secrets
from collections.abc import Mapping
from typing import Any

FORMS: dict[str, tuple[str, ...]] = {
    "meeting_held": ("kind", "held_on"),
    "meeting_booked": ("kind", "on"),
    "extra_meetings_agreed": ("agreed_on",),
    "holiday_decided": ("request_id", "decided_on", "approved"),
    "opted_out": ("decided_on", "note"),
    "adviser_assigned": ("adviser", "assigned_on"),
}
"""Each form's message type and the message's fields it has (named as the contract's)."""

DAY_FIELD = {
    "meeting_held": "held_on",
    "meeting_booked": "on",
    "extra_meetings_agreed": "agreed_on",
    "holiday_decided": "decided_on",
    "opted_out": "decided_on",
    "adviser_assigned": "assigned_on",
}
"""Each form's field with the day the message is for."""

ENDS_TRIAL = frozenset({"opted_out"})
"""Forms whose message ends the member's trial: sent only once confirmed (`confirm=yes`)."""
CONFIRMED = "yes"

BOOLEANS = frozenset({"approved"})
MEETING_KINDS = ("cv_and_job", "availability_and_job", "joint", "extra_job")


def new_message_id() -> str:
    """A message id fixed when a form is drawn: sending that form twice is one message."""
    return f"ui-{secrets.token_hex(12)}"


def message_body(form: Mapping[str, Any], cpr: str) -> tuple[str, str]:
    """The form's message type and the contract message it sends, as the JSON text that the
    API's `POST /messages` would take (parsed and checked by the same code). A field left
    out stays out, so the contract names it; `approved` is `true`/`false` as a JSON boolean."""
    type_ = str(form.get("type", ""))
    if type_ not in FORMS:
        raise ValueError(f"no form sends {type_[:40]!r}")
    message: dict[str, Any] = {
        "message_id": str(form.get("message_id", "")),
        "type": type_,
        "cpr": cpr,
    }
    for name in FORMS[type_]:
        value = form.get(name)
        if value is None:
            continue
        value = str(value)
        if name in BOOLEANS:
            message[name] = {"true": True, "false": False}.get(value, value)
        else:
            message[name] = value.strip() if name != "note" else value
    return type_, json.dumps(message, ensure_ascii=False)
