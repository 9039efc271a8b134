"""Progress for people (14): on a terminal counters wrap to its width; in a log (no
terminal) one plain line now and then, never `\\r`-joined frames (infra/progress.py)."""

from __future__ import annotations

import io
import re

import pytest

from infra.progress import Counters, LogLines, bar, wrap

COUNTERS = [
    "cases on 2021-12-31: in_trial 672, ended 2102, outside_trial 301, notice_period 4",
    "messages: 40210 accepted, 12 duplicates, 37 rejected",
    "handovers: 4711 feed messages, 4711 published",
]


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_log_gets_each_frame_as_a_line_of_its_own() -> None:
    log = io.StringIO()
    lines = LogLines(log)
    lines.write("\rplayback: 10/20   ")
    lines.write("\rplayback: 20/20")
    lines.write("\rplayback: 20/20")  # the final frame again, at close
    lines.write("\n")
    assert log.getvalue() == "playback: 10/20\nplayback: 20/20\n"


def test_a_bar_in_a_log_writes_plain_lines() -> None:
    log = io.StringIO()
    with bar(desc="ingest", unit=" msgs", total=30, stream=log, every_s=0) as progress:
        for _ in range(3):
            progress.update(10)
    text = log.getvalue()
    assert "\r" not in text and "\x1b" not in text
    lines = text.splitlines()
    assert lines[0].startswith("ingest: 0/30 msgs (0%) in 00:00")
    assert lines[-1].startswith("ingest: 30/30 msgs (100%) in 00:00")
    assert len(lines) <= 5  # the start, each update, and the end (with the whole run's rate)


def test_a_bar_in_a_log_writes_a_line_every_few_seconds_not_every_update() -> None:
    log = io.StringIO()
    with bar(desc="ingest", unit=" msgs", stream=log, every_s=3600) as progress:
        for _ in range(1000):
            progress.update(1)
    assert log.getvalue().splitlines() == [
        line for line in log.getvalue().splitlines() if line.startswith("ingest: ")
    ]
    lines = log.getvalue().splitlines()
    assert len(lines) == 2 and lines[-1].startswith("ingest: 1000 msgs in ")  # start and end


def test_a_bar_in_a_log_ends_its_line_with_the_counters() -> None:
    log = io.StringIO()
    with bar(desc="playback (paced)", unit=" msgs", total=1, stream=log, every_s=0) as progress:
        Counters(progress).show(COUNTERS[1:])
        progress.update(1)
    last = log.getvalue().splitlines()[-1]
    assert last.endswith(", messages: 40210 accepted, 12 duplicates, 37 rejected · "
                         "handovers: 4711 feed messages, 4711 published")  # fmt: skip


def test_disable_none_shows_nothing_in_a_log() -> None:
    log = io.StringIO()
    with bar(desc="bench", unit=" msgs", total=5, stream=log, disable=None) as progress:
        progress.update(5)
    assert log.getvalue() == ""


@pytest.mark.parametrize("width", [40, 60, 80, 100, 200])
def test_counters_wrap_to_the_width_and_keep_every_count(width: int) -> None:
    lines = wrap(COUNTERS, width)
    assert all(len(line) <= width for line in lines), lines
    joined = " ".join(line.strip() for line in lines)
    for item in COUNTERS:
        for count in re.findall(r"[a-z_]+ \d+", item):
            assert count in joined
    if width >= 200:
        assert len(lines) == 1
    if width == 80:  # the cases' line is too long for 80 columns: broken after a comma
        assert lines[0] == "  cases on 2021-12-31: in_trial 672, ended 2102, outside_trial 301,"
        assert lines[1].startswith("    notice_period 4 · messages: ")


def test_counters_on_a_terminal_take_lines_of_their_own_within_its_width(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("COLUMNS", "60")
    monkeypatch.setenv("LINES", "30")
    screen = Terminal()
    with bar(desc="playback (paced)", unit=" msgs", total=10, stream=screen) as progress:
        counters = Counters(progress)
        counters.show(COUNTERS)
        progress.update(10)
        counters.close()
    frames = re.sub(r"\x1b\[[0-9;]*[A-Za-z]", "\n", screen.getvalue())
    frames = frames.replace("\r", "\n")
    shown = [line.rstrip() for line in frames.split("\n") if line.strip()]
    assert any(line.startswith("playback (paced)") for line in shown)
    assert "  messages: 40210 accepted, 12 duplicates, 37 rejected" in shown
    # (the bar's own width is tqdm's, from the terminal's; this stand-in has none)
    counters = [line for line in shown if not line.startswith("playback")]
    assert all(len(line) <= 60 for line in counters), [s for s in counters if len(s) > 60]
    assert "  cases on 2021-12-31: in_trial 672, ended 2102," in counters
