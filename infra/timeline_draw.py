"""How the timeline is drawn (infra/timeline.py says what is drawn): the SVG's colours, lines
and words, its small pieces, and the picture laid out lane by lane, top to bottom."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any
from xml.sax.saxutils import escape

from domain.calendar import first_of_month, last_of_month, next_month
from domain.view import MeetingView

WIDTH, LEFT, RIGHT = 1100, 190, 24
FONT = "DejaVu Sans, Verdana, Arial, sans-serif"
MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
STATES = {  # R4, R5, R12, R18: a meeting's state
    "held": "#2e7d32", "early": "#0277bd", "late": "#ef6c00", "overdue": "#c62828",
    "waived": "#757575", "handed_over": "#6a1b9a", "due": "#90a4ae",
}  # fmt: skip
BARS = {  # R14 holiday by status, R15 sickness, R18 less intensive effort, R7 bookings
    "holiday approved": "#43a047", "holiday pending": "#f9a825", "holiday rejected": "#e53935",
    "sickness": "#8d6e63", "less intensive": "#26a69a", "booking": "#455a64",
}  # fmt: skip
HOURS = {  # R8
    "earlier months": "#bbdefb", "the month's hours": "#42a5f5",
    "month reaching the threshold": "#0d47a1", "frozen month": "url(#frozen)",
}  # fmt: skip
LINES = {  # markers, then the hours chart's lines: colour, dash pattern, stroke width
    "notice sign-up": ("#78909c", "5 3", 1.5), "start S": ("#37474f", "none", 1.5),
    "move": ("#1565c0", "7 3", 2), "exit": ("#b71c1c", "none", 2.5),
    "handover": ("#6a1b9a", "2 3", 2), "as of": ("#000", "1 3", 1.5),
    "deregistration": ("#5d4037", "3 2", 2),
    "threshold": ("#c62828", "8 4", 1.5), "R8 forecast": ("#00796b", "4 3", 2),
}  # fmt: skip
Span = tuple[float, float, float | None]  # a label's left and right, and its line's x
ENGLISH = {  # the timeline's words by key, as the command line and the API draw it
    "as_of": "as of {day}", "notice": "notice sign-up {day} (R2)", "start": "S {day} (R1)",
    "moved": "moved {old} → {new} on {day} (R9)", "exit": "exit: {reason} {day} ({rule})",
    "deregistered": "deregistered {day} (R17)", "handover": "handover #{n} {type} {day}",
    "to_jobcenter": " → jobcenter {code}", "replaced": " (replaced)",
    "holiday": "holiday {status}", "span": "{what}{why} {first} to {last}",
    "sick": "sick from {first}, reported {last}", "late_report": ", late report (R15)",
    "less_intensive": "less intensive ({reason}) {first} to {last} (R18)",
    "rebook": ", sick: rebook", "d_status": "Status {status} as of {day}.",
    "d_meeting": "Meeting {kind}: window {first} to {last}, {state}{held}.",
    "d_held": ", held on {day}", "d_month": "{month} {hours} h (sum {total})",
    "d_hours": "Counted hours by payment month: {months}; threshold {threshold} h.",
    "d_end": "Expected end by the R8 forecast: {day}.", "status": "status {status}",
    "municipality": "municipality {code}", "hours_counted": "hours counted {hours} of {of}",
    "hours_to_exit": "hours counted to the exit {hours} of {of}", "adviser": "adviser {name}",
    "case": "Case {case}  ·  CPR {cpr}", "in_notice": "notice period (R2): the case has not "
    "started", "outside": "outside the trial ({reason}, R1): no meetings, no hours",
    "absences": "holiday · sickness", "no_absences": "no holiday, sickness or less intensive "
    "effort", "bookings": "bookings (R7)", "no_bookings": "no bookings",
    "name": "Timeline of case {case} (CPR {cpr}) as of {day}",
    "window": "{rule}: {first} to {last}", "held": "held on {day}",
    "early": "early: held on {day}", "late": "late: held on {day}",
    "overdue": "overdue: not held", "waived": "waived (R18)", "due": "due, not held yet",
    "handed_over": "handed over (R12): not held in the trial",
    "handed_over_held": "handed over (R12): held on {day}, after the exit",
    "hours_lane": "counted hours (R8)", "hours_note": "running sum by month",
    "frozen": "frozen", "h": "{hours} h", "reaches": "reaches {threshold} h: R8 end {day}",
    "threshold": "threshold {threshold} h", "forecast": "expected end {day} (R8 forecast)",
    "meetings": "meetings", "absence": "absences", "hours": "hours", "markers": "markers",
}  # fmt: skip


@dataclass(frozen=True)
class Words:
    """The timeline's words: the templates by key, the month names, the contract's values
    (and the legend's keys) in words, and the decimal mark. English by default (the command
    line and the API); the pages pass Danish ones (infra/ui/words.py)."""

    text: Mapping[str, str] = field(default_factory=lambda: ENGLISH)
    months: Sequence[str] = tuple(MONTHS)
    codes: Mapping[str, str] = field(default_factory=dict)
    decimal: str = "."

    def __call__(self, key: str, **values: Any) -> str:
        return self.text[key].format(**values)

    def code(self, value: object) -> str:
        """A contract value (or a legend key) in words; itself where there are none."""
        return self.codes.get(str(value), str(value))

    def num(self, value: object) -> str:
        return str(value).replace(".", self.decimal)


EN = Words()


@dataclass(frozen=True)
class Item:
    """A marker (a day) or a bar (first to last day) on the timeline, in words."""

    first: date
    last: date
    kind: str  # a key of LINES or of BARS
    label: str


def text_width(text: str, bold: bool = False) -> float:
    """A generous estimate of an 11 px text's width (the stdlib has no font metrics)."""
    return len(text) * (6.7 if bold else 6.2)


def svg_tag(name: str, attrs: dict[str, Any], text: str | None = None) -> str:
    at = "".join(
        f' {k.replace("_", "-")}="{round(v, 1) if isinstance(v, float) else v}"'
        for k, v in attrs.items()
    )
    return f"<{name}{at}/>" if text is None else f"<{name}{at}>{escape(text)}</{name}>"


def svg_text(x: float, y: float, text: str, size: float = 11, bold: bool = False, **at: Any) -> str:
    weight = {"font_weight": "bold"} if bold else {}
    return svg_tag("text", {"x": x, "y": y, "font_size": size, **at, **weight}, text)


def svg_rect(x: float, y: float, w: float, h: float, fill: str, **at: Any) -> str:
    return svg_tag("rect", {"x": x, "y": y, "width": max(w, 2.0), "height": h, "fill": fill, **at})


def svg_line(x1: float, y1: float, x2: float, y2: float, kind: str = "", **at: Any) -> str:
    """A line in the style of LINES[kind], or a thin grey one."""
    colour, dash, width = LINES.get(kind, ("#dde1e6", "none", 1))
    at = {"stroke": colour, "stroke_width": width, "stroke_dasharray": dash, **at}
    return svg_tag("line", {"x1": x1, "y1": y1, "x2": x2, "y2": y2, **at})


def pack_rows(spans: list[Span], gap: float = 8) -> list[int]:
    """A row for each label, no two in a row overlapping. A label's line (if any) runs down
    through the rows below it; labels there avoid crossing it where some row allows that
    (and have a ground of their own for when none does)."""
    placed: list[tuple[int, float, float, float | None]] = []

    def fits(row: int, x0: float, x1: float, line: float | None, strict: bool) -> bool:
        for r, o0, o1, other in placed:
            if r == row and x0 < o1 + gap and o0 < x1 + gap:
                return False
            crossed, lo, hi = (other, x0, x1) if r < row else (line, o0, o1)
            crossing = crossed is not None and other != line and lo - 3 <= crossed <= hi + 3
            if strict and r != row and crossing:
                return False
        return True

    for x0, x1, line in spans:
        rows = range(len(placed) + 1)
        row = next((r for r in rows if fits(r, x0, x1, line, True)), None)
        row = next(r for r in rows if fits(r, x0, x1, line, False)) if row is None else row
        placed.append((row, x0, x1, line))
    return [p[0] for p in placed]


class Picture:
    """The SVG, drawn top to bottom: `y` is where the next part begins."""

    def __init__(self, first: date, last: date, say: Words = EN) -> None:
        self.first, self.last, self.say = first, last, say
        self.day_w = (WIDTH - LEFT - RIGHT) / ((last - first).days + 1)
        self.back: list[str] = []  # lane grounds, grid and marker lines, under the rest
        self.front: list[str] = []
        self.lanes, self.y, self.shade = 0, 0.0, "#fff"
        self.extra_markers: list[str] = []  # in the legend only when drawn (R17)

    def x(self, day: date, mid: bool = False) -> float:
        """The left edge (or middle) of `day`, clipped to the axis."""
        days = (min(max(day, self.first), self.last) - self.first).days
        return LEFT + (days + (0.5 if mid else 0)) * self.day_w

    def span(self, first: date, last: date) -> tuple[float, float]:
        """From the left edge of `first` to the right edge of `last`."""
        return self.x(first), self.x(last) + self.day_w

    def lane(self, title: str, height: float, note: str = "") -> float:
        """A lane's ground and its title (and a note under it); the lane's top."""
        top, self.y, self.lanes = self.y, self.y + height, self.lanes + 1
        self.shade = "#f3f5f8" if self.lanes % 2 else "#fff"
        self.back.append(svg_rect(0, top, WIDTH, height, self.shade))
        self.front.append(svg_text(12, top + (15 if note else 19), title, 12, bold=True))
        if note:
            self.front.append(svg_text(12, top + 28, note, 10, fill="#555"))
        return top

    def label(self, x: float, y: float, text: str, bold: bool = False, **at: Any) -> None:
        """`text` from x on the lane's ground, over any line it crosses."""
        ground = {"fill_opacity": "0.85"}
        self.front.append(
            svg_rect(x - 2, y - 11, text_width(text, bold) + 4, 15, self.shade, **ground)
        )
        self.front.append(svg_text(x, y, text, bold=bold, **at))

    def beside(
        self, x0: float, x1: float, y: float, text: str, bold: bool = False, **at: Any
    ) -> None:
        """`text` right of x1, or left of x0 when it does not fit there."""
        w = text_width(text, bold)
        x = x1 + 7 if x1 + 7 + w <= WIDTH - 4 else max(x0 - 7 - w, LEFT + 2)
        self.label(x, y, text, bold, **at)

    def months(self, y: float, top: float, bottom: float) -> None:
        """Month names at `y`, and a grid line at each month's start from `top` to `bottom`."""
        step = next(s for s in (1, 2, 3, 6, 12, 24) if s * 30 * self.day_w >= 72)
        month = next_month(self.first)
        if step == 1:  # the month the axis begins in: named when its part is wide enough
            start = first_of_month(self.first)
            x0, x1 = self.x(self.first), self.x(month)
            name = f"{self.say.months[start.month - 1]} {start.year}"
            if x1 - x0 >= text_width(name) + 8:
                self.front.append(
                    svg_text((x0 + x1) / 2, y, name, fill="#444", text_anchor="middle")
                )
        while month <= self.last:
            self.back.append(svg_line(self.x(month), top, self.x(month), bottom))
            if (month.month - 1) % step == 0:  # in the month's middle, or at its start
                x = (self.x(month) + self.x(next_month(month))) / 2 if step == 1 else self.x(month)
                name = f"{self.say.months[month.month - 1]} {month.year}"
                self.front.append(svg_text(x, y, name, fill="#444", text_anchor="middle"))
            month = next_month(month)

    def bars(self, title: str, bars: list[Item], empty: str) -> None:
        """A lane of bars, each labelled on its right, in as many rows as they need."""
        spans = [self.span(b.first, b.last) for b in bars]
        rows = pack_rows(
            [
                (x0, x1 + 6 + text_width(b.label), None)
                for (x0, x1), b in zip(spans, bars, strict=True)
            ]
        )
        top = self.lane(title, 34 + 22 * max(rows, default=0))
        if not bars:
            self.front.append(svg_text(LEFT + 6, top + 19, empty, fill="#666"))
        for bar, row, (x0, x1) in zip(bars, rows, spans, strict=True):
            y, colour = top + 10 + 22 * row, BARS[bar.kind]
            self.front.append(svg_rect(x0, y, x1 - x0, 12, colour, stroke=colour))
            self.front.append(svg_text(x1 + 6, y + 10, bar.label))

    def meeting(self, meeting: MeetingView) -> None:
        """R4/R5: the window as a bar, a dot on the day held, the state in words."""
        colour = STATES.get(meeting.state, STATES["due"])
        say = self.say
        note = say("window", rule=meeting.rule, first=meeting.due_from, last=meeting.due_by)
        top = self.lane(say.code(meeting.kind), 34, note)
        x0, x1 = self.span(meeting.due_from, meeting.due_by)
        bar = {"fill_opacity": "0.35", "stroke": colour}
        self.front.append(svg_rect(x0, top + 11, x1 - x0, 12, colour, **bar))
        ends = [x0, x1]
        if meeting.held_on is not None:
            ends.append(cx := self.x(meeting.held_on, mid=True))
            dot = {"cx": cx, "cy": top + 17, "r": 6, "fill": colour, "stroke": "#fff"}
            self.front.append(svg_tag("circle", dot))
        state = meeting.state
        words = say(state, day=meeting.held_on) if state in STATES else state
        if meeting.state == "handed_over" and meeting.held_on:  # held after the exit day
            words = say("handed_over_held", day=meeting.held_on)
        self.beside(min(ends), max(ends), top + 21, words)

    def hours(
        self,
        running: list[Any],
        threshold: Decimal,
        frozen: frozenset[date],
        end: date | None,
        reached: date | None,
    ) -> None:
        """R8: the running sum of counted hours by payment month against the threshold, the
        month that reaches it (`reached`, the stored decision's, never counted again here),
        frozen months and the forecast end."""
        say = self.say
        top = self.lane(say("hours_lane"), 214, say("hours_note"))
        base, height = top + 200, 150.0
        peak = float(max([threshold, *(r[2] for r in running)])) * 1.12

        def y(hours: Decimal | float) -> float:
            return base - float(hours) / peak * height

        for month in (m for m in frozen if m <= self.last and last_of_month(m) >= self.first):
            x0, x1 = self.span(month, last_of_month(month))
            self.back.append(svg_rect(x0, base - height, x1 - x0, height, HOURS["frozen month"]))
            self.front.append(svg_text(x0 + 3, base + 12, say("frozen"), 10, fill="#555"))
        put, red = self.front.append, LINES["threshold"][0]
        middle: dict[str, Any] = {"text_anchor": "middle"}
        for hours in range(0, int(peak) + 1, 100 if peak < 700 else 200):
            self.back.append(svg_line(LEFT, y(hours), WIDTH - RIGHT, y(hours)))
            put(
                svg_text(
                    LEFT - 6, y(hours) + 4, say("h", hours=hours), 10.5, fill="#555",
                    text_anchor="end",
                )
            )
        for month, hours, total in running:
            x0, x1 = self.span(month, last_of_month(month))
            x0, w, before, mid = x0 + 1, x1 - x0 - 2, total - hours, (x0 + x1) / 2
            this = "month reaching the threshold" if month == reached else "the month's hours"
            put(svg_rect(x0, y(before), w, y(0) - y(before), HOURS["earlier months"]))
            put(svg_rect(x0, y(total), w, y(before) - y(total), HOURS[this]))
            plus, sum_ = f"+{say.num(hours)}", say("h", hours=say.num(total))
            if w >= text_width(plus) and y(before) - y(total) >= 15:
                put(svg_text(mid, y(total) + 13, plus, fill="#fff", **middle))
            if w >= text_width(sum_, True) or month == reached:
                put(svg_text(mid, y(total) - 4, sum_, bold=True, **middle))
            if month == reached:
                text = say("reaches", threshold=say.num(threshold), day=last_of_month(month))
                x = min(
                    max(mid - text_width(text, True) / 2, LEFT), WIDTH - 4 - text_width(text, True)
                )
                self.label(x, top + 19, text, True, fill=red)
        self.back.append(svg_line(LEFT, y(threshold), WIDTH - RIGHT, y(threshold), "threshold"))
        text = say("threshold", threshold=say.num(threshold))
        put(svg_text(LEFT + 4, y(threshold) - 5, text, bold=True, fill=red))
        if end is not None:
            x = self.x(end, mid=True)
            self.back.append(svg_line(x, base - height, x, base, "R8 forecast"))
            text = say("forecast", day=end)
            self.beside(x, x, base - height + 10, text, True, fill=LINES["R8 forecast"][0])

    def marker_rows(self, markers: list[Item]) -> list[tuple[float, float]]:
        """Where each marker's label goes (x, y): in rows above the lanes; `y` moves below."""
        spans: list[Span] = []
        for marker in markers:
            x, w = self.x(marker.first, mid=True), text_width(marker.label, True)
            spans.append((x + 5, x + 5 + w, x) if x + 5 + w <= WIDTH - 4 else (x - 5 - w, x - 5, x))
        rows, top = pack_rows(spans), self.y + 12
        self.y = top + 15 * (max(rows, default=-1) + 1) + 14
        return [(x0, top + 15 * row) for (x0, _, _), row in zip(spans, rows, strict=True)]

    def legend(self) -> None:
        """What each colour, dot and line means (every one of them is also said in words)."""
        groups = [
            ("meetings", [*STATES.items(), ("day held", "dot")]),
            ("absence", list(BARS.items())),
            ("hours", [*HOURS.items(), ("threshold", "line"), ("R8 forecast", "line")]),
            ("markers", [(k, "line") for k in list(LINES)[:6] + self.extra_markers]),
        ]
        y = self.y + 12
        for title, items in groups:
            self.front.append(svg_text(12, y + 4, self.say(title), bold=True))
            x = LEFT - 80.0
            for key, swatch in items:
                label = self.say.code(key).replace("_", " ")
                if x + 26 + text_width(label) > WIDTH - RIGHT:
                    x, y = LEFT - 80.0, y + 18
                if swatch == "line":
                    self.front.append(svg_line(x, y, x + 18, y, key))
                elif swatch == "dot":
                    self.front.append(
                        svg_tag("circle", {"cx": x + 9, "cy": y, "r": 5.5, "fill": "#444"})
                    )
                else:
                    self.front.append(svg_rect(x, y - 5, 18, 10, swatch, stroke="#888"))
                self.front.append(svg_text(x + 24, y + 4, label))
                x += 24 + text_width(label) + 16
            y += 20
        self.y = y
