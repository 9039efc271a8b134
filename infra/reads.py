"""The contract's reads: case and history from the stored events, worklist and handover feed
from their read models."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import UUID

from domain.case import Case
from domain.explain import EventRecord, explain_case
from domain.member import Member
from domain.outbound import CaseObject, HandoverMessage, HistoryItem, WorklistItem, dump
from domain.params import Settings
from domain.view import CaseView, case_view
from infra.projections import catch_up
from infra.store.store import Store
from projections.handovers import feed, handover_payload
from projections.worklist import advisers, worklist_rows

_HIDDEN = {
    "originator_id",
    "originator_version",
    "originator_topic",
    "timestamp",
    "effective_on",
    "source",
}


def case_dicts(
    store: Store,
    cpr: str | None,
    day: date,
    settings: Settings,
    known_at: datetime | None = None,
    member_id: UUID | None = None,
) -> list[dict[str, Any]]:
    """Every case of the member that had opened by `day`, oldest first, as case objects;
    with `known_at`, from only what had been recorded by then. The member by CPR, or by
    its opaque id (an erased member's cases show `"cpr": null`)."""
    if member_id is not None:
        cases = store.member_cases(member_id, known_at)
        cpr = store.cprs([member_id]).get(member_id)
    else:
        assert cpr is not None
        cases = store.cases_of(cpr, known_at)
    return [
        dump(CaseObject, case_view(case.facts, day, settings).as_dict(str(case.id), cpr))
        for case in cases
        if case.facts.opened_on <= day
    ]


def _event_dict(case_id: UUID | None, event: Any) -> dict[str, Any]:
    data = {k: _plain(v) for k, v in event.__dict__.items() if k not in _HIDDEN}
    return dump(
        HistoryItem,
        {
            "case_id": str(case_id) if case_id else None,
            "version": event.originator_version,
            "type": type(event).__name__,
            "recorded_at": event.timestamp.isoformat(),
            "effective_on": event.effective_on.isoformat(),
            "data": data,
            "source": event.source,
        },
    )


def _plain(value: Any) -> Any:
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if hasattr(value, "is_finite"):  # Decimal
        return float(value)
    return value


def history(
    store: Store,
    cpr: str | None,
    day: date | None = None,
    known_at: datetime | None = None,
    member_id: UUID | None = None,
) -> list[dict[str, Any]]:
    """The audit trail: every stored event of the member's cases (and the member's record of
    messages that found no case, with case_id null), oldest recorded first. The member by
    CPR, or by its opaque id (an erased member's too)."""
    if member_id is None and cpr is not None:
        member_id = store.member_ids([cpr]).get(cpr)
    if member_id is None:
        return []
    member_events = store.events_of(member_id)
    if not member_events or not isinstance(member_events[0], Member.Enrolled):  # type: ignore[attr-defined]
        return []
    rows = [
        _event_dict(None, e)
        for e in member_events
        if isinstance(e, Member.KeptWithoutCase | Member.KeptMessagesApplied | Member.CaseRead)  # type: ignore[attr-defined]
    ]
    member: Member = store.member(member_id)
    for case_id in member.case_ids:
        rows.extend(_event_dict(case_id, e) for e in store.events_of(case_id))
    rows.sort(key=lambda r: (r["recorded_at"], r["case_id"] or "", r["version"]))
    if day is not None:
        rows = [r for r in rows if r["effective_on"] <= day.isoformat()]
    if known_at is not None:
        rows = [r for r in rows if datetime.fromisoformat(r["recorded_at"]) <= known_at]
    return rows


def all_cases(store: Store) -> list[Case]:
    return store.replay(Case)  # type: ignore[return-value]


def worklist(
    store: Store,
    day: date,
    settings: Settings,
    adviser: str | None = None,
    known_at: datetime | None = None,
) -> list[dict[str, Any]]:
    """Open tasks on `day`, oldest due first, from the worklist's read model (caught up
    first); with `known_at`, from the events recorded by then (a replay of the log)."""
    return [row for _, row in worklist_of_members(store, day, settings, adviser, known_at)]


def worklist_of_members(
    store: Store,
    day: date,
    settings: Settings,
    adviser: str | None = None,
    known_at: datetime | None = None,
) -> list[tuple[UUID, dict[str, Any]]]:
    """The worklist's rows, each with its member's id (for the access log)."""
    return [
        (member_id, row)
        for member_id, row, _ in _worklist(store, day, settings, adviser, known_at)
    ]


def worklist_shown(
    store: Store, day: date, settings: Settings, adviser: str | None = None
) -> list[tuple[UUID, dict[str, Any]]]:
    """The worklist's rows as `worklist_of_members`, each with what the pages show beside
    it: the case's status and municipality on `day`, and how many days the task is overdue
    (0: not overdue)."""
    shown = []
    for member_id, row, view in _worklist(store, day, settings, adviser, None):
        case = view.as_dict(row["case_id"], None)
        overdue_days = (day - date.fromisoformat(row["due_by"])).days if row["overdue"] else 0
        extra = {
            "status": case["status"],
            "municipality_code": case["municipality_code"],
            "days_overdue": overdue_days,
        }
        shown.append((member_id, {**row, **extra}))
    return shown


def worklist_advisers(store: Store) -> list[str]:
    """Every adviser a case of the worklist has had, by name."""
    catch_up(store, ["worklist"])
    with store.engine.connect() as conn:
        return advisers(conn)


def _worklist(
    store: Store,
    day: date,
    settings: Settings,
    adviser: str | None,
    known_at: datetime | None,
) -> list[tuple[UUID, dict[str, Any], CaseView]]:
    if known_at is None:
        catch_up(store, ["worklist"])
        with store.engine.connect() as conn:
            candidates = worklist_rows(conn, day, settings, adviser)
    else:
        candidates = [
            (str(case.id), str(case.member_id), view)
            for case in store.replay(Case, known_at)
            if isinstance(case, Case)
            and (view := case_view(case.facts, day, settings))
            and (adviser is None or view.adviser == adviser)
        ]
    cprs = _cprs_of(store, {member_id for _, member_id, _ in candidates}, whole=adviser is None)
    rows = []
    for case_id, member_id, view in candidates:
        for task in view.tasks():
            row = {
                "case_id": case_id,
                "cpr": cprs.get(UUID(member_id)),
                "task": task.task,
                "due_by": task.due_by.isoformat(),
                "overdue": task.overdue,
                "adviser": view.adviser,
            }
            rows.append((UUID(member_id), dump(WorklistItem, row), view))
    rows.sort(key=lambda r: (r[1]["due_by"], r[1]["case_id"], r[1]["task"]))
    return rows


def _cprs_of(store: Store, member_ids: set[str], whole: bool) -> dict[UUID, str | None]:
    """The CPRs of these members: from the whole registry in one read (`whole`, for the
    whole worklist), else only theirs, in chunks (one adviser's worklist stays as small as
    that adviser's cases, whatever the registry's size)."""
    if whole:
        return store.cprs()
    wanted = sorted(member_ids)
    found: dict[UUID, str | None] = {}
    for start in range(0, len(wanted), 1000):
        found.update(store.cprs(UUID(m) for m in wanted[start : start + 1000]))
    return found


def handover_message(event: Any, cpr: str | None) -> dict[str, Any]:
    """R12/R13: a HandedOver event as the contract's handover message."""
    return feed_message(str(event.originator_id), handover_payload(event), cpr)


def feed_message(case_id: str, content: dict[str, Any], cpr: str | None) -> dict[str, Any]:
    """R12/R13: a handover feed row's payload as the contract's handover message."""
    return dump(
        HandoverMessage,
        {
            "message_id": content["message_id"],
            "type": content["type"],
            "replaces": content["replaces"],
            "case_id": case_id,
            "cpr": cpr,
            "reason": content["reason"],
            "effective_on": content["effective_on"],
            "jobcenter_municipality_code": content["jobcenter_municipality_code"],
            "started_on": content["started_on"],
            "held": content["held"],
            "jobcenter_must": content["jobcenter_must"],
            "akasse_must": content["akasse_must"],
        },
    )


def handovers(store: Store, known_at: datetime | None = None) -> list[dict[str, Any]]:
    """The handover feed as published, oldest first, from its read model (caught up first);
    with `known_at`, the messages published by then."""
    return [message for _, message in handovers_of_members(store, known_at)]


def handovers_of_members(
    store: Store, known_at: datetime | None = None
) -> list[tuple[UUID, dict[str, Any]]]:
    """The handover feed's messages, each with its member's id (for the access log)."""
    if known_at is not None:
        events = [e for _, e in store.notifications(Case.HandedOver) if e.timestamp <= known_at]  # type: ignore[attr-defined]
        cprs = store.cprs(e.member_id for e in events)
        return [(e.member_id, handover_message(e, cprs.get(e.member_id))) for e in events]
    catch_up(store, ["handovers"])
    cprs = store.cprs()
    with store.engine.connect() as conn:
        rows = feed(conn)
    return [
        (UUID(row.member_id), feed_message(row.case_id, row.payload, cprs.get(UUID(row.member_id))))
        for row in rows
    ]


def event_records(case_id: UUID, events: list[Any]) -> list[EventRecord]:
    """A case's stored events as `domain.explain` reads them: as the audit trail shows them."""
    return [EventRecord.from_history(_event_dict(case_id, e)) for e in events]


def explain(
    store: Store, cpr: str, day: date, settings: Settings, known_at: datetime | None = None
) -> dict[str, Any] | None:
    """Every derived fact of the member's latest case opened by `day`, with its rule id and
    the stored events (by version) it was derived from; with `known_at`, from only what had
    been recorded by then. None when the member has no such case."""
    cases = [c for c in store.cases_of(cpr, known_at) if c.facts.opened_on <= day]
    if not cases:
        return None
    case = cases[-1]
    events = []
    for event in store.events_of(case.id):
        if known_at is not None and event.timestamp > known_at:
            break  # the prefix recorded by then, as `Store.known` replays it
        events.append(event)
    view = case_view(case.facts, day, settings)
    return {
        "case_id": str(case.id),
        "cpr": cpr,
        "as_of": day.isoformat(),
        "known_at": known_at.isoformat() if known_at else None,
        "explanations": [
            x.as_dict() for x in explain_case(event_records(case.id, events), view, settings)
        ],
    }
