"""R3, R8 to R11, R16, R17: every exit the known facts imply, and the earliest one that counts."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import get_args

from domain.facts import CaseFacts, Dated, Exit, ExitReason
from domain.municipalities import is_trial
from domain.params import Settings
from domain.rules.hours import threshold_reached_on

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


def _exit(reason: ExitReason, on: date) -> Exit:
    return Exit(reason=reason, on=on, rule=RULE_OF_REASON[reason])


def _earliest_day(facts: tuple[Dated, ...], not_before: date) -> date | None:
    days = [f.effective_on for f in facts]
    return max(min(days), not_before) if days else None


def exit_candidates(facts: CaseFacts, settings: Settings) -> Iterator[Exit]:
    """Every exit the facts imply, in no particular order."""
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
                    yield _exit(reason, day)
        return
    if not registration.in_trial:
        return
    start = registration.registered_on
    if registration.education_order:  # R3
        yield _exit("education_order", start)
    for reason, facts_of_reason in dated.items():
        day = _earliest_day(facts_of_reason, start)
        if day is not None:
            yield _exit(reason, day)
    moved_out = [
        m.effective_on
        for m in facts.moves
        if m.effective_on >= start and not is_trial(m.municipality_code)
    ]
    if moved_out:  # R9: moving back in later does not re-enter the trial
        yield _exit("moved_out", min(moved_out))
    reached = threshold_reached_on(
        facts.payments, start, registration.insurance, settings.frozen_months
    )
    if reached is not None:  # R8
        yield _exit("hours_threshold", reached)
    if facts.programme_ended:  # R16, recorded only by the tick
        yield _exit("programme_ended", facts.programme_ended[0].effective_on)


def earliest_exit(facts: CaseFacts, settings: Settings) -> Exit | None:
    """The case leaves the trial at the earliest exit among all facts known."""
    return min(
        exit_candidates(facts, settings),
        key=lambda e: (e.on, REASON_PRECEDENCE.index(e.reason)),
        default=None,
    )
