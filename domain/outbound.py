"""The contract's outputs as pydantic models: the handover message, the case object and the
rows of the worklist, history and ingest report. Every output passes through these, so
the JSON has exactly the contract's fields and types, and the schemas come from here."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, TypeAdapter

from domain.facts import ExitReason
from domain.message_fields import JSON_SCHEMA_DRAFT


class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Held(_Out):
    job: int
    cv: int
    availability: int
    joint: int


class JobcenterMust(_Out):
    job: int
    joint: int
    by: date


class AkasseMust(_Out):
    availability_by: date
    joint_at_16_months: date


class HandoverMessage(_Out):
    """R12/R13: one message of the jobcenter handover feed (topic `jobcenter.handovers`)."""

    message_id: str
    type: Literal["handover", "handover_revised", "handover_withdrawn"]
    replaces: str | None
    case_id: str
    cpr: str | None
    reason: ExitReason
    effective_on: date
    jobcenter_municipality_code: int
    started_on: date
    held: Held
    jobcenter_must: JobcenterMust
    akasse_must: AkasseMust


class ExpectedEnd(_Out):
    on: date
    rule: Literal["R8"]


class ExitOut(_Out):
    reason: ExitReason
    on: date
    rule: str


class MeetingOut(_Out):
    kind: Literal["cv_and_job", "availability_and_job", "joint", "extra_job"]
    due_from: date
    due_by: date
    held_on: date | None
    state: Literal["due", "held", "overdue", "late", "early", "waived", "handed_over"]
    rule: str


class HolidayOut(_Out):
    request_id: str
    first_day: date
    last_day: date
    status: Literal["approved", "pending", "rejected"]
    reason: str | None
    rule: Literal["R14"]


class LessIntensiveOut(_Out):
    status: Literal["approved", "rejected"]
    reason: Literal["too_early", "undocumented"] | None
    until: date
    rule: Literal["R18"]


class CaseObject(_Out):
    """The case as of a day (`ledighed case`)."""

    case_id: str
    cpr: str | None
    status: Literal["notice_period", "in_trial", "ended", "outside_trial"]
    started_on: date | None
    insurance: Literal["full_time", "part_time"] | None
    municipality_code: int | None
    adviser: str | None
    hours_paid: float
    expected_end: ExpectedEnd | None
    exit: ExitOut | None
    outside_reason: Literal["municipality", "window"] | None
    meetings: list[MeetingOut]
    holidays: list[HolidayOut]
    less_intensive: LessIntensiveOut | None


class WorklistItem(_Out):
    case_id: str
    cpr: str | None
    task: str
    due_by: date
    overdue: bool
    adviser: str | None


class Source(_Out):
    message_id: str | None
    topic: str
    partition: int | None
    offset: int | None


class HistoryItem(_Out):
    case_id: str | None
    version: int
    type: str
    recorded_at: datetime
    effective_on: date
    data: dict[str, Any]
    source: Source


def dump(model: type[_Out], value: dict[str, Any]) -> dict[str, Any]:
    """Check `value` against the contract's model and give it back as JSON-ready data."""
    return model.model_validate(value).model_dump(mode="json")


def schema(model: type[_Out]) -> dict[str, Any]:
    return {"$schema": JSON_SCHEMA_DRAFT, **TypeAdapter(model).json_schema()}
