"""Each rule decides once (issue 8.4): over the demo year, as of several days, every case
shows the exit its latest stored decision names (of the exits it knew, those known by the
day), and `explain` and the timeline say what the case object says."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from domain.facts import ExitReason
from domain.params import DEFAULT_SETTINGS
from domain.rules.exits import REASON_PRECEDENCE
from infra import reads
from infra.cli import main
from infra.demo.demo_data import generate_lines, write_jsonl
from infra.store.store import Store
from infra.timeline import timeline_svg

DAYS = [
    date(2021, 3, 31),
    date(2021, 6, 30),
    date(2021, 9, 15),
    date(2021, 12, 31),
    date(2024, 6, 30),
]
SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Any:
    folder: Path = tmp_path_factory.mktemp("demo")
    path = folder / "messages.jsonl"
    write_jsonl(generate_lines(seed=2021, members=80), path)
    url = f"sqlite:///{folder}/demo.db"
    assert main(["ingest", str(path), "--quiet", "--db", url]) == 0
    store = Store(url)
    yield store
    store.close()


def _latest_decision(history: list[dict[str, Any]], case_id: str) -> dict[str, Any] | None:
    decided = [r for r in history if r["case_id"] == case_id and r["type"] == "ExitDecided"]
    return decided[-1]["data"] if decided else None


def _decided_exit(decision: dict[str, Any] | None, day: date) -> dict[str, str] | None:
    """The exit the stored decision names as of `day`: the earliest of the exits it knew
    whose facts are in effect by then (R13), read from the audit trail."""
    if decision is None:
        return None
    known = [k for k in decision["known"] if k["known_from"] <= day.isoformat()]
    if not known:
        return None
    order: tuple[ExitReason, ...] = REASON_PRECEDENCE
    first = min(known, key=lambda k: (k["on"], order.index(k["reason"])))
    return {"reason": first["reason"], "on": first["on"], "rule": first["rule"]}


def test_every_case_shows_its_stored_decision_and_explain_and_timeline_agree(store: Any) -> None:
    cprs = sorted(c for c in store.cprs().values() if c)
    assert len(cprs) >= 70
    checked = exits_seen = 0
    for cpr in cprs:
        history = reads.history(store, cpr)
        for day in DAYS:
            cases = reads.case_dicts(store, cpr, day, DEFAULT_SETTINGS)
            for case in cases:
                if case["status"] == "outside_trial":
                    assert case["exit"] is None
                    continue
                decision = _latest_decision(history, case["case_id"])
                assert case["exit"] == _decided_exit(decision, day), (cpr, day)
                if day == DAYS[-1] and decision is not None:  # everything in effect
                    assert case["exit"] == {k: decision[k] for k in ("reason", "on", "rule")}
                checked += 1
                exits_seen += case["exit"] is not None
            if not cases:
                continue
            latest = cases[-1]
            explained = reads.explain(store, cpr, day, DEFAULT_SETTINGS)
            assert explained is not None and explained["case_id"] == latest["case_id"]
            by_subject = {x["subject"]: x for x in explained["explanations"]}
            assert by_subject["status"]["value"] == latest["status"]
            if latest["status"] != "outside_trial":
                assert (by_subject["exit"]["value"] if "exit" in by_subject else None) == latest[
                    "exit"
                ]
            svg = timeline_svg(store, cpr, day, DEFAULT_SETTINGS)
            assert svg is not None
            root = ET.fromstring(svg)
            desc = root.find(f"{SVG}desc")
            assert desc is not None and desc.text is not None
            assert desc.text.startswith(f"Status {latest['status']} as of {day}.")
            if (e := latest["exit"]) is not None:
                assert f"exit: {e['reason']} {e['on']} ({e['rule']})." in desc.text
            else:
                assert "exit: " not in desc.text
    assert checked > 200 and exits_seen > 100
