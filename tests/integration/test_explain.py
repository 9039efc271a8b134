"""`ledighed explain`: each derived fact with its rule id and the stored events (by version)
it was derived from. Pure tests of `domain.explain` on worked cases run through the
application service over the in-memory fake, then the command line with both clocks on
SQLite and PostgreSQL."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from domain.explain import Explanation, explain_case
from domain.params import Settings
from tests.fakes import (
    Desk,
    holiday_requested,
    hours_paid,
    less_intensive,
    meeting_booked,
    meeting_held,
    moved,
    msg,
    unemployed,
)
from tests.scenario_helpers import Ledighed, scenario_lines

D = date.fromisoformat


def explain(desk: Desk, day: str) -> dict[str, Explanation]:
    """The explanations of the desk's latest case as of `day`, by subject."""
    from infra.reads import event_records  # infra converts stored events, as the CLI does

    case = desk.case()
    records = event_records(case.id, desk.book.events(case.id))
    explained = explain_case(records, desk.view(day), desk.settings)
    by_subject = {x.subject: x for x in explained}
    assert len(by_subject) == len(explained), "subjects are unique"
    return by_subject


def types(desk: Desk, versions: tuple[int, ...]) -> list[str]:
    """The type names of the latest case's events with these versions."""
    events = desk.book.events(desk.case().id)
    return [type(events[v - 1]).__name__ for v in versions]


# --- R4/R20: the Christmas 2022 case -----------------------------------------------------------


def test_r20_cv_and_job_due_2022_12_23_as_s_plus_14_is_anden_juledag() -> None:
    # S = 2022-12-12: S + 14 days = 2022-12-26 (2. juledag), so due by Friday 2022-12-23.
    desk = Desk()
    desk.send(unemployed("2022-12-12"))
    cv = explain(desk, "2022-12-20")["meeting:cv_and_job"]
    assert cv.rule == "R4+R20"
    assert cv.value["due_by"] == "2022-12-23" and cv.value["state"] == "due"
    assert "S 2022-12-12 + 14 days is 2022-12-26, Anden juledag" in cv.because
    assert "moves back to the working day before (R20)" in cv.because
    assert types(desk, cv.events) == ["Registered"]
    # availability_and_job: S + 49 = 2023-01-30, a Monday: no R20 move
    availability = explain(desk, "2022-12-20")["meeting:availability_and_job"]
    assert availability.rule == "R4" and availability.value["due_by"] == "2023-01-30"


def test_r4_meeting_held_after_its_due_date_is_late_and_names_its_meeting_held_event() -> None:
    # S = 2022-12-12, cv_and_job due by 2022-12-23 (R20), held 2022-12-27: late.
    desk = Desk()
    desk.send(unemployed("2022-12-12"))
    desk.send(meeting_held("cv_and_job", "2022-12-27"))
    before = explain(desk, "2022-12-24")["meeting:cv_and_job"]
    assert before.value["state"] == "overdue"  # as of 12-24 the meeting is not held yet
    assert "overdue from 2022-12-24" in before.because
    cv = explain(desk, "2023-01-02")["meeting:cv_and_job"]
    assert cv.value["state"] == "late" and cv.value["held_on"] == "2022-12-27"
    assert "Held on 2022-12-27, after its due date" in cv.because
    assert types(desk, cv.events) == ["Registered", "MeetingHeld"]


# --- R18: less intensive effort waives the meetings due in its period ------------------------


def test_r18_approved_period_waives_the_meetings_due_in_it() -> None:
    # S = 2022-12-12; requested 2023-01-20 for a job starting 2023-03-01 (40 days <= 42):
    # approved to 2023-03-01, so availability (due 2023-01-30) and joint (due 2023-02-27)
    # are waived; cv_and_job (due 2022-12-23) is overdue, not waived.
    desk = Desk()
    desk.send(unemployed("2022-12-12"))
    desk.send(less_intensive("2023-01-20", "2023-03-01"))
    explained = explain(desk, "2023-02-01")
    li = explained["less_intensive"]
    assert li.rule == "R18" and li.value["status"] == "approved"
    assert "40 days ahead (at most 42)" in li.because
    assert types(desk, li.events) == ["LessIntensiveRequested"]
    for kind in ("availability_and_job", "joint"):
        meeting = explained[f"meeting:{kind}"]
        assert meeting.value["state"] == "waived" and meeting.rule == "R4+R18"
        assert "2023-01-20 to 2023-03-01" in meeting.because
        assert types(desk, meeting.events) == ["Registered", "LessIntensiveRequested"]
    assert explained["meeting:cv_and_job"].value["state"] == "overdue"


def test_r18_request_too_early_is_rejected_with_its_reason() -> None:
    desk = Desk()
    desk.send(unemployed("2022-12-12"))
    desk.send(less_intensive("2023-01-02", "2023-03-01"))  # 58 days > 42
    li = explain(desk, "2023-01-10")["less_intensive"]
    assert li.value["status"] == "rejected" and li.value["reason"] == "too_early"
    assert "58 days ahead, more than 42" in li.because


# --- R8: the hours threshold names the HoursPaid events it counted ----------------------------


def test_r8_exit_names_the_counted_hours_paid_events_up_to_the_exit_month() -> None:
    # S = 2021-03-01, April 2021 frozen: 160.33 (Mar) + [Apr frozen] + 160.33 (May)
    # + 100.00 (Jun) = 420.66 >= 410 in June: exit 2021-06-30. A July payment arrives
    # after: it counts in hours_paid but not for the exit.
    desk = Desk(Settings(frozen_months=frozenset({D("2021-04-01")})))
    desk.send(unemployed("2021-03-01"))
    desk.send(hours_paid("2021-03", "160.33", payment_id="mar"))
    desk.send(hours_paid("2021-04", "160.33", payment_id="apr"))
    desk.send(hours_paid("2021-05", "160.33", payment_id="may"))
    before = explain(desk, "2021-05-15")["expected_end"]  # no exit yet: the R8 forecast
    assert before.rule == "R8" and before.value == "2021-06-30"
    assert types(desk, before.events) == ["Registered", "HoursPaid", "HoursPaid"]  # not April
    desk.send(hours_paid("2021-06", "100.00", payment_id="jun"))
    desk.send(hours_paid("2021-07", "50.00", payment_id="jul"))
    explained = explain(desk, "2021-08-01")
    exit_ = explained["exit"]
    assert exit_.rule == "R8"
    assert exit_.value == {"reason": "hours_threshold", "on": "2021-06-30", "rule": "R8"}
    assert "2021-03 160.33 + 2021-05 160.33 + 2021-06 100.00" in exit_.because
    events = desk.book.events(desk.case().id)
    paid = {e.payment_id: e.originator_version for e in events if hasattr(e, "payment_id")}
    decided = [e.originator_version for e in events if type(e).__name__ == "ExitDecided"]
    assert exit_.events == tuple(sorted([paid["mar"], paid["may"], paid["jun"], *decided]))
    hours = explained["hours_paid"]
    assert hours.value == 470.66 and hours.rule == "R8"
    assert hours.events == (paid["mar"], paid["may"], paid["jun"], paid["jul"])
    assert "1 payment(s)" in hours.because  # April, frozen
    assert "expected_end" not in explained  # the forecast shows only while no exit is known


# --- R9/R13: a late move revises the exit and the handover ------------------------------------


def scenario_02(desk: Desk) -> None:
    """tests/scenarios/02: S 2021-03-01, three meetings held, hours to 2021-05, then the
    move to Hvidovre (167) on 2021-05-10 arrives last."""
    desk.send(unemployed("2021-03-01", adviser="bent"))
    desk.send(meeting_held("cv_and_job", "2021-03-09"))  # v3
    desk.send(hours_paid("2021-03", "160.33"))  # v4
    desk.send(meeting_held("availability_and_job", "2021-04-13"))  # v5
    desk.send(hours_paid("2021-04", "160.33"))  # v6
    desk.send(meeting_held("joint", "2021-05-12"))  # v7
    desk.send(hours_paid("2021-05", "100.00"))  # v8, then ExitDecided v9, HandedOver v10


def test_r13_late_move_names_both_exit_decisions_and_both_handovers() -> None:
    desk = Desk()
    scenario_02(desk)
    desk.send(moved("2021-05-10", 167))  # v11: ExitDecided v12, FactsReleased, HandedOver v14
    assert types(desk, (9, 10, 11, 12, 13, 14)) == [
        "ExitDecided",
        "HandedOver",
        "Moved",
        "ExitDecided",
        "FactsReleased",
        "HandedOver",
    ]
    explained = explain(desk, "2021-06-30")
    exit_ = explained["exit"]
    assert exit_.rule == "R9+R13" and exit_.events == (9, 11, 12)
    assert "moved to Hvidovre (167), not a trial municipality, on 2021-05-10" in exit_.because
    assert "revises the exit decided before, hours_threshold on 2021-05-31" in exit_.because
    first, second = explained["handover:1"], explained["handover:2"]
    assert first.rule == "R12" and first.events == (3, 5, 7, 9, 10)
    assert "Replaced by handover:2" in first.because
    assert second.rule == "R13" and second.events == (3, 5, 12, 14)
    assert second.value["replaces"].endswith(":handover:1")
    assert "2 - 0 = 2 joint conversations by S + 6 months = 2021-09-01" in second.because
    # The joint held 2021-05-12, after the exit the move brought forward, left the case (v13,
    # FactsReleased, before the revised handover v14): it waits in the member's record for
    # a next case (CONTRACT.md).
    joint = explained["meeting:joint"]
    assert joint.value["state"] == "handed_over" and joint.rule == "R4+R12"
    assert joint.events == (2, 9, 12)
    assert explained["status"].value == "ended" and explained["status"].rule == "R9"


def test_r13_as_of_before_the_move_shows_the_hours_exit_still_ahead() -> None:
    desk = Desk()
    scenario_02(desk)
    desk.send(moved("2021-05-10", 167))
    explained = explain(desk, "2021-05-09")
    assert explained["exit"].value["reason"] == "hours_threshold"
    assert explained["exit"].rule == "R8" and explained["exit"].events == (4, 6, 8, 9)
    assert "still ahead" in explained["exit"].because
    assert explained["status"].value == "in_trial"
    assert explained["meeting:joint"].value["state"] == "due"
    assert not [s for s in explained if s.startswith("handover:")]  # both effective later


# --- R14: a holiday pending for a clash, then decided -----------------------------------------


def test_r14_holiday_pending_for_clash_then_approved_by_the_adviser() -> None:
    # S = 2021-03-01; availability_and_job booked 2021-04-14 (v3); holiday 2021-04-12 to
    # 2021-04-16 requested via jobnet on 2021-03-20 (v4): 23 days' notice, but the booking
    # falls in it: pending (clash). The adviser approves on 2021-03-25 (v5).
    desk = Desk()
    desk.send(unemployed("2021-03-01"))
    desk.send(meeting_booked("availability_and_job", "2021-04-14"))
    desk.send(holiday_requested("h1", "2021-03-20", "2021-04-12", "2021-04-16", "jobnet"))
    pending = explain(desk, "2021-03-22")["holiday:h1"]
    assert pending.rule == "R14"
    assert pending.value == {
        "status": "pending",
        "reason": "clash",
        "first_day": "2021-04-12",
        "last_day": "2021-04-16",
    }
    assert "23 days" in pending.because and "availability_and_job on 2021-04-14" in pending.because
    assert types(desk, pending.events) == ["MeetingBooked", "HolidayRequested"]
    desk.send(msg("holiday_decided", request_id="h1", decided_on="2021-03-25", approved=True))
    decided = explain(desk, "2021-03-26")["holiday:h1"]
    assert decided.value["status"] == "approved" and decided.value["reason"] is None
    assert "on 2021-03-25 the adviser approved it" in decided.because
    assert types(desk, decided.events) == ["MeetingBooked", "HolidayRequested", "HolidayDecided"]
    # as of the day before the decision, it was still pending
    assert explain(desk, "2021-03-24")["holiday:h1"].value["status"] == "pending"


def test_r14_short_notice_via_jobnet_is_rejected() -> None:
    desk = Desk()
    desk.send(unemployed("2021-03-01"))
    desk.send(holiday_requested("h2", "2021-03-20", "2021-03-25", "2021-03-26", "jobnet"))
    h2 = explain(desk, "2021-03-21")["holiday:h2"]
    assert h2.value["reason"] == "short_notice_via_jobnet"
    assert "5 days, less than 14 via jobnet" in h2.because


# --- R1/R3 and R5 --------------------------------------------------------------------------


def test_outside_trial_case_is_explained_by_its_r1_decision() -> None:
    desk = Desk()
    desk.send(unemployed("2021-03-01", municipality_code=167))
    explained = explain(desk, "2021-03-10")
    assert list(explained) == ["enrolment", "status"]
    assert explained["enrolment"].rule == "R1" and explained["enrolment"].events == (2,)
    assert "Hvidovre (167), not a trial municipality" in explained["enrolment"].because


def test_r3_education_order_exit_on_s() -> None:
    desk = Desk()
    desk.send(unemployed("2021-03-01", cpr="0101014234", birth_date="2001-01-01"))
    explained = {
        x.subject: x
        for x in explain_case(
            _records(desk, "0101014234"), desk.view("2021-03-02", "0101014234"), desk.settings
        )
    }
    assert explained["enrolment"].rule == "R3"
    assert explained["exit"].rule == "R3"
    assert explained["exit"].value["reason"] == "education_order"
    assert explained["exit"].events == (2, 3)  # Registered (the R3 decision), ExitDecided


def _records(desk: Desk, cpr: str) -> list[Any]:
    from infra.reads import event_records

    case = desk.case(cpr)
    return event_records(case.id, desk.book.events(case.id))


def test_r5_extra_job_due_14_days_after_the_latest_meeting() -> None:
    # agreed 2021-03-05 (v3), extra_job held 2021-03-12 (v4): the open one is due by
    # 2021-03-26 (2021-03-12 + 14), from Monday 2021-03-15 (R20: 03-13 is a Saturday).
    desk = Desk()
    desk.send(unemployed("2021-03-01"))
    desk.send(msg("extra_meetings_agreed", agreed_on="2021-03-05"))
    desk.send(meeting_held("extra_job", "2021-03-12"))
    explained = explain(desk, "2021-03-20")
    held, open_ = explained["meeting:extra_job:1"], explained["meeting:extra_job:2"]
    assert held.value["state"] == "held" and "the agreement on 2021-03-05" in held.because
    assert open_.value["due_by"] == "2021-03-26" and open_.rule == "R5+R20"
    assert "the latest meeting held, 2021-03-12 + 14 days" in open_.because
    assert types(desk, open_.events) == ["ExtraMeetingsAgreed", "MeetingHeld"]


# --- the command line, both clocks, every store -----------------------------------------------


@pytest.fixture
def cli(db_url: str, capsys: pytest.CaptureFixture[str]) -> Ledighed:
    return Ledighed(db_url, capsys)


def ingest_lines(cli: Ledighed, tmp_path: Path, name: str, lines: list[str]) -> None:
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    report = cli.json("ingest", str(path))
    assert report["accepted"] == len(lines) and not report["rejected"], report


def late_move(cli: Ledighed, tmp_path: Path) -> datetime:
    """Scenario 02 with its move (line 8) ingested later: the moment between the two."""
    lines = scenario_lines("02_late_move_revises_handover.jsonl")
    ingest_lines(cli, tmp_path, "first.jsonl", lines[:7])
    time.sleep(0.05)
    moment = datetime.now(UTC)
    time.sleep(0.05)
    ingest_lines(cli, tmp_path, "late.jsonl", lines[7:])
    return moment


def by_subject(explained: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {x["subject"]: x for x in explained["explanations"]}


def test_cli_explain_json_with_both_clocks(cli: Ledighed, tmp_path: Path) -> None:
    cpr = "1104881234"
    moment = late_move(cli, tmp_path)

    now = cli.json("explain", cpr)
    assert set(now) == {"case_id", "cpr", "as_of", "known_at", "explanations"}
    assert now["cpr"] == cpr and now["known_at"] is None
    assert now["as_of"] == date.today().isoformat()
    facts = by_subject(now)
    for x in now["explanations"]:
        assert set(x) == {"subject", "value", "rule", "because", "events"}
    assert facts["exit"]["value"] == {"reason": "moved_out", "on": "2021-05-10", "rule": "R9"}
    assert facts["exit"]["rule"] == "R9+R13" and facts["exit"]["events"] == [9, 11, 12]
    assert facts["handover:1"]["events"] == [3, 5, 7, 9, 10]
    assert facts["handover:2"]["rule"] == "R13" and facts["handover:2"]["events"] == [3, 5, 12, 14]

    # --known-at: only what had been recorded before the move arrived
    then = cli.json("explain", cpr, "--known-at", moment.isoformat())
    assert then["case_id"] == now["case_id"]
    assert then["known_at"] == moment.isoformat()
    old = by_subject(then)
    assert old["exit"]["value"] == {"reason": "hours_threshold", "on": "2021-05-31", "rule": "R8"}
    assert old["exit"]["rule"] == "R8" and old["exit"]["events"] == [4, 6, 8, 9]
    assert "handover:2" not in old and old["handover:1"]["rule"] == "R12"
    assert "Replaced by" not in old["handover:1"]["because"]
    assert old["meeting:joint"]["value"]["state"] == "held"

    # --as-of before the move's day: the state then, from everything known now
    before = by_subject(cli.json("explain", cpr, "--as-of", "2021-05-09"))
    assert before["status"]["value"] == "in_trial"
    assert before["exit"]["value"]["reason"] == "hours_threshold"
    assert before["meeting:joint"]["value"]["state"] == "due"
    assert not [s for s in before if s.startswith("handover:")]


def test_cli_explain_text_and_unknown_member(cli: Ledighed) -> None:
    cli.ingest("02_late_move_revises_handover.jsonl")
    code, out, _ = cli.raw("explain", "1104881234", "--as-of", "2021-06-30")
    assert code == 0
    # in sentences (infra/text_reads.py): a heading per fact, the reason, its rule and events
    paragraphs = {p.split(":")[0]: p for p in out.split("\n\n")}
    exit_paragraph = " ".join(paragraphs["exit"].split())
    assert exit_paragraph.startswith("exit: moved out on 2021-05-10 The member moved to Hvidovre")
    assert "(167), not a trial municipality, on 2021-05-10, which ends the trial" in exit_paragraph
    assert exit_paragraph.endswith("Rule R9+R13; from events 9, 11, 12.")
    cv = " ".join(paragraphs["meeting cv and job"].split())
    assert "cv_and_job is due by 2021-03-15: S 2021-03-01 + 14 days (R4)" in cv
    code, _, err = cli.raw("explain", "0101901234")
    assert code == 1 and "no case for 0101901234" in err
