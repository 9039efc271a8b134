"""R3, R8 to R11, R16, R17: every exit the known facts imply, and the earliest one that counts,
decided once with its basis (which facts, which dates, which rule)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any, get_args

from domain.calendar import first_of_month
from domain.facts import CaseFacts, Dated, DecidedExit, Exit, ExitReason
from domain.municipalities import is_trial
from domain.params import HOURS_THRESHOLD, Settings
from domain.rules.hours import counted_hours_by_month, threshold_reached_on

Basis = dict[str, Any]  # JSON-ready: stored in the ExitDecided event as it is

# Two exits on one day: the one listed first wins, whatever order the facts arrived in.
REASON_PRECEDENCE: tuple[ExitReason, ...] = get_args(ExitReason)
RULE_OF_REASON: dict[ExitReason, str] = {
    "education_order": "R3",
    "hours_threshold": "R8",
    "moved_out": "R9",
    "changed_akasse": "R10",
    "opted_out": "R11",
    "programme_ended": "R16",
    "deregistered": "R17",
}
# Exits that end a case still in its notice period (R2): there is no S, so no handover.
NOTICE_PERIOD_REASONS: tuple[ExitReason, ...] = ("deregistered", "changed_akasse", "opted_out")


# The event type of the fact that gives each dated exit.
FACT_OF_REASON: dict[ExitReason, str] = {
    "changed_akasse": "AkasseChanged",
    "opted_out": "OptedOut",
    "deregistered": "Deregistered",
    "programme_ended": "ProgrammeEnded",
}


@dataclass(frozen=True)
class ExitDecision:
    """R13: the earliest exit, and every exit the facts imply with its basis, in one value."""

    exit: Exit
    known: tuple[DecidedExit, ...]
    bases: tuple[Basis, ...]  # one a known exit, in the same order

    def as_data(self) -> list[dict[str, Any]]:
        """The known exits with their bases, as the ExitDecided event stores them."""
        return [
            {
                "reason": k.reason,
                "on": k.on.isoformat(),
                "rule": k.rule,
                "known_from": k.effective_on.isoformat(),
                "basis": basis,
            }
            for k, basis in zip(self.known, self.bases, strict=True)
        ]


def known_from(reason: str, on: date) -> date:
    """The first day on which the facts behind an exit are all in effect: an R8 exit (the
    month's last day) from the first of its month, whose payment takes effect then; every
    other exit from its own day (a dated fact, a move, S, the programme's end)."""
    return first_of_month(on) if reason == "hours_threshold" else on


def _exit(reason: ExitReason, on: date) -> Exit:
    return Exit(reason=reason, on=on, rule=RULE_OF_REASON[reason])


def _earliest_day(facts: tuple[Dated, ...], not_before: date) -> date | None:
    days = [f.effective_on for f in facts]
    return max(min(days), not_before) if days else None


def exit_candidates(facts: CaseFacts, settings: Settings) -> Iterator[Exit]:
    """Every exit the facts imply, in no particular order."""
    return (exit_ for exit_, _ in _candidates(facts, settings))


def _candidates(facts: CaseFacts, settings: Settings) -> Iterator[tuple[Exit, Basis]]:
    """Every exit the facts imply, each with its basis."""
    registration = facts.registration
    dated: dict[ExitReason, tuple[Dated, ...]] = {
        "deregistered": facts.deregistrations,  # R17
        "changed_akasse": facts.akasse_changes,  # R10
        "opted_out": facts.opt_outs,  # R11
    }
    if registration is None:
        if facts.notice is not None:
            for reason in NOTICE_PERIOD_REASONS:
                day = _earliest_day(dated[reason], facts.notice.signed_up_on)
                if day is not None:
                    yield _exit(reason, day), _dated_basis(reason, dated[reason])
        return
    if not registration.in_trial:
        return
    start = registration.registered_on
    if registration.education_order:  # R3
        yield _exit("education_order", start), {"facts": ["Registered"], "started_on": str(start)}
    for reason, facts_of_reason in dated.items():
        day = _earliest_day(facts_of_reason, start)
        if day is not None:
            yield _exit(reason, day), _dated_basis(reason, facts_of_reason)
    moved_out = [
        (m.effective_on, m.municipality_code)
        for m in facts.moves
        if m.effective_on >= start and not is_trial(m.municipality_code)
    ]
    if moved_out:  # R9: moving back in later does not re-enter the trial
        day = min(moved_out)[0]
        code = [c for d, c in moved_out if d == day][-1]
        basis = {"facts": ["Moved"], "moved_on": str(day), "municipality_code": code}
        yield _exit("moved_out", day), basis
    reached = threshold_reached_on(
        facts.payments, start, registration.insurance, settings.frozen_months
    )
    if reached is not None:  # R8
        yield _exit("hours_threshold", reached), hours_basis(facts, reached, settings)
    if facts.programme_ended:  # R16, recorded only by the tick
        day = facts.programme_ended[0].effective_on
        yield _exit("programme_ended", day), _dated_basis("programme_ended", facts.programme_ended)


def _dated_basis(reason: ExitReason, facts: tuple[Dated, ...]) -> Basis:
    """R10, R11, R16, R17: the fact's type and the first day any such fact takes effect."""
    first = min(f.effective_on for f in facts)
    return {"facts": [FACT_OF_REASON[reason]], "first_day": str(first)}


def hours_basis(facts: CaseFacts, reached: date, settings: Settings) -> Basis:
    """R8: the months counted through the one that reaches the threshold, their hours and
    the payments they were paid by, and the threshold."""
    assert facts.registration is not None
    start, insurance = facts.registration.registered_on, facts.registration.insurance
    by_month = counted_hours_by_month(facts.payments, start, settings.frozen_months)
    months = sorted(m for m in by_month if m <= reached)
    return {
        "facts": ["HoursPaid"],
        "insurance": insurance,
        "threshold": str(HOURS_THRESHOLD[insurance]),
        "months": [[f"{m:%Y-%m}", str(by_month[m])] for m in months],
        "payment_ids": [p.payment_id for p in facts.payments if p.month in months],
    }


def _order(exit_: Exit) -> tuple[date, int]:
    return exit_.on, REASON_PRECEDENCE.index(exit_.reason)


def decide_exit(facts: CaseFacts, settings: Settings) -> ExitDecision | None:
    """R13: the case leaves the trial at the earliest exit among all facts known; decided
    once, with every exit the facts imply (each from the day its facts are in effect), so
    that a read as of an earlier day shows the exit known by then without deciding again."""
    found = sorted(_candidates(facts, settings), key=lambda c: _order(c[0]))
    if not found:
        return None
    known = tuple(DecidedExit(e.reason, e.on, e.rule, known_from(e.reason, e.on)) for e, _ in found)
    return ExitDecision(found[0][0], known, tuple(basis for _, basis in found))


def shown_by_day(known: tuple[DecidedExit, ...]) -> list[tuple[date, Exit | None]]:
    """What `exit_as_of` shows from each day on at which it changes: two sets of known exits
    with the same steps show the same exit on every day."""
    steps: list[tuple[date, Exit | None]] = []
    for day in sorted({k.effective_on for k in known}):
        shown = exit_as_of(tuple(k for k in known if k.effective_on <= day))
        if not steps or steps[-1][1] != shown:
            steps.append((day, shown))
    return steps


def exit_as_of(known: tuple[DecidedExit, ...]) -> Exit | None:
    """The earliest of the stored decision's exits (those known by the day, as `CaseFacts.as_of`
    keeps them): what the case shows; no rule runs again."""
    return min((k.exit for k in known), key=_order, default=None)


def earliest_exit(facts: CaseFacts, settings: Settings) -> Exit | None:
    """The case leaves the trial at the earliest exit among all facts known."""
    return min(
        exit_candidates(facts, settings),
        key=lambda e: (e.on, REASON_PRECEDENCE.index(e.reason)),
        default=None,
    )
