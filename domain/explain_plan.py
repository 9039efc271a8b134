"""Explanations of the contact course: each meeting's window and state, holidays, R18."""

from __future__ import annotations

from datetime import timedelta

from domain.evidence import Evidence, Explanation, day_name
from domain.params import EXTRA_MEETING_INTERVAL_DAYS, HOLIDAY_NOTICE_DAYS
from domain.params import LESS_INTENSIVE_WINDOW_DAYS as LI_DAYS
from domain.rules.holiday import notice_days
from domain.view import MeetingView, holiday_dicts

_CHANNEL = {"jobnet": "via jobnet", "message": "by message", "phone": "by phone"}
_STATE_WORDS = {
    "due": "Not held yet as of {day}.",
    "held": "Held on {held}, within its window.",
    "late": "Held on {held}, after its due date: recorded and counted, flagged late (R4).",
    "early": "Held on {held}, before its window opened: recorded and counted, flagged early (R4).",
}


def meetings(ev: Evidence) -> list[Explanation]:
    """R4, R5, R20 with R18 and R12: each meeting of the plan as of the day."""
    out, extras = [], 0
    for meeting in ev.view.meetings:
        extras += meeting.kind == "extra_job"
        out.append(_meeting(ev, meeting, extras))
    return out


def _meeting(ev: Evidence, m: MeetingView, extra: int) -> Explanation:
    rules, events = [m.rule], list(ev.find("Registered"))
    assert m.window is not None
    w = m.window  # the rule's window with its basis: nothing is worked out again here
    if m.kind == "extra_job":
        events = [*ev.find("ExtraMeetingsAgreed"), *ev.find("MeetingHeld", held_on=str(w.after))]
        agreed = [a.effective_on for a in ev.view.facts.extra_meetings_agreed]
        what = "the agreement on" if w.after in agreed[:1] else "the latest meeting held,"
        base = f"{what} {w.after} + {EXTRA_MEETING_INTERVAL_DAYS} days"
    else:
        base = f"S {w.after} + {(w.planned_by - w.after).days} days"
    if w.planned_by != m.due_by:
        words = (
            f"{m.kind} is due by {m.due_by}: {base} is {w.planned_by}, {day_name(w.planned_by)}, "
            "so the due date moves back to the working day before (R20)"
        )
    else:
        words = f"{m.kind} is due by {m.due_by}: {base} ({m.rule})"
    if w.planned_from != m.due_from:
        words += (
            f"; due from {m.due_from}, as {w.planned_from} is {day_name(w.planned_from)} and the "
            "due-from date moves forward to the next working day (R20)"
        )
    else:
        words += f"; due from {m.due_from}"
    if w.shifted:
        rules.append("R20")
    if m.held_on is not None:
        events += ev.find("MeetingHeld", kind=m.kind, held_on=m.held_on.isoformat())
    exit_ = ev.view.exit
    if m.state in _STATE_WORDS:
        words += ". " + _STATE_WORDS[m.state].format(day=ev.view.as_of, held=m.held_on)
    elif m.state == "overdue":
        words += f". Not held by {m.due_by}, so overdue from {m.due_by + timedelta(1)} ({m.rule})."
    elif m.state == "waived":
        rules.append("R18")
        covering = [
            r
            for r in ev.view.facts.less_intensive
            if r.status == "approved" and r.requested_on <= m.due_by <= r.until
        ]
        for r in covering:
            events += ev.find("LessIntensiveRequested", requested_on=r.requested_on.isoformat())
        periods = ", ".join(f"{r.requested_on} to {r.until}" for r in covering)
        words += (
            f". Its due date falls in the approved less-intensive period {periods}, so it is "
            "waived for good (R18)."
        )
    elif m.state == "handed_over" and exit_ is not None:
        rules.append("R12")
        events += ev.exit_chain()
        words += (
            f". Held on {m.held_on}, after the case left the trial on {exit_.on}: it does not "
            "count in the trial (R12)."
            if m.held_on
            else f". The case left the trial on {exit_.on} ({exit_.reason}) before it was held: "
            "it is for the jobcenter now (R12)."
        )
    subject = f"meeting:{m.kind}" + (f":{extra}" if m.kind == "extra_job" else "")
    return Explanation(subject, m.as_dict(), "+".join(rules), words, tuple(sorted(set(events))))


def holidays(ev: Evidence) -> list[Explanation]:
    """R14: each holiday request, the decision stored when it arrived, and the adviser's."""
    facts, out = ev.view.facts, []
    for h in holiday_dicts(facts):
        rid = str(h["request_id"])
        r = next(x for x in facts.holiday_requests if x.request_id == rid)
        asked = ev.find("HolidayRequested", request_id=rid)
        events = [*asked, *ev.find("HolidayDecided", request_id=rid)]
        notice = notice_days(r.requested_on, r.first_day)
        words = (
            f"Requested on {r.requested_on} {_CHANNEL[r.channel]} for {r.first_day} to "
            f"{r.last_day}: notice {r.first_day} - {r.requested_on} = {notice} days"
        )
        if r.reason == "clash":
            first, last = r.first_day.isoformat(), r.last_day.isoformat()
            booked = [
                e
                for e in ev.events
                if e.type == "MeetingBooked"
                and e.version < min(asked, default=0)
                and first <= str(e.data.get("on")) <= last
            ]
            events += [e.version for e in booked]
            on = ", ".join(f"{e.data.get('kind')} on {e.data.get('on')}" for e in booked)
            words += (
                f", enough (at least {HOLIDAY_NOTICE_DAYS}), but a meeting is booked on a "
                f"holiday day ({on or 'a booking'}), so it waited for the adviser (clash)"
            )
        elif r.reason == "short_notice_via_jobnet":
            words += (
                f", less than {HOLIDAY_NOTICE_DAYS} via jobnet, so it was rejected: short notice "
                "must come as a message or by phone"
            )
        elif r.reason == "short_notice":
            words += (
                f", less than {HOLIDAY_NOTICE_DAYS} {_CHANNEL[r.channel]}, so it waited for the "
                "adviser's decision"
            )
        else:
            words += (
                f", enough (at least {HOLIDAY_NOTICE_DAYS}), and no holiday day falls on a "
                "booked meeting, so it was approved"
            )
        decision = next((d for d in facts.holiday_decisions if d.request_id == rid), None)
        if decision is not None:
            verdict = "approved" if decision.approved else "refused"
            words += f"; on {decision.effective_on} the adviser {verdict} it"
        value = {k: h[k] for k in ("status", "reason", "first_day", "last_day")}
        versions = tuple(sorted(events))
        out.append(Explanation(f"holiday:{rid}", value, "R14", words + " (R14).", versions))
    return out


def less_intensive(ev: Evidence) -> list[Explanation]:
    """R18: each request for less intensive effort and the decision stored when it arrived."""
    requests, out = ev.view.facts.less_intensive, []
    for n, r in enumerate(requests, 1):
        ahead = (r.starts_on - r.requested_on).days
        words = f"Requested on {r.requested_on} ({r.reason}), starting {r.starts_on}: "
        if r.refusal == "undocumented":
            words += "without documentation, so it was rejected (undocumented, R18)."
        elif r.refusal == "too_early":
            words += (
                f"{ahead} days ahead, more than {LI_DAYS}, so it was rejected (too_early, R18)."
            )
        else:
            words += (
                f"documented and {ahead} days ahead (at most {LI_DAYS}), so it was approved from "
                f"{r.requested_on} to {r.until}, both included: no meeting is due meanwhile (R18)."
            )
        value = {
            "status": r.status,
            "reason": r.refusal,
            "requested_on": r.requested_on.isoformat(),
            "until": r.until.isoformat(),
        }
        versions = ev.find(
            "LessIntensiveRequested",
            requested_on=r.requested_on.isoformat(),
            starts_on=r.starts_on.isoformat(),
        )
        subject = "less_intensive" + (f":{n}" if len(requests) > 1 else "")
        out.append(Explanation(subject, value, "R18", words, versions))
    return out
