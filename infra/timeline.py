"""A picture of a case (issue 5): its timeline as one self-contained SVG, for auditors.

What is drawn comes from the case as of the day: its stored exit decision and the exits it
knew, the handovers published, the facts; nothing is decided here. How it is drawn is in
infra/timeline_draw.py."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from domain.calendar import first_of_month, last_of_month
from domain.facts import CaseFacts
from domain.params import HOURS_THRESHOLD, PROGRAMME_END, Settings
from domain.rules.bookings import standing_bookings
from domain.rules.sickness import bookings_to_rebook
from domain.view import CaseView, case_view, holiday_dicts
from infra.store.store import Store
from infra.timeline_draw import (
    FONT,
    LEFT,
    LINES,
    RIGHT,
    WIDTH,
    Item,
    Picture,
    svg_line,
    svg_rect,
    svg_tag,
    svg_text,
)


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


def _running(view: CaseView) -> list[tuple[date, Decimal, Decimal]]:
    """R8: each payment month that counts, its hours and the running sum, in calendar order."""
    if view.facts.start is None or view.status == "outside_trial":
        return []
    rows, total = [], Decimal(0)
    for month, hours in view.hours_by_month:  # as the view counted them
        total += hours
        rows.append((month, hours, total))
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
    running = _running(view)
    absences, bookings = _absences(view.facts), _bookings(view.facts)
    first, last = _axis(view, _markers(view, handovers) + absences + bookings, running)
    markers = [m for m in _markers(view, handovers) if first <= m.first <= last]
    pic = Picture(first, last)

    threshold = HOURS_THRESHOLD[registration.insurance] if registration else None
    about = [f"status {view.status}", f"as of {view.as_of}"]
    if registration is not None:
        about += [f"S {registration.registered_on}", registration.insurance]
        about += [f"municipality {registration.municipality_code}"]
        about += (
            [f"hours counted {_hours_to_exit(view, running)} of {threshold}"] if started else []
        )
    about += [f"adviser {view.adviser}"] if view.adviser else []
    pic.front.append(svg_text(12, 26, f"Case {case_id}  ·  CPR {cpr or '-'}", 16, bold=True))
    pic.front.append(svg_text(12, 46, "  ·  ".join(about), 12, fill="#333"))
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
    pic.back += [svg_line(LEFT, y, WIDTH - RIGHT, y, stroke="#555") for y in (lanes_top, bottom)]
    for marker, (x0, y) in zip(markers, labels, strict=True):
        x = pic.x(marker.first, mid=True)
        pic.back.append(svg_line(x, y - 10, x, bottom, marker.kind))
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
    hatch = svg_tag("rect", {"width": 3, "height": 6, "fill": "#b0bec5"})
    pattern = {"id": "frozen", "width": 6, "height": 6, "patternUnits": "userSpaceOnUse"}
    pattern |= {"patternTransform": "rotate(45)"}
    return "\n".join(
        [
            svg_tag("svg", root | {"aria-labelledby": "tl-title tl-desc"})[:-2] + ">",
            svg_tag("title", {"id": "tl-title"}, name),
            svg_tag("desc", {"id": "tl-desc"}, desc),
            f"<defs>{svg_tag('pattern', pattern)[:-2]}>{hatch}</pattern></defs>",
            svg_rect(0, 0, WIDTH, height, "#fff"),
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
