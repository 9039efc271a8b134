"""The pages under /ui/ (infra/ui) through the app, without a browser: the session cookie and
its end, roles, every adviser form through the API's path on every store, CSRF and the
body's limits, the records of reads. The browser's view is in tests/e2e/test_ui_browser.py."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from itsdangerous import TimestampSigner, URLSafeTimedSerializer

from infra.cli import main
from infra.http.api import create_app
from infra.settings import Settings
from infra.store.store import Store
from infra.ui.session import fingerprint
from tests.scenario_helpers import SCENARIOS

TOKENS = "t-anna=adviser:anna,t-ida=auditor:ida,t-job=jobcenter:751,t-sys=system:membership"
KEY = "a-fixed-key-for-the-tests"
CASE = "0303833333"  # scenario 04: anna's, in the trial from 2021-04-06
BENT = "0202822222"  # scenario 04: bent's; holiday h-b1 pending until its decision is read
DAY = "2021-04-20"


class Forms(HTMLParser):
    """Each form's action and its fields' values (inputs, selects' first or selected option),
    by data-testid."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.forms: dict[str, dict[str, Any]] = {}
        self.current: dict[str, Any] | None = None
        self.select: str | None = None
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        at = dict(attrs)
        if tag == "form":
            self.current = {"action": at.get("action"), "fields": {}}
            self.forms.setdefault(str(at.get("data-testid")), self.current)
        elif self.current is not None and tag == "input" and at.get("name"):
            self.current["fields"][at["name"]] = at.get("value") or ""
        elif self.current is not None and tag == "select":
            self.select = at.get("name")
        elif self.current is not None and tag == "option" and self.select:
            fields = self.current["fields"]
            if self.select not in fields or "selected" in at:
                fields[self.select] = at.get("value")

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.current = None
        elif tag == "select":
            self.select = None


def ingest(url: str, path: Path) -> None:
    assert main(["ingest", str(path), "--db", url, "--quiet"]) == 0


def cli(url: str, capsys: pytest.CaptureFixture[str], *args: str) -> Any:
    capsys.readouterr()
    assert main([*args, "--db", url, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def app(url: str, **settings: Any) -> TestClient:
    options = {"api_tokens": TOKENS, "ui_session_key": KEY, **settings}
    return TestClient(
        create_app(Settings(db_url=url, **options), Store(url)), follow_redirects=False
    )


def sign_in(client: TestClient, token: str, next_: str = "") -> Any:
    form = Forms(client.get("/ui/login").text).forms["form-login"]["fields"]
    return client.post("/ui/login", data={**form, "token": token, "next": next_})


@pytest.fixture
def store_url(tmp_path: Path) -> str:
    """Scenario 04 without its last line (the holiday decision): h-b1 stays pending."""
    lines = (SCENARIOS / "04_worklist_two_advisers.jsonl").read_text().splitlines()
    path = tmp_path / "04.jsonl"
    path.write_text("\n".join(lines[:-1]) + "\n")
    url = f"sqlite:///{tmp_path}/ui.db"
    ingest(url, path)
    return url


@pytest.fixture
def anna(store_url: str) -> Iterator[TestClient]:
    client = app(store_url)
    assert sign_in(client, "t-anna").status_code == 303
    yield client
    client.close()


# --- the session ---------------------------------------------------------------------------


def test_the_session_cookie_is_signed_httponly_strict_expiring_and_secure_over_https(
    store_url: str,
) -> None:
    client = app(store_url, ui_session_hours=2)
    response = sign_in(client, "t-anna")
    assert response.status_code == 303 and response.headers["location"] == "/ui/worklist"
    cookie = response.headers.get_list("set-cookie")[0]
    assert cookie.startswith("ledighed_ui=")
    for part in ("HttpOnly", "Max-Age=7200", "Path=/ui", "SameSite=strict"):
        assert part in cookie
    assert "Secure" not in cookie
    assert "t-anna" not in cookie  # the token is never in the cookie
    secure = TestClient(client.app, base_url="https://testserver", follow_redirects=False)
    assert "Secure" in sign_in(secure, "t-anna").headers.get_list("set-cookie")[0]


def test_pages_without_a_session_redirect_to_the_login(store_url: str) -> None:
    client = app(store_url)
    for path in ("/ui/worklist", f"/ui/cases/{CASE}", "/ui/"):
        response = client.get(path, follow_redirects=True)
        assert response.url.path == "/ui/login"
    response = client.post(f"/ui/cases/{CASE}/messages", data={"type": "meeting_held"})
    assert response.status_code == 303 and response.headers["location"].startswith("/ui/login")


@pytest.mark.parametrize(("token", "role"), [("t-job", "jobcenter"), ("t-sys", "system")])
def test_jobcenter_and_system_tokens_are_refused_with_the_reason(
    store_url: str, token: str, role: str
) -> None:
    response = sign_in(app(store_url), token)
    assert response.status_code == 403
    assert f"<code>{role}</code>" in response.text and "API" in response.text
    assert "ledighed_ui=" not in response.headers.get("set-cookie", "")


def test_a_login_without_its_csrf_token_is_refused(store_url: str) -> None:
    client = app(store_url)
    client.get("/ui/login")
    response = client.post("/ui/login", data={"token": "t-anna"})
    assert response.status_code == 403
    assert "ledighed_ui=" not in response.headers.get("set-cookie", "")


def test_after_login_only_a_page_of_this_site(store_url: str) -> None:
    client = app(store_url)
    assert sign_in(client, "t-anna", f"/ui/cases/{CASE}").headers["location"] == (
        f"/ui/cases/{CASE}"
    )
    for elsewhere in ("//evil.example/ui/", "https://evil.example/", "/docs", "/ui/\\x"):
        client = app(store_url)
        assert sign_in(client, "t-anna", elsewhere).headers["location"] == "/ui/worklist"


def test_a_session_ends_on_sign_out_on_expiry_with_its_token_and_with_another_key(
    store_url: str,
) -> None:
    client = app(store_url)
    sign_in(client, "t-anna")
    cookie = client.cookies["ledighed_ui"]
    assert client.get("/ui/worklist").status_code == 200
    # sign-out needs the form's CSRF token, then ends the session, also for a kept cookie
    assert client.post("/ui/logout", data={"csrf": "x"}).status_code == 403
    page = client.get("/ui/worklist").text
    token = page.split('name="csrf" value="')[1].split('"')[0]
    assert client.post("/ui/logout", data={"csrf": token}).status_code == 303
    # the same process, which remembers the signed-out session
    replay = TestClient(client.app, follow_redirects=False)
    replay.cookies.set("ledighed_ui", cookie, path="/ui")
    assert replay.get("/ui/worklist").status_code == 303
    # the same key in another process (a restart) takes a live session ...
    client = app(store_url)
    sign_in(client, "t-anna")
    live = client.cookies["ledighed_ui"]
    other = app(store_url)
    other.cookies.set("ledighed_ui", live, path="/ui")
    assert other.get("/ui/worklist").status_code == 200
    # ... but not once its token is gone, nor under another key, nor an expired one
    for settings in ({"api_tokens": "t-ida=auditor:ida"}, {"ui_session_key": "another"}):
        gone = app(store_url, **settings)
        gone.cookies.set("ledighed_ui", live, path="/ui")
        assert gone.get("/ui/worklist").status_code == 303

    class NineHoursAgo(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time()) - 9 * 3600

    old = URLSafeTimedSerializer(KEY, salt="ledighed-ui-session", signer=NineHoursAgo).dumps(
        {"sid": "s", "fp": fingerprint("t-anna"), "role": "adviser"}
    )
    other.cookies.set("ledighed_ui", old, path="/ui")
    assert other.get("/ui/worklist").status_code == 303


# --- reads, and their records ----------------------------------------------------------------


def test_reads_are_recorded_as_the_apis_with_the_pages_source(
    anna: TestClient, store_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert anna.get(f"/ui/worklist?as_of={DAY}").status_code == 200
    assert anna.get(f"/ui/cases/{CASE}?as_of={DAY}").status_code == 200
    log = cli(store_url, capsys, "access-log")
    assert [(e["what"], e["source"]) for e in log] == [
        ("worklist", "ui:adviser:anna"),
        ("case,timeline", "ui:adviser:anna"),
    ]
    assert log[0]["parameters"] == {"adviser": "anna", "as_of": DAY, "page": "ui"}
    read = [r for r in cli(store_url, capsys, "history", CASE) if r["type"] == "CaseRead"]
    assert len(read) == 1 and read[0]["case_id"] is None
    assert read[0]["data"]["reader"] == "anna" and read[0]["data"]["role"] == "adviser"


def test_bad_days_and_cprs_and_unknown_members_are_pages_not_errors(anna: TestClient) -> None:
    assert anna.get("/ui/worklist?as_of=20210420").status_code == 422
    assert anna.get(f"/ui/cases/{CASE}?as_of=2021-02-30").status_code == 422
    assert anna.get("/ui/cases/12345?as_of=2021-04-20").status_code == 422
    assert anna.get("/ui/cases/0505901234").status_code == 404
    assert anna.get(f"/ui/cases/{CASE}?as_of=2021-01-01").status_code == 404


def test_the_pages_are_not_in_the_openapi_document(anna: TestClient) -> None:
    assert not [p for p in anna.get("/openapi.json").json()["paths"] if p.startswith("/ui")]


# --- acting on a case --------------------------------------------------------------------------

EVERY_FORM = [
    ("form-meeting-booked", {"kind": "availability_and_job", "on": "2021-05-26"}, "MeetingBooked"),
    ("form-meeting-held", {"kind": "cv_and_job", "held_on": "2021-04-19"}, "MeetingHeld"),
    ("form-extra-meetings-agreed", {"agreed_on": "2021-04-20"}, "ExtraMeetingsAgreed"),
    ("form-adviser-assigned", {"adviser": "bo", "assigned_on": "2021-04-20"}, "AdviserAssigned"),
    ("form-opted-out", {"decided_on": "2021-04-20", "note": "job i Norge"}, "OptedOut"),
]


def test_every_adviser_form_sends_one_message_through_the_apis_path(
    db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    ingest(db_url, SCENARIOS / "04_worklist_two_advisers.jsonl")
    client = app(db_url)
    sign_in(client, "t-anna")
    sent = []
    for testid, values, _ in EVERY_FORM:
        form = Forms(client.get(f"/ui/cases/{CASE}?as_of={DAY}").text).forms[testid]
        assert form["action"] == f"/ui/cases/{CASE}/messages"
        response = client.post(form["action"], data={**form["fields"], **values})
        assert response.status_code == 303, response.text
        assert "dublet" not in response.headers["location"]
        sent.append(form["fields"]["message_id"])
    history = cli(db_url, capsys, "history", CASE)
    for (_, _, event), message_id in zip(EVERY_FORM, sent, strict=True):
        events = [r for r in history if (r["source"] or {}).get("message_id") == message_id]
        assert events[0]["type"] == event  # and what the rules decided of it, after it
        assert {e["source"]["topic"] for e in events} == {"ui:adviser:anna"}
    case = cli(db_url, capsys, "case", CASE, "--as-of", DAY)
    assert case["status"] == "ended" and case["exit"]["reason"] == "opted_out"


def test_a_pending_holiday_is_decided_by_its_buttons(
    anna: TestClient, store_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    page = anna.get(f"/ui/cases/{BENT}?as_of={DAY}").text
    assert page.count('data-testid="approve"') == 1 and page.count('data-testid="refuse"') == 1
    form = Forms(page).forms["form-holiday-decided"]
    decision = {**form["fields"], "approved": "false"}
    assert anna.post(form["action"], data=decision).status_code == 303
    holiday = cli(store_url, capsys, "case", BENT, "--as-of", DAY)["holidays"][0]
    assert (holiday["status"], holiday["reason"]) == ("rejected", "adviser")
    # the same form again is a duplicate; a new decision on the settled request a refusal,
    # shown at the top (the holiday has no form any more)
    again = anna.post(form["action"], data=decision)
    assert 'data-outcome="duplicate"' in anna.get(again.headers["location"]).text
    refused = anna.post(form["action"], data={**decision, "message_id": "ui-second"})
    assert refused.status_code == 303
    shown = anna.get(refused.headers["location"]).text
    banner = shown.split('data-testid="outcome"')[1].split("</p>")[0]
    assert 'data-outcome="refused"' in banner and 'data-rule="R14"' in banner
    assert "h-b1" in banner


def test_an_auditor_sees_no_forms_and_may_not_post(
    store_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    client = app(store_url)
    sign_in(client, "t-ida")
    page = client.get(f"/ui/cases/{CASE}?as_of={DAY}").text
    assert 'data-testid="explain"' in page and 'data-testid="history"' in page
    assert 'action="/ui/cases/' not in page.replace(f'action="/ui/cases/{CASE}" class', "")
    csrf = page.split('name="csrf" value="')[1].split('"')[0]
    before = cli(store_url, capsys, "history", CASE)
    posted = client.post(
        f"/ui/cases/{CASE}/messages",
        data={"csrf": csrf, "type": "meeting_held", "message_id": "ui-aud", "kind": "joint",
              "held_on": DAY, "as_of": DAY},
    )  # fmt: skip
    assert posted.status_code == 403
    assert cli(store_url, capsys, "history", CASE) == before
    assert cli(store_url, capsys, "dead-letters", "--status", "all") == []


def test_a_contract_refusal_is_a_dead_letter_named_by_field(
    anna: TestClient, store_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    form = Forms(anna.get(f"/ui/cases/{CASE}?as_of={DAY}").text).forms["form-meeting-held"]
    response = anna.post(form["action"], data={**form["fields"], "held_on": "20-04-2021"})
    assert response.status_code == 303
    shown = anna.get(response.headers["location"]).text
    assert 'data-outcome="refused"' in shown and 'data-error-field="held_on"' in shown
    assert 'value="20-04-2021"' in shown  # the form kept as sent, to be corrected
    (letter,) = cli(store_url, capsys, "dead-letters")
    assert letter["message_id"] == form["fields"]["message_id"]
    assert letter["source"]["topic"] == "ui:adviser:anna"


def test_bodies_that_are_no_form_are_refused_and_store_nothing(
    store_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    client = app(store_url, api_max_body_bytes=600)
    sign_in(client, "t-anna")
    form = Forms(client.get(f"/ui/cases/{CASE}?as_of={DAY}").text).forms["form-meeting-held"]
    url, fields = form["action"], form["fields"]
    before = cli(store_url, capsys, "history", CASE)
    assert client.post(url, data={**fields, "note": "x" * 700}).status_code == 413
    assert client.post(url, json=fields).status_code == 415
    twice = "&".join(f"{k}={v}" for k, v in fields.items()) + "&kind=joint&kind=extra_job"
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    assert client.post(url, content=twice, headers=headers).status_code == 400
    bad_utf8 = "&".join(f"{k}={v}" for k, v in fields.items()) + "&held_on=%ff"
    assert client.post(url, content=bad_utf8, headers=headers).status_code == 400
    assert client.post(url, data={**fields, "type": "deregistered"}).status_code == 422
    after = [r for r in cli(store_url, capsys, "history", CASE) if r["type"] != "CaseRead"]
    assert after == [r for r in before if r["type"] != "CaseRead"]
    assert cli(store_url, capsys, "dead-letters", "--status", "all") == []
