"""R12: what the jobcenter is told when a case leaves the trial."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from domain.calendar import add_months
from domain.facts import CaseFacts, Exit, MeetingHeld
from domain.params import (
    HANDOVER_MONTHS,
    JOB_CONVERSATIONS_WITHIN_6_MONTHS,
    JOINT_AT_MONTHS,
    JOINT_CONVERSATIONS_WITHIN_6_MONTHS,
)

# R12: what one meeting counts as.
CONVERSATIONS: dict[str, dict[str, int]] = {
    "cv_and_job": {"cv": 1, "job": 1},
    "availability_and_job": {"availability": 1, "job": 1},
    "joint": {"joint": 1},
    "extra_job": {"job": 1},
}


@dataclass(frozen=True)
class Handover:
    """R12: the content of a handover, before it is numbered and published."""

    reason: str
    effective_on: date
    jobcenter_municipality_code: int
    started_on: date
    held: dict[str, int]
    jobcenter_must: dict[str, object]
    akasse_must: dict[str, str]

    def as_dict(self) -> dict[str, object]:
        return {
            "reason": self.reason,
            "effective_on": self.effective_on.isoformat(),
            "jobcenter_municipality_code": self.jobcenter_municipality_code,
            "started_on": self.started_on.isoformat(),
            "held": dict(self.held),
            "jobcenter_must": dict(self.jobcenter_must),
            "akasse_must": dict(self.akasse_must),
        }


def municipality_on(facts: CaseFacts, day: date) -> int:
    """R9: the member's municipality on `day`: the registration's, or the latest move by then."""
    assert facts.registration is not None
    start = facts.registration.registered_on
    moves = [
        (m.effective_on, i, m.municipality_code)
        for i, m in enumerate(facts.moves)
        if start <= m.effective_on <= day
    ]
    return max(moves)[2] if moves else facts.registration.municipality_code


def meetings_counted(facts: CaseFacts, exit_on: date) -> tuple[MeetingHeld, ...]:
    """R12: the meetings that count as held in the trial: S to the exit day, both included,
    a mandatory meeting once (the first time it was held), every extra_job."""
    assert facts.registration is not None
    counted: list[MeetingHeld] = []
    counted_mandatory: set[str] = set()
    for meeting in sorted(facts.meetings, key=lambda m: m.held_on):
        if not facts.registration.registered_on <= meeting.held_on <= exit_on:
            continue
        if meeting.kind != "extra_job":
            if meeting.kind in counted_mandatory:
                continue
            counted_mandatory.add(meeting.kind)
        counted.append(meeting)
    return tuple(counted)


def conversations_held(facts: CaseFacts, exit_on: date) -> dict[str, int]:
    """R12: conversations held in the trial, S to the exit day, both included."""
    held = {"job": 0, "cv": 0, "availability": 0, "joint": 0}
    for meeting in meetings_counted(facts, exit_on):
        for conversation, count in CONVERSATIONS[meeting.kind].items():
            held[conversation] += count
    return held


def handover(facts: CaseFacts, exit_: Exit) -> Handover:
    """R12: the handover for an exit: what was held and what the jobcenter must still do."""
    assert facts.registration is not None
    start = facts.registration.registered_on
    held = conversations_held(facts, exit_.on)
    within_6_months = add_months(start, HANDOVER_MONTHS)
    return Handover(
        reason=exit_.reason,
        effective_on=exit_.on,
        jobcenter_municipality_code=municipality_on(facts, exit_.on),
        started_on=start,
        held=held,
        jobcenter_must={
            "job": max(0, JOB_CONVERSATIONS_WITHIN_6_MONTHS - held["job"]),
            "joint": max(0, JOINT_CONVERSATIONS_WITHIN_6_MONTHS - held["joint"]),
            "by": within_6_months.isoformat(),
        },
        akasse_must={
            "availability_by": within_6_months.isoformat(),
            "joint_at_16_months": add_months(start, JOINT_AT_MONTHS).isoformat(),
        },
    )
