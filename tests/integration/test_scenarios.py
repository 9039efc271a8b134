"""Scenario tests: worked cases through the real command line against a real store.

Each test ingests one message file from `tests/scenarios/` with `ledighed ingest`, then
compares the `--json` output of the contract's commands (CONTRACT.md, "Command line")
with the expected JSON, whole, field for field. The expectations are golden files beside
the inputs, `tests/scenarios/<name>.expected.json`, one object per test keyed by the
command (`cli.expect(...)`; `cli.expect_ingest(NAME)` names the file); what a test says
here in words (the worked dates, in its docstring and comments) is what its golden file
shows. Short expectations and checks of one part of an output stay inline. Case ids,
member ids and `recorded_at` timestamps are random, so `scenario_helpers.Stable` replaces
them by placeholders (`<case>`, `<id:N>`, `<recorded_at>`) first. Every test runs on
SQLite and on PostgreSQL (a fresh database per test). Rule ids are those of RULES.md;
"decisions" refers to the team's decisions where the rules are silent.

When a change of behaviour is meant, regenerate the golden files and review their diff:

    LEDIGHED_UPDATE_GOLDEN=1 .venv/bin/pytest tests/integration/test_scenarios.py -k sqlite
    git diff tests/scenarios/
"""

from __future__ import annotations

import io
import json
import sys
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest

from domain.cpr import birth_date_from_cpr
from tests.scenario_helpers import SCENARIOS, Ledighed, scenario_lines


@pytest.fixture
def cli(
    db_url: str, capsys: pytest.CaptureFixture[str], request: pytest.FixtureRequest
) -> Iterator[Ledighed]:
    cli = Ledighed(db_url, capsys)
    yield cli
    if cli.golden is not None:  # every expectation of the file checked (or, regenerating, written)
        call = getattr(request.node, "rep_call", None)
        cli.golden.finish(passed=call is not None and call.passed)


def assert_no_personal_data(history: list[dict[str, Any]], cpr: str, birth_date: str) -> None:
    """Personal data stays in the member registry: no CPR or birth date in any event's data."""
    born = date.fromisoformat(birth_date)
    forms = {cpr, cpr[:6] + "-" + cpr[6:], birth_date, born.strftime("%d%m%y")}
    for row in history:
        text = json.dumps(row["data"])
        for form in forms:
            assert form not in text, (form, row)


# --- 1. a normal full-time case in Aarhus: R1, R4, R8, R12 ---------------------------------


def test_01_normal_full_time_case_ends_on_hours_threshold_R8(cli: Ledighed) -> None:
    """S = 2021-03-01 in Aarhus (751), full-time insured. The three meetings are held in
    their windows (R4): cv_and_job 2021-03-10, availability_and_job 2021-04-14, joint
    2021-05-05. Hours paid: March 160.33, April 160.33, May 89.34 = 410.00, which reaches
    the full-time threshold of 410 in May (R8, "reaches" means >=), so the trial ends on
    2021-05-31. One handover (R12): held job 2 (cv_and_job and availability_and_job each
    count one), cv 1, availability 1, joint 1; the jobcenter must hold 4 - 2 = 2 job and
    2 - 1 = 1 joint conversations by S + 6 months = 2021-09-01; the a-kasse an availability
    conversation by 2021-09-01 and a joint one at S + 16 months = 2022-07-01."""
    cpr = "0203851234"
    cli.expect_ingest("01_normal_full_time_aarhus.jsonl")
    cli.name_cases(cpr, "<case>")

    # The day before S: the case has not opened yet.
    code, out, err = cli.raw("case", cpr, "--as-of", "2021-02-28", "--json")
    assert (code, out) == (1, "null\n")  # still one JSON document
    assert "no case" in err

    # 2021-03-05: cv_and_job is due (window 03-01..03-15) and not held yet. March's hours
    # (effective 2021-03-01) count; the R8 forecast adds 160.33 for April and May:
    # 160.33 * 3 = 480.99 >= 410 in May, so expected_end 2021-05-31.
    cli.expect("case", cpr, "--as-of", "2021-03-05")
    cli.expect("worklist", "--as-of", "2021-03-05")

    # 2021-04-13: cv_and_job held, availability_and_job due (window 04-12..04-19).
    cli.expect("case", cpr, "--as-of", "2021-04-13")

    # 2021-05-10: May's hours (effective 2021-05-01) are known, so the exit on 2021-05-31
    # is known ahead; the case is still in the trial and the forecast gives way to the exit.
    cli.expect("case", cpr, "--as-of", "2021-05-10")

    # 2021-06-01, after the exit: ended; no tasks.
    cli.expect("case", cpr, "--as-of", "2021-06-01")
    cli.expect("case", cpr, "--as-of", "2021-06-01", "--all")
    assert cli("worklist", "--as-of", "2021-06-01") == []

    # R12: one handover, published when May's hours arrived (before 2021-05-31).
    cli.expect("handovers")
    assert_no_personal_data(cli("history", cpr), cpr, "1985-03-02")


def test_01b_meeting_overdue_from_the_day_after_due_by_then_late_R4(cli: Ledighed) -> None:
    """S = 2021-03-01 in Aarhus. availability_and_job is due 2021-04-12..2021-04-19 and is
    held late, on 2021-04-22: on 2021-04-20 it is `overdue` (and on the worklist), from
    2021-04-22 on it is `late` (R4: held outside its window, still counted). joint, due
    2021-05-03..2021-05-17, is held early on 2021-04-29: `early`. No hours are paid, so the
    R8 forecast is three full months: 480.99 >= 410 in May, expected_end 2021-05-31."""
    cpr = "1507901111"
    cli.expect_ingest("01b_availability_overdue.jsonl")
    cli.name_cases(cpr, "<case>")

    cli.expect("case", cpr, "--as-of", "2021-04-19")
    cli.expect("case", cpr, "--as-of", "2021-04-20")
    cli.expect("worklist", "--as-of", "2021-04-20")
    cli.expect("case", cpr, "--as-of", "2021-04-30")
    # The joint meeting was held early, so it is no task from its due-from date on.
    assert cli("worklist", "--as-of", "2021-05-03") == []


# --- 2. a late fact moves the exit earlier: R9, R13 -------------------------------------------


# Messages take effect one at a time, in order: the batch size (a transaction boundary)
# never changes a result (CONTRACT.md), so these scenarios also run one message a batch.
BATCH_SIZES = [pytest.param((), id="one-batch"), pytest.param(("--batch-size", "1"), id="batch-1")]


@pytest.mark.parametrize("batch", BATCH_SIZES)
def test_02_late_move_revises_the_handover_R13_R9(cli: Ledighed, batch: tuple[str, ...]) -> None:
    """S = 2021-03-01 in Aarhus (751). cv_and_job 2021-03-09, availability_and_job
    2021-04-13, joint 2021-05-12 held; hours 160.33 + 160.33 + 100.00 = 420.66 >= 410 in May:
    exit hours_threshold 2021-05-31 and handover:1 (held job 2, cv 1, availability 1,
    joint 1). Then the address registry reports a move to Hvidovre (167, not a trial
    municipality) on 2021-05-10 (R9): the exit moves to 2021-05-10, reason moved_out, and
    handover:2 (`handover_revised`, replaces handover:1) goes to jobcenter 167. The joint
    meeting on 2021-05-12 was after the exit day, so it no longer counts (R12) and shows
    `handed_over`: the jobcenter must now hold 2 joint conversations; it leaves the case
    (FactsReleased) and waits in the member's record for a next case. All in one file:
    when both facts arrive in one batch, handover:1 is still published (CONTRACT.md)."""
    cpr = "1104881234"
    cli.expect_ingest("02_late_move_revises_handover.jsonl", *batch)
    cli.name_cases(cpr, "<case>")
    cli.expect("handovers")
    # As of 2021-05-09 the move (effective 2021-05-10) is not a fact yet: the hours exit
    # stands, ahead, and the joint meeting (2021-05-12) is not held yet.
    cli.expect("case", cpr, "--as-of", "2021-05-09")
    cli.expect("case", cpr, "--as-of", "2021-06-30")
    # The audit trail keeps both exit decisions, the second naming the one it replaced.
    decided = [row for row in cli("history", cpr) if row["type"] == "ExitDecided"]
    exits = [
        ({k: v for k, v in row["data"].items() if k != "known"}, row["source"]["message_id"])
        for row in decided
    ]
    # R13: each decision also stores every exit the facts implied then, with its basis.
    assert [
        [(k["reason"], k["on"], k["known_from"]) for k in row["data"]["known"]] for row in decided
    ] == [
        [("hours_threshold", "2021-05-31", "2021-05-01")],
        [
            ("moved_out", "2021-05-10", "2021-05-10"),
            ("hours_threshold", "2021-05-31", "2021-05-01"),
        ],
    ]
    assert decided[1]["data"]["known"][0]["basis"] == {
        "facts": ["Moved"],
        "moved_on": "2021-05-10",
        "municipality_code": 167,
    }
    assert exits == [
        (
            {"reason": "hours_threshold", "on": "2021-05-31", "rule": "R8", "replaces": None},
            "s2-07",
        ),
        (
            {
                "reason": "moved_out",
                "on": "2021-05-10",
                "rule": "R9",
                "replaces": {"reason": "hours_threshold", "on": "2021-05-31", "rule": "R8"},
            },
            "s2-08",
        ),
    ]


# --- 3. input that breaks the rules of the data itself -------------------------------------


@pytest.mark.parametrize("batch", BATCH_SIZES)
def test_03_ingest_rejects_bad_lines_and_deduplicates(
    cli: Ledighed, monkeypatch: pytest.MonkeyPatch, batch: tuple[str, ...]
) -> None:
    """03_ingest_errors.jsonl, line by line:
    1 `unemployed` S = 2021-09-01 in København (101), CPR written 250979-1234: accepted;
    2 `hours_paid` September 160.33: accepted; 3 blank: skipped, neither accepted nor
    rejected; 4 CPR 3102851234 (31 February 1985): rejected; 5 type `vacation_taken`:
    rejected; 6 `hours_paid` without `month`: rejected; 7 200 hours for a month (> 160.33,
    R8): rejected; 8 held on 2021-02-30: rejected; 9 not JSON: rejected, no message id;
    10 line 2 again: a duplicate; 11 cv_and_job held 2021-09-08: accepted; 12 a move to
    municipality 999 (not a Danish code): rejected; 13 cv_and_job held again: rejected by
    the rules (R4, decisions: a mandatory meeting held twice is rejected).
    Ingesting the file again accepts nothing: every accepted id is a duplicate, and the
    rejected lines are rejected again. Then s3-07 is sent again, corrected (150 hours),
    on standard input (`ingest -`): accepted, as RULES.md allows under the same id."""
    cpr = "2509791234"
    cli.expect_ingest("03_ingest_errors.jsonl", *batch)
    cli.expect_ingest("03_ingest_errors.jsonl", *batch, when="again")
    corrected = (SCENARIOS / "03_ingest_errors_corrected.jsonl").read_text(encoding="utf-8")
    monkeypatch.setattr(sys, "stdin", io.StringIO(corrected))
    assert cli("ingest", "-") == {"accepted": 1, "duplicates": 0, "rejected": []}
    cli.expect_ingest("03_ingest_errors_corrected.jsonl")
    cli.name_cases(cpr, "<case>")
    # S = 2021-09-01 (Wednesday): cv_and_job 09-01..09-15, availability_and_job
    # 10-13..10-20, joint 11-03..11-17. Hours 160.33 + 150 = 310.33; the forecast adds
    # 160.33 for November: 470.66 >= 410, so expected_end 2021-11-30 (R8).
    cli.expect("case", cpr, "--as-of", "2021-10-15")
    # The corrected message is in the audit trail with where it came from: stdin, line 1.
    payments = [
        (row["data"], row["source"]) for row in cli("history", cpr) if row["type"] == "HoursPaid"
    ]
    assert payments == [
        (
            {"payment_id": "p-2021-09", "month": "2021-09-01", "hours": 160.33},
            {
                "message_id": "s3-02",
                "topic": "03_ingest_errors.jsonl",
                "partition": None,
                "offset": 2,
            },
        ),
        (
            {"payment_id": "p-2021-10", "month": "2021-10-01", "hours": 150.0},
            {"message_id": "s3-07", "topic": "stdin", "partition": None, "offset": 1},
        ),
    ]


# --- 4. the worklist: R4, R14, R15, R17 ---------------------------------------------------


def test_04_worklist_two_advisers_R4_R14_R15(cli: Ledighed) -> None:
    """As of 2021-04-21 (a Wednesday):
    - 0101801111, anna: S = 2021-03-01 in Aarhus, cv_and_job held; availability_and_job
      due by 2021-04-19, not held: overdue (R4).
    - 0404844444, bent: S = 2021-03-01, deregistered 2021-04-01 (R17): ended, no tasks
      and no handover, though its availability_and_job was never held.
    - 0303833333: S = 2021-04-06 in Frederiksberg (147), assigned to anna on 2021-04-07;
      cv_and_job booked 2021-04-15 and due by 2021-04-20: overdue. Sick from 2021-04-14,
      reported 2021-04-16 (R15): a late report (due_by the report day, never overdue), and
      the booking lies in the sick days: `meeting:cv_and_job:rebook`.
    - 0202822222, bent: S = 2021-04-12 in København (101), part-time; cv_and_job due by
      2021-04-26. Holiday h-b1 asked by phone on 2021-04-15 for 2021-04-26..30: notice 11
      days < 14 by phone is `pending`, reason short_notice (R14; decisions), a task due on
      the first holiday day. The adviser approves it on 2021-04-22: gone by 2021-04-23.
    Tasks are listed oldest due first."""
    cli.expect_ingest("04_worklist_two_advisers.jsonl")
    cli.name_cases("0101801111", "<case:A>")
    cli.name_cases("0404844444", "<case:D>")
    cli.name_cases("0303833333", "<case:C>")
    cli.name_cases("0202822222", "<case:B>")

    cli.expect("worklist", "--as-of", "2021-04-21")
    cli.expect("worklist", "--as-of", "2021-04-21", "--adviser", "anna")
    cli.expect("worklist", "--as-of", "2021-04-21", "--adviser", "bent")
    assert cli("worklist", "--as-of", "2021-04-21", "--adviser", "nobody") == []
    # The holiday was approved on 2021-04-22.
    cli.expect("worklist", "--as-of", "2021-04-23", "--adviser", "bent")

    # 2021-04-06: 0303833333's S, before its adviser was assigned (2021-04-07); the other
    # case in the trial has nothing due (availability_and_job is due from 2021-04-12).
    cli.expect("worklist", "--as-of", "2021-04-06")

    # S = 2021-04-12, part-time: April pro rata 19/30 of 130.00 = 82.33, then 130.00 a
    # month: 342.33 >= 333 in June (R8). availability_and_job's due-from S + 42 days is
    # 2021-05-24, 2. pinsedag, so it moves forward to 2021-05-25 (R20).
    # The holiday h-b1 is pending as of 2021-04-21 (short notice by phone, R14) ...
    cli.expect("case", "0202822222", "--as-of", "2021-04-21")
    # ... and approved, reason none, as of 2021-04-23 (the adviser decided on 2021-04-22).
    cli.expect("case", "0202822222", "--as-of", "2021-04-23")

    cli.expect("case", "0404844444", "--as-of", "2021-04-21")
    assert cli("handovers") == []  # R17: a deregistration has no handover


# --- 5. notice period, outside the trial, education order: R1, R2, R3 -----------------------


def test_05_notice_period_outside_trial_and_education_order_R1_R2_R3(cli: Ledighed) -> None:
    """- 1212871234 signs up under notice on 2021-02-01 in Aarhus (employment ends
      2021-02-28): `notice_period` (R2); registers as unemployed on 2021-03-01, which starts
      the same case on S = 2021-03-01 (R1).
    - 0101901234 signs up under notice from Hvidovre (167): rejected (R2), no case.
    - 0505751234 registers 2021-03-01 in Hvidovre (167): outside_trial, municipality (R1).
    - 0606761234 registers 2024-01-02 in Aarhus, after the window: outside_trial, window.
    - 1506961234, born 1996-06-15, is 24 on S = 2021-03-01 with no vocational education
      and no children: exit on S, reason education_order (R3), and a handover (R12) with
      nothing held: the jobcenter must hold 4 job and 2 joint conversations by 2021-09-01.
    Outside-trial cases produce no tasks and no handover."""
    cli.expect_ingest("05_notice_outside_education.jsonl")
    cli.name_cases("1212871234", "<case:notice>")
    cli.name_cases("0505751234", "<case:167>")
    cli.name_cases("0606761234", "<case:2024>")
    cli.name_cases("1506961234", "<case:education>")

    code, _, err = cli.raw("case", "1212871234", "--as-of", "2021-01-31", "--json")
    assert code == 1 and "no case" in err
    cli.expect("case", "1212871234", "--as-of", "2021-02-15")
    assert cli("worklist", "--as-of", "2021-02-15") == []
    cli.expect("case", "1212871234", "--as-of", "2021-03-02", "--all")

    code, _, err = cli.raw("case", "0101901234", "--json")
    assert code == 1 and "no case" in err

    cli.expect("case", "0505751234", "--as-of", "2021-06-01")
    cli.expect("case", "0606761234", "--as-of", "2024-02-01")

    cli.expect("case", "1506961234", "--as-of", "2021-03-01")
    cli.expect("handovers")
    cli.expect("worklist", "--as-of", "2021-03-02")
    # R3 is decided from the birth date, which stays in the registry: only the decision
    # is stored.
    history = cli("history", "1506961234")
    registered = [row["data"] for row in history if row["type"] == "Registered"]
    assert registered == [
        {
            "registered_on": "2021-03-01",
            "insurance": "full_time",
            "municipality_code": 751,
            "in_trial": True,
            "outside_reason": None,
            "education_order": True,
            "adviser": None,
            "rule": "R3",
        }
    ]
    assert_no_personal_data(history, "1506961234", "1996-06-15")


# --- 6. the programme ends: R16 -----------------------------------------------------------


def test_06_programme_end_by_tick_only_R16(cli: Ledighed) -> None:
    """0707771234: S = 2023-10-02 in Vejle (630), cv_and_job held 2023-10-10,
    availability_and_job 2023-11-14, joint (due 2023-12-04..2023-12-18) never held;
    hours 160.33 for October and November. 0808721234: S = 2023-09-04 in Fredericia,
    deregistered 2023-11-30 (R17), not in the trial on 2023-12-31.
    Only the tick applies R16: before it runs, 0707771234 is `in_trial` at any --as-of,
    also 2024-01-15. `tick --on 2023-12-30` does nothing; `tick --on 2024-01-02` ends the
    one case still in the trial, effective 2023-12-31, with one handover; a second tick
    changes nothing. Handover: held job 2, cv 1, availability 1, joint 0; the jobcenter
    must hold 2 job and 2 joint conversations by S + 6 months = 2024-04-02."""
    cpr = "0707771234"
    cli.expect_ingest("06_programme_end.jsonl")
    cli.name_cases(cpr, "<case>")
    # R8 forecast: 320.66 + 160.33 for December = 480.99 >= 410; a forecast never ends
    # the trial, even when its day has passed.
    cli.expect("case", cpr, "--as-of", "2024-01-15")
    cli.expect("worklist", "--as-of", "2024-01-15")

    assert cli("tick", "--on", "2023-12-30") == {"exits": 0, "handovers": 0, "given_up": 0}
    cli.expect("case", cpr, "--as-of", "2024-01-15", when="after tick --on 2023-12-30")
    assert cli("handovers") == []

    assert cli("tick", "--on", "2024-01-02") == {"exits": 1, "handovers": 1, "given_up": 0}
    assert cli("tick", "--on", "2024-01-02") == {"exits": 0, "handovers": 0, "given_up": 0}
    assert cli("tick", "--on", "2024-02-01") == {"exits": 0, "handovers": 0, "given_up": 0}

    cli.expect("case", cpr, "--as-of", "2024-01-15", when="after tick --on 2024-01-02")
    # The exit is effective 2023-12-31: the day before, the case was still in the trial.
    cli.expect("case", cpr, "--as-of", "2023-12-30", when="after tick --on 2024-01-02")
    assert cli("worklist", "--as-of", "2024-01-15") == []
    cli.expect("handovers", when="after tick --on 2024-01-02")
    tick_source = {"message_id": "tick:2024-01-02", "topic": "tick", "partition": None}
    assert [
        (row["type"], row["effective_on"], row["source"])
        for row in cli("history", cpr)
        if row["source"]["topic"] == "tick"
    ] == [
        ("ProgrammeEnded", "2023-12-31", {**tick_source, "offset": None}),
        ("ExitDecided", "2023-12-31", {**tick_source, "offset": None}),
        ("HandedOver", "2023-12-31", {**tick_source, "offset": None}),
    ]
    assert cli("case", "0808721234", "--as-of", "2024-01-15")["exit"] == {
        "reason": "deregistered",
        "on": "2023-11-30",
        "rule": "R17",
    }


# --- 7. the audit trail ---------------------------------------------------------------------


def test_07_history_is_the_whole_audit_trail_without_personal_data(cli: Ledighed) -> None:
    """0808781234 (born 1978-08-08). Line 1: a move to Hvidovre on 2021-02-15 and line 2:
    hours for March 2021 arrive before the member has a case: both are kept in the
    member's record (case_id null). Line 3: registered 2021-03-01 in Slagelse (330),
    part-time: the case opens (the earlier move sets nothing: `unemployed` carries the
    municipality), and takes over the kept hours for S's month (R8). Line 4: cv_and_job
    held 2021-03-08. Line 5: the jobcenter reports a contact about an ordinary job (R19).
    Line 6: the member changes a-kasse on 2021-04-01: exit changed_akasse (R10) and a
    handover (R12). Every event shows where it came from; source.offset is the file's line.
    Neither the CPR nor the birth date is in any event's data."""
    cpr = "0808781234"
    name = "07_history_audit_trail.jsonl"
    cli.expect_ingest(name)
    cli.name_cases(cpr, "<case>")

    history = cli.expect("history", cpr)
    # The contract's fields, on every event; the source is the message on that line.
    lines = scenario_lines(name)
    for row in history:
        assert set(row) == {
            "case_id",
            "version",
            "type",
            "recorded_at",
            "effective_on",
            "data",
            "source",
        }
        assert set(row["source"]) == {"message_id", "topic", "partition", "offset"}
        message = json.loads(lines[row["source"]["offset"] - 1])
        assert message["message_id"] == row["source"]["message_id"]
    assert_no_personal_data(history, cpr, "1978-08-08")
    # The recorded_at stamps (hidden above) are in the order the trail lists them.
    stamps = [row["recorded_at"] for row in cli.json("history", cpr)]
    assert stamps == sorted(stamps)

    # --as-of leaves out what takes effect later.
    assert [row["type"] for row in cli("history", cpr, "--as-of", "2021-03-01")] == [
        "KeptWithoutCase",
        "KeptWithoutCase",
        "Opened",
        "Registered",
        "HoursPaid",
        "KeptMessagesApplied",
    ]
    assert cli("case", cpr, "--as-of", "2021-03-02")["municipality_code"] == 330


# --- 8. one member, two cases -------------------------------------------------------------


def test_08_member_with_two_cases_R1_R17(cli: Ledighed) -> None:
    """0909791234 registers 2021-03-01 in Aarhus (full-time), holds cv_and_job 2021-03-05
    and is deregistered 2021-06-15 (R17: ended, no handover). Registers again on
    2022-02-01 in Kolding (621), part-time: a second case. `case` shows the latest case,
    `case --all` both, oldest first; as of 2021-12-01 only the first case existed.
    Second case: 130.00 hours for February; forecast 130.00 a month: 390 >= 333 in April,
    expected_end 2022-04-30 (R8). S = 2022-02-01: cv_and_job 02-01..02-15,
    availability_and_job 03-15..03-22, joint 04-05..04-19."""
    cpr = "0909791234"
    cli.expect_ingest("08_two_cases_one_member.jsonl")
    cli.name_cases(cpr, "<case:2021>", "<case:2022>")
    cli.expect("case", cpr, "--as-of", "2022-03-01")
    cli.expect("case", cpr, "--as-of", "2022-03-01", "--all")
    cli.expect("case", cpr, "--as-of", "2021-12-01")
    cli.expect("case", cpr, "--as-of", "2021-12-01", "--all")
    assert cli("handovers") == []
    cli.expect("worklist", "--as-of", "2022-03-01")
    history = cli("history", cpr)
    assert [(row["case_id"], row["type"]) for row in history] == [
        ("<case:2021>", "Opened"),
        ("<case:2021>", "Registered"),
        ("<case:2021>", "MeetingHeld"),
        ("<case:2021>", "Deregistered"),
        ("<case:2021>", "ExitDecided"),
        ("<case:2022>", "Opened"),
        ("<case:2022>", "Registered"),
        ("<case:2022>", "HoursPaid"),
    ]
    assert_no_personal_data(history, cpr, "1979-09-09")


# --- the scenario files themselves ----------------------------------------------------------


def test_scenario_files_use_real_cprs_with_matching_birth_dates() -> None:
    """Every `unemployed` line's CPR encodes a real birth date by the century rule and its
    `birth_date` matches it (03_ingest_errors.jsonl's bad CPR is on a sickness report)."""
    registrations = 0
    for path in sorted(SCENARIOS.glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                message = json.loads(line)
            except json.JSONDecodeError:
                continue
            if message.get("type") == "unemployed":
                registrations += 1
                born = birth_date_from_cpr(message["cpr"]).isoformat()
                assert born == message["birth_date"], (path.name, message["message_id"])
    assert registrations >= 15
