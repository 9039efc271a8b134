"""R16 without waiting a day (issue 14): when the service's calendar (its clock) is past the
programme end, each batch ends the cases it touched, as the tick of that day (source
`tick:DATE`), in the batch's own transaction. `ingest` never does (RULES.md R16).

Worked dates, scenario 06: 0707771234 registered 2023-10-02 in Vejle (630), still in the
trial at the end; 0808721234 registered 2023-09-04 in Fredericia, deregistered 2023-11-30."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest

from consumers.records import InboundRecord
from domain.messages import parse_message
from infra import bootstrap
from infra.application import Report
from infra.clock import DayClock
from infra.runtime.service import StoreSink
from infra.settings import Settings
from infra.store.store import Store
from tests.scenario_helpers import SCENARIOS, Ledighed, scenario_lines

IN_TRIAL = "0707771234"
DEREGISTERED = "0808721234"
PROGRAMME_ENDED = {"reason": "programme_ended", "on": "2023-12-31", "rule": "R16"}
TOPIC = "akasse.members"


@pytest.fixture
def cli(db_url: str, capsys: pytest.CaptureFixture[str]) -> Ledighed:
    return Ledighed(db_url, capsys)


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    store = bootstrap.store(db_url)
    try:
        yield store
    finally:
        store.close()


class Batches:
    """The service's sink, as the consumer calls it: records with offsets on one partition."""

    def __init__(self, store: Store, db_url: str, today: date) -> None:
        settings = Settings(db_url=db_url)
        clock = DayClock(today)
        self.sink = StoreSink(bootstrap.application(settings, over=store, at=clock), settings)
        self.offset = 0

    def send(self, lines: list[str]) -> None:
        records = []
        for line in lines:
            cpr = json.loads(line)["cpr"]
            records.append(
                InboundRecord.from_kafka_record(TOPIC, 0, self.offset, line.encode(), cpr.encode())
            )
            self.offset += 1
        self.sink.apply(records, {(TOPIC, 0): self.offset})


def types(trail: list[dict[str, Any]]) -> list[str]:
    return [row["type"] for row in trail]


def test_r16_a_batch_on_2024_03_01_ends_its_case_on_2023_12_31(
    cli: Ledighed, store: Store, db_url: str
) -> None:
    batches = Batches(store, db_url, date(2024, 3, 1))
    batches.send(scenario_lines("06_programme_end.jsonl"))
    assert batches.sink.totals.programme_ended == 1
    assert batches.sink.totals.accepted == 7
    # read right after the batch, no daily tick in between
    case = cli.json("case", IN_TRIAL, "--as-of", "2024-03-01")
    assert case["status"] == "ended" and case["exit"] == PROGRAMME_ENDED
    # recorded as the tick's event, not as the last message's
    trail = cli.json("history", IN_TRIAL)
    ended = [row for row in trail if row["type"] == "ProgrammeEnded"]
    assert len(ended) == 1
    assert ended[0]["effective_on"] == "2023-12-31"
    assert ended[0]["source"] == {
        "message_id": "tick:2024-03-01",
        "topic": "tick",
        "partition": None,
        "offset": None,
    }
    assert all(r["source"]["message_id"] == "tick:2024-03-01" for r in trail[-3:])
    # the handover to Vejle's jobcenter, published as a tick's would be
    feed = cli.json("handovers")
    assert [(h["cpr"], h["reason"], h["effective_on"]) for h in feed] == [
        (IN_TRIAL, "programme_ended", "2023-12-31")
    ]
    assert feed[0]["jobcenter_municipality_code"] == 630
    # deregistered on 2023-11-30: left before the end, R16 does not touch it
    other = cli.json("case", DEREGISTERED, "--as-of", "2024-03-01")
    assert other["exit"] == {"reason": "deregistered", "on": "2023-11-30", "rule": "R17"}
    assert "ProgrammeEnded" not in types(cli.json("history", DEREGISTERED))


def test_r16_a_later_batch_for_an_ended_case_ends_it_no_second_time(
    cli: Ledighed, store: Store, db_url: str
) -> None:
    batches = Batches(store, db_url, date(2024, 3, 1))
    batches.send(scenario_lines("06_programme_end.jsonl"))
    late = {
        "message_id": "s6-late", "type": "meeting_held", "cpr": IN_TRIAL,
        "kind": "joint", "held_on": "2023-12-05",
    }  # fmt: skip
    batches.send([json.dumps(late)])
    assert batches.sink.totals.programme_ended == 1
    trail = cli.json("history", IN_TRIAL)
    assert types(trail).count("ProgrammeEnded") == 1
    assert cli.json("case", IN_TRIAL)["exit"] == PROGRAMME_ENDED


def test_r16_on_2023_12_31_itself_the_batch_ends_the_case(
    cli: Ledighed, store: Store, db_url: str
) -> None:
    batches = Batches(store, db_url, date(2023, 12, 31))
    batches.send(scenario_lines("06_programme_end.jsonl"))
    assert cli.json("case", IN_TRIAL, "--as-of", "2023-12-31")["exit"] == PROGRAMME_ENDED
    ended = [r for r in cli.json("history", IN_TRIAL) if r["type"] == "ProgrammeEnded"]
    assert ended[0]["source"]["message_id"] == "tick:2023-12-31"


def test_r16_on_2023_12_30_a_batch_leaves_the_case_in_the_trial(
    cli: Ledighed, store: Store, db_url: str
) -> None:
    batches = Batches(store, db_url, date(2023, 12, 30))
    batches.send(scenario_lines("06_programme_end.jsonl"))
    assert batches.sink.totals.programme_ended == 0
    case = cli.json("case", IN_TRIAL, "--as-of", "2024-03-01")
    assert case["status"] == "in_trial" and case["exit"] is None
    assert "ProgrammeEnded" not in types(cli.json("history", IN_TRIAL))


def test_r16_only_the_cases_the_batch_touched_the_rest_wait_for_the_daily_tick(
    cli: Ledighed, store: Store, db_url: str
) -> None:
    # 0707771234 arrives through `ingest`, which never applies R16 ...
    first = SCENARIOS / "06_programme_end.jsonl"
    report = cli.json("ingest", str(first))
    assert report["accepted"] == 7
    assert cli.json("case", IN_TRIAL, "--as-of", "2024-03-01")["status"] == "in_trial"
    # ... then a batch of the service on 2024-03-01 for another member only
    other = {
        "message_id": "b-1", "type": "unemployed", "cpr": "0505801234",
        "registered_on": "2023-11-06", "insurance": "full_time", "municipality_code": 751,
        "birth_date": "1980-05-05", "vocational_education": True, "has_children": False,
    }  # fmt: skip
    Batches(store, db_url, date(2024, 3, 1)).send([json.dumps(other)])
    assert cli.json("case", "0505801234")["exit"] == PROGRAMME_ENDED
    assert cli.json("case", IN_TRIAL, "--as-of", "2024-03-01")["status"] == "in_trial"
    # the daily tick ends the rest
    tick = cli.json("tick", "--on", "2024-03-01")
    assert (tick["exits"], tick["handovers"]) == (1, 1)
    assert cli.json("case", IN_TRIAL, "--as-of", "2024-03-01")["exit"] == PROGRAMME_ENDED


def test_r16_a_message_posted_on_2024_03_01_ends_its_case_too(
    cli: Ledighed, store: Store, db_url: str
) -> None:
    # POST /messages and the pages' forms go through Ledighed.post (infra/http/posting.py)
    ledighed = Batches(store, db_url, date(2024, 3, 1)).sink.ledighed
    report = Report()
    for line in scenario_lines("06_programme_end.jsonl"):
        report.add(
            ledighed.post(InboundRecord(line, "api:adviser:anna", None, None), parse_message(line))
        )
    # one message at a time: 0808721234's case too is ended on its arrival, before its
    # deregistration (2023-11-30) is posted
    assert report.accepted == 7 and report.programme_ended == 2
    assert cli.json("case", IN_TRIAL, "--as-of", "2024-03-01")["exit"] == PROGRAMME_ENDED
    ended = [r for r in cli.json("history", IN_TRIAL) if r["type"] == "ProgrammeEnded"]
    assert ended[0]["source"]["message_id"] == "tick:2024-03-01"
