"""Posting one message, for `POST /messages` and the pages' forms alike: parse, the role
checked on the parsed message, applied by the application (`Ledighed.post`: the ingest path
with its version-conflict retry), refusals kept as dead letters."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from consumers.records import InboundRecord
from domain.messages import InvalidMessage, parse_message
from infra.application import Ledighed
from infra.http.api_auth import Principal, may_post


@dataclass(frozen=True)
class Outcome:
    """What became of a message: accepted (perhaps as a duplicate), or refused with the reason
    and field (kept in the dead letters), or of a type the role may not post (nothing
    stored; `forbidden_type` names it)."""

    accepted: bool
    duplicate: bool = False
    error: str | None = None
    error_field: str | None = None
    message_id: str | None = None
    rule: str | None = None
    forbidden_type: str | None = None

    @property
    def forbidden(self) -> bool:
        return self.forbidden_type is not None


def post(ledighed: Ledighed, writing: threading.Lock, who: Principal, body: str) -> Outcome:
    """The API's `POST /messages` after the body's checks: the contract (a refusal is a dead
    letter), then the role on the parsed message, then the rules, on the message that was
    checked (`source.topic` is the principal's, `ui:adviser:NAME` for the pages)."""
    try:
        message: Any = parse_message(body)
    except InvalidMessage as error:
        message = error  # rejected below as a consumer rejects it: a dead letter
    else:
        if not may_post(who, message):
            return Outcome(False, forbidden_type=message.type)
    record = InboundRecord(body, who.source_topic, None, None)
    with writing:
        report = ledighed.post(record, message)
    # Only the posted message's own refusal (a kept message refused once this one came
    # is a dead letter of its own).
    own = [r for r in report.rejected if r["message_id"] == message.message_id]
    if own:
        rejected = own[0]
        return Outcome(
            False,
            error=rejected["error"],
            error_field=rejected["error_field"],
            message_id=rejected["message_id"],
            rule=rejected.get("rule"),
        )
    return Outcome(True, duplicate=bool(report.duplicates), message_id=message.message_id)
