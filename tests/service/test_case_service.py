"""The application service `domain.service.CaseService` over an in-memory fake `Book`."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from uuid import uuid4

import pytest

from domain.errors import Rejected
from domain.view import case_view
from tests.fakes import (
    BIRTH_DATE,
    CPR,
    Desk,
    assert_r13_chain,
    hours_paid,
    meeting_held,
    moved,
    msg,
    replay,
    unemployed,
)

D = date.fromisoformat
FULL = "160.33"
OTHER_CPR = "1505851234"  # born 1985-05-15


def exit_of(desk: Desk, index: int = -1) -> tuple[str, str] | None:
    exit_ = desk.cases()[index].exit
    return (exit_.reason, exit_.on.isoformat()) if exit_ else None


# --- members and the registry -----------------------------------------------------------------


def test_a_new_member_is_enrolled_with_cpr_and_birth_date_in_the_registry_only() -> None:
    # R1: unemployed 2021-03-01 for CPR 0101901234 (born 1990-01-01): the CPR and the birth
    # date go to the registry; no stored event holds either
    desk = Desk()
    desk.send(unemployed("2021-03-01", adviser="Hanne"))
    member_id = desk.book.member_id(CPR)
    assert member_id is not None
    assert desk.book.birth_dates[member_id] == D(BIRTH_DATE)
    desk.book.commit()
    for events in desk.book.stored.values():
        for event in events:
            text = repr(event.__dict__)
            assert CPR not in text
            assert "1990-01-01" not in text and "date(1990, 1, 1)" not in text


def test_the_adviser_from_registration_and_from_adviser_assigned() -> None:
    desk = Desk()
    desk.send(unemployed("2021-03-01", adviser="Hanne"))
    assert desk.view("2021-03-01").adviser == "Hanne"
    desk.send(msg("adviser_assigned", adviser="Bo", assigned_on="2021-03-10"))
    assert desk.view("2021-03-09").adviser == "Hanne"
    assert desk.view("2021-03-10").adviser == "Bo"


def test_two_members_have_separate_cases() -> None:
    desk = Desk()
    desk.send(unemployed("2021-03-01"))
    desk.send(unemployed("2021-04-01", cpr=OTHER_CPR, birth_date="1985-05-15"))
    desk.send(msg("opted_out", cpr=OTHER_CPR, decided_on="2021-04-02", note="x"))
    assert desk.case().exit is None
    assert desk.case(OTHER_CPR).exit is not None
    assert desk.book.member_id(CPR) != desk.book.member_id(OTHER_CPR)


# --- messages without a case ------------------------------------------------------------------


def test_messages_for_a_member_without_a_case_are_kept_in_the_members_record() -> None:
    # contract: a `moved` (to Odense 461, 2021-02-10) before `unemployed` sets nothing:
    # `unemployed` on 2021-03-01 carries the municipality (Aarhus 751), so the case is in
    # the trial; the kept message holds no CPR
    desk = Desk()
    desk.send(moved("2021-02-10", 461))
    assert desk.cases() == []
    [kept] = desk.member().kept
    assert kept["message"]["type"] == "moved"
    assert "cpr" not in kept["message"]
    assert kept["applied_to"] is None
    desk.send(unemployed("2021-03-01", 751))
    assert desk.view("2021-03-01").status == "in_trial"
    assert desk.case().facts.moves == ()
    assert desk.case().exit is None


def test_a_message_dated_before_the_only_case_opened_is_kept() -> None:
    # routing: S = 2021-03-01; an a-kasse change dated 2021-02-15 finds no case -> kept;
    # the case does not exit
    desk = Desk()
    desk.send(unemployed("2021-03-01"))
    desk.send(msg("akasse_changed", changed_on="2021-02-15"))
    assert desk.case().exit is None
    assert len(desk.member().kept) == 1


def test_kept_hours_from_s_month_on_are_taken_over_once() -> None:
    # R8: hours for 2021-03 (100.00) and 2021-04 (160.33) and 2021-02 (160.33) arrive before
    # S = 2021-03-15. At registration 2021-03 and 2021-04 are taken over (260.33), 2021-02
    # is not. A later registration does not take them over again.
    desk = Desk()
    desk.send_all(
        [hours_paid("2021-03", "100"), hours_paid("2021-04", FULL), hours_paid("2021-02", FULL)]
    )
    desk.send(unemployed("2021-03-15"))
    case = desk.case()
    assert sorted(p.month.isoformat() for p in case.facts.payments) == [
        "2021-03-01",
        "2021-04-01",
    ]
    assert case_view(case.facts, D("2021-04-30"), desk.settings).hours_paid == Decimal("260.33")
    applied = [k["applied_to"] for k in desk.member().kept]
    assert applied == [case.id, case.id, None]
    # ... the case ends (opted out 2021-05-03) and a new one starts 2021-06-01: nothing
    # kept is taken over again
    desk.send(msg("opted_out", decided_on="2021-05-03", note="x"))
    desk.send(unemployed("2021-06-01"))
    assert desk.case().facts.payments == ()


def test_kept_hours_over_the_month_max_stay_kept() -> None:
    # R8 part-time: 2021-03 150.00 hours kept before S = 2021-03-01 (part-time, max 130.00):
    # not taken over, still kept, and the registration itself is accepted
    desk = Desk()
    desk.send(hours_paid("2021-03", "150.00"))
    desk.send(unemployed("2021-03-01", insurance="part_time"))
    assert desk.case().facts.payments == ()
    assert [k["applied_to"] for k in desk.member().kept] == [None]


# --- one member, several cases ----------------------------------------------------------------


def test_a_new_registration_after_an_ended_case_opens_a_second_case() -> None:
    # case 1: S = 2021-03-01, opted out 2021-04-01. case 2: S = 2021-06-01.
    # A meeting dated 2021-03-10 (reported late) goes to case 1; one dated 2021-06-07 to
    # case 2; hours for 2021-03 go to case 1, hours for 2021-06 to case 2
    desk = Desk()
    desk.send(unemployed("2021-03-01"))
    desk.send(msg("opted_out", decided_on="2021-04-01", note="x"))
    desk.send(unemployed("2021-06-01"))
    first, second = desk.cases()
    assert first.id != second.id
    desk.send_all(
        [
            meeting_held("cv_and_job", "2021-03-10"),
            meeting_held("cv_and_job", "2021-06-07"),
            hours_paid("2021-03", "10"),
            hours_paid("2021-06", "20"),
        ]
    )
    assert [m.held_on for m in first.facts.meetings] == [D("2021-03-10")]
    assert [m.held_on for m in second.facts.meetings] == [D("2021-06-07")]
    assert [p.hours for p in first.facts.payments] == [Decimal("10")]
    assert [p.hours for p in second.facts.payments] == [Decimal("20")]
    # the meeting held in case 1 before its exit revised case 1's handover
    assert first.handovers[-1]["content"]["held"]["cv"] == 1
    assert_r13_chain(first.handovers)


def test_a_registration_while_the_case_is_in_the_trial_waits_for_its_exit() -> None:
    # R1: S = 2021-03-01 in the trial without an exit: unemployed 2021-06-01 is kept in the
    # member's record (the exit may be read later on another topic); deregistered
    # 2021-05-20 (R17) ends the case, and the kept registration opens the second case
    desk = Desk()
    desk.send(unemployed("2021-03-01"))
    desk.send(unemployed("2021-06-01"))
    assert len(desk.cases()) == 1
    assert [k["message"]["type"] for k in desk.member().waiting] == ["unemployed"]
    desk.send(msg("deregistered", deregistered_on="2021-05-20"))
    assert [c.facts.start for c in desk.cases()] == [D("2021-03-01"), D("2021-06-01")]
    assert desk.member().waiting == []


def test_a_registration_on_or_before_the_exit_day_is_not_taken() -> None:
    # S = 2021-03-01, opted out 2021-04-01: unemployed 2021-04-01 (the exit day) is not
    # taken (kept: a later fact could still move the exit earlier); 2021-04-02 -> a new
    # case; the one of 2021-04-01 stays kept (until given up, `LEDIGHED_PARK_DAYS`)
    desk = Desk()
    desk.send(unemployed("2021-03-01"))
    desk.send(msg("opted_out", decided_on="2021-04-01", note="x"))
    on_exit_day = unemployed("2021-04-01")
    desk.send(on_exit_day)
    assert len(desk.cases()) == 1
    desk.send(unemployed("2021-04-02"))
    assert len(desk.cases()) == 2
    assert [k["source"]["message_id"] for k in desk.member().waiting] == [
        on_exit_day["message_id"]
    ]
    assert desk.rejected == []


def test_a_registration_not_after_the_latest_case_opened_is_refused() -> None:
    # S = 2021-03-01 outside the trial (Odense): unemployed 2021-03-01 again -> Rejected;
    # 2021-02-01 -> Rejected; after it, 2021-05-03 in Aarhus -> a new case in the trial
    desk = Desk()
    desk.send(unemployed("2021-03-01", 461))
    for day in ("2021-03-01", "2021-02-01"):
        with pytest.raises(Rejected):
            desk.send(unemployed(day, 751))
    desk.send(unemployed("2021-05-03", 751))
    assert desk.view("2021-05-03", CPR).status == "in_trial"
    assert len(desk.cases()) == 2


# --- R6 and R19: recorded, never scheduled ----------------------------------------------------


def test_r6_profile_and_r19_jobcenter_contact_change_no_rule() -> None:
    # R6: profile "long" 2021-03-02; R19: jobcenter offers activation 2021-03-03. Neither
    # adds a task, a meeting or an exit
    desk = Desk()
    desk.send(unemployed("2021-03-01"))
    before = desk.view("2021-03-10")
    desk.send(msg("profile_assessed", assessed_on="2021-03-02", result="long"))
    desk.send(msg("jobcenter_contact", on="2021-03-03", about="activation_offer", note="praktik"))
    after = desk.view("2021-03-10")
    assert after.tasks() == before.tasks()
    assert after.meetings == before.meetings
    assert desk.case().exit is None
    assert len(desk.case().facts.profiles) == 1
    assert len(desk.case().facts.jobcenter_contacts) == 1


# --- the event store --------------------------------------------------------------------------


def test_the_case_rebuilt_from_its_events_is_the_same() -> None:
    # event sourcing: S = 2021-01-04; hours reach 410.00 in March, a move to København
    # 2021-03-20 (revision), a meeting; after commit + reload from stored events alone, the
    # facts, exit and handovers are the same
    desk = Desk()
    desk.send(unemployed("2021-01-04"))
    desk.send_all(
        [
            hours_paid("2021-01", FULL),
            hours_paid("2021-02", FULL),
            hours_paid("2021-03", "89.34"),
            moved("2021-03-20", 101),
            meeting_held("cv_and_job", "2021-01-11"),
        ]
    )
    case = desk.case()
    facts, exit_, handovers = case.facts, case.exit, [dict(h) for h in case.handovers]
    desk.book.reload()
    rebuilt = desk.case()
    assert rebuilt is not case
    assert (rebuilt.facts, rebuilt.exit, rebuilt.handovers) == (facts, exit_, handovers)
    assert rebuilt.version == case.version
    assert replay(desk.book.stored[case.id]).facts == facts  # type: ignore[attr-defined]
    # and it goes on from there: a late a-kasse change moves the exit to 2021-03-05
    desk.send(msg("akasse_changed", changed_on="2021-03-05"))
    assert exit_of(desk) == ("changed_akasse", "2021-03-05")
    assert_r13_chain(desk.case().handovers)


def test_every_event_carries_effective_on_and_its_source_message() -> None:
    # contract (history): every stored event has effective_on and source.message_id
    desk = Desk()
    desk.send(unemployed("2021-03-01", message_id="u-1"))
    desk.send(msg("opted_out", decided_on="2021-03-05", note="x", message_id="o-1"))
    events = desk.book.events(desk.case().id)
    assert [type(e).__name__ for e in events] == [
        "Opened",
        "Registered",
        "OptedOut",
        "ExitDecided",
        "HandedOver",
    ]
    assert [e.source["message_id"] for e in events] == ["u-1", "u-1", "o-1", "o-1", "o-1"]
    assert [e.effective_on.isoformat() for e in events] == [
        "2021-03-01",
        "2021-03-01",
        "2021-03-05",
        "2021-03-05",
        "2021-03-05",
    ]
    handed_over = events[-1]
    assert handed_over.message_id == f"{desk.case().id}:handover:1"
    assert handed_over.rule == "R12"


def test_a_repeated_message_id_is_a_no_op() -> None:
    desk = Desk()
    desk.send(unemployed("2021-03-01", message_id="u-1"))
    desk.send(hours_paid("2021-03", "50", message_id="h-1"))
    desk.send(hours_paid("2021-03", "50", message_id="h-1"))
    assert desk.duplicates == 1
    assert len(desk.case().facts.payments) == 1


def test_a_rejected_message_can_be_sent_again_corrected() -> None:
    # contract: h-1 with 140.00 hours for 2021-03 breaks the part-time maximum of 130.00 ->
    # Rejected; the same id sent again corrected to 120.00 is accepted
    desk = Desk()
    desk.send(unemployed("2021-03-01", insurance="part_time"))
    with pytest.raises(Rejected):
        desk.send(hours_paid("2021-03", "140.00", message_id="h-1"))
    desk.send(hours_paid("2021-03", "120.00", message_id="h-1"))
    assert [p.hours for p in desk.case().facts.payments] == [Decimal("120.00")]


def test_end_programme_is_the_service_entry_for_r16() -> None:
    # R16: two members in the trial from 2023-10-02; a tick on 2023-12-31 ends both
    desk = Desk()
    desk.send(unemployed("2023-10-02"))
    desk.send(unemployed("2023-11-01", cpr=OTHER_CPR, birth_date="1985-05-15"))
    source = {"message_id": "tick:2023-12-31", "topic": "tick", "partition": None, "offset": None}
    for case in list(desk.book.cases.values()):
        assert desk.service.end_programme(case, D("2023-12-31"), source)
    for cpr in (CPR, OTHER_CPR):
        exit_ = desk.case(cpr).exit
        assert exit_ is not None and (exit_.reason, exit_.on) == (
            "programme_ended",
            D("2023-12-31"),
        )
        assert len(desk.handovers(cpr)) == 1


def test_messages_read_ahead_of_the_registration_apply_when_it_arrives() -> None:
    # Another topic may be read before the members topic: a meeting held on 2021-03-10 and a
    # deregistration on 2021-04-20 arrive before the registration with S = 2021-03-01; a
    # move dated 2021-02-15 (before S) arrives too. The meeting and the deregistration fall
    # in the case and apply when it registers (R17 exit); the move sets nothing (CONTRACT.md).
    from domain.messages import parse_message
    from domain.params import DEFAULT_SETTINGS
    from domain.service import CaseService
    from domain.view import case_view
    from tests.fakes import FakeBook

    cpr = "0101901234"  # born 1990-01-01
    book = FakeBook()
    service = CaseService(book, DEFAULT_SETTINGS)
    messages = [
        {"type": "meeting_held", "kind": "cv_and_job", "held_on": "2021-03-10"},
        {"type": "deregistered", "deregistered_on": "2021-04-20"},
        {"type": "moved", "municipality_code": 167, "moved_on": "2021-02-15"},
        {
            "type": "unemployed",
            "registered_on": "2021-03-01",
            "insurance": "full_time",
            "municipality_code": 751,
            "birth_date": "1990-01-01",
            "vocational_education": True,
            "has_children": False,
        },
    ]
    for number, fields in enumerate(messages, start=1):
        source = {"message_id": f"m{number}", "topic": "t", "partition": 0, "offset": number}
        service.handle(parse_message({"message_id": f"m{number}", "cpr": cpr, **fields}), source)
    member = book.member(book.member_id(cpr))
    (case_id,) = member.case_ids
    case = book.case(case_id)
    view = case_view(case.facts, date(2021, 5, 1), DEFAULT_SETTINGS)
    assert [m.held_on.isoformat() for m in case.facts.meetings] == ["2021-03-10"]
    assert view.exit is not None and (view.exit.reason, view.exit.on.isoformat()) == (
        "deregistered",
        "2021-04-20",
    )
    assert case.facts.moves == ()  # dated before S: stays in the member's record
    assert [k["applied_to"] is not None for k in member.kept] == [True, True, False]


def test_every_refusal_of_the_case_carries_its_rule_id_and_field_as_data() -> None:
    # R8: 160.34 hours for 2021-03 (above 160.33) -> rule R8, field hours; R7: a booking
    # on 2021-02-26, before S 2021-03-01 -> rule R7, field on; R14: a decision for a
    # request never received waits for it (rule R14, field request_id). No field is read
    # from the reason's words.
    from domain.case import Case

    source = {"message_id": "m", "topic": "t", "partition": None, "offset": None}
    case = Case(member_id=uuid4(), effective_on=date(2021, 3, 1), source=source)
    case.register(date(2021, 3, 1), "full_time", 751, date(1980, 1, 1), True, False, None, source)
    cases = [
        (lambda: case.pay_hours("p", date(2021, 3, 1), Decimal("160.34"), source), "R8", "hours"),
        (lambda: case.book_meeting("joint", date(2021, 2, 26), source), "R7", "on"),
        (lambda: case.decide_holiday("h-1", date(2021, 3, 5), True, source), "R14", "request_id"),
    ]
    for act, rule, field in cases:
        with pytest.raises(Rejected) as refused:
            act()
        assert (refused.value.rule, refused.value.field) == (rule, field)
