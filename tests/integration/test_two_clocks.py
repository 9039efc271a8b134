"""The two clocks of every read: `--as-of DATE` (facts effective after DATE left out) and
`--known-at MOMENT` (only the events recorded by then), on a worked case with a late fact:
scenario 02 with its move to Hvidovre arriving after handover:1 was published. "What did
the system know when it published handover:1?" is `--known-at` its `recorded_at`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.scenario_helpers import Ledighed, scenario_lines

CPR = "1104881234"
HOURS_EXIT = {"reason": "hours_threshold", "on": "2021-05-31", "rule": "R8"}
MOVED_EXIT = {"reason": "moved_out", "on": "2021-05-10", "rule": "R9"}


@pytest.fixture
def cli(db_url: str, capsys: pytest.CaptureFixture[str]) -> Ledighed:
    return Ledighed(db_url, capsys)


def ingest_lines(cli: Ledighed, path: Path, lines: list[str]) -> None:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    report = cli.json("ingest", str(path))
    assert report["accepted"] == len(lines) and not report["rejected"], report


@pytest.fixture
def published(cli: Ledighed, tmp_path: Path) -> str:
    """Scenario 02's first seven lines (hours reach 410 in May: handover:1), then the move
    (line 8) in a later ingest; the `recorded_at` of handover:1's HandedOver event."""
    lines = scenario_lines("02_late_move_revises_handover.jsonl")
    ingest_lines(cli, tmp_path / "first.jsonl", lines[:7])
    trail = cli.json("history", CPR)
    handed_over = [r for r in trail if r["type"] == "HandedOver"]
    assert len(handed_over) == 1
    ingest_lines(cli, tmp_path / "late.jsonl", lines[7:])
    return str(handed_over[0]["recorded_at"])


def test_case_known_at_handover_1_shows_the_hours_exit_it_was_published_for(
    cli: Ledighed, published: str
) -> None:
    then = cli.json("case", CPR, "--as-of", "2021-06-30", "--known-at", published)
    assert then["exit"] == HOURS_EXIT and then["status"] == "ended"
    assert then["municipality_code"] == 751
    joint = next(m for m in then["meetings"] if m["kind"] == "joint")
    assert joint["state"] == "held"  # counted in handover:1 (held 05-12 <= exit 05-31)
    now = cli.json("case", CPR, "--as-of", "2021-06-30")
    assert now["exit"] == MOVED_EXIT and now["municipality_code"] == 167
    assert next(m for m in now["meetings"] if m["kind"] == "joint")["state"] == "handed_over"
    # both clocks: as of 2021-05-20 with what was known then, the hours exit is still ahead
    both = cli.json("case", CPR, "--as-of", "2021-05-20", "--known-at", published)
    assert both["status"] == "in_trial" and both["exit"] == HOURS_EXIT
    # as of 2021-05-20 with everything known now, the member had moved out on 05-10
    assert cli.json("case", CPR, "--as-of", "2021-05-20")["status"] == "ended"


def test_history_known_at_handover_1_ends_with_its_event(cli: Ledighed, published: str) -> None:
    then = cli.json("history", CPR, "--known-at", published)
    assert [r["type"] for r in then][-2:] == ["ExitDecided", "HandedOver"]
    assert [r["version"] for r in then] == list(range(1, 11))
    assert "Moved" not in {r["type"] for r in then}
    now = cli.json("history", CPR)
    # The move's exit lets the joint held after it go (FactsReleased): the member keeps it
    # for a next case (CONTRACT.md, Order and the member's record).
    of_case = [r["type"] for r in now if r["case_id"] is not None]
    assert of_case[-4:] == ["Moved", "ExitDecided", "FactsReleased", "HandedOver"]
    assert now[-1]["type"] == "KeptWithoutCase" and now[-1]["case_id"] is None
    # --as-of leaves out what takes effect later: the exit on 05-31 and its handover
    early = cli.json("history", CPR, "--as-of", "2021-05-20", "--known-at", published)
    assert {r["type"] for r in early}.isdisjoint({"ExitDecided", "HandedOver"})
    assert all(r["effective_on"] <= "2021-05-20" for r in early)


def test_handovers_known_at_handover_1_is_that_one_alone(cli: Ledighed, published: str) -> None:
    then = cli.json("handovers", "--known-at", published)
    assert [(h["type"], h["reason"], h["effective_on"]) for h in then] == [
        ("handover", "hours_threshold", "2021-05-31")
    ]
    assert then[0]["held"] == {"job": 2, "cv": 1, "availability": 1, "joint": 1}
    now = cli.json("handovers")
    assert [(h["type"], h["reason"]) for h in now] == [
        ("handover", "hours_threshold"),
        ("handover_revised", "moved_out"),
    ]
    assert now[1]["replaces"] == then[0]["message_id"]
    # --as-of: the revised handover is effective 05-10, the first one 05-31
    assert [h["type"] for h in cli.json("handovers", "--as-of", "2021-05-20")] == [
        "handover_revised"
    ]


def tasks(rows: list[dict[str, Any]]) -> list[tuple[str, str, bool]]:
    return [(r["task"], r["due_by"], r["overdue"]) for r in rows if r["cpr"] == CPR]


def test_worklist_known_at_handover_1_still_had_the_joint_meeting_due(
    cli: Ledighed, published: str
) -> None:
    # As of 2021-05-11 the joint meeting (due 2021-05-03 to 2021-05-17) was not held yet
    # (held 05-12). Known at handover:1 the case was in the trial until 05-31: a task.
    then = cli.json("worklist", "--as-of", "2021-05-11", "--known-at", published)
    assert tasks(then) == [("meeting:joint", "2021-05-17", False)]
    assert then[0]["adviser"] == "bent"
    # Known now, the member moved out on 05-10: the case left the trial, no tasks.
    assert tasks(cli.json("worklist", "--as-of", "2021-05-11")) == []
    # Before the move's day both clocks agree.
    assert tasks(cli.json("worklist", "--as-of", "2021-05-09")) == [
        ("meeting:joint", "2021-05-17", False)
    ]
