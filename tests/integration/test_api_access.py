"""Who sees what over HTTP: jobcenters their own handovers, and every read in the access log."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from infra.cli import main
from infra.http.api import create_app
from infra.http.api_auth import parse_tokens
from infra.settings import Settings
from infra.store import access_log
from infra.store.store import Store
from tests import api_figures
from tests.integration.test_api import MOVED, NO_CASE, cli, ingest
from tests.scenario_helpers import SCENARIOS

TOKENS = (
    "t-adv=adviser:anna,t-aud=auditor:ida,t-sys=system,"
    "t-751=jobcenter:751:aarhus,t-167=jobcenter:167,t-101=jobcenter:101+147,t-all=jobcenter:*"
)
ROLES = {
    "t-adv": "adviser",
    "t-aud": "auditor",
    "t-sys": "system",
    "t-751": "jobcenter",
    "t-167": "jobcenter",
    "t-101": "jobcenter",
    "t-all": "jobcenter",
}
SCENARIO_FILES = sorted(p.name for p in SCENARIOS.glob("0*.jsonl"))


@pytest.fixture(scope="module", autouse=True)
def _figures() -> Iterator[None]:
    yield
    api_figures.dump()


@pytest.fixture
def api(db_url: str) -> Iterator[tuple[TestClient, Store, str]]:
    """Every scenario on each store: handovers to 751 (three, one revised to 167) and 330."""
    ingest(db_url, *SCENARIO_FILES)
    store = Store(db_url)
    client = TestClient(create_app(Settings(db_url=db_url, api_tokens=TOKENS), store))
    yield api_figures.counting(client, ROLES), store, db_url
    store.close()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def page_through(client: TestClient, token: str, limit: int) -> tuple[list[Any], list[str]]:
    """Every page of the feed the token reads; the rows and each page's X-Feed-Length."""
    rows: list[Any] = []
    lengths, after = [], 0
    while True:
        page = client.get(
            "/handovers", params={"after": after, "limit": limit}, headers=bearer(token)
        )
        assert page.status_code == 200, page.text
        lengths.append(page.headers["X-Feed-Length"])
        if not page.json():
            return rows, lengths
        rows += page.json()
        assert int(page.headers["X-Next-After"]) == after + len(page.json())
        after = int(page.headers["X-Next-After"])


# --- jobcenters see their own -----------------------------------------------------------


def test_a_jobcenter_pages_through_its_own_handovers_and_what_replaces_them(
    api: tuple[TestClient, Store, str],
) -> None:
    client, _, _ = api
    feed = client.get("/handovers", headers=bearer("t-aud")).json()
    assert [m["jobcenter_municipality_code"] for m in feed] == [751, 751, 167, 751, 330]
    revision = feed[2]
    assert revision["replaces"] == feed[1]["message_id"]
    for token, expected in (
        ("t-751", [feed[0], feed[1], revision, feed[3]]),  # its revision to 167 included
        ("t-167", [revision]),
        ("t-101", []),
        ("t-all", feed),
    ):
        for limit in (1, 2, 10):
            rows, lengths = page_through(client, token, limit)
            assert rows == expected, (token, limit)
            assert set(lengths) == {str(len(expected))}
    # the jobcenter's `after` counts its own messages: its third is the revision
    third = client.get("/handovers", params={"after": 2, "limit": 1}, headers=bearer("t-751"))
    assert third.json() == [revision] and third.headers["X-Next-After"] == "3"
    assert all(m["cpr"] != feed[4]["cpr"] for m in page_through(client, "t-751", 10)[0])


def test_a_jobcenter_token_without_municipalities_is_refused_at_start_up(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for entry in ("t=jobcenter", "t=jobcenter:aarhus", "t=jobcenter:751+9999", "t=jobcenter:"):
        with pytest.raises(ValueError, match="names its municipality codes"):
            create_app(Settings(db_url=f"sqlite:///{tmp_path}/t.db", api_tokens=entry))
    assert parse_tokens("t=jobcenter:*")[0].municipalities is None
    assert parse_tokens("t=jobcenter:0751+730:x")[0].municipalities == {751, 730}
    monkeypatch.setenv("LEDIGHED_API_TOKENS", "tok-aarhus=jobcenter")
    assert main(["serve", "--db", f"sqlite:///{tmp_path}/t.db", "--port", "1"]) == 1
    error = capsys.readouterr().err
    # One error line (a new store's key file is made first, and said in a warning line).
    refusals = [line for line in error.splitlines() if '"level": "error"' in line]
    assert len(refusals) == 1 and "jobcenter:751+730" in refusals[0]
    assert "tok-aarhus" not in error  # a token is never printed whole


# --- every read in the access log ---------------------------------------------------------


def test_every_read_of_personal_data_is_in_the_access_log_by_member_id(
    api: tuple[TestClient, Store, str], capsys: pytest.CaptureFixture[str]
) -> None:
    client, store, url = api
    member = str(store.member_ids([MOVED])[MOVED])
    reads: list[tuple[str, str, dict[str, Any]]] = [
        ("t-adv", "/worklist", {"as_of": "2021-04-20", "adviser": "anna"}),
        ("t-adv", "/worklist", {"as_of": "2021-04-20"}),
        ("t-adv", f"/cases/{MOVED}", {"as_of": "2021-06-30"}),
        ("t-aud", f"/cases/{MOVED}/history", {}),
        ("t-aud", f"/cases/{MOVED}/explain", {"as_of": "2021-06-30"}),
        ("t-adv", f"/cases/{MOVED}/timeline.svg", {"as_of": "2021-06-30"}),
        ("t-751", "/handovers", {"after": 1, "limit": 2}),
    ]
    answers = []
    for token, path, params in reads:
        answer = client.get(path, params=params, headers=bearer(token))
        assert answer.status_code == 200, (path, answer.text)
        answers.append(answer)
    assert client.get(f"/cases/{NO_CASE}", headers=bearer("t-aud")).status_code == 404
    assert client.get("/access-log", headers=bearer("t-adv")).status_code == 403

    _, logged = cli(url, capsys, "access-log")
    assert [e["what"] for e in logged] == [
        "worklist",
        "worklist",
        "case",
        "history",
        "explain",
        "timeline",
        "handovers",
        "case",
    ]  # the 404 is there (a miss tells whether a CPR is a member); the 403 read nothing
    miss, feed_read = logged[-1], logged[-2]
    assert (miss["rows"], miss["member_ids"], miss["parameters"]) == (0, [], {"found": "no member"})
    worklist, everyone = logged[0], logged[1]
    assert (worklist["reader"], worklist["role"], worklist["source"]) == (
        "anna",
        "adviser",
        "http:adviser:anna",
    )
    assert worklist["parameters"] == {"as_of": "2021-04-20", "adviser": "anna"}
    shown = {r["cpr"] for r in answers[0].json()}
    assert worklist["rows"] == len(answers[0].json()) > 0
    assert sorted(worklist["member_ids"]) == sorted(
        str(m) for m in store.member_ids(shown).values()
    )
    assert len(everyone["member_ids"]) >= len(worklist["member_ids"])
    assert logged[2]["member_ids"] == [member] and logged[2]["parameters"] == {
        "as_of": "2021-06-30"
    }
    feed = answers[-1].json()
    assert feed_read["reader"] == "aarhus" and feed_read["rows"] == len(feed) == 2
    assert feed_read["parameters"] == {"after": 1, "limit": 2}
    assert sorted(feed_read["member_ids"]) == sorted(
        str(m) for m in store.member_ids(m["cpr"] for m in feed).values()
    )
    # the auditor's endpoint gives the same entries, then records its own read
    by_api = client.get("/access-log", headers=bearer("t-aud"))
    assert by_api.json() == logged and by_api.headers["X-Next-After"] == str(logged[-1]["entry_id"])
    of_member = client.get("/access-log", params={"cpr": MOVED}, headers=bearer("t-aud")).json()
    assert [e["what"] for e in of_member] == ["case", "history", "explain", "timeline", "handovers"]
    _, again = cli(url, capsys, "access-log", "--cpr", MOVED, "--reader", "ida")
    assert [e["what"] for e in again] == ["history", "explain", "access-log"]
    assert again[-1]["member_ids"] == [member] and "cpr" not in again[-1]["parameters"]
    later = client.get("/access-log", params={"since": "2999-01-01"}, headers=bearer("t-aud"))
    assert later.json() == []
    # no CPR anywhere in the log's tables
    with store.engine.connect() as conn:
        stored = [
            *conn.execute(select(access_log.access_log)).all(),
            *conn.execute(select(access_log.access_log_members)).all(),
        ]
    dumped = json.dumps([list(map(str, row)) for row in stored])
    cprs = {cpr for cpr in store.cprs().values() if cpr}
    assert stored and len(cprs) > 5 and not any(cpr in dumped for cpr in cprs)


def test_the_access_log_text_output_names_its_columns(
    api: tuple[TestClient, Store, str], capsys: pytest.CaptureFixture[str]
) -> None:
    client, _, url = api
    client.get("/worklist", params={"as_of": "2021-04-20"}, headers=bearer("t-adv"))
    capsys.readouterr()
    assert main(["access-log", "--db", url]) == 0
    out = capsys.readouterr().out
    assert "worklist" in out and "members" in out.splitlines()[0]


def test_the_old_jobcenter_gets_the_one_message_that_moves_a_case_away_and_no_later_one() -> None:
    """Issue 26: a case handed to 751 that moved to 167 kept sending 751 every revision
    after. 751 sees its own and the revision that hands the case to 167; 167 sees that
    one and its own; a move back to 751 is 751's again."""
    from infra.http.api_auth import visible_handovers

    def message(n: int, code: int, replaces: int | None) -> dict[str, Any]:
        return {
            "message_id": f"c:handover:{n}",
            "replaces": None if replaces is None else f"c:handover:{replaces}",
            "jobcenter_municipality_code": code,
        }

    feed = [
        message(1, 751, None),
        message(2, 751, 1),  # a revision, still 751's
        message(3, 167, 2),  # the case moved to 167: 751's handover is no longer live
        message(4, 167, 3),  # a later revision of 167's handover
        message(5, 167, 4),
        message(6, 751, 5),  # moved back
    ]
    principals = {p.token: p for p in parse_tokens(TOKENS)}

    def seen(token: str) -> list[int]:
        return [int(m["message_id"][-1]) for m in visible_handovers(principals[token], feed)]

    assert seen("t-751") == [1, 2, 3, 6]
    assert seen("t-167") == [3, 4, 5, 6]
    assert seen("t-all") == [1, 2, 3, 4, 5, 6]


def test_a_read_of_dead_letters_is_logged_with_the_members_they_belong_to(
    api: tuple[TestClient, Store, str], capsys: pytest.CaptureFixture[str]
) -> None:
    """Issue 26: dead-letter reads were logged without their members, so `access-log --cpr`
    missed them. Scenario 03's member 2509791234 has dead letters (a missing month, a wrong
    date, a municipality that is none); the list and one letter name the member."""
    client, store, url = api
    member = str(store.member_ids(["2509791234"])["2509791234"])
    letters = client.get("/dead-letters", params={"status": "all"}, headers=bearer("t-aud"))
    assert letters.status_code == 200
    of_member = [row for row in letters.json() if row["message_id"] in ("s3-06", "s3-08")]
    assert len(of_member) == 2, letters.json()
    one = client.get(f"/dead-letters/{of_member[0]['id']}", headers=bearer("t-sys"))
    assert one.status_code == 200 and b"2509791234" in one.content
    _, logged = cli(url, capsys, "access-log", "--cpr", "2509791234")
    assert [e["what"] for e in logged] == ["dead-letters", "dead-letter"]
    assert all(member in e["member_ids"] for e in logged)
    assert "2509791234" not in json.dumps(logged)
