"""Every form's outcome in view (issue 21, point 2): a post is answered by a redirect (303)
to the case with the outcome at the top in words (recorded, kept on the member, refused with
its rule, duplicate); a reload shows it again and posts nothing; what ends the trial is sent
only once confirmed; an ended case offers no forms."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.integration.test_ui import (  # noqa: F401 (store_url: the fixture)
    CASE,
    DAY,
    Forms,
    app,
    cli,
    sign_in,
    store_url,
)

TODAY = "2021-04-22"  # the server's day, inside the trial: no post ends a case by R16


@pytest.fixture
def anna(store_url: str) -> TestClient:  # noqa: F811
    client = app(store_url, today=TODAY)
    assert sign_in(client, "t-anna").status_code == 303
    return client


def fields_of(client: TestClient, testid: str, **values: str) -> dict[str, Any]:
    """The case page's form's fields as drawn (a checkbox ticked), with these values."""
    form = Forms(client.get(f"/ui/cases/{CASE}?as_of={DAY}").text).forms[testid]
    return {**form["fields"], **values}


def send(client: TestClient, testid: str, **values: str) -> tuple[Any, dict[str, Any]]:
    """The case's form sent with these values: the response and the fields sent."""
    fields = fields_of(client, testid, **values)
    return client.post(f"/ui/cases/{CASE}/messages", data=fields), fields


def banner(html: str) -> tuple[str, str]:
    """The outcome shown at the top of the page: its kind and its words."""
    tag = html.split('data-testid="outcome"')[1]
    kind = tag.split('data-outcome="')[1].split('"')[0]
    words = tag.split(">", 1)[1].split("</p>")[0]
    return kind, re.sub(r"<[^>]+>", "", words)  # the words as read (dates are kept whole)


def without_reads(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [r for r in rows if r["type"] != "CaseRead"]


def test_a_recorded_meeting_says_what_was_recorded_and_a_reload_posts_nothing(
    anna: TestClient, store_url: str, capsys: pytest.CaptureFixture[str]  # noqa: F811
) -> None:
    response, fields = send(anna, "form-meeting-held", kind="cv_and_job", held_on="2021-04-19")
    assert response.status_code == 303
    location = response.headers["location"]
    assert location.startswith(f"/ui/cases/{CASE}?as_of={DAY}&sendt={fields['message_id']}")
    page = anna.get(location)
    assert page.status_code == 200
    kind, text = banner(page.text)
    assert kind == "recorded"
    assert text.startswith("Samtale holdt 2021-04-19 registreret: CV- og jobsamtale, holdt")
    before = without_reads(cli(store_url, capsys, "history", CASE))
    assert banner(anna.get(location).text) == (kind, text)  # a reload: the same, no post
    assert without_reads(cli(store_url, capsys, "history", CASE)) == before
    # the outcome is the session's own: another session's browser sees no banner
    other = app(store_url, today=TODAY)
    sign_in(other, "t-anna")
    assert 'data-testid="outcome"' not in other.get(location).text


def test_a_message_only_kept_on_the_member_never_reads_as_a_plain_success(
    anna: TestClient, store_url: str, capsys: pytest.CaptureFixture[str]  # noqa: F811
) -> None:
    response, fields = send(anna, "form-meeting-held", kind="cv_and_job", held_on="2020-01-01")
    kind, text = banner(anna.get(response.headers["location"]).text)
    assert kind == "kept"
    assert text == "Gemt på medlemmet: ingen sag dækker 2020-01-01; den anvendes, når en sag gør"
    assert "registreret" not in text
    kept = [
        r
        for r in cli(store_url, capsys, "history", CASE)
        if (r["source"] or {}).get("message_id") == fields["message_id"]
    ]
    assert [r["type"] for r in kept] == ["KeptWithoutCase"]


def test_a_refusal_names_its_rule_and_a_repeat_is_a_duplicate(anna: TestClient) -> None:
    first, fields = send(anna, "form-meeting-held", kind="cv_and_job", held_on="2021-04-19")
    assert banner(anna.get(first.headers["location"]).text)[0] == "recorded"
    second, _ = send(anna, "form-meeting-held", kind="cv_and_job", held_on="2021-04-20")
    kind, text = banner(anna.get(second.headers["location"]).text)
    assert kind == "refused" and text.startswith("Afvist efter R4")
    assert "2021-04-19" in text
    twice = anna.post(f"/ui/cases/{CASE}/messages", data=fields)
    kind, text = banner(anna.get(twice.headers["location"]).text)
    assert kind == "duplicate" and fields["message_id"] in text


def test_an_opt_out_asks_for_a_confirmation_before_anything_is_stored(
    anna: TestClient, store_url: str, capsys: pytest.CaptureFixture[str]  # noqa: F811
) -> None:
    page = anna.get(f"/ui/cases/{CASE}?as_of={DAY}").text
    opt_out = page.split('data-testid="form-opted-out"')[1].split("</form>")[0]
    assert 'name="confirm"' in opt_out and "required" in opt_out
    assert 'name="confirm"' not in page.split('data-testid="form-meeting-held"')[1].split(
        "</form>"
    )[0]
    before = without_reads(cli(store_url, capsys, "history", CASE))
    fields = fields_of(anna, "form-opted-out", decided_on=DAY, note="job")
    assert fields["confirm"] == "yes"  # the checkbox, as a browser sends it once ticked
    unconfirmed = {k: v for k, v in fields.items() if k != "confirm"}
    asked = anna.post(f"/ui/cases/{CASE}/messages", data=unconfirmed)
    assert asked.status_code == 200 and 'data-testid="form-confirm"' in asked.text
    assert "R11" in asked.text
    assert without_reads(cli(store_url, capsys, "history", CASE)) == before  # nothing yet
    confirm = Forms(asked.text).forms["form-confirm"]
    assert confirm["fields"] == {**unconfirmed, "confirm": "yes"}
    done = anna.post(confirm["action"], data=confirm["fields"])
    assert done.status_code == 303
    ended = anna.get(done.headers["location"]).text
    assert banner(ended)[0] == "recorded" and "sagen er afsluttet" in banner(ended)[1]
    assert 'data-testid="no-forms"' in ended and 'data-testid="actions"' not in ended
    assert 'method="post" action="/ui/cases/' not in ended
    case = cli(store_url, capsys, "case", CASE, "--as-of", DAY)
    assert case["status"] == "ended" and case["exit"]["reason"] == "opted_out"


def test_past_the_programme_end_every_form_asks_for_a_confirmation(store_url: str) -> None:  # noqa: F811
    late = app(store_url, today="2024-02-01")
    sign_in(late, "t-anna")
    page = late.get(f"/ui/cases/{CASE}?as_of={DAY}").text
    forms = Forms(page).forms
    assert all(
        forms[t]["fields"].get("confirm") == "yes"
        for t in ("form-meeting-held", "form-meeting-booked", "form-adviser-assigned")
    )
    fields = {**forms["form-meeting-held"]["fields"], "held_on": "2021-04-19"}
    del fields["confirm"]
    asked = late.post(f"/ui/cases/{CASE}/messages", data=fields)
    assert asked.status_code == 200 and "R16" in asked.text
