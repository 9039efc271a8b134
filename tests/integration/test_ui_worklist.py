"""Finding a member and working through the worklist on the pages (issue 21, point 3): the
search by CPR (with or without the hyphen), the worklist's filters (task type, overdue only,
municipality, adviser matched whatever its case), its sorting and its pages of 50, each
against `ledighed worklist --json` for the same store and day."""

from __future__ import annotations

import contextlib
import io
import json
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from infra.cli import main
from infra.demo.demo_data import generate_lines
from infra.ui import worklist as worklist_view
from tests.integration.test_ui import app, sign_in

DAY = "2021-11-30"


class Rows(HTMLParser):
    """The worklist rows' data attributes, the page links' targets by data-testid."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.rows: list[dict[str, str]] = []
        self.links: dict[str, str] = {}
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        at = {k: v or "" for k, v in attrs}
        if tag == "tr" and at.get("data-testid") == "worklist-row":
            self.rows.append({k[5:]: v for k, v in at.items() if k.startswith("data-")})
        elif tag == "a" and at.get("data-testid"):
            self.links[at["data-testid"]] = at["href"]


@pytest.fixture(scope="module")
def demo_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The demo's generator, 200 members through 2021: five advisers, some municipalities."""
    path: Path = tmp_path_factory.mktemp("worklist")
    messages = path / "demo.jsonl"
    messages.write_text("\n".join(generate_lines(seed=2021, members=200, year=2021)) + "\n")
    url = f"sqlite:///{path}/demo.db"
    assert main(["ingest", str(messages), "--db", url, "--quiet"]) == 0
    return url


@pytest.fixture(scope="module")
def everyone(demo_url: str) -> list[dict[str, Any]]:
    """`ledighed worklist --json` on DAY, every adviser's, with each case's municipality."""

    def run(*args: str) -> Any:
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            assert main([*args, "--db", demo_url, "--json"]) == 0
        return json.loads(out.getvalue())

    rows = run("worklist", "--as-of", DAY)
    for row in rows:
        row["municipality_code"] = run("case", row["cpr"], "--as-of", DAY)["municipality_code"]
    return list(rows)


@pytest.fixture
def ida(demo_url: str) -> Iterator[TestClient]:
    client = app(demo_url, today=DAY)
    assert sign_in(client, "t-ida").status_code == 303
    yield client
    client.close()


def shown(client: TestClient, **query: str) -> Rows:
    response = client.get("/ui/worklist", params={"as_of": DAY, **query})
    assert response.status_code == 200
    return Rows(response.text)


def keys(rows: list[dict[str, Any]]) -> list[tuple[str, str, str]]:
    return [(r["case_id"], r["task"], str(r["due_by"])) for r in rows]


def on_page(rows: list[dict[str, str]]) -> list[tuple[str, str, str]]:
    return [(r["case-id"], r["task"], r["due-by"]) for r in rows]


def test_the_search_opens_the_members_case_or_says_there_is_none(
    ida: TestClient, everyone: list[dict[str, Any]]
) -> None:
    cpr = everyone[0]["cpr"]
    for written in (cpr, f"{cpr[:6]}-{cpr[6:]}", f" {cpr} "):
        found = ida.get("/ui/cases", params={"cpr": written, "as_of": DAY})
        assert found.status_code == 303
        assert found.headers["location"] == f"/ui/cases/{cpr}?as_of={DAY}"
    none = ida.get("/ui/cases", params={"cpr": "010190-9999"})
    assert none.status_code == 404 and "text/html" in none.headers["content-type"]
    assert "Der er ingen sag for CPR-nummer 010190-9999" in none.text
    for bad in ("", "12345", "320190-1234"):
        wrong = ida.get("/ui/cases", params={"cpr": bad})
        assert wrong.status_code == 422 and "text/html" in wrong.headers["content-type"]
        assert "er ikke et CPR-nummer" in wrong.text
    assert 'data-testid="search-cpr"' in ida.get("/ui/worklist").text  # on every page


def test_the_filters_are_the_command_lines_worklist_filtered(
    ida: TestClient, everyone: list[dict[str, Any]]
) -> None:
    assert len(everyone) < worklist_view.PAGE_ROWS  # one page each: paging is tested below
    assert on_page(shown(ida, adviser="*").rows) == keys(everyone)
    advisers = sorted({r["adviser"] for r in everyone if r["adviser"]})
    assert len(advisers) > 1
    for adviser in (advisers[0], advisers[0].upper()):  # whatever its case
        expected = [r for r in everyone if r["adviser"] == advisers[0]]
        assert on_page(shown(ida, adviser=adviser).rows) == keys(expected)
    overdue = [r for r in everyone if r["overdue"]]
    assert overdue and on_page(shown(ida, overskredet="1").rows) == keys(overdue)
    task = worklist_view.task_type(everyone[0]["task"])
    expected = [r for r in everyone if worklist_view.task_type(r["task"]) == task]
    assert on_page(shown(ida, opgave=task).rows) == keys(expected)
    municipality = everyone[-1]["municipality_code"]
    expected = [r for r in everyone if r["municipality_code"] == municipality]
    assert on_page(shown(ida, kommune=str(municipality)).rows) == keys(expected)
    # each row shows the case's status and how many days its task is overdue
    for row in shown(ida).rows:
        assert row["status"] == "in_trial"
        days = int(row["days-overdue"])
        assert (days > 0) == (row["overdue"] == "true")
    unknown = ida.get("/ui/worklist", params={"as_of": DAY, "adviser": "nobody"}).text
    assert 'data-testid="unknown-adviser"' in unknown and advisers[0] in unknown


def test_sorting_and_pages_of_the_whole_filter_keep_the_filters_in_the_url(
    ida: TestClient, everyone: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    by_overdue = shown(ida, sorter="overdue").rows
    days = [int(r["days-overdue"]) for r in by_overdue]
    assert days == sorted(days, reverse=True)
    by_adviser = [r["adviser"] for r in shown(ida, sorter="adviser").rows]
    assert by_adviser == sorted(by_adviser)
    monkeypatch.setattr(worklist_view, "PAGE_ROWS", 4)  # a few pages of the small store
    expected = sorted(everyone, key=lambda r: (r["adviser"], r["due_by"], r["case_id"]))
    seen: list[tuple[str, str, str]] = []
    page = ida.get("/ui/worklist", params={"as_of": DAY, "adviser": "*", "sorter": "adviser"})
    assert f">{len(everyone)}</strong>" in page.text  # the count of the whole filter
    while True:
        rows = Rows(page.text)
        assert len(rows.rows) <= 4
        seen += on_page(rows.rows)
        if "page-next" not in rows.links:
            break
        assert "sorter=adviser" in rows.links["page-next"]
        page = ida.get(rows.links["page-next"].replace("&amp;", "&"))
    assert seen == [(r["case_id"], r["task"], r["due_by"]) for r in expected]
