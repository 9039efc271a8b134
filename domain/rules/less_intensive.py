"""R18: less intensive effort for a member close to a job, leave or pension."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Literal

from domain.facts import LessIntensive
from domain.params import LESS_INTENSIVE_WINDOW_DAYS


def decide_less_intensive(
    requested_on: date, starts_on: date, documented: bool
) -> tuple[Literal["approved", "rejected"], Literal["too_early", "undocumented"] | None]:
    """R18: approved when documented and at most 42 days before the start; else rejected."""
    if not documented:
        return "rejected", "undocumented"
    if (starts_on - requested_on).days > LESS_INTENSIVE_WINDOW_DAYS:
        return "rejected", "too_early"
    return "approved", None


def approvals(requests: Iterable[LessIntensive]) -> list[LessIntensive]:
    return [r for r in requests if r.status == "approved"]


def lasting_on(requests: Iterable[LessIntensive], day: date) -> bool:
    """R18: an approval lasts from requested_on to until (starts_on), both included."""
    return any(r.requested_on <= day <= r.until for r in approvals(requests))


def waives(requests: Iterable[LessIntensive], due_by: date) -> bool:
    """R18: a meeting whose due-by date falls in an approved period is waived for good."""
    return lasting_on(requests, due_by)
