"""A picture of a case (issue 5): its timeline as one self-contained SVG, for auditors."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from xml.sax.saxutils import escape

from domain.calendar import first_of_month, last_of_month, next_month
from domain.facts import CaseFacts
from domain.params import HOURS_THRESHOLD, PROGRAMME_END, Settings
from domain.rules.bookings import standing_bookings
from domain.rules.hours import counted_hours_by_month
from domain.rules.sickness import bookings_to_rebook
from domain.view import CaseView, MeetingView, case_view, holiday_dicts
from infra.store.store import Store

WIDTH, LEFT, RIGHT = 1100, 190, 24
FONT = "DejaVu Sans, Verdana, Arial, sans-serif"
MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
STATES = {  # R4, R5, R12, R18: a meeting's state
    "held": "#2e7d32", "early": "#0277bd", "late": "#ef6c00", "overdue": "#c62828",
    "waived": "#757575", "handed_over": "#6a1b9a", "due": "#90a4ae",
}  # fmt: skip
STATE_WORDS = {
    "held": "held on {}", "early": "early: held on {}", "late": "late: held on {}",
    "overdue": "overdue: not held", "waived": "waived (R18)", "due": "due, not held yet",
    "handed_over": "handed over (R12): not held in the trial",
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


@dataclass(frozen=True)
class Item:
    """A marker (a day) or a bar (first to last day) on the timeline, in words."""

    first: date
    last: date
    kind: str  # a key of LINES or of BARS
    label: str


def _width(text: str, bold: bool = False) -> float:
    """A generous estimate of an 11 px text's width (the stdlib has no font metrics)."""
    return len(text) * (6.7 if bold else 6.2)


def _tag(name: str, attrs: dict[str, Any], text: str | None = None) -> str:
    at = "".join(
        f' {k.replace("_", "-")}="{round(v, 1) if isinstance(v, float) else v}"'
        for k, v in attrs.items()
    )
    return f"<{name}{at}/>" if text is None else f"<{name}{at}>{escape(text)}</{name}>"


def _text(x: float, y: float, text: str, size: float = 11, bold: bool = False, **at: Any) -> str:
    weight = {"font_weight": "bold"} if bold else {}
    return _tag("text", {"x": x, "y": y, "font_size": size, **at, **weight}, text)


def _rect(x: float, y: float, w: float, h: float, fill: str, **at: Any) -> str:
    return _tag("rect", {"x": x, "y": y, "width": max(w, 2.0), "height": h, "fill": fill, **at})


def _line(x1: float, y1: float, x2: float, y2: float, kind: str = "", **at: Any) -> str:
    """A line in the style of LINES[kind], or a thin grey one."""
    colour, dash, width = LINES.get(kind, ("#dde1e6", "none", 1))
    at = {"stroke": colour, "stroke_width": width, "stroke_dasharray": dash, **at}
    return _tag("line", {"x1": x1, "y1": y1, "x2": x2, "y2": y2, **at})


def _pack(spans: list[Span], gap: float = 8) -> list[int]:
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


def _markers(view: CaseView, handovers: list[dict[str, Any]]) -> list[Item]:
    """The as-of day, R2 sign-up, R1 start, R9 moves, the exit, R12/R13 handovers, by day."""
    facts, registration = view.facts, view.facts.registration
    items = [Item(view.as_of, view.as_of, "as of", f"as of {view.as_of}")]
    if facts.notice is not None:
        day = facts.notice.signed_up_on
        items.append(Item(day, day, "notice sign-up", f"notice sign-up {day} (R2)"))
    if facts.start is not None:
        items.append(Item(facts.start, facts.start, "start S", f"S {facts.start} (R1)"))
    code = registration.municipality_code if registration else None
    for move in sorted(facts.moves, key=lambda m: m.effective_on):
        label = f"moved {code} → {move.municipality_code} on {move.effective_on} (R9)"
        items.append(Item(move.effective_on, move.effective_on, "move", label))
        code = move.municipality_code
    if (e := view.exit) is not None:
        items.append(Item(e.on, e.on, "exit", f"exit: {e.reason} {e.on} ({e.rule})"))
    for d in facts.deregistrations:  # R17: also one that is not (or not yet) the exit
        if e is None or (e.reason, e.on) != ("deregistered", d.effective_on):
            label = f"deregistered {d.effective_on} (R17)"
            items.append(Item(d.effective_on, d.effective_on, "deregistration", label))
    for h in handovers:
        content, number = h["content"], h["message_id"].rsplit(":", 1)[-1]
        label = f"handover #{number} {h['type']} {content['effective_on']}"
        label += f" → jobcenter {content['jobcenter_municipality_code']}"
        if any(other["replaces"] == h["message_id"] for other in handovers):
            label += " (replaced)"
        day = date.fromisoformat(content["effective_on"])
        items.append(Item(day, day, "handover", label))
    return sorted(items, key=lambda m: m.first)


def _absences(facts: CaseFacts) -> list[Item]:
    """R14 holidays by status, R15 sickness (sick from .. reported on), R18 approvals."""
    items = []
    for h in holiday_dicts(facts):
        kind, reason = f"holiday {h['status']}", f" ({h['reason']})" if h["reason"] else ""
        first, last = (date.fromisoformat(str(h[k])) for k in ("first_day", "last_day"))
        items.append(Item(first, last, kind, f"{kind}{reason} {first} to {last}"))
    for s in facts.sickness:
        late = ", late report (R15)" if s.late_report else ""
        label = f"sick from {s.sick_from}, reported {s.reported_on}{late}"
        items.append(Item(s.sick_from, s.reported_on, "sickness", label))
    for li in (li for li in facts.less_intensive if li.status == "approved"):
        label = f"less intensive ({li.reason}) {li.requested_on} to {li.until} (R18)"
        items.append(Item(li.requested_on, li.until, "less intensive", label))
    return sorted(items, key=lambda b: b.first)


def _bookings(facts: CaseFacts) -> list[Item]:
    """R7 bookings; R15: a booking on a sick day is to be rebooked."""
    rebook = bookings_to_rebook(facts.sickness, standing_bookings(facts.bookings, facts.meetings))
    return [
        Item(b.on, b.on, "booking", f"{b.kind} {b.on}" + (", sick: rebook" if b in rebook else ""))
        for b in sorted(facts.bookings, key=lambda b: b.on)
    ]


def _running(view: CaseView, settings: Settings) -> list[tuple[date, Decimal, Decimal]]:
    """R8: each payment month that counts, its hours and the running sum, in calendar order."""
    if view.facts.start is None or view.status == "outside_trial":
        return []
    by_month = counted_hours_by_month(view.facts.payments, view.facts.start, settings.frozen_months)
    rows, total = [], Decimal(0)
    for month in sorted(by_month):
        total += by_month[month]
        rows.append((month, by_month[month], total))
    return rows


def _hours_to_exit(view: CaseView, running: list[tuple[date, Decimal, Decimal]]) -> Decimal:
    """R8: the hours counted up to the exit decided (its month included), or all of them
    while no exit is known: hours paid after the exit do not count in the trial."""
    if view.exit is None:
        return view.hours_paid
    month = first_of_month(view.exit.on)
    return max((total for m, _, total in running if m <= month), default=Decimal(0))


def _axis(view: CaseView, items: list[Item], running: list[Any]) -> tuple[date, date]:
    """The first and last day drawn: the case's first day to a little after the last thing
    on it or the as-of day, whichever is later (a live case: to the as-of day, at most the
    programme's end)."""
    days = [i.last for i in items if i.kind != "as of"]
    days += [d for m in view.meetings for d in (m.due_by, m.held_on) if d is not None]
    days += [last_of_month(r[0]) for r in running] + [d for d in [view.expected_end] if d]
    if view.exit is None:  # a live case: to the as-of day, or at most the programme's end
        days.append(min(view.as_of, max([*days, PROGRAMME_END])))
    first, last = view.facts.opened_on, max([*days, view.as_of])  # the as-of line is drawn
    pad = (last - first).days
    return first - timedelta(days=max(3, pad // 60)), last + timedelta(days=max(10, pad // 12))


class _Picture:
    """The SVG, drawn top to bottom: `y` is where the next part begins."""

    def __init__(self, first: date, last: date) -> None:
        self.first, self.last = first, last
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
        self.back.append(_rect(0, top, WIDTH, height, self.shade))
        self.front.append(_text(12, top + (15 if note else 19), title, 12, bold=True))
        if note:
            self.front.append(_text(12, top + 28, note, 10, fill="#555"))
        return top

    def label(self, x: float, y: float, text: str, bold: bool = False, **at: Any) -> None:
        """`text` from x on the lane's ground, over any line it crosses."""
        ground = {"fill_opacity": "0.85"}
        self.front.append(_rect(x - 2, y - 11, _width(text, bold) + 4, 15, self.shade, **ground))
        self.front.append(_text(x, y, text, bold=bold, **at))

    def beside(
        self, x0: float, x1: float, y: float, text: str, bold: bool = False, **at: Any
    ) -> None:
        """`text` right of x1, or left of x0 when it does not fit there."""
        w = _width(text, bold)
        x = x1 + 7 if x1 + 7 + w <= WIDTH - 4 else max(x0 - 7 - w, LEFT + 2)
        self.label(x, y, text, bold, **at)

    def months(self, y: float, top: float, bottom: float) -> None:
        """Month names at `y`, and a grid line at each month's start from `top` to `bottom`."""
        step = next(s for s in (1, 2, 3, 6, 12, 24) if s * 30 * self.day_w >= 72)
        month = next_month(self.first)
        if step == 1:  # the month the axis begins in: named when its part is wide enough
            start = first_of_month(self.first)
            x0, x1 = self.x(self.first), self.x(month)
            name = f"{MONTHS[start.month - 1]} {start.year}"
            if x1 - x0 >= _width(name) + 8:
                self.front.append(_text((x0 + x1) / 2, y, name, fill="#444", text_anchor="middle"))
        while month <= self.last:
            self.back.append(_line(self.x(month), top, self.x(month), bottom))
            if (month.month - 1) % step == 0:  # in the month's middle, or at its start
                x = (self.x(month) + self.x(next_month(month))) / 2 if step == 1 else self.x(month)
                name = f"{MONTHS[month.month - 1]} {month.year}"
                self.front.append(_text(x, y, name, fill="#444", text_anchor="middle"))
            month = next_month(month)

    def bars(self, title: str, bars: list[Item], empty: str) -> None:
        """A lane of bars, each labelled on its right, in as many rows as they need."""
        spans = [self.span(b.first, b.last) for b in bars]
        rows = _pack(
            [(x0, x1 + 6 + _width(b.label), None) for (x0, x1), b in zip(spans, bars, strict=True)]
        )
        top = self.lane(title, 34 + 22 * max(rows, default=0))
        if not bars:
            self.front.append(_text(LEFT + 6, top + 19, empty, fill="#666"))
        for bar, row, (x0, x1) in zip(bars, rows, spans, strict=True):
            y, colour = top + 10 + 22 * row, BARS[bar.kind]
            self.front.append(_rect(x0, y, x1 - x0, 12, colour, stroke=colour))
            self.front.append(_text(x1 + 6, y + 10, bar.label))

    def meeting(self, meeting: MeetingView) -> None:
        """R4/R5: the window as a bar, a dot on the day held, the state in words."""
        colour = STATES.get(meeting.state, STATES["due"])
        top = self.lane(meeting.kind, 34, f"{meeting.rule}: {meeting.due_from} to {meeting.due_by}")
        x0, x1 = self.span(meeting.due_from, meeting.due_by)
        bar = {"fill_opacity": "0.35", "stroke": colour}
        self.front.append(_rect(x0, top + 11, x1 - x0, 12, colour, **bar))
        ends = [x0, x1]
        if meeting.held_on is not None:
            ends.append(cx := self.x(meeting.held_on, mid=True))
            dot = {"cx": cx, "cy": top + 17, "r": 6, "fill": colour, "stroke": "#fff"}
            self.front.append(_tag("circle", dot))
        words = STATE_WORDS.get(meeting.state, meeting.state).format(meeting.held_on)
        if meeting.state == "handed_over" and meeting.held_on:  # held after the exit day
            words = f"handed over (R12): held on {meeting.held_on}, after the exit"
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
        top = self.lane("counted hours (R8)", 214, "running sum by month")
        base, height = top + 200, 150.0
        peak = float(max([threshold, *(r[2] for r in running)])) * 1.12

        def y(hours: Decimal | float) -> float:
            return base - float(hours) / peak * height

        for month in (m for m in frozen if m <= self.last and last_of_month(m) >= self.first):
            x0, x1 = self.span(month, last_of_month(month))
            self.back.append(_rect(x0, base - height, x1 - x0, height, HOURS["frozen month"]))
            self.front.append(_text(x0 + 3, base + 12, "frozen", 10, fill="#555"))
        put, red = self.front.append, LINES["threshold"][0]
        middle: dict[str, Any] = {"text_anchor": "middle"}
        for hours in range(0, int(peak) + 1, 100 if peak < 700 else 200):
            self.back.append(_line(LEFT, y(hours), WIDTH - RIGHT, y(hours)))
            put(_text(LEFT - 6, y(hours) + 4, f"{hours} h", 10.5, fill="#555", text_anchor="end"))
        for month, hours, total in running:
            x0, x1 = self.span(month, last_of_month(month))
            x0, w, before, mid = x0 + 1, x1 - x0 - 2, total - hours, (x0 + x1) / 2
            this = "month reaching the threshold" if month == reached else "the month's hours"
            put(_rect(x0, y(before), w, y(0) - y(before), HOURS["earlier months"]))
            put(_rect(x0, y(total), w, y(before) - y(total), HOURS[this]))
            if w >= _width(f"+{hours}") and y(before) - y(total) >= 15:
                put(_text(mid, y(total) + 13, f"+{hours}", fill="#fff", **middle))
            if w >= _width(f"{total} h", True) or month == reached:
                put(_text(mid, y(total) - 4, f"{total} h", bold=True, **middle))
            if month == reached:
                text = f"reaches {threshold} h: R8 end {last_of_month(month)}"
                x = min(max(mid - _width(text, True) / 2, LEFT), WIDTH - 4 - _width(text, True))
                self.label(x, top + 19, text, True, fill=red)
        self.back.append(_line(LEFT, y(threshold), WIDTH - RIGHT, y(threshold), "threshold"))
        put(_text(LEFT + 4, y(threshold) - 5, f"threshold {threshold} h", bold=True, fill=red))
        if end is not None:
            x = self.x(end, mid=True)
            self.back.append(_line(x, base - height, x, base, "R8 forecast"))
            text = f"expected end {end} (R8 forecast)"
            self.beside(x, x, base - height + 10, text, True, fill=LINES["R8 forecast"][0])

    def marker_rows(self, markers: list[Item]) -> list[tuple[float, float]]:
        """Where each marker's label goes (x, y): in rows above the lanes; `y` moves below."""
        spans: list[Span] = []
        for marker in markers:
            x, w = self.x(marker.first, mid=True), _width(marker.label, True)
            spans.append((x + 5, x + 5 + w, x) if x + 5 + w <= WIDTH - 4 else (x - 5 - w, x - 5, x))
        rows, top = _pack(spans), self.y + 12
        self.y = top + 15 * (max(rows, default=-1) + 1) + 14
        return [(x0, top + 15 * row) for (x0, _, _), row in zip(spans, rows, strict=True)]

    def legend(self) -> None:
        """What each colour, dot and line means (every one of them is also said in words)."""
        groups = [
            ("meetings", [*STATES.items(), ("day held", "dot")]),
            ("absences", list(BARS.items())),
            ("hours", [*HOURS.items(), ("threshold", "line"), ("R8 forecast", "line")]),
            ("markers", [(k, "line") for k in list(LINES)[:6] + self.extra_markers]),
        ]
        y = self.y + 12
        for title, items in groups:
            self.front.append(_text(12, y + 4, title, bold=True))
            x = LEFT - 80.0
            for label, swatch in items:
                if x + 26 + _width(label) > WIDTH - RIGHT:
                    x, y = LEFT - 80.0, y + 18
                if swatch == "line":
                    self.front.append(_line(x, y, x + 18, y, label))
                elif swatch == "dot":
                    self.front.append(
                        _tag("circle", {"cx": x + 9, "cy": y, "r": 5.5, "fill": "#444"})
                    )
                else:
                    self.front.append(_rect(x, y - 5, 18, 10, swatch, stroke="#888"))
                self.front.append(_text(x + 24, y + 4, label.replace("_", " ")))
                x += 24 + _width(label) + 16
            y += 20
        self.y = y


def _description(view: CaseView, items: list[Item], running: list[Any], threshold: Any) -> str:
    """The picture in words, for a screen reader, or an auditor without the picture."""
    parts = [f"Status {view.status} as of {view.as_of}."]
    parts += [f"{i.label}." for i in items if i.kind != "as of"]
    for m in view.meetings:
        held = f", held on {m.held_on}" if m.held_on else ""
        parts.append(f"Meeting {m.kind}: window {m.due_from} to {m.due_by}, {m.state}{held}.")
    if threshold is not None and running:
        months = ", ".join(f"{m:%Y-%m} {h} h (sum {total})" for m, h, total in running)
        parts.append(f"Counted hours by payment month: {months}; threshold {threshold} h.")
    if view.expected_end is not None:
        parts.append(f"Expected end by the R8 forecast: {view.expected_end}.")
    return " ".join(parts)


def render_timeline(
    case_id: str,
    cpr: str | None,
    view: CaseView,
    handovers: list[dict[str, Any]],
    settings: Settings,
) -> str:
    """The case as one SVG document: a lane per meeting, absences, bookings and the counted
    hours against the R8 threshold, with the sign-up, S, moves, exit, handovers and as-of
    day as vertical markers; a title and a description in words, for accessibility."""
    registration = view.facts.registration
    started = registration is not None and registration.in_trial
    running = _running(view, settings)
    absences, bookings = _absences(view.facts), _bookings(view.facts)
    first, last = _axis(view, _markers(view, handovers) + absences + bookings, running)
    markers = [m for m in _markers(view, handovers) if first <= m.first <= last]
    pic = _Picture(first, last)

    threshold = HOURS_THRESHOLD[registration.insurance] if registration else None
    about = [f"status {view.status}", f"as of {view.as_of}"]
    if registration is not None:
        about += [f"S {registration.registered_on}", registration.insurance]
        about += [f"municipality {registration.municipality_code}"]
        about += (
            [f"hours counted {_hours_to_exit(view, running)} of {threshold}"] if started else []
        )
    about += [f"adviser {view.adviser}"] if view.adviser else []
    pic.front.append(_text(12, 26, f"Case {case_id}  ·  CPR {cpr or '-'}", 16, bold=True))
    pic.front.append(_text(12, 46, "  ·  ".join(about), 12, fill="#333"))
    pic.y = 50
    labels = pic.marker_rows(markers)
    axis_y, lanes_top = pic.y - 6, pic.y
    if registration is None or not started:
        why = "notice period (R2): the case has not started"
        if registration is not None:
            why = f"outside the trial ({registration.outside_reason}, R1): no meetings, no hours"
        pic.label(LEFT + 6, pic.lane("case", 30) + 19, why, fill="#555")
    for meeting in view.meetings:
        pic.meeting(meeting)
    if started and threshold is not None:
        pic.bars("holiday · sickness", absences, "no holiday, sickness or less intensive effort")
        pic.bars("bookings (R7)", bookings, "no bookings")
        # R8: the month the stored decision found the threshold reached in, if it knew one
        r8 = [k.on for k in view.facts.exits if k.reason == "hours_threshold"]
        reached = first_of_month(r8[0]) if r8 else None
        pic.hours(running, threshold, settings.frozen_months, view.expected_end, reached)
    bottom, pic.shade = pic.y, "#fff"
    pic.months(axis_y, lanes_top, bottom)
    pic.months(bottom + 15, bottom, bottom)
    pic.back += [_line(LEFT, y, WIDTH - RIGHT, y, stroke="#555") for y in (lanes_top, bottom)]
    for marker, (x0, y) in zip(markers, labels, strict=True):
        x = pic.x(marker.first, mid=True)
        pic.back.append(_line(x, y - 10, x, bottom, marker.kind))
        pic.label(x0, y, marker.label, True, fill=LINES[marker.kind][0])
    pic.y = bottom + 24
    pic.extra_markers = (
        ["deregistration"] if any(m.kind == "deregistration" for m in markers) else []
    )
    pic.legend()

    height = round(pic.y + 6)
    name = f"Timeline of case {case_id} (CPR {cpr or '-'}) as of {view.as_of}"
    desc = _description(view, markers + absences + bookings, running, threshold)
    root = {"xmlns": "http://www.w3.org/2000/svg", "width": WIDTH, "height": height}
    root |= {"viewBox": f"0 0 {WIDTH} {height}", "role": "img", "font-family": FONT}
    hatch = _tag("rect", {"width": 3, "height": 6, "fill": "#b0bec5"})
    pattern = {"id": "frozen", "width": 6, "height": 6, "patternUnits": "userSpaceOnUse"}
    pattern |= {"patternTransform": "rotate(45)"}
    return "\n".join(
        [
            _tag("svg", root | {"aria-labelledby": "tl-title tl-desc"})[:-2] + ">",
            _tag("title", {"id": "tl-title"}, name),
            _tag("desc", {"id": "tl-desc"}, desc),
            f"<defs>{_tag('pattern', pattern)[:-2]}>{hatch}</pattern></defs>",
            _rect(0, 0, WIDTH, height, "#fff"),
            *pic.back,
            *pic.front,
            "</svg>\n",
        ]
    )


def timeline_svg(
    store: Store, cpr: str, day: date, settings: Settings, known_at: datetime | None = None
) -> str | None:
    """The timeline of the member's latest case as `case` reads it: of the cases opened by
    `day`, from the events recorded by `known_at`, judged on `day`, with the handovers that
    took effect by `day` (as `handovers --as-of` lists them). None when there is no case."""
    cases = [case for case in store.cases_of(cpr, known_at) if case.facts.opened_on <= day]
    if not cases:
        return None
    case, as_of = cases[-1], day.isoformat()
    shown = [h for h in case.handovers if h["content"]["effective_on"] <= as_of]
    return render_timeline(str(case.id), cpr, case_view(case.facts, day, settings), shown, settings)
