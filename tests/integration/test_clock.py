"""The runtime reads "now" from the clock it is handed (infra/clock.py), which the
composition root (infra/bootstrap.py) builds: the tick gives up a parked message by the
clock's moment, not the machine's; the API and the pages judge "today" by it too."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from fastapi.testclient import TestClient

from infra import bootstrap
from infra.cli import main
from infra.clock import SYSTEM_CLOCK
from infra.http.api import create_app
from infra.settings import Settings
from infra.tick import tick
from tests.integration.test_ui import sign_in
from tests.scenario_helpers import SCENARIOS

CPR = "0101901234"
LINES = [
    {"message_id": "c-1", "type": "unemployed", "cpr": CPR, "registered_on": "2021-03-01",
     "insurance": "full_time", "municipality_code": 751, "birth_date": "1990-01-01",
     "vocational_education": False, "has_children": False},
    # the adviser's decision before jobnet's request: parked in the member's record
    {"message_id": "c-2", "type": "holiday_decided", "cpr": CPR, "request_id": "h1",
     "decided_on": "2021-03-11", "approved": True},
]


@dataclass
class FixedClock:
    moment: datetime

    def today(self) -> date:
        return self.moment.date()

    def now(self) -> datetime:
        return self.moment


def test_the_tick_gives_up_parked_messages_by_the_clock_it_is_handed(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/s.db"
    path = tmp_path / "parked.jsonl"
    path.write_text("".join(json.dumps(line) + "\n" for line in LINES))
    assert main(["ingest", str(path), "--json", "--quiet", "--db", url]) == 0
    store = bootstrap.store(url)
    try:
        rules = Settings(db_url=url).rule_settings()
        soon = FixedClock(datetime.now(UTC) + timedelta(days=29))
        assert tick(store, date(2021, 12, 31), rules, clock=soon).given_up == 0
        assert tick(store, date(2021, 12, 31), rules).given_up == 0  # the machine's clock
        later = FixedClock(datetime.now(UTC) + timedelta(days=31))
        assert tick(store, date(2021, 12, 31), rules, clock=later).given_up == 1
    finally:
        store.close()


def test_the_composition_root_hands_out_the_machines_clock() -> None:
    assert bootstrap.clock() is SYSTEM_CLOCK
    assert SYSTEM_CLOCK.today() == date.today()
    assert abs(SYSTEM_CLOCK.now() - datetime.now(UTC)) < timedelta(seconds=5)


def test_ledighed_today_sets_the_calendars_day_and_leaves_recorded_moments_real() -> None:
    clock = bootstrap.clock(Settings(today=date(2021, 12, 31)))
    assert clock.today() == date(2021, 12, 31)
    assert abs(clock.now() - datetime.now(UTC)) < timedelta(seconds=5)
    assert bootstrap.clock(Settings()) is SYSTEM_CLOCK


def test_the_api_and_the_pages_judge_today_by_the_clock_they_are_handed(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/s.db"
    scenario = SCENARIOS / "04_worklist_two_advisers.jsonl"
    assert main(["ingest", str(scenario), "--json", "--quiet", "--db", url]) == 0
    settings = Settings(db_url=url, api_tokens="t-aud=auditor:ida,t-adv=adviser:anna")
    day = date(2021, 3, 20)
    noon = datetime(2021, 3, 20, 12, tzinfo=UTC)
    ledighed = bootstrap.application(settings, at=FixedClock(noon))
    try:
        with TestClient(create_app(settings, ledighed)) as client:
            auth = {"Authorization": "Bearer t-aud"}
            for path in ("/worklist", "/handovers"):
                default = client.get(path, headers=auth)
                assert default.status_code == 200
                assert default.json() == client.get(
                    path, params={"as_of": day.isoformat()}, headers=auth
                ).json()
            assert ledighed.worklist(day) != ledighed.worklist(date.today())
            sign_in(client, "t-adv")
            page = client.get("/ui/worklist")
            assert page.status_code == 200 and day.isoformat() in page.text
    finally:
        ledighed.close()
