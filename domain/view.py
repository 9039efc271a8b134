"""The case as of a day (CONTRACT.md's case object) and its worklist tasks, from its facts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Literal

from domain.facts import MANDATORY_MEETINGS, CaseFacts, Exit, MeetingKind
from domain.params import Settings
from domain.rules import hours, less_intensive
from domain.rules.bookings import standing_bookings
from domain.rules.exits import exit_as_of
from domain.rules.handover import municipality_on
from domain.rules.meetings import Window, extra_meetings, held_state, mandatory_window
from domain.rules.sickness import bookings_to_rebook

Status = Literal["notice_period", "in_trial", "ended", "outside_trial"]


@dataclass(frozen=True)
class MeetingView:
    kind: MeetingKind
    due_from: date
    due_by: date
    held_on: date | None
    state: str
    rule: str
    window: Window | None = None  # its basis: R4/R5's days before R20, and what they count from

    def as_dict(self) -> dict[str, object]:
        return {
            "kind": self.kind,
            "due_from": self.due_from.isoformat(),
            "due_by": self.due_by.isoformat(),
            "held_on": self.held_on.isoformat() if self.held_on else None,
            "state": self.state,
            "rule": self.rule,
        }


@dataclass(frozen=True)
class Task:
    """One line of the adviser's worklist."""

    task: str
    due_by: date
    overdue: bool


@dataclass(frozen=True)
class CaseView:
    """What the facts imply for one day."""

    as_of: date
    facts: CaseFacts
    status: Status
    exit: Exit | None
    meetings: tuple[MeetingView, ...]
    hours_paid: Decimal
    expected_end: date | None
    # R8: the hours that count, by payment month in calendar order (hours_paid is their sum)
    hours_by_month: tuple[tuple[date, Decimal], ...] = ()

    @property
    def adviser(self) -> str | None:
        return self.facts.adviser()

    def as_dict(self, case_id: str, cpr: str | None) -> dict[str, object]:
        """The contract's case object."""
        registration = self.facts.registration
        notice = self.facts.notice
        if registration is not None:  # R9: the registration's, or the latest move by then
            municipality: int | None = municipality_on(self.facts, self.as_of)
        else:
            municipality = notice.municipality_code if notice else None
        li = self.facts.less_intensive[-1] if self.facts.less_intensive else None
        return {
            "case_id": case_id,
            "cpr": cpr,
            "status": self.status,
            "started_on": registration.registered_on.isoformat() if registration else None,
            "insurance": registration.insurance if registration else None,
            "municipality_code": municipality,
            "adviser": self.adviser,
            "hours_paid": float(self.hours_paid),
            "expected_end": (
                {"on": self.expected_end.isoformat(), "rule": "R8"} if self.expected_end else None
            ),
            "exit": (
                {"reason": self.exit.reason, "on": self.exit.on.isoformat(), "rule": self.exit.rule}
                if self.exit
                else None
            ),
            "outside_reason": registration.outside_reason if registration else None,
            "meetings": [m.as_dict() for m in self.meetings],
            "holidays": holiday_dicts(self.facts),
            "less_intensive": (
                {
                    "status": li.status,
                    "reason": li.refusal,
                    "until": li.until.isoformat(),
                    "rule": "R18",
                }
                if li
                else None
            ),
        }

    def tasks(self) -> list[Task]:
        """The open tasks on the worklist as of the day; none once the case left the trial."""
        if self.status != "in_trial":
            return []
        day = self.as_of
        tasks: list[Task] = []
        if not less_intensive.lasting_on(self.facts.less_intensive, day):  # R18
            for meeting in self.meetings:
                if meeting.state in ("due", "overdue") and meeting.due_from <= day:
                    tasks.append(
                        Task(f"meeting:{meeting.kind}", meeting.due_by, meeting.state == "overdue")
                    )
            standing = standing_bookings(self.facts.bookings, self.facts.meetings)
            for booking in bookings_to_rebook(self.facts.sickness, standing):  # R15
                due_by = next(
                    (
                        m.due_by
                        for m in self.meetings
                        if m.kind == booking.kind and m.held_on is None
                    ),
                    booking.on,
                )
                tasks.append(Task(f"meeting:{booking.kind}:rebook", due_by, day > due_by))
        for request in holiday_dicts(self.facts):  # R14
            if request["status"] == "pending":
                first_day = date.fromisoformat(str(request["first_day"]))
                tasks.append(Task(f"holiday:{request['request_id']}", first_day, day > first_day))
        for sickness in self.facts.sickness:  # R15
            if sickness.late_report:
                tasks.append(Task("sickness:late_report", sickness.reported_on, False))
        return sorted(tasks, key=lambda t: (t.due_by, t.task))


def holiday_dicts(facts: CaseFacts) -> list[dict[str, object]]:
    """R14: each holiday request with its latest decision."""
    decisions = {d.request_id: d for d in facts.holiday_decisions}
    result: list[dict[str, object]] = []
    for request in facts.holiday_requests:
        status, reason = request.status, request.reason
        decision = decisions.get(request.request_id)
        if decision is not None:
            status, reason = ("approved", None) if decision.approved else ("rejected", "adviser")
        result.append(
            {
                "request_id": request.request_id,
                "first_day": request.first_day.isoformat(),
                "last_day": request.last_day.isoformat(),
                "status": status,
                "reason": reason,
                "rule": "R14",
            }
        )
    return result


def _meeting_view(
    window: Window, held_on: date | None, exit_: Exit | None, facts: CaseFacts, day: date
) -> MeetingView:
    left = exit_ is not None and exit_.on <= day
    if held_on is not None and (exit_ is None or held_on <= exit_.on):
        state = held_state(window, held_on)
    elif held_on is not None or left:
        state = "handed_over"  # R12: the case left the trial before it was held
    elif less_intensive.waives(facts.less_intensive, window.due_by):
        state = "waived"  # R18
    elif day > window.due_by:
        state = "overdue"
    else:
        state = "due"
    return MeetingView(
        window.kind, window.due_from, window.due_by, held_on, state, window.rule, window
    )


def meeting_views(facts: CaseFacts, exit_: Exit | None, day: date) -> tuple[MeetingView, ...]:
    """R4, R5, R12, R18, R20: every meeting of the plan with its state on `day`."""
    start = facts.start
    assert start is not None
    views = []
    for kind in MANDATORY_MEETINGS:
        held = facts.held(kind)
        views.append(
            _meeting_view(
                mandatory_window(kind, start), held.held_on if held else None, exit_, facts, day
            )
        )
    agreed = facts.extra_meetings_agreed
    done, open_window = extra_meetings(
        min((a.effective_on for a in agreed), default=None), facts.meetings
    )
    for window, meeting in done:
        views.append(_meeting_view(window, meeting.held_on, exit_, facts, day))
    if open_window is not None and not (exit_ is not None and exit_.on <= day):
        views.append(_meeting_view(open_window, None, exit_, facts, day))
    return tuple(views)


def case_view(facts: CaseFacts, day: date, settings: Settings) -> CaseView:
    """The state that the facts effective on or before `day` imply for that day; the exit is
    the stored decision's (R13), of the exits it knew, those known by `day`."""
    known = facts.as_of(day)
    exit_ = exit_as_of(known.exits)
    registration = known.registration
    if registration is None:
        status: Status = "ended" if exit_ is not None and exit_.on <= day else "notice_period"
        return CaseView(day, known, status, exit_, (), Decimal(0), None)
    if not registration.in_trial:
        return CaseView(day, known, "outside_trial", None, (), Decimal(0), None)
    start = registration.registered_on
    status = "ended" if exit_ is not None and exit_.on <= day else "in_trial"
    by_month = hours.counted_hours_by_month(known.payments, start, settings.frozen_months)
    paid = sum(by_month.values(), Decimal(0))
    forecast = (
        hours.expected_end(known.payments, start, registration.insurance, settings.frozen_months)
        if exit_ is None
        else None
    )
    meetings = meeting_views(known, exit_, day)
    months = tuple(sorted(by_month.items()))
    return CaseView(day, known, status, exit_, meetings, paid, forecast, months)
