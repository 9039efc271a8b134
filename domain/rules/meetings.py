"""R4 meeting plan, R5 extra meetings and R20 working days: when each meeting is due."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from domain.calendar import add_days, working_day_on_or_after, working_day_on_or_before
from domain.facts import MeetingHeld, MeetingKind
from domain.params import EXTRA_MEETING_INTERVAL_DAYS

# R4: (due from S + days, due by S + days) per mandatory meeting.
MANDATORY_WINDOWS: dict[MeetingKind, tuple[int, int]] = {
    "cv_and_job": (0, 14),
    "availability_and_job": (42, 49),
    "joint": (63, 77),
}


@dataclass(frozen=True)
class Window:
    """When a meeting may be held: from `due_from` to `due_by`, both included; with its basis:
    the days R4/R5 give before R20 moves them (`planned_from`, `planned_by`, equal when R20
    moved nothing) and the day they are counted from (`after`: S, or R5's latest meeting
    held or agreement)."""

    kind: MeetingKind
    due_from: date
    due_by: date
    rule: str
    planned_from: date
    planned_by: date
    after: date

    @property
    def shifted(self) -> bool:
        """R20 moved the due-from or the due-by date."""
        return (self.planned_from, self.planned_by) != (self.due_from, self.due_by)


def working_window(
    kind: MeetingKind, due_from: date, due_by: date, rule: str, after: date
) -> Window:
    """R20: due-from moves forward, due-by moves back, to a working day."""
    return Window(
        kind,
        working_day_on_or_after(due_from),
        working_day_on_or_before(due_by),
        rule,
        due_from,
        due_by,
        after,
    )


def mandatory_window(kind: MeetingKind, start: date) -> Window:
    """R4 (with R20): the window of a mandatory meeting for a case starting on S."""
    from_days, by_days = MANDATORY_WINDOWS[kind]
    return working_window(kind, add_days(start, from_days), add_days(start, by_days), "R4", start)


def extra_window(after: date) -> Window:
    """R5 (with R20): the next extra job conversation after the latest meeting held on `after`."""
    return working_window(
        "extra_job", add_days(after, 1), add_days(after, EXTRA_MEETING_INTERVAL_DAYS), "R5", after
    )


def extra_meetings(
    agreed_on: date | None, held: Iterable[MeetingHeld]
) -> tuple[list[tuple[Window, MeetingHeld]], Window | None]:
    """R5: each extra_job held with the window it was held in, and the one still open.

    The window after any meeting held (or after the agreement, before any meeting) is the
    next 14 days; without an agreement only extra meetings actually held are listed.
    """
    ordered = sorted(held, key=lambda m: m.held_on)
    latest = agreed_on
    done: list[tuple[Window, MeetingHeld]] = []
    for meeting in ordered:
        if meeting.kind == "extra_job":
            done.append((extra_window(latest or meeting.held_on), meeting))
        latest = meeting.held_on if latest is None else max(latest, meeting.held_on)
    if agreed_on is None or latest is None:
        return done, None
    return done, extra_window(latest)


def held_state(window: Window, held_on: date) -> str:
    """R4: a meeting held outside its window still counts, flagged early or late."""
    if held_on < window.due_from:
        return "early"
    if held_on > window.due_by:
        return "late"
    return "held"
