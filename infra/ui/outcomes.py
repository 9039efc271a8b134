"""What became of a form's message, in words, kept for the page the browser is sent to next
(post/redirect/get: a reload shows it again and never posts again)."""

from __future__ import annotations

import secrets
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from infra.http.posting import Outcome as Posted
from infra.ui import forms, words

KEPT = 2000
"""Outcomes kept in the process (the oldest go first): enough for the pages' reloads."""


@dataclass(frozen=True)
class Outcome:
    """`kind`: recorded, kept (only on the member: no case covers its day), refused or
    duplicate; `text` says it in words; a refused form's `failed` holds its fields."""

    kind: str
    text: str
    message_id: str
    rule: str | None = None
    failed: dict[str, Any] = field(default_factory=dict)


class Outcomes:
    """Each post's outcome by a random key, for the session that posted it only."""

    def __init__(self, kept: int = KEPT) -> None:
        self.kept = kept
        self.items: OrderedDict[str, tuple[str, Outcome]] = OrderedDict()
        self.lock = threading.Lock()

    def add(self, sid: str, outcome: Outcome) -> str:
        key = secrets.token_urlsafe(9)
        with self.lock:
            self.items[key] = (sid, outcome)
            while len(self.items) > self.kept:
                self.items.popitem(last=False)
        return key

    def find(self, sid: str, key: str | None) -> Outcome | None:
        with self.lock:
            found = self.items.get(key or "")
        return found[1] if found and found[0] == sid else None


def accepted(
    form: dict[str, str],
    type_: str,
    posted: Posted,
    events: list[dict[str, Any]],
    case: dict[str, Any] | None,
) -> Outcome:
    """An accepted message in words, from the events it recorded (`events`, those of its
    message id) and the member's latest case after it."""
    message_id = form.get("message_id", "")
    if posted.duplicate:
        return Outcome("duplicate", words.duplicate(message_id), message_id)
    on = form.get(forms.DAY_FIELD[type_], "")
    if any(e["type"] == "KeptWithoutCase" for e in events):
        return Outcome("kept", words.kept(on), message_id)
    detail = _detail(form, type_, case)
    ended = next((e for e in events if e["type"] == "ExitDecided"), None)
    if ended is not None:
        reason = (ended.get("data") or {}).get("reason")
        detail = ", ".join(x for x in (detail, words.case_ended(reason)) if x)
    return Outcome("recorded", words.recorded(type_, on, detail), message_id)


def refused(form: dict[str, str], type_: str, posted: Posted) -> Outcome:
    message_id = form.get("message_id", "")
    failed = {
        "type": type_,
        "request_id": form.get("request_id"),
        "message_id": message_id,
        "error": posted.error,
        "field": posted.error_field,
        "values": form,
    }
    text = words.refused(posted.rule, posted.error or "")
    return Outcome("refused", text, message_id, posted.rule, failed)


def _detail(form: dict[str, str], type_: str, case: dict[str, Any] | None) -> str:
    """What the message said, and for a meeting held, how the rules judged it (R4, R6)."""
    kind = form.get("kind", "")
    if type_ == "meeting_held":
        meeting = next(
            (
                m
                for m in (case or {}).get("meetings", [])
                if m["kind"] == kind and m.get("held_on") == form.get("held_on")
            ),
            None,
        )
        state = f", {words.word(words.MEETING_STATE, meeting['state'])}" if meeting else ""
        return words.word(words.MEETING_KIND, kind) + state
    if type_ == "meeting_booked":
        return words.word(words.MEETING_KIND, kind)
    if type_ == "holiday_decided":
        decision = "godkendt" if form.get("approved") == "true" else "afvist"
        return f"ferieanmodning {form.get('request_id', '')} {decision}"
    if type_ == "adviser_assigned":
        return form.get("adviser", "").strip()
    return ""
