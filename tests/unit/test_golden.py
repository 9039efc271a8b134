"""The scenario tests' golden files (tests/scenario_helpers.py, `Golden`) are as strict as
the expectations written out were: an output equals its expectation whole, every
expectation in the file is checked, and regenerating writes what was checked."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.scenario_helpers import Golden


def write(directory: Path, expected: dict[str, object]) -> None:
    (directory / "s.expected.json").write_text(json.dumps(expected), encoding="utf-8")


def test_an_output_must_equal_its_expectation_whole(tmp_path: Path) -> None:
    write(tmp_path, {"case 1": {"status": "in_trial", "hours_paid": 0.0}})
    golden = Golden("s.jsonl", tmp_path, regenerate=False)
    with pytest.raises(AssertionError):
        golden.check("case 1", {"status": "in_trial", "hours_paid": 0.0, "more": 1})
    golden = Golden("s.jsonl", tmp_path, regenerate=False)
    assert golden.check("case 1", {"status": "in_trial", "hours_paid": 0.0})
    golden.finish()


def test_a_command_not_in_the_file_fails(tmp_path: Path) -> None:
    write(tmp_path, {})
    with pytest.raises(AssertionError, match=r"not in s\.expected\.json"):
        Golden("s.jsonl", tmp_path, regenerate=False).check("handovers", [])


def test_an_expectation_left_unchecked_fails_at_the_end(tmp_path: Path) -> None:
    write(tmp_path, {"handovers": [], "worklist": []})
    golden = Golden("s.jsonl", tmp_path, regenerate=False)
    golden.check("handovers", [])
    with pytest.raises(AssertionError, match="no longer checks"):
        golden.finish()
    golden.finish(passed=False)  # a test that failed already is not failed twice


def test_the_same_command_twice_has_two_keys(tmp_path: Path) -> None:
    write(tmp_path, {"tick": 1, "tick #2": 0})
    golden = Golden("s.jsonl", tmp_path, regenerate=False)
    golden.check("tick", 1)
    with pytest.raises(AssertionError):
        golden.check("tick", 1)


def test_regenerating_writes_what_was_checked_in_order(tmp_path: Path) -> None:
    golden = Golden("s.jsonl", tmp_path, regenerate=True)
    golden.check("worklist", [])
    golden.check("case 1", {"exit": None})
    golden.check("worklist", [{"task": "meeting:joint"}])
    golden.finish()
    text = (tmp_path / "s.expected.json").read_text(encoding="utf-8")
    assert list(json.loads(text)) == ["worklist", "case 1", "worklist #2"]
    again = Golden("s.jsonl", tmp_path, regenerate=False)
    again.check("worklist", [])
    again.check("case 1", {"exit": None})
    again.check("worklist", [{"task": "meeting:joint"}])
    again.finish()
