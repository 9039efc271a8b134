"""The daily tick: the rules that fire by the calendar alone (R16), saved as events."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from uuid import UUID

from consumers.records import scope_of, scoped_id
from domain.case import Case
from domain.member import Member
from domain.params import PROGRAMME_END, Settings
from domain.service import CaseService
from infra.clock import SYSTEM_CLOCK, Clock
from infra.store.store import Store
from infra.store.unit_of_work import UnitOfWork


@dataclass
class TickReport:
    exits: int = 0
    handovers: int = 0
    given_up: int = 0

    def as_dict(self) -> dict[str, int]:
        return {"exits": self.exits, "handovers": self.handovers, "given_up": self.given_up}


def tick(
    store: Store,
    on: date,
    settings: Settings,
    now: datetime | None = None,
    clock: Clock = SYSTEM_CLOCK,
) -> TickReport:
    """What the calendar decides, as events: R16, and parked messages given up on.

    R16: on or after 2023-12-31, every case still in the trial exits, effective 2023-12-31.
    Messages parked longer than `settings.park_days` of recorded time (as of `now`, by
    default the clock's) go to the dead letters. Running it again changes nothing.
    """
    report = TickReport()
    report.given_up = give_up_parked(store, settings, now or clock.now(), on)
    if on < PROGRAMME_END:
        return report
    uow = UnitOfWork(store)
    service = CaseService(uow, settings)
    try:
        # Every case in one pass over the log, not one query per case; only those still in
        # the trial can end by R16.
        cases = [c for c in store.replay(Case) if isinstance(c, Case)]
        open_cases = [c for c in cases if c.is_in_trial and not c.facts.programme_ended]
        uow.adopt(open_cases)
        end_programme(service, open_cases, on, report)
        uow.commit()
    except BaseException:
        # As in apply_batch: the unit of work changed the store's cached aggregates in place,
        # so a tick that fails (another instance saved one of the cases meanwhile, or the
        # database went away) must drop them, or the next batch builds on events that were
        # never saved and stores its own after a gap in the versions.
        store.forget()
        raise
    return report


def end_programme(
    service: CaseService, cases: Iterable[Case], on: date, report: TickReport
) -> None:
    """R16 for these cases as the tick of `on` (its source), counted into `report`: the daily
    tick's every case still in the trial, or the cases one batch of the service touched."""
    if on < PROGRAMME_END:
        return
    source = tick_source(on)
    for case in cases:
        handovers_before = len(case.handovers)
        if service.end_programme(case, on, source):
            report.exits += 1
            report.handovers += len(case.handovers) - handovers_before


def tick_source(on: date) -> dict[str, Any]:
    """Where the tick's events come from: the tick of that day, not a message."""
    return {
        "message_id": f"tick:{on.isoformat()}",
        "topic": "tick",
        "partition": None,
        "offset": None,
    }


def reject_kept(
    uow: Any, kept: dict[str, Any], cpr: str | None, reason: str, field: str | None
) -> str:
    """A message kept in a member's record and given up on, as a dead letter (and to its
    topic's DLQ) with the member's CPR put back in; its id is free again. Its text."""
    message = {**kept["message"], **({"cpr": cpr} if cpr else {})}
    raw = json.dumps(message, ensure_ascii=False)
    message_id = kept["source"].get("message_id")
    key = cpr.encode() if cpr else None  # the record key upstream uses
    uow.reject(raw, reason, field, message_id, kept["source"], raw.encode(), key)
    # Its id is free again within its source's namespace (a corrected copy or a retry of
    # the dead letter applies).
    uow.withdraw(scoped_id(scope_of(kept["source"].get("topic") or ""), message_id))
    return raw


def give_up_parked(store: Store, settings: Settings, now: datetime, on: date) -> int:
    """Parked messages that waited longer than `park_days` of recorded time: given up on
    the member (one event each), each kept as a dead letter with the reason (and sent to
    its topic's DLQ), its message id free again. How many."""
    # From the log, the kept messages still waiting and parked long enough, so that only
    # their members are loaded (not every member that ever parked a message).
    cutoff = now - timedelta(days=settings.park_days)
    parked_at: dict[UUID, dict[str, datetime]] = {}
    kept_classes = (
        Member.KeptWithoutCase,  # type: ignore[attr-defined]
        Member.KeptMessagesApplied,  # type: ignore[attr-defined]
        Member.KeptMessagesGivenUp,  # type: ignore[attr-defined]
    )
    for _, event in store.notifications(*kept_classes):
        waiting = parked_at.setdefault(event.originator_id, {})
        if isinstance(event, Member.KeptWithoutCase):  # type: ignore[attr-defined]
            waiting[event.source.get("message_id")] = event.timestamp
        else:  # taken over by a case, or given up on already
            for message_id in event.message_ids:
                waiting.pop(message_id, None)
    parked_at = {
        member_id: times
        for member_id, times in parked_at.items()
        if any(at < cutoff for at in times.values())
    }
    if not parked_at:
        return 0
    uow = UnitOfWork(store)
    service = CaseService(uow, settings)
    source = tick_source(on)
    cprs = store.cprs(parked_at)
    given_up = 0
    try:
        for member_id, times in parked_at.items():
            due, reason = service.give_up_waiting(uow.member(member_id), times, now, source)
            for kept in due:
                reject_kept(uow, kept, cprs.get(member_id), reason, None)
            given_up += len(due)
        if given_up:
            uow.commit()
    except BaseException:
        store.forget()  # as below: unsaved events must not stay in the cache
        raise
    return given_up
