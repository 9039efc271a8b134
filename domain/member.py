"""The member aggregate: an opaque id, the member's cases, and messages that found no case."""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

Source = dict[str, Any]


class Member(Aggregate):
    """A member, known here only by a random id; the CPR lives in the member registry.

    Keeps the member's cases in the order they opened, and the messages that arrived
    while no case of the member covered their day ("kept in the member's record").
    """

    class Event(Aggregate.Event):
        """Every stored event of a member. `class_version` is the version of an event's fields:
        a change of them raises it on that event's class, with a static upcaster
        `upcast_vN_vN+1(state)` beside it, so that stored events load as the new class."""

        class_version = 1

    @event("Enrolled")
    def __init__(self, effective_on: date, source: Source) -> None:
        self.case_ids: list[UUID] = []
        self.kept: list[dict[str, Any]] = []

    @event("CaseOpened")
    def open_case(self, case_id: UUID, effective_on: date, source: Source) -> None:
        self.case_ids.append(case_id)

    @event("KeptWithoutCase")
    def keep(self, message: dict[str, Any], effective_on: date, source: Source) -> None:
        """A message for a day no case covers; `message` holds no CPR. One that a case took
        over and let go again (its exit moved before it) waits again where it was accepted."""
        message_id = source.get("message_id")
        for kept in self.kept:
            if kept["source"].get("message_id") == message_id and not kept.get("given_up"):
                kept["applied_to"] = None
                return
        self.kept.append(
            {"message": message, "effective_on": effective_on, "source": source, "applied_to": None}
        )

    @event("KeptMessagesApplied")
    def mark_applied(
        self, message_ids: list[str], case_id: UUID, effective_on: date, source: Source
    ) -> None:
        """Kept messages that a case registered later took over (one event for them all)."""
        taken = set(message_ids)
        for kept in self.kept:
            if kept["source"].get("message_id") in taken:
                kept["applied_to"] = case_id

    @property
    def waiting(self) -> list[dict[str, Any]]:
        """Kept messages not applied to a case and not given up on."""
        return [k for k in self.kept if k["applied_to"] is None and not k.get("given_up")]

    @event("KeptMessagesGivenUp")
    def give_up(
        self, message_ids: list[str], reason: str, effective_on: date, source: Source
    ) -> None:
        """Kept messages that waited longer than the fund allows for what they need: they
        are no longer taken over, and go to the dead letters with `reason`."""
        gone = set(message_ids)
        for kept in self.kept:
            if kept["source"].get("message_id") in gone:
                kept["given_up"] = True

    @event("CaseRead")
    def record_read(
        self, reader: str, role: str, what: str, effective_on: date, source: Source
    ) -> None:
        """Someone read the member's case (who, in which role, what); the audit trail shows
        it. The event is the record: the member's state does not change."""
