"""The pages' words (issue 21, point 4): refusals in Danish with the rule id, Danish number
format, municipalities by name, counts in number, recorded times in Copenhagen time with
the zone. The CLI keeps its English (its golden texts are unchanged)."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from infra.ui import words
from tests.integration.test_ui import CASE, DAY, app, sign_in, store_url  # noqa: F401


@pytest.mark.parametrize(
    ("reason", "danish"),
    [
        ("R4: cv_and_job was already held on 2021-03-10",
         "R4: CV- og jobsamtale er allerede holdt 2021-03-10"),
        ("R7: booking on 2021-07-01 lies after the case left the trial on 2021-06-30",
         "R7: bookingen 2021-07-01 ligger efter, at sagen forlod forsøget 2021-06-30"),
        ("R7: a meeting cannot be booked on 2021-01-01, before the case started on 2021-04-06",
         "R7: en samtale kan ikke bookes den 2021-01-01, før sagen startede 2021-04-06"),
        ("R14: holiday request 'h-b1' is not pending",
         "R14: ferieanmodningen h-b1 afventer ikke afgørelse"),
        ("field 'held_on': '20-04-2021' is not a date in the form YYYY-MM-DD",
         "feltet «Holdt den»: '20-04-2021' er ikke en dato (skriv ÅÅÅÅ-MM-DD)"),
        ("field 'adviser' must not be empty", "feltet «Rådgiver» må ikke være tomt"),
        ("field 'kind': 'nope' is not an allowed value (expected 'joint')",
         "feltet «Samtale»: 'nope' er ikke en tilladt værdi"),
    ],
)  # fmt: skip
def test_the_rules_refusals_read_in_danish(reason: str, danish: str) -> None:
    assert words.refusal_reason(reason) == danish
    assert words.refused("R4", reason).startswith("Afvist efter R4, intet registreret")


def test_numbers_places_counts_and_moments_as_danish_pages_write_them() -> None:
    assert words.number(277.333) == "277,33" and words.number("1234.5") == "1.234,50"
    assert words.municipality(101) == "København (101)" and words.municipality(None) == "\u2013"
    assert words.count(1, "overskreden", "overskredne") == "1 overskreden"
    assert words.count(2, "overskreden", "overskredne") == "2 overskredne"
    assert words.copenhagen("2021-04-03T07:30:12Z") == "2021-04-03 09:30:12 CEST"
    assert words.copenhagen("2021-01-03T07:30:12+00:00") == "2021-01-03 08:30:12 CET"


def test_a_case_page_and_the_worklist_in_danish(store_url: str) -> None:  # noqa: F811
    client: TestClient = app(store_url, today=DAY)
    sign_in(client, "t-ida")
    page = client.get(f"/ui/cases/{CASE}?as_of={DAY}").text
    assert ">Frederiksberg (147)</dd>" in page
    hours = page.split('data-testid="case-hours">')[1].split("<meter")[0]
    assert re.fullmatch(r"\d+,\d\d af 410,00 timer", hours.strip())  # R8's full-time threshold
    history = page.split('data-testid="history"')[1]
    assert " CEST</td>" in history or " CET</td>" in history
    worklist = client.get(f"/ui/worklist?as_of={DAY}&adviser=anna").text
    counts = worklist.split('data-testid="worklist-count">')[1].split("</p>")[0]
    overdue = int(counts.split('data-testid="overdue-count"')[1].split(">")[1].split("<")[0])
    assert (" overskreden" if overdue == 1 else " overskredne") in counts


def test_the_contracts_codes_are_shown_to_auditors_only(store_url: str) -> None:  # noqa: F811
    for token, shown in (("t-anna", False), ("t-ida", True)):
        client = app(store_url, today=DAY)
        sign_in(client, token)
        page = client.get(f"/ui/cases/{CASE}?as_of={DAY}").text
        status = page.split('data-testid="case-status"')[1].split("</dd>")[0]
        assert status.split(">", 1)[1].startswith("i forsøget")
        assert ('<code class="contract">in_trial</code>' in status) is shown
        worklist = client.get(f"/ui/worklist?as_of={DAY}&adviser=*").text
        assert ('<code class="contract">meeting:' in worklist) is shown


def test_the_auditors_explanation_reads_as_words_never_a_repr(store_url: str) -> None:  # noqa: F811
    client = app(store_url, today=DAY)
    sign_in(client, "t-ida")
    page = client.get(f"/ui/cases/{CASE}?as_of={DAY}").text
    explained = page.split('data-testid="explain"')[1].split("</table>")[0]
    for repr_ in ("{'", "True", "False", "None", "': "):
        assert repr_ not in explained
    assert "i forsøget: ja" in explained and "Frederiksberg (147)" in explained
    assert words.value({"hours": 277.333, "in_trial": False}) == "hours: 277,33; i forsøget: nej"
    assert words.subject("meeting:cv_and_job") == "samtale: CV- og jobsamtale"
