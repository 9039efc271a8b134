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
    EN,
    FONT,
    LEFT,
    LINES,
    RIGHT,
    WIDTH,
    Item,
    Picture,
    Words,
    svg_line,
    svg_rect,
    svg_tag,
    svg_text,
)


def _markers(view: CaseView, handovers: list[dict[str, Any]], say: Words = EN) -> list[Item]:
    """The as-of day, R2 sign-up, R1 start, R9 moves, the exit, R12/R13 handovers, by day."""
    facts, registration = view.facts, view.facts.registration
    items = [Item(view.as_of, view.as_of, "as of", say("as_of", day=view.as_of))]
    if facts.notice is not None:
        day = facts.notice.signed_up_on
        items.append(Item(day, day, "notice sign-up", say("notice", day=day)))
    if facts.start is not None:
        items.append(Item(facts.start, facts.start, "start S", say("start", day=facts.start)))
    code = registration.municipality_code if registration else None
    for move in sorted(facts.moves, key=lambda m: m.effective_on):
        new, on = move.municipality_code, move.effective_on
        items.append(Item(on, on, "move", say("moved", old=code, new=new, day=on)))
        code = move.municipality_code
    if (e := view.exit) is not None:
        label = say("exit", reason=say.code(e.reason), day=e.on, rule=e.rule)
        items.append(Item(e.on, e.on, "exit", label))
    for d in facts.deregistrations:  # R17: also one that is not (or not yet) the exit
        if e is None or (e.reason, e.on) != ("deregistered", d.effective_on):
            label = say("deregistered", day=d.effective_on)
            items.append(Item(d.effective_on, d.effective_on, "deregistration", label))
    for h in handovers:
        content, number = h["content"], h["message_id"].rsplit(":", 1)[-1]
        type_ = say.code(h["type"])
        label = say("handover", n=number, type=type_, day=content["effective_on"])
        label += say("to_jobcenter", code=content["jobcenter_municipality_code"])
        if any(other["replaces"] == h["message_id"] for other in handovers):
            label += say("replaced")
        day = date.fromisoformat(content["effective_on"])
        items.append(Item(day, day, "handover", label))
    return sorted(items, key=lambda m: m.first)


def _absences(facts: CaseFacts, say: Words = EN) -> list[Item]:
    """R14 holidays by status, R15 sickness (sick from .. reported on), R18 approvals."""
    items = []
    for h in holiday_dicts(facts):
        kind, why = f"holiday {h['status']}", f" ({say.code(h['reason'])})" if h["reason"] else ""
        what = say("holiday", status=say.code(h["status"]))
        first, last = (date.fromisoformat(str(h[k])) for k in ("first_day", "last_day"))
        label = say("span", what=what, why=why, first=first, last=last)
        items.append(Item(first, last, kind, label))
    for s in facts.sickness:
        late = say("late_report") if s.late_report else ""
        label = say("sick", first=s.sick_from, last=s.reported_on) + late
        items.append(Item(s.sick_from, s.reported_on, "sickness", label))
    for li in (li for li in facts.less_intensive if li.status == "approved"):
        reason = say.code(li.reason)
        label = say("less_intensive", reason=reason, first=li.requested_on, last=li.until)
        items.append(Item(li.requested_on, li.until, "less intensive", label))
    return sorted(items, key=lambda b: b.first)


def _bookings(facts: CaseFacts, say: Words = EN) -> list[Item]:
    """R7 bookings; R15: a booking on a sick day is to be rebooked."""
    rebook = bookings_to_rebook(facts.sickness, standing_bookings(facts.bookings, facts.meetings))
    return [
        Item(b.on, b.on, "booking", f"{say.code(b.kind)} {b.on}" + (say("rebook") * (b in rebook)))
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


def hours_counted(view: CaseView) -> Decimal:
    """R8: the hours that count in the trial, to its exit once one is known (the timeline's
    "hours counted to the exit"; `hours_paid` may be more)."""
    return _hours_to_exit(view, _running(view))


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


def _description(
    view: CaseView, items: list[Item], running: list[Any], threshold: Any, say: Words = EN
) -> str:
    """The picture in words, for a screen reader, or an auditor without the picture."""
    parts = [say("d_status", status=say.code(view.status), day=view.as_of)]
    parts += [f"{i.label}." for i in items if i.kind != "as of"]
    for m in view.meetings:
        held = say("d_held", day=m.held_on) if m.held_on else ""
        kind, state = say.code(m.kind), say.code(m.state)
        parts.append(
            say("d_meeting", kind=kind, first=m.due_from, last=m.due_by, state=state, held=held)
        )
    if threshold is not None and running:
        months = ", ".join(
            say("d_month", month=f"{m:%Y-%m}", hours=say.num(h), total=say.num(total))
            for m, h, total in running
        )
        parts.append(say("d_hours", months=months, threshold=say.num(threshold)))
    if view.expected_end is not None:
        parts.append(say("d_end", day=view.expected_end))
    return " ".join(parts)


def render_timeline(
    case_id: str,
    cpr: str | None,
    view: CaseView,
    handovers: list[dict[str, Any]],
    settings: Settings,
    say: Words = EN,
) -> str:
    """The case as one SVG document: a lane per meeting, absences, bookings and the counted
    hours against the R8 threshold, with the sign-up, S, moves, exit, handovers and as-of
    day as vertical markers; a title and a description in words, for accessibility."""
    registration = view.facts.registration
    started = registration is not None and registration.in_trial
    running = _running(view)
    absences, bookings = _absences(view.facts, say), _bookings(view.facts, say)
    first, last = _axis(view, _markers(view, handovers, say) + absences + bookings, running)
    markers = [m for m in _markers(view, handovers, say) if first <= m.first <= last]
    pic = Picture(first, last, say)

    threshold = HOURS_THRESHOLD[registration.insurance] if registration else None
    about = [say("status", status=say.code(view.status)), say("as_of", day=view.as_of)]
    if registration is not None:
        about += [f"S {registration.registered_on}", say.code(registration.insurance)]
        about += [say("municipality", code=registration.municipality_code)]
        # R8: at an exit, the hours counted up to it (the case's hours paid may be more)
        counted = "hours_counted" if view.exit is None else "hours_to_exit"
        hours, of = say.num(_hours_to_exit(view, running)), say.num(threshold)
        about += [say(counted, hours=hours, of=of)] if started else []
    about += [say("adviser", name=view.adviser)] if view.adviser else []
    pic.front.append(svg_text(12, 26, say("case", case=case_id, cpr=cpr or "-"), 16, bold=True))
    pic.front.append(svg_text(12, 46, "  ·  ".join(about), 12, fill="#333"))
    pic.y = 50
    labels = pic.marker_rows(markers)
    axis_y, lanes_top = pic.y - 6, pic.y
    if registration is None or not started:
        why = say("in_notice")
        if registration is not None:
            why = say("outside", reason=say.code(registration.outside_reason))
        pic.label(LEFT + 6, pic.lane("case", 30) + 19, why, fill="#555")
    for meeting in view.meetings:
        pic.meeting(meeting)
    if started and threshold is not None:
        pic.bars(say("absences"), absences, say("no_absences"))
        pic.bars(say("bookings"), bookings, say("no_bookings"))
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
    name = say("name", case=case_id, cpr=cpr or "-", day=view.as_of)
    desc = _description(view, markers + absences + bookings, running, threshold, say)
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
    store: Store,
    cpr: str,
    day: date,
    settings: Settings,
    known_at: datetime | None = None,
    say: Words = EN,
) -> str | None:
    """The timeline of the member's latest case as `case` reads it: of the cases opened by
    `day`, from the events recorded by `known_at`, judged on `day`, with the handovers that
    took effect by `day` (as `handovers --as-of` lists them). None when there is no case."""
    cases = [case for case in store.cases_of(cpr, known_at) if case.facts.opened_on <= day]
    if not cases:
        return None
    case, as_of = cases[-1], day.isoformat()
    shown = [h for h in case.handovers if h["content"]["effective_on"] <= as_of]
    view = case_view(case.facts, day, settings)
    return render_timeline(str(case.id), cpr, view, shown, settings, say)
