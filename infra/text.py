"""Text for people: the pieces every command's text output is made of (cells, tables, moments)."""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from infra.clock import COPENHAGEN

WIDTH = 100
"""Text output fits this many columns; longer words and sentences wrap below their row."""

NOTHING = "-"


def short_case(case_id: object) -> str:
    """The short case reference shown in text: the case id's first 8 characters (the full id
    is in `--json`)."""
    return NOTHING if case_id is None else str(case_id)[:8]


def handover_ref(message_id: object) -> str:
    """A handover's message id `<case id>:handover:<n>` as text shows it: `<short case>:<n>`."""
    if not isinstance(message_id, str) or ":handover:" not in message_id:
        return cell(message_id)
    case_id, n = message_id.rsplit(":handover:", 1)
    return f"{short_case(case_id)}:{n}"


def words(code: object) -> str:
    """A code of the contract (`hours_threshold`, `full_time`) as words."""
    return NOTHING if code is None else str(code).replace("_", " ")


def number(value: object) -> str:
    """A number without Python's trailing `.0` (hours keep their two decimals elsewhere)."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.2f}".rstrip("0").rstrip(".")
    return str(value)


def hours(value: object) -> str:
    return NOTHING if value is None else f"{float(value):.2f}"  # type: ignore[arg-type]


def cell(value: object) -> str:
    """Any plain value as a person reads it: `-` for nothing, yes/no, numbers without `.0`."""
    if value is None or value == "":
        return NOTHING
    if isinstance(value, bool | int | float):
        return number(value)
    if isinstance(value, dict):
        return phrase(value)
    if isinstance(value, list | tuple):
        return ", ".join(cell(v) for v in value) if value else NOTHING
    return str(value)


def phrase(data: dict[str, Any]) -> str:
    """A JSON object in words: `registered on 2021-03-01, insurance full_time, in trial yes`;
    a nested object in parentheses."""
    parts = []
    for key, value in data.items():
        shown = f"({phrase(value)})" if isinstance(value, dict) and value else cell(value)
        parts.append(f"{words(key)} {shown}")
    return ", ".join(parts) if parts else NOTHING


def moment(iso: object, seconds: bool = False, zone: bool = False) -> str:
    """A recorded moment (ISO, any zone) in Copenhagen time: `2021-04-03 09:30` (with
    `zone`: `2021-04-03 09:30 CEST`)."""
    if not isinstance(iso, str) or not iso:
        return NOTHING
    stamp = datetime.fromisoformat(iso.replace("Z", "+00:00"))
    local = (stamp if stamp.tzinfo else stamp.replace(tzinfo=UTC)).astimezone(COPENHAGEN)
    shape = "%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M"
    return local.strftime(shape + (" %Z" if zone else ""))


def source(src: object) -> str:
    """Where a message came from: `file.jsonl line 4` or `akasse.members partition 0 offset 5`,
    and its message id."""
    if not isinstance(src, dict) or not src:
        return NOTHING
    topic, partition, offset = src.get("topic"), src.get("partition"), src.get("offset")
    where = cell(topic)
    if partition is None and offset is not None:
        where += f" line {offset}"
    elif partition is not None:
        where += f" partition {partition} offset {cell(offset)}"
    if src.get("message_id") is not None:
        where += f", message {src['message_id']}"
    return where


def wrap(text: str, indent: int = 2, first: str | None = None) -> list[str]:
    """`text` wrapped to WIDTH columns, every line indented (the first by `first` if given)."""
    pad = " " * indent
    return textwrap.wrap(
        text,
        WIDTH,
        initial_indent=pad if first is None else first,
        subsequent_indent=pad,
        break_long_words=False,
        break_on_hyphens=False,
    ) or [pad.rstrip()]


def table(
    header: Sequence[str],
    rows: Sequence[Sequence[str]],
    right: Sequence[int] = (),
    notes: Sequence[str | None] = (),
    empty: str = "(none)",
) -> str:
    """Aligned columns, two spaces apart, numbers (`right`) aligned right; each row's note, if
    any, on the lines below it, indented and wrapped to WIDTH."""
    if not rows:
        return empty
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(header)]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(
            c.rjust(w) if i in right else c.ljust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        ).rstrip()

    lines = [line(header)]
    for n, row in enumerate(rows):
        lines.append(line(row))
        note = notes[n] if n < len(notes) else None
        if note:
            lines += wrap(note, 4)
    return "\n".join(lines)


def pairs(items: Sequence[tuple[str, str]]) -> list[str]:
    """`label  value` lines, the values aligned; a long value wraps under itself."""
    width = max(len(label) for label, _ in items)
    lines = []
    for label, value in items:
        lines += wrap(value, width + 2, first=label.ljust(width + 2))
    return lines
