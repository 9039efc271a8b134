"""Danish throughout (issue 21, point 4): every refusal the scenario files produce, and the
timeline and the explanation of every scenario case, read on the pages without an English
word; the command line keeps its English timeline."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from infra.cli import main
from infra.ui import words
from tests.integration.test_ui import app, cli, ingest, sign_in
from tests.scenario_helpers import SCENARIOS

ENGLISH = re.compile(
    r"\b(the|is|was|were|of|and|before|after|cannot|can|not|no|booked|meeting|holiday|"
    r"request|field|missing|must|empty|allowed|value|trial|member|threshold|already|pending|"
    r"started|lies|expected|because|only|while|when|which|within|reason|agreed|moved|"
    r"deregistered|handover|hours|counted|sick|overdue|waived|frozen|reaches|window|"
    r"legend|markers|meetings|absences|bookings|exit|as|from|on|late|early|unknown|message|"
    r"Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)\b"
)
"""English words that no Danish page text holds (words that are Danish too, such as "to",
"by", "held" or "due", are left out)."""


def english(text: str) -> list[str]:
    """The English words in a Danish text (its contract codes and ids taken out first)."""
    text = re.sub(r"[\w-]*_[\w-]*|[0-9a-f]{8}-[0-9a-f-]{27}\S*", " ", text)
    return [m.group(0) for m in ENGLISH.finditer(text)]


class Texts(HTMLParser):
    """The texts of the explanation's cells and of the timeline's SVG, apart."""

    def __init__(self) -> None:
        super().__init__()
        self.where: list[str] = []
        self.code = 0
        self.found: dict[str, list[str]] = {"explain": [], "timeline": []}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        testid = dict(attrs).get("data-testid")
        if testid in self.found:
            self.where.append(str(testid))
        elif self.where:
            self.where.append("")
        self.code += tag == "code"

    def handle_endtag(self, tag: str) -> None:
        if self.where:
            self.where.pop()
        self.code -= tag == "code"

    def handle_data(self, data: str) -> None:
        inside = next((w for w in self.where if w), None)
        if inside and not self.code and data.strip():
            self.found[inside].append(data.strip())


SCENARIO_FILES = sorted(SCENARIOS.glob("*.jsonl"))


@pytest.fixture(scope="module", params=SCENARIO_FILES, ids=lambda p: p.stem)
def scenario(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> tuple:
    path: Path = request.param
    url = f"sqlite:///{tmp_path_factory.mktemp(path.stem)}/s.db"
    ingest(url, path)
    text = path.read_text()
    cprs = sorted(set(re.findall(r'"cpr": ?"(\d{6}-?\d{4})"', text)))
    days = sorted(set(re.findall(r"20\d\d-\d\d-\d\d", text)))
    return url, [c.replace("-", "") for c in cprs], days


def test_the_english_word_list_finds_english_and_not_danish() -> None:
    assert english("R4: cv_and_job was already held on 2021-03-10")
    assert english("exit: moved_out 2021-06-30 (R9)") and english("Jun 2021")
    assert not english("R4: CV- og jobsamtale er allerede holdt 2021-03-10 (R4)")
    assert not english("udtræden: flyttet ud af forsøgskommunen 2021-06-30 (R9); jun 2021")


def test_every_refusal_of_the_scenarios_reads_in_danish(
    scenario: tuple, capsys: pytest.CaptureFixture[str]
) -> None:
    url, _, _ = scenario
    letters = cli(url, capsys, "dead-letters", "--status", "all")
    for letter in letters:
        shown = words.refused("R4", letter["error"])
        assert not english(shown), (letter["error"], shown)


def test_every_scenario_cases_timeline_and_explanation_read_in_danish(
    scenario: tuple, capsys: pytest.CaptureFixture[str]
) -> None:
    url, cprs, days = scenario
    if not cprs or not days:
        pytest.skip("no member in this file")
    client = app(url, today=days[-1])
    sign_in(client, "t-ida")
    seen = 0
    for cpr in cprs:
        for day in (days[len(days) // 2], days[-1]):
            response = client.get(f"/ui/cases/{cpr}?as_of={day}")
            if response.status_code in (404, 422):  # no case by then; a refused CPR
                continue
            assert response.status_code == 200
            texts = Texts()
            texts.feed(response.text)
            for where, found in texts.found.items():
                for text in found:
                    assert not english(text), (cpr, day, where, text, english(text))
            seen += bool(texts.found["timeline"])
    assert seen


def test_the_command_lines_timeline_keeps_its_english(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path}/s.db"
    ingest(url, SCENARIOS / "02_late_move_revises_handover.jsonl")
    capsys.readouterr()
    assert main(["timeline", "1104881234", "--db", url, "--as-of", "2021-12-31", "--svg", "-"]) == 0
    svg = capsys.readouterr().out
    for english_word in ("hours counted to the exit", "meetings", "threshold", "Jun 2021"):
        assert english_word in svg
    assert "timer talt" not in svg and "samtaler" not in svg


def test_the_replaced_handover_is_marked_and_the_hours_at_the_exit_are_labelled(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Scenario 02: a late move revised the handover (R13), and the case's hours paid go on
    after its exit; the page says which handover was replaced, by which, and shows the hours
    counted to the exit beside the hours paid, as the timeline counts them."""
    url, cpr, day = f"sqlite:///{tmp_path}/s.db", "1104881234", "2021-12-31"
    ingest(url, SCENARIOS / "02_late_move_revises_handover.jsonl")
    client = app(url, today=day)
    sign_in(client, "t-anna")
    page = client.get(f"/ui/cases/{cpr}?as_of={day}").text
    row = r'<tr data-testid="handover"[^>]*data-replaced="(\w+)"[^>]*>(.*?)</tr>'
    rows = re.findall(row, page, re.S)
    handovers = cli(url, capsys, "handovers", "--as-of", day)
    ids = [h["message_id"] for h in handovers if h.get("cpr", cpr) == cpr]
    replaced = {h["replaces"] for h in handovers if h.get("replaces")}
    assert [flag for flag, _ in rows] == ["yes" if i in replaced else "no" for i in ids]
    assert "yes" in [flag for flag, _ in rows]
    marked = next(text for flag, text in rows if flag == "yes")
    later = next(h["message_id"] for h in handovers if h.get("replaces"))
    assert f"erstattet af <code>{later}</code>" in marked
    capsys.readouterr()
    assert main(["timeline", cpr, "--db", url, "--as-of", day, "--svg", "-"]) == 0
    counted = re.search(r"hours counted to the exit ([\d.]+) of", capsys.readouterr().out)
    assert counted is not None
    shown = re.search(r'data-testid="case-hours-counted" data-hours="([\d.]+)">([^<]+)<', page)
    assert shown is not None and shown.group(1) == counted.group(1)
    assert shown.group(2) == f"{words.number(counted.group(1))} af 410,00 timer"
    assert "Timer talt til udtræden (R8)" in page
