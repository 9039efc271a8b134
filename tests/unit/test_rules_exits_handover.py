"""R9 to R13, R16 and R17: exits, the handover to the jobcenter and its revisions.

The rule functions, called directly with worked dates; the same rules through the
service are in tests/service/test_exits_handover_service.py."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from domain.facts import CaseFacts, Dated, DecidedExit, Exit, Move, Payment, Registration
from domain.params import DEFAULT_SETTINGS
from domain.rules.exits import (
    decide_exit,
    earliest_exit,
    exit_as_of,
    exit_candidates,
    known_from,
    shown_by_day,
)
from domain.rules.handover import conversations_held, municipality_on

D = date.fromisoformat


def test_r9_municipality_on_a_day() -> None:
    # R9: registered in 751 on 2021-03-01; moves 101 on 2021-04-01, 461 on 2021-05-10
    facts = CaseFacts(
        registration=Registration(D("2021-03-01"), "full_time", 751, True, None, False),
        moves=(Move(101, D("2021-04-01")), Move(461, D("2021-05-10"))),
    )
    assert municipality_on(facts, D("2021-03-31")) == 751
    assert municipality_on(facts, D("2021-04-01")) == 101  # from the move day on
    assert municipality_on(facts, D("2021-05-10")) == 461
    [moved_out] = [e for e in exit_candidates(facts, DEFAULT_SETTINGS) if e.reason == "moved_out"]
    assert moved_out.on == D("2021-05-10")


def test_exits_earliest_exit_is_the_minimum_of_the_candidates() -> None:
    # R13 "earliest": S = 2021-03-01; opted out 2021-04-20, changed a-kasse 2021-04-10,
    # moved out 2021-05-01 -> changed_akasse 2021-04-10
    facts = CaseFacts(
        registration=Registration(D("2021-03-01"), "full_time", 751, True, None, False),
        opt_outs=(Dated(D("2021-04-20")),),
        akasse_changes=(Dated(D("2021-04-10")),),
        moves=(Move(461, D("2021-05-01")),),
    )
    assert sorted((e.on, e.reason) for e in exit_candidates(facts, DEFAULT_SETTINGS)) == [
        (D("2021-04-10"), "changed_akasse"),
        (D("2021-04-20"), "opted_out"),
        (D("2021-05-01"), "moved_out"),
    ]
    assert earliest_exit(facts, DEFAULT_SETTINGS) == Exit("changed_akasse", D("2021-04-10"), "R10")


def test_r12_conversations_held_counts_a_mandatory_meeting_once() -> None:
    # R12: cv_and_job counts one CV and one job conversation
    facts = CaseFacts(
        registration=Registration(D("2021-03-01"), "full_time", 751, True, None, False),
    )
    assert conversations_held(facts, D("2021-03-31")) == {
        "job": 0,
        "cv": 0,
        "availability": 0,
        "joint": 0,
    }


# --- R13: the exit decided once, with every exit the facts imply and the basis of each ------


def _started(**facts: object) -> CaseFacts:
    """S = 2021-03-01 in Aarhus (751), full-time, in the trial."""
    registration = Registration(D("2021-03-01"), "full_time", 751, True, None, False)
    return CaseFacts(registration=registration, **facts)  # type: ignore[arg-type]


def _paid(*months: tuple[str, str]) -> tuple[Payment, ...]:
    return tuple(Payment(f"p-{m}", D(f"{m}-01"), Decimal(h)) for m, h in months)


def test_r8_r9_decision_2021_05_move_to_167_before_the_may_threshold() -> None:
    # R8: 160.33 (2021-03) + 160.33 (2021-04) + 100.00 (2021-05) = 420.66 >= 410 in May:
    # exit 2021-05-31, known from 2021-05-01 (May's payment takes effect then).
    # R9: moved to Albertslund (167) on 2021-05-10: exit 2021-05-10, known from that day.
    # The earliest wins (R13): moved_out 2021-05-10; both are kept with their bases.
    facts = _started(
        payments=_paid(("2021-03", "160.33"), ("2021-04", "160.33"), ("2021-05", "100.00")),
        moves=(Move(167, D("2021-05-10")),),
    )
    decision = decide_exit(facts, DEFAULT_SETTINGS)
    assert decision is not None
    assert decision.exit == Exit("moved_out", D("2021-05-10"), "R9")
    assert decision.known == (
        DecidedExit("moved_out", D("2021-05-10"), "R9", D("2021-05-10")),
        DecidedExit("hours_threshold", D("2021-05-31"), "R8", D("2021-05-01")),
    )
    assert decision.bases == (
        {"facts": ["Moved"], "moved_on": "2021-05-10", "municipality_code": 167},
        {
            "facts": ["HoursPaid"],
            "insurance": "full_time",
            "threshold": "410",
            "months": [["2021-03", "160.33"], ["2021-04", "160.33"], ["2021-05", "100.00"]],
            "payment_ids": ["p-2021-03", "p-2021-04", "p-2021-05"],
        },
    )


def test_r13_exit_as_of_2021_05_05_is_the_r8_end_known_then_and_from_05_10_the_move() -> None:
    # The stored decision above, read as of a day: by 2021-05-05 only May's payment is in
    # effect (the R8 end 2021-05-31, still ahead); from 2021-05-10 the move; before
    # 2021-05-01 nothing. No rule runs for this: the stored exits are filtered by day.
    known = (
        DecidedExit("moved_out", D("2021-05-10"), "R9", D("2021-05-10")),
        DecidedExit("hours_threshold", D("2021-05-31"), "R8", D("2021-05-01")),
    )
    facts = _started(exits=known)
    assert exit_as_of(facts.as_of(D("2021-04-30")).exits) is None
    assert exit_as_of(facts.as_of(D("2021-05-05")).exits) == Exit(
        "hours_threshold", D("2021-05-31"), "R8"
    )
    assert exit_as_of(facts.as_of(D("2021-05-10")).exits) == Exit(
        "moved_out", D("2021-05-10"), "R9"
    )
    assert shown_by_day(known) == [
        (D("2021-05-01"), Exit("hours_threshold", D("2021-05-31"), "R8")),
        (D("2021-05-10"), Exit("moved_out", D("2021-05-10"), "R9")),
    ]


def test_r13_known_from_an_r8_end_2021_05_31_is_2021_05_01_any_other_its_own_day() -> None:
    assert known_from("hours_threshold", D("2021-05-31")) == D("2021-05-01")
    assert known_from("moved_out", D("2021-05-10")) == D("2021-05-10")
    assert known_from("deregistered", D("2021-03-01")) == D("2021-03-01")


def test_r10_r17_dated_basis_is_the_first_day_of_the_fact() -> None:
    # R10: changed a-kasse 2021-04-01 (and again 2021-04-20): exit 2021-04-01.
    # R17: deregistered 2021-02-20, before S 2021-03-01: the exit cannot be before S, so it
    # is on S; the basis keeps the fact's own first day.
    facts = _started(
        akasse_changes=(Dated(D("2021-04-20")), Dated(D("2021-04-01"))),
        deregistrations=(Dated(D("2021-02-20")),),
    )
    decision = decide_exit(facts, DEFAULT_SETTINGS)
    assert decision is not None
    assert decision.exit == Exit("deregistered", D("2021-03-01"), "R17")
    assert dict(zip((k.reason for k in decision.known), decision.bases, strict=True)) == {
        "deregistered": {"facts": ["Deregistered"], "first_day": "2021-02-20"},
        "changed_akasse": {"facts": ["AkasseChanged"], "first_day": "2021-04-01"},
    }


def test_r3_decision_on_s_2021_03_01() -> None:
    facts = CaseFacts(
        registration=Registration(D("2021-03-01"), "full_time", 751, True, None, True)
    )
    decision = decide_exit(facts, DEFAULT_SETTINGS)
    assert decision is not None and decision.exit == Exit("education_order", D("2021-03-01"), "R3")
    assert decision.bases == ({"facts": ["Registered"], "started_on": "2021-03-01"},)


def test_r1_outside_the_trial_nothing_is_decided() -> None:
    facts = CaseFacts(
        registration=Registration(D("2021-03-01"), "full_time", 461, False, "municipality", False),
        deregistrations=(Dated(D("2021-04-01")),),
    )
    assert decide_exit(facts, DEFAULT_SETTINGS) is None
