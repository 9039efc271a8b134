"""Issue 20, point 4: the demo's year read in three interleavings of its topics (each topic's
own order kept, as Kafka keeps it) gives the same cases, case for case, the same worklist,
the same live handovers and the same dead letters as the file's own order."""

from __future__ import annotations

import json
import random
from datetime import date
from pathlib import Path
from typing import Any

from infra import bootstrap
from infra.demo.demo_data import generate_lines
from infra.demo.playback import route
from infra.settings import Settings

DAY = date(2021, 12, 31)
IDS = ("message_id", "replaces", "case_id")


def interleaved(lines: list[str], seed: int) -> list[str]:
    """The lines topic by topic, merged at random: each topic's order kept."""
    settings = Settings()
    queues: dict[str, list[str]] = {}
    for line in lines:
        queues.setdefault(route(line, settings)[0], []).append(line)
    rng = random.Random(seed)
    merged: list[str] = []
    while queues:
        topic = rng.choices(list(queues), weights=[len(q) for q in queues.values()])[0]
        merged.append(queues[topic].pop(0))
        if not queues[topic]:
            del queues[topic]
    return merged


def outcome(lines: list[str], url: str) -> dict[str, Any]:
    ledighed = bootstrap.application(Settings(db_url=url))
    try:
        ledighed.ingest(ledighed.file_records(lines, "year"), 200)
        ledighed.catch_up()
        cases = {cpr: [_without_ids(c) for c in ledighed.cases(cpr, DAY)] for cpr in _cprs(lines)}
        live: dict[str, Any] = {}
        for message in ledighed.handovers():  # the live handover of a case is its latest
            # Which revisions appear on the way may depend on the order (CONTRACT.md), so a
            # first handover and a revision with the same content are the same live one.
            content = {k: v for k, v in message.items() if k not in IDS}
            content["type"] = content["type"].replace("handover_revised", "handover")
            live[message["cpr"] + message["started_on"]] = content
        worklist = sorted(
            (t["cpr"], t["task"], t["due_by"], t["overdue"]) for t in ledighed.worklist(DAY)
        )
        letters = sorted(
            (d["message_id"] or "", d["error"]) for d in ledighed.dead_letters("all")
        )
        return {"cases": cases, "live": live, "worklist": worklist, "dead_letters": letters}
    finally:
        ledighed.close()


def _cprs(lines: list[str]) -> list[str]:
    found = set()
    for line in lines:
        try:
            found.add(json.loads(line)["cpr"])
        except (ValueError, KeyError, TypeError):
            continue  # the year's lines that are not JSON, or not a member's
    return sorted(found)


def _without_ids(case: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in case.items() if k != "case_id"}


def test_the_demo_year_in_three_interleavings_gives_the_same_store(tmp_path: Path) -> None:
    lines = generate_lines(seed=2020, members=60, year=2021)
    reference = outcome(lines, f"sqlite:///{tmp_path}/file_order.db")
    assert sum(len(c) for c in reference["cases"].values()) >= 60 and reference["live"]
    for seed in (1, 2, 3):
        mixed = interleaved(lines, seed)
        assert mixed != lines and sorted(mixed) == sorted(lines)
        got = outcome(mixed, f"sqlite:///{tmp_path}/mixed_{seed}.db")
        for part in ("cases", "live", "worklist", "dead_letters"):
            if part == "cases":
                differ = [c for c in reference["cases"] if got["cases"][c] != reference["cases"][c]]
                assert not differ, (seed, differ[:3])
            assert got[part] == reference[part], (seed, part)
