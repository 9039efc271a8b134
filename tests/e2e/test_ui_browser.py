"""The pages in a real browser (Debian's Chromium through Playwright) against a real uvicorn:
signing in and being refused, the worklist and a case equal to the command line's, a meeting
recorded through the form (also without JavaScript), a double submit, a refusal, CSRF, the
auditor's view; screenshots for the README."""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Iterator
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest

from infra.cli import main
from infra.ui import words
from tests.e2e.conftest import Served
from tests.scenario_helpers import TRIAL_DAY

pytestmark = pytest.mark.browser

DOCS = Path(__file__).resolve().parents[2] / "docs"
DAY = "2021-04-20"
MOVED = "1104881234"  # scenario 02: ended, moved out, a revised handover
SICK = "0303833333"  # scenario 04: anna's, cv_and_job booked and due by 2021-04-20
HOLIDAY = "0202822222"  # scenario 04: bent's, a holiday pending as of 2021-04-20
HELD = "0101801111"  # scenario 04: anna's, cv_and_job held on 2021-03-10
OVERDUE = "1507901111"  # scenario 01b: availability overdue as of 2021-04-20


def cli(url: str, capsys: pytest.CaptureFixture[str], *args: str) -> Any:
    """`ledighed ARGS --db URL --json`: the JSON it printed (exit code 0)."""
    capsys.readouterr()
    assert main([*args, "--db", url, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


@pytest.fixture
def context(chromium: Any, served: Served) -> Iterator[Any]:
    context = chromium.new_context(base_url=served.base, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    yield context
    context.close()


@pytest.fixture
def page(context: Any) -> Any:
    return context.new_page()


def sign_in(page: Any, token: str, path: str = "/ui/login") -> Any:
    """Fill the login form (reached from `path`) and send it; the response to the post."""
    page.goto(path)
    page.fill("input[name=token]", token)
    with page.expect_response(lambda r: r.request.method == "POST") as response:
        page.click("[data-testid=form-login] button[type=submit]")
    page.wait_for_load_state()
    return response.value


def session_cookie(context: Any) -> dict[str, Any] | None:
    return next((c for c in context.cookies() if c["name"] == "ledighed_ui"), None)


def history_of(url: str, capsys: pytest.CaptureFixture[str], cpr: str) -> list[dict[str, Any]]:
    return list(cli(url, capsys, "history", cpr))


def with_id(rows: list[dict[str, Any]], message_id: str) -> list[dict[str, Any]]:
    return [r for r in rows if (r.get("source") or {}).get("message_id") == message_id]


def dead_letters(url: str, capsys: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    return list(cli(url, capsys, "dead-letters", "--status", "all"))


# --- signing in ----------------------------------------------------------------------------


def test_an_adviser_signs_in_to_the_worklist_with_a_strict_httponly_cookie(
    page: Any, context: Any
) -> None:
    response = sign_in(page, "tok-anna")
    assert response.status == 303
    assert page.url.endswith("/ui/worklist")
    assert "anna" in page.inner_text("[data-testid=signed-in]")
    assert page.locator("html").get_attribute("lang") == "da"
    cookie = session_cookie(context)
    assert cookie is not None
    assert cookie["httpOnly"] is True
    assert cookie["sameSite"] == "Strict"
    assert cookie["secure"] is False  # plain http on 127.0.0.1; https sets it (test_ui.py)
    assert cookie["path"] == "/ui"
    assert cookie["expires"] > 0  # expiring, not a browser-session cookie


def test_a_wrong_token_shows_the_form_again_with_an_error_and_nothing_else(
    page: Any, context: Any
) -> None:
    response = sign_in(page, "not-a-token")
    assert response.status == 401
    assert page.inner_text("[data-testid=error]") == "Ukendt token."
    assert page.locator("input[name=token]").is_visible()
    assert page.locator("[data-testid=signed-in]").count() == 0
    assert page.locator("main a, main table").count() == 0  # no link, no data
    assert session_cookie(context) is None


def test_a_jobcenter_token_is_refused_with_a_page_that_says_why(page: Any, context: Any) -> None:
    response = sign_in(page, "tok-aarhus")
    assert response.status == 403
    refused = page.inner_text("[data-testid=refused]")
    assert "jobcenter" in refused and "/handovers" in refused
    assert session_cookie(context) is None
    page.goto("/ui/worklist")
    assert "/ui/login" in page.url


def test_a_page_without_a_session_goes_to_the_login_and_back_after_it(page: Any) -> None:
    page.goto(f"/ui/cases/{MOVED}?as_of=2021-06-30")
    assert "/ui/login?next=" in page.url
    page.fill("input[name=token]", "tok-anna")
    page.click("[data-testid=form-login] button[type=submit]")
    page.wait_for_url(f"**/ui/cases/{MOVED}?as_of=2021-06-30")
    assert page.get_attribute("[data-testid=case-status]", "data-status") == "ended"
    assert "afsluttet" in page.inner_text("[data-testid=case-status]")


def test_signing_out_ends_the_session_also_for_a_kept_cookie(
    page: Any, context: Any, chromium: Any, served: Served
) -> None:
    sign_in(page, "tok-anna")
    kept = session_cookie(context)
    page.click("[data-testid=sign-out]")
    page.wait_for_url("**/ui/login")
    assert session_cookie(context) is None
    other = chromium.new_context(base_url=served.base)
    try:
        other.add_cookies([kept])
        replay = other.new_page()
        replay.goto("/ui/worklist")
        assert "/ui/login" in replay.url
    finally:
        other.close()


# --- the worklist and a case, as the command line shows them --------------------------------


def rows_on_page(page: Any) -> list[dict[str, Any]]:
    return page.eval_on_selector_all(
        "[data-testid=worklist] [data-testid=worklist-row]",
        """rows => rows.map(r => ({case_id: r.dataset.caseId, task: r.dataset.task,
            due_by: r.dataset.dueBy, overdue: r.dataset.overdue === "true",
            cpr: r.querySelector("a").textContent,
            href: r.querySelector("a").getAttribute("href")}))""",
    )


def test_the_worklist_is_the_command_lines_for_the_same_store_and_day(
    page: Any, served: Served, capsys: pytest.CaptureFixture[str]
) -> None:
    sign_in(page, "tok-anna")
    page.goto(f"/ui/worklist?as_of={DAY}")  # anna's own, by default
    own = cli(served.db_url, capsys, "worklist", "--as-of", DAY, "--adviser", "anna")
    keys = ("case_id", "task", "due_by", "overdue", "cpr")
    shown = rows_on_page(page)
    assert [{k: r[k] for k in keys} for r in shown] == [{k: t[k] for k in keys} for t in own]
    assert all(r["href"] == f"/ui/cases/{r['cpr']}?as_of={DAY}" for r in shown)
    overdue = sum(t["overdue"] for t in own)
    assert overdue > 0
    assert page.inner_text("[data-testid=open-count]") == str(len(own))
    assert page.inner_text("[data-testid=overdue-count]") == str(overdue)
    first_overdue = page.locator("[data-testid=worklist-row][data-overdue=true]").first
    assert "Overskredet" in first_overdue.inner_text()
    red = first_overdue.evaluate("r => getComputedStyle(r.cells[0]).backgroundColor")
    plain = page.locator("[data-testid=worklist-row][data-overdue=false]").first
    assert red != plain.evaluate("r => getComputedStyle(r.cells[0]).backgroundColor")

    page.click("[data-testid=everyone]")  # everyone's
    page.wait_for_url("**adviser=*")
    everyone = cli(served.db_url, capsys, "worklist", "--as-of", DAY)
    shown = rows_on_page(page)
    assert [{k: r[k] for k in keys} for r in shown] == [{k: t[k] for k in keys} for t in everyone]
    assert {t["adviser"] for t in everyone} == {"anna", "bent"}

    page.locator(f"[data-testid=worklist-row] a:text('{OVERDUE}')").first.click()
    page.wait_for_url(f"**/ui/cases/{OVERDUE}?as_of={DAY}")


@pytest.mark.parametrize(
    ("cpr", "day"), [(MOVED, "2021-06-30"), (OVERDUE, DAY), (HOLIDAY, DAY), (MOVED, "2021-04-01")]
)
def test_a_case_page_is_the_command_lines_case_and_timeline(
    page: Any, context: Any, served: Served, capsys: pytest.CaptureFixture[str], cpr: str, day: str
) -> None:
    sign_in(page, "tok-anna")
    page.goto(f"/ui/cases/{cpr}?as_of={day}")
    case = cli(served.db_url, capsys, "case", cpr, "--as-of", day)
    status = page.locator("[data-testid=case-status]")
    assert status.inner_text().startswith(words.STATUS[case["status"]])
    assert status.get_attribute("data-status") == case["status"]
    assert page.inner_text("[data-testid=case-start]") == (case["started_on"] or "\u2013")
    meetings = page.eval_on_selector_all(
        "[data-testid=meeting]",
        """rows => rows.map(r => ({kind: r.dataset.kind, due_from: r.dataset.dueFrom,
            due_by: r.dataset.dueBy, held_on: r.dataset.heldOn || null,
            state: r.dataset.state}))""",
    )
    keys = ("kind", "due_from", "due_by", "held_on", "state")
    assert meetings == [{k: m[k] for k in keys} for m in case["meetings"]]
    if case["exit"] is None:
        assert page.locator("[data-testid=case-exit]").count() == 0
    else:
        shown = page.locator("[data-testid=case-exit]")
        assert shown.get_attribute("data-reason") == case["exit"]["reason"]
        assert shown.get_attribute("data-on") == case["exit"]["on"]
        assert shown.get_attribute("data-rule") == case["exit"]["rule"]
    if case["expected_end"] and not case["exit"]:
        shown = page.locator("[data-testid=case-expected-end]")
        assert shown.get_attribute("data-on") == case["expected_end"]["on"]
    pending = [h["request_id"] for h in case["holidays"] if h["status"] == "pending"]
    assert page.locator("[data-testid=form-holiday-decided]").count() == len(pending)
    # the timeline is inline: `ledighed timeline`'s picture, the same pieces, in Danish words
    # on the page and in English on the command line
    assert page.locator("[data-testid=timeline] svg").count() == 1
    capsys.readouterr()
    assert main(["timeline", cpr, "--db", served.db_url, "--as-of", day, "--svg", "-"]) == 0
    svg = capsys.readouterr().out.strip()
    shown = page.inner_html("[data-testid=timeline]")
    assert shown.count("<text") == svg.count("<text") > 0
    words_shown = page.eval_on_selector_all(
        "[data-testid=timeline] svg text", "texts => texts.map(t => t.textContent)"
    )
    for danish, english in (("samtaler", "meetings"), ("markeringer", "markers"),
                            (f"pr. {day}", f"as of {day}")):
        assert danish in words_shown and danish not in svg, danish
        assert english in svg and english not in words_shown, english
    months = [t for t in words_shown if re.fullmatch(r"[a-z]{3} 20\d\d", t)]
    assert months and all(m.split()[0] in words.MONTHS for m in months)
    assert f">{months[0].capitalize().replace('Maj', 'May').replace('Okt', 'Oct')}<" in svg
    # the reads are in the member's history as the API records them, from the pages
    reads = [r for r in history_of(served.db_url, capsys, cpr) if r["type"] == "CaseRead"]
    assert reads and reads[-1]["source"]["topic"] == "ui:adviser:anna"
    assert reads[-1]["data"]["reader"] == "anna"


# --- acting on a case ------------------------------------------------------------------------


def test_a_meeting_recorded_through_the_form_without_javascript_is_in_the_history(
    chromium: Any, served: Served, capsys: pytest.CaptureFixture[str]
) -> None:
    context = chromium.new_context(base_url=served.base, java_script_enabled=False)
    try:
        page = context.new_page()
        sign_in(page, "tok-anna")
        page.goto(f"/ui/cases/{SICK}?as_of={DAY}")
        form = page.locator("[data-testid=form-meeting-held]")
        message_id = form.locator("input[name=message_id]").input_value()
        form.locator("select[name=kind]").select_option("cv_and_job")
        form.locator("input[name=held_on]").fill("2021-04-19")
        form.locator("button[type=submit]").click()
        page.wait_for_url(f"**sendt={message_id}&utfald=*")
        outcome = page.locator("[data-testid=outcome]")
        assert outcome.get_attribute("data-outcome") == "recorded"
        assert outcome.inner_text().startswith("Samtale holdt 2021-04-19 registreret: CV- og")
        page.reload()  # post/redirect/get: a reload shows the outcome again, posts nothing
        assert page.locator("[data-testid=outcome]").inner_text() == outcome.inner_text()
        held = page.locator("[data-testid=meeting][data-kind=cv_and_job]")
        assert held.get_attribute("data-held-on") == "2021-04-19"
        assert held.get_attribute("data-state") == "held"
    finally:
        context.close()
    events = with_id(history_of(served.db_url, capsys, SICK), message_id)
    assert [e["type"] for e in events] == ["MeetingHeld"]
    assert events[0]["source"]["topic"] == "ui:adviser:anna"
    assert events[0]["data"]["kind"] == "cv_and_job"
    assert events[0]["effective_on"] == "2021-04-19"


def test_a_double_submit_is_stored_once(
    page: Any, served: Served, capsys: pytest.CaptureFixture[str]
) -> None:
    sign_in(page, "tok-bent")
    page.goto(f"/ui/cases/{HOLIDAY}?as_of=2021-04-26")
    form = page.locator("[data-testid=form-meeting-held]")
    message_id = form.locator("input[name=message_id]").input_value()
    form.locator("select[name=kind]").select_option("cv_and_job")
    form.locator("input[name=held_on]").fill("2021-04-23")
    # The form sent twice at once, as two quick clicks would send it (no script stops it).
    landed = page.evaluate(
        """async () => {
            const form = document.querySelector("[data-testid=form-meeting-held]");
            const body = new URLSearchParams(new FormData(form));
            const send = () => fetch(form.action, {method: "POST", body: body});
            const pages = await Promise.all([send(), send()]);
            return Promise.all(pages.map(async r => [r.status, await r.text()]));
        }"""
    )
    assert [status for status, _ in landed] == [200, 200]
    kinds = sorted(html.split('data-outcome="')[1].split('"')[0] for _, html in landed)
    assert kinds == ["duplicate", "recorded"]
    events = with_id(history_of(served.db_url, capsys, HOLIDAY), message_id)
    assert [e["type"] for e in events] == ["MeetingHeld"]


def test_a_meeting_the_rules_refuse_shows_the_reason_and_stores_only_the_dead_letter(
    page: Any, served: Served, capsys: pytest.CaptureFixture[str]
) -> None:
    sign_in(page, "tok-anna")
    before = history_of(served.db_url, capsys, HELD)
    page.goto(f"/ui/cases/{HELD}?as_of={DAY}")
    form = page.locator("[data-testid=form-meeting-held]")
    message_id = form.locator("input[name=message_id]").input_value()
    form.locator("select[name=kind]").select_option("cv_and_job")
    form.locator("input[name=held_on]").fill("2021-04-19")
    with page.expect_response(lambda r: r.request.method == "POST") as response:
        form.locator("button[type=submit]").click()
    assert response.value.status == 303
    page.wait_for_url("**utfald=*")
    # the outcome at the top of the page, in view without scrolling, and beside the form
    outcome = page.locator("[data-testid=outcome]")
    assert outcome.get_attribute("data-outcome") == "refused"
    assert outcome.get_attribute("data-rule") == "R4"
    assert "R4" in outcome.inner_text() and "2021-03-10" in outcome.inner_text()
    assert outcome.bounding_box()["y"] < 900
    error = page.locator("[data-testid=form-meeting-held] [data-testid=error]")
    assert "R4: CV- og jobsamtale er allerede holdt 2021-03-10" in error.inner_text()
    # the form keeps its message id and values, to be sent again corrected
    form = page.locator("[data-testid=form-meeting-held]")
    assert form.locator("input[name=message_id]").input_value() == message_id
    assert form.locator("input[name=held_on]").input_value() == "2021-04-19"
    after = [r for r in history_of(served.db_url, capsys, HELD) if r["type"] != "CaseRead"]
    assert after == [r for r in before if r["type"] != "CaseRead"]
    letters = [d for d in dead_letters(served.db_url, capsys) if d["message_id"] == message_id]
    assert len(letters) == 1
    assert letters[0]["source"]["topic"] == "ui:adviser:anna"
    assert letters[0]["error"].startswith("R4:")


def test_a_post_without_a_valid_csrf_token_is_refused_and_changes_nothing(
    page: Any, served: Served, capsys: pytest.CaptureFixture[str]
) -> None:
    sign_in(page, "tok-anna")
    before = [r for r in history_of(served.db_url, capsys, OVERDUE) if r["type"] != "CaseRead"]
    letters = len(dead_letters(served.db_url, capsys))
    for tamper in ("f => f.querySelector('[name=csrf]').remove()",
                   "f => { f.querySelector('[name=csrf]').value = 'a'.repeat(64); }"):  # fmt: skip
        page.goto(f"/ui/cases/{OVERDUE}?as_of={DAY}")
        form = page.locator("[data-testid=form-meeting-held]")
        form.locator("select[name=kind]").select_option("availability_and_job")
        form.locator("input[name=held_on]").fill("2021-04-20")
        form.evaluate(tamper)
        with page.expect_response(lambda r: r.request.method == "POST") as response:
            form.locator("button[type=submit]").click()
        assert response.value.status == 403
        assert "CSRF" in page.inner_text("[data-testid=problem]")
    after = [r for r in history_of(served.db_url, capsys, OVERDUE) if r["type"] != "CaseRead"]
    assert after == before
    assert len(dead_letters(served.db_url, capsys)) == letters


def test_an_auditor_sees_the_explanation_and_the_history_and_no_forms(
    page: Any, served: Served, capsys: pytest.CaptureFixture[str]
) -> None:
    sign_in(page, "tok-ida")
    page.goto("/ui/worklist?as_of=" + DAY)  # an auditor's default: everyone's tasks
    assert page.locator("[data-testid=worklist-row]").count() == len(
        cli(served.db_url, capsys, "worklist", "--as-of", DAY)
    )
    page.goto(f"/ui/cases/{MOVED}?as_of=2021-06-30")
    explained = cli(served.db_url, capsys, "explain", MOVED, "--as-of", "2021-06-30")
    rules = page.eval_on_selector_all(
        "[data-testid=explain] tbody tr", "rows => rows.map(r => r.dataset.rule)"
    )
    assert rules == [x["rule"] for x in explained["explanations"]]
    assert "R9" in rules
    assert page.locator("[data-testid=history] tbody tr").count() > 0
    assert page.locator("main form[method=post]").count() == 0
    assert page.locator("[data-testid=actions]").count() == 0
    reads = [r for r in history_of(served.db_url, capsys, MOVED) if r["type"] == "CaseRead"]
    assert reads[-1]["source"]["topic"] == "ui:auditor:ida"


# --- pictures for the README --------------------------------------------------------------


def test_screenshots_of_the_worklist_a_case_and_the_auditors_view(
    page: Any, context: Any, tmp_path: Path
) -> None:
    """Taken on every run; copied into docs/ with LEDIGHED_UI_SCREENSHOTS=1."""
    shots = {
        "ui-worklist.png": ("tok-anna", f"/ui/worklist?as_of={DAY}&adviser=*"),
        "ui-case.png": ("tok-anna", f"/ui/cases/{HOLIDAY}?as_of={DAY}"),
        "ui-auditor.png": ("tok-ida", f"/ui/cases/{MOVED}?as_of=2021-06-30"),
    }
    for name, (token, path) in shots.items():
        if session_cookie(context) is None or token == "tok-ida":
            context.clear_cookies()
            sign_in(page, token)
        page.goto(path)
        page.screenshot(path=str(tmp_path / name), full_page=True)
        assert (tmp_path / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        if os.environ.get("LEDIGHED_UI_SCREENSHOTS") == "1":
            shutil.copyfile(tmp_path / name, DOCS / name)


def test_the_api_docs_page_works_with_the_network_off(context: Any, served: Served) -> None:
    # Every request that does not go to the server under test is refused, as on a fund's
    # closed network: Swagger UI still draws the API's operations from local files.
    refused: list[str] = []

    def only_local(route: Any) -> None:
        if route.request.url.startswith(served.base):
            route.continue_()
        else:
            refused.append(route.request.url)
            route.abort()

    context.route("**/*", only_local)
    page = context.new_page()
    page.goto("/docs")
    page.wait_for_selector(".swagger-ui .opblock")
    assert page.locator(".swagger-ui .opblock").count() > 10
    assert refused == []  # it did not even try the network


# --- the server's day, finding a member, every outcome in view (issue 21) ----------------------


def test_the_servers_day_the_search_and_a_message_only_kept_on_the_member(
    page: Any, served: Served, capsys: pytest.CaptureFixture[str]
) -> None:
    sign_in(page, "tok-anna")
    page.goto(f"/ui/worklist?as_of={DAY}")
    assert page.inner_text("[data-testid=server-day]") == TRIAL_DAY.isoformat()
    assert page.inner_text("[data-testid=viewed-day]") == DAY
    assert page.locator("[data-testid=server-past-end]").count() == 0
    # the search field, with the hyphen, opens the case on the day viewed
    page.fill("[data-testid=search-cpr]", f"{OVERDUE[:6]}-{OVERDUE[6:]}")
    page.press("[data-testid=search-cpr]", "Enter")
    page.wait_for_url(f"**/ui/cases/{OVERDUE}?as_of={DAY}")
    page.fill("[data-testid=search-cpr]", "0101909999")
    page.press("[data-testid=search-cpr]", "Enter")
    page.wait_for_load_state()
    assert "Der er ingen sag for CPR-nummer 010190-9999" in page.inner_text("main")
    # a meeting dated before any case: kept on the member, and said so, never a success
    page.goto(f"/ui/cases/{OVERDUE}?as_of={DAY}")
    form = page.locator("[data-testid=form-meeting-held]")
    message_id = form.locator("input[name=message_id]").input_value()
    form.locator("input[name=held_on]").fill("2020-01-01")
    form.locator("button[type=submit]").click()
    page.wait_for_url("**utfald=*")
    outcome = page.locator("[data-testid=outcome]")
    assert outcome.get_attribute("data-outcome") == "kept"
    assert outcome.inner_text() == (
        "Gemt på medlemmet: ingen sag dækker 2020-01-01; den anvendes, når en sag gør"
    )
    kept = with_id(history_of(served.db_url, capsys, OVERDUE), message_id)
    assert [e["type"] for e in kept] == ["KeptWithoutCase"]


def test_an_opt_out_is_confirmed_first_and_the_ended_case_offers_no_forms(
    page: Any, served: Served, capsys: pytest.CaptureFixture[str]
) -> None:
    sign_in(page, "tok-anna")
    page.goto(f"/ui/cases/{MOVED}?as_of=2021-06-30")  # ended: nothing the rules would take
    assert page.locator("[data-testid=actions], main form[method=post]").count() == 0
    assert page.locator("[data-testid=no-forms]").is_visible()
    page.goto(f"/ui/cases/{OVERDUE}?as_of={DAY}")
    form = page.locator("[data-testid=form-opted-out]")
    box = form.locator("[data-testid=confirm]")
    assert box.get_attribute("required") is not None  # the browser asks before sending
    before = [r for r in history_of(served.db_url, capsys, OVERDUE) if r["type"] != "CaseRead"]
    box.evaluate("b => b.removeAttribute('required')")  # as a browser without the check
    form.locator("button[type=submit]").click()
    page.wait_for_selector("[data-testid=form-confirm]")  # the server asks instead
    assert "R11" in page.inner_text("[data-testid=confirm-reason]")
    after = [r for r in history_of(served.db_url, capsys, OVERDUE) if r["type"] != "CaseRead"]
    assert after == before  # nothing sent yet
    page.click("[data-testid=confirm-send]")
    page.wait_for_url("**utfald=*")
    outcome = page.locator("[data-testid=outcome]")
    assert outcome.get_attribute("data-outcome") == "recorded"
    assert "sagen er afsluttet" in outcome.inner_text()
    assert page.locator("[data-testid=actions]").count() == 0
    case = cli(served.db_url, capsys, "case", OVERDUE, "--as-of", DAY)
    assert case["exit"]["reason"] == "opted_out"


def test_a_filtered_worklist_page_by_page_is_the_command_lines(
    page: Any, served: Served, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from infra.ui import worklist as worklist_view

    monkeypatch.setattr(worklist_view, "PAGE_ROWS", 1)  # the server runs in this process
    bents = cli(served.db_url, capsys, "worklist", "--as-of", DAY, "--adviser", "bent")
    assert len(bents) > 1
    sign_in(page, "tok-anna")
    page.goto(f"/ui/worklist?as_of={DAY}")
    page.select_option("[data-testid=filter-adviser]", "bent")
    page.click("[data-testid=filter-apply]")
    page.wait_for_url("**adviser=bent*")
    assert page.inner_text("[data-testid=open-count]") == str(len(bents))
    assert page.inner_text("[data-testid=page-count]") == str(len(bents))
    keys = ("case_id", "task", "due_by", "overdue", "cpr")
    seen: list[dict[str, Any]] = []
    while True:
        seen += rows_on_page(page)
        following = page.locator("[data-testid=page-next]")
        if following.count() == 0:
            break
        following.click()
        page.wait_for_load_state()
        assert "adviser=bent" in page.url  # the filter kept in the URL
    assert [{k: r[k] for k in keys} for r in seen] == [{k: t[k] for k in keys} for t in bents]


# --- accessible and usable on a laptop --------------------------------------------------------

AXE = Path(__file__).resolve().parents[2] / ".venv/axe/node_modules/axe-core/axe.min.js"
PAGES = {  # the login, the worklist, a case with its forms, the auditor's view
    "login": (None, "/ui/login"),
    "worklist": ("tok-anna", f"/ui/worklist?as_of={DAY}&adviser=*"),
    "case": ("tok-anna", f"/ui/cases/{HOLIDAY}?as_of={DAY}"),
    "auditor": ("tok-ida", f"/ui/cases/{MOVED}?as_of=2021-06-30"),
}
WRAPPED_DATES = """() => {
  // every ISO date outside the timeline, and whether its ten characters take more than one line
  const wrapped = [], walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    if (n.parentElement.closest('svg')) continue;
    for (const m of n.data.matchAll(/\\d{4}-\\d{2}-\\d{2}/g)) {
      const range = document.createRange();
      range.setStart(n, m.index); range.setEnd(n, m.index + 10);
      const rects = [...range.getClientRects()].filter(r => r.width > 0);
      const tops = new Set(rects.map(r => Math.round(r.top)));
      if (tops.size > 1) wrapped.push(n.data.trim().slice(0, 80));
    }
  }
  return wrapped;
}"""
HEADINGS = "() => [...document.querySelectorAll('h1,h2,h3,h4,h5,h6')].map(h => +h.tagName[1])"
UNLABELLED = """() => [...document.querySelectorAll('input:not([type=hidden]), select, textarea')]
  .filter(f => !(f.labels && f.labels.length) && !f.getAttribute('aria-label'))
  .map(f => f.outerHTML.slice(0, 80))"""


@pytest.fixture
def axe_context(chromium: Any, served: Served) -> Iterator[Any]:
    """The pages' scripts are only their own (CSP): axe-core is injected past it, from the
    venv (`make browser` installs it from the npm registry), never from the network."""
    if not AXE.exists():
        pytest.fail(f"no axe-core at {AXE}: run `make browser`", pytrace=False)
    context = chromium.new_context(base_url=served.base, bypass_csp=True)
    context.set_default_timeout(15_000)
    yield context
    context.close()


def test_the_pages_are_accessible_and_usable_at_1280_and_800_px(axe_context: Any) -> None:
    """axe-core finds no serious or critical violation on the login, worklist, case and
    auditor pages; every field has a label, the headings go down one level at a time, a
    skip link comes first and shows where the focus is, and no date wraps at either width."""
    page = axe_context.new_page()
    for name, (token, path) in PAGES.items():
        if token is not None:
            axe_context.clear_cookies()
            sign_in(page, token)
        for width in (1280, 800):
            page.set_viewport_size({"width": width, "height": 900})
            page.goto(path)
            page.add_script_tag(path=str(AXE))
            found = page.evaluate("async () => (await axe.run(document)).violations")
            bad = [
                (v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3])
                for v in found
                if v["impact"] in ("serious", "critical")
            ]
            assert bad == [], (name, width, bad)
            assert page.evaluate(UNLABELLED) == [], (name, width)
            levels = page.evaluate(HEADINGS)
            assert levels[0] == 1 and levels.count(1) == 1, (name, levels)
            assert all(b <= a + 1 for a, b in pairwise(levels)), levels
            assert page.evaluate(WRAPPED_DATES) == [], (name, width)
            assert page.evaluate("document.documentElement.scrollWidth") <= width, (name, width)
        assert page.locator("body > a.skip[href='#main']").count() == 1
        if name == "login":  # the token field has the focus already (autofocus)
            assert page.evaluate("document.activeElement.name") == "token"
            continue
        # the keyboard: the first Tab is the skip link, visibly focused, and it leads to main
        page.keyboard.press("Tab")
        focused = page.evaluate(
            "() => { const a = document.activeElement, s = getComputedStyle(a);"
            " return [a.getAttribute('href'), s.outlineStyle, parseFloat(s.outlineWidth),"
            " a.getBoundingClientRect().height] }"
        )
        assert focused[0] == "#main" and focused[1] != "none" and focused[2] >= 2, focused
        assert focused[3] > 0, "the skip link is shown when focused"
        page.keyboard.press("Enter")
        assert page.evaluate("document.activeElement.id") == "main"
