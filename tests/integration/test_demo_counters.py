"""The demo's live counters and its summary count the same things under the same names
(14): cases by status on 2021-12-31 (not cases that ever entered the trial), messages,
feed messages; the live ones from the read models, the summary from the log."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import func, select

from infra import bootstrap
from infra.application import Ledighed, Report
from infra.demo.demo import live_counters, summary
from infra.demo.demo_data import generate_lines
from infra.settings import Settings
from projections.tables import worklist_cases


@pytest.fixture
def ledighed(tmp_path) -> Iterator[Ledighed]:
    ledighed = bootstrap.application(Settings(db_url=f"sqlite:///{tmp_path}/demo.db"))
    try:
        yield ledighed
    finally:
        ledighed.close()


def test_the_live_counters_are_the_summarys_first_lines(ledighed: Ledighed) -> None:
    lines = generate_lines(seed=2021, members=120, year=2021)
    report = ledighed.ingest(ledighed.file_records(lines, "demo"), 500)
    ledighed.catch_up()
    live = live_counters(ledighed, report, published=17)
    outcome = summary(ledighed, report, published=17)
    assert live[0] == outcome[0]  # cases by status, in one order
    assert outcome[1].startswith(live[1])  # messages
    assert outcome[2].startswith(live[2])  # feed messages and published
    assert live[0].startswith("cases on 2021-12-31: in_trial ")
    assert live[1] == (
        f"messages: {report.accepted} accepted, {report.duplicates} duplicates, "
        f"{len(report.rejected)} rejected"
    )
    assert live[2].endswith(", 17 published")
    # in_trial counts the cases in the trial on the day, not every case that ever entered it
    in_trial = int(live[0].split("in_trial ")[1].split(",")[0])
    with ledighed.store.engine.connect() as conn:
        ever = conn.scalar(
            select(func.count()).select_from(worklist_cases).where(worklist_cases.c.in_trial)
        )
    ended = int(live[0].split("ended ")[1].split(",")[0])
    assert 0 < in_trial < ever and ended > 0


def test_without_a_publisher_the_counters_say_nothing_of_publishing(ledighed: Ledighed) -> None:
    assert live_counters(ledighed, Report(), None) == [
        "cases on 2021-12-31: in_trial 0, ended 0, outside_trial 0, notice_period 0",
        "messages: 0 accepted, 0 duplicates, 0 rejected",
        "handovers: 0 feed messages",
    ]
