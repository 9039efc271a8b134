"""R9 to R13, R16 and R17: exits, the handover to the jobcenter and its revisions.

The rule functions, called directly with worked dates; the same rules through the
service are in tests/service/test_exits_handover_service.py."""

from __future__ import annotations

from datetime import date

from domain.facts import CaseFacts, Dated, Exit, Move, Registration
from domain.params import DEFAULT_SETTINGS
from domain.rules.exits import earliest_exit, exit_candidates
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
