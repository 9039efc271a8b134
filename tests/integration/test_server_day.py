"""The day the server lives on (issue 21, point 1): shown on every page beside the day
viewed, with a warning where a form would act past the programme end (R16); the demo's
serve command sets the demo's day; `tick` without `--on` on a years-old store asks first."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from infra import bootstrap
from infra.application import Report
from infra.cli import main
from infra.demo.demo import DEMO_DAY, _next_steps
from infra.http.api import create_app
from infra.settings import Settings
from infra.store.store import Store
from tests.integration.test_ui import CASE, DAY, SCENARIOS, Forms, app, cli, ingest, sign_in


@pytest.fixture
def store_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path}/day.db"
    ingest(url, SCENARIOS / "04_worklist_two_advisers.jsonl")
    return url


def test_every_page_shows_the_servers_day_beside_the_day_viewed(store_url: str) -> None:
    on_day = app(store_url, today="2021-04-22")
    login = on_day.get("/ui/login").text
    assert 'data-testid="server-day">2021-04-22<' in login
    sign_in(on_day, "t-anna")
    for path in (f"/ui/worklist?as_of={DAY}", f"/ui/cases/{CASE}?as_of={DAY}"):
        page = on_day.get(path).text
        assert 'data-testid="server-day">2021-04-22<' in page
        assert f'data-testid="viewed-day">{DAY}<' in page
        assert "past-end" not in page


def test_a_case_page_warns_when_its_forms_would_act_past_the_programme_end(
    store_url: str,
) -> None:
    late = app(store_url, today="2024-02-01")
    sign_in(late, "t-anna")
    page = late.get(f"/ui/cases/{CASE}?as_of={DAY}").text
    assert 'data-testid="server-day">2024-02-01<' in page
    warning = page.split('data-testid="past-end-warning">')[1].split("</p>")[0]
    assert "2024-02-01" in warning and "2023-12-31" in warning and "R16" in warning
    auditor = app(store_url, today="2024-02-01")
    sign_in(auditor, "t-ida")  # no forms, so no warning about them; the day still marked
    page = auditor.get(f"/ui/cases/{CASE}?as_of={DAY}").text
    assert "past-end-warning" not in page and 'data-testid="server-past-end"' in page


def _served_command(url: str, capsys: pytest.CaptureFixture[str]) -> list[str]:
    ledighed = bootstrap.application(Settings(db_url=url))
    try:
        capsys.readouterr()
        _next_steps(ledighed, Report(), url)
    finally:
        ledighed.close()
    (line,) = [x for x in capsys.readouterr().out.splitlines() if " serve " in x]
    return shlex.split(line)


def test_the_demos_serve_command_lives_on_the_demos_day_so_a_meeting_ends_no_case(
    store_url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    words = _served_command(store_url, capsys)
    env = dict(w.split("=", 1) for w in words if "=" in w and not w.startswith("-"))
    assert env["LEDIGHED_TODAY"] == DEMO_DAY.isoformat()
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    settings = Settings(db_url=store_url)  # as `serve` reads its environment
    assert settings.today == DEMO_DAY
    client = TestClient(create_app(settings, Store(store_url)), follow_redirects=False)
    sign_in(client, "demo-anna")
    form = Forms(client.get(f"/ui/cases/{CASE}?as_of={DEMO_DAY}").text).forms["form-meeting-held"]
    fields: dict[str, Any] = {**form["fields"], "kind": "joint", "held_on": "2021-12-20"}
    assert client.post(form["action"], data=fields).status_code == 303
    history = cli(store_url, capsys, "history", CASE)
    types = [r["type"] for r in history]
    assert "MeetingHeld" in types and "ProgrammeEnded" not in types
    assert cli(store_url, capsys, "case", CASE, "--as-of", DEMO_DAY.isoformat())["exit"] is None


def test_tick_without_on_asks_for_it_on_a_store_years_older_than_today(
    store_url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    before = cli(store_url, capsys, "history", CASE)
    monkeypatch.setenv("LEDIGHED_TODAY", "2026-12-08")
    capsys.readouterr()
    assert main(["tick", "--db", store_url]) == 2
    said = capsys.readouterr().err
    assert "--on 2021-" in said and "--yes" in said and "R16" in said
    assert cli(store_url, capsys, "history", CASE) == before  # nothing ended
    assert main(["tick", "--db", store_url, "--yes", "--json"]) == 0
    assert cli(store_url, capsys, "case", CASE, "--as-of", "2024-01-01")["exit"]["reason"] == (
        "programme_ended"
    )
    # within a year of the store's latest message, today is the tick's day without asking
    monkeypatch.setenv("LEDIGHED_TODAY", "2021-05-01")
    assert main(["tick", "--db", store_url, "--json"]) == 0

