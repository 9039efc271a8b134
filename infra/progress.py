"""Progress on stderr for people: on a terminal a bar that fits its width, with counters
wrapped on lines of their own below it; in a log (stderr not a terminal) one plain line
every few seconds, never `\\r`-joined frames. Every progress bar of the project is made here
(ingest, migrate's and rebuild's read models, the demo, the benchmark)."""

from __future__ import annotations

import re
import shutil
import sys
from collections.abc import Sequence
from typing import Any, TextIO

from tqdm import tqdm

LOG_EVERY_S = 5.0
"""How often a bar writes its line to a log."""

LOG_FORMAT = (
    "{desc}: {n_fmt}/{total_fmt}{unit} ({percentage:.0f}%) in {elapsed}, {rate_fmt}{postfix}"
)
LOG_FORMAT_NO_TOTAL = "{desc}: {n_fmt}{unit} in {elapsed}, {rate_fmt}{postfix}"
"""A bar in a log: words and numbers, no picture."""

SEPARATOR = " · "


def is_terminal(stream: Any) -> bool:
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty and isatty())
    except ValueError:  # closed
        return False


class LogLines:
    """A stream for tqdm that writes each frame as a line of its own: tqdm starts a frame
    with `\\r` and pads it with spaces; a log gets the frame, stripped, and a newline. The
    same frame twice in a row (the final one again at close) is written once."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.last = ""

    def write(self, text: str) -> int:
        for frame in text.replace("\n", "\r").split("\r"):
            frame = frame.strip()
            if frame and frame != self.last:
                self.stream.write(frame + "\n")
                self.last = frame
        return len(text)

    def flush(self) -> None:
        self.stream.flush()


def bar(
    *,
    desc: str,
    unit: str,
    total: int | None = None,
    disable: bool | None = False,
    stream: TextIO | None = None,
    every_s: float = LOG_EVERY_S,
) -> tqdm:
    """A progress bar on `stream` (default stderr): on a terminal tqdm's bar, as wide as the
    terminal (also after a resize); otherwise a line every `every_s` seconds and at the end.
    `disable=None` shows nothing when the stream is not a terminal (tqdm's meaning)."""
    stream = sys.stderr if stream is None else stream
    if is_terminal(stream):
        return tqdm(
            total=total, desc=desc, unit=unit, file=stream, dynamic_ncols=True, disable=disable
        )
    return tqdm(
        total=total,
        desc=desc,
        unit=unit,
        file=LogLines(stream),
        disable=bool(disable) or disable is None,
        mininterval=every_s,
        maxinterval=max(every_s, 10.0),
        miniters=1,
        smoothing=0,  # the average rate since the start, not the latest burst's
        bar_format=LOG_FORMAT if total is not None else LOG_FORMAT_NO_TOTAL,
    )


def wrap(items: Sequence[str], width: int, indent: str = "  ") -> list[str]:
    """Counters on as few lines of `width` columns as they fit on, each line starting with
    `indent`: an item (`name: a 1, b 2`) is kept whole on a line when it fits on one, and
    otherwise broken after a comma, never inside a count."""
    lines: list[str] = []
    line = ""
    for item in items:
        candidate = f"{line}{SEPARATOR}{item}" if line else f"{indent}{item}"
        if len(candidate) <= width:
            line = candidate
            continue
        if line:
            lines.append(line)
        line = f"{indent}{item}"
        if len(line) > width:  # too long for a line of its own: break it after a comma
            pieces = item.split(", ")
            line = f"{indent}{pieces[0]}"
            for piece in pieces[1:]:
                if len(f"{line}, {piece}") > width:
                    lines.append(line + ",")
                    line = f"{indent}  {piece}"
                else:
                    line = f"{line}, {piece}"
    if line:
        lines.append(line)
    return lines


class Counters:
    """Counters beside a bar. On a terminal they take lines of their own below the bar,
    wrapped to its width each time they are shown (as many lines as the first counters
    need with every number grown to seven digits) and cleared at the end; in a log they end
    the bar's line, `bar, a · b · c`."""

    def __init__(self, progress: tqdm) -> None:
        self.progress = progress
        self.terminal = is_terminal(getattr(progress, "fp", None)) and not progress.disable
        self.rows: list[tqdm] = []

    def show(self, items: Sequence[str], refresh: bool = False) -> None:
        if not self.terminal:
            self.progress.set_postfix_str(SEPARATOR.join(items), refresh=refresh)
            return
        width = shutil.get_terminal_size().columns - 1
        if not self.rows:
            room = len(wrap([re.sub(r"\d+", "9999999", item) for item in items], width))
            self.rows = [
                tqdm(
                    bar_format="{desc}",
                    position=self.progress.pos + 1 + i,
                    file=self.progress.fp,
                    leave=False,  # what they said last, the summary says after them
                    dynamic_ncols=True,
                )
                for i in range(room)
            ]
        lines = wrap(items, width)
        room = len(self.rows)
        if len(lines) > room:  # the terminal was made narrower: the rest on the last line
            lines = [*lines[: room - 1], SEPARATOR.join(s.strip() for s in lines[room - 1 :])]
        for row, text in zip(self.rows, lines + [""] * (room - len(lines)), strict=True):
            row.set_description_str(text, refresh=True)

    def close(self) -> None:
        for row in self.rows:
            row.close()
