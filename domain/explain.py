"""`ledighed explain`: every derived fact of a case with its rule id and its stored events."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from domain import explain_plan
from domain.evidence import EventRecord as EventRecord
from domain.evidence import Evidence, Versions, handover_number, place
from domain.evidence import Explanation as Explanation
from domain.municipalities import is_trial
from domain.params import (
    DEFAULT_SETTINGS,
    FULL_MONTH_HOURS,
    HOURS_THRESHOLD,
    JOB_CONVERSATIONS_WITHIN_6_MONTHS,
    JOINT_CONVERSATIONS_WITHIN_6_MONTHS,
    PROGRAMME_END,
    PROGRAMME_START,
    Settings,
)
from domain.rules.hours import start_month_share
from domain.view import CaseView

# The exits that a dated fact of their own gives (R10, R11, R16, R17): its event and words.
_DATED_EXITS = {
    "changed_akasse": ("AkasseChanged", "the member left the a-kasse on {d} (R10)"),
    "opted_out": (
        "OptedOut",
        "member and adviser agreed on {d} that the jobcenter helps the member better (R11)",
    ),
    "deregistered": (
        "Deregistered",
        "the member was deregistered on {d}, no longer unemployed: the case closes without "
        "a handover (R17)",
    ),
    "programme_ended": (
        "ProgrammeEnded",
        "the trial programme ended on {d} with the case still in it, as the tick recorded (R16)",
    ),
}


def explain_case(
    events: Sequence[EventRecord], view: CaseView, settings: Settings = DEFAULT_SETTINGS
) -> list[Explanation]:
    """Every derived fact of the case as of `view.as_of`, with its rule id and the versions
    of the stored events it was derived from (`events`: the case's, recorded by then)."""
    ev = Evidence(tuple(sorted(events, key=lambda e: e.version)), view, settings)
    out = _enrolment(ev) + _status(ev)
    registration = view.facts.registration
    if registration is not None and registration.in_trial:
        out += _hours(ev) + explain_plan.meetings(ev)
    out += explain_plan.holidays(ev) + explain_plan.less_intensive(ev)
    return out + _exit(ev) + _handovers(ev)


def _enrolment(ev: Evidence) -> list[Explanation]:
    """R1, R2, R3: how the case began, as decided when the member signed up or registered."""
    reg, notice = ev.view.facts.registration, ev.view.facts.notice
    noticed = ev.find("NoticeSignedUp")
    if reg is None:
        if notice is None:
            return []
        value = {
            "signed_up_on": notice.signed_up_on.isoformat(),
            "municipality_code": notice.municipality_code,
        }
        because = (
            f"Signed up on {notice.signed_up_on} under notice, living in "
            f"{place(notice.municipality_code)}, a trial municipality: the case waits in its "
            "notice period until the member registers as unemployed (R2)."
        )
        return [Explanation("enrolment", value, "R2", because, noticed)]
    registered = ev.find("Registered")
    rule = str(ev.data_of(registered[0]).get("rule", "R1")) if registered else "R1"
    s = reg.registered_on
    if reg.outside_reason == "window":
        because = (
            f"S = {s} lies outside the trial's window {PROGRAMME_START} to {PROGRAMME_END}, "
            "so the case is outside the trial and has no tasks (R1)."
        )
    elif reg.outside_reason == "municipality":
        because = (
            f"On S = {s} the member lived in {place(reg.municipality_code)}, not a trial "
            "municipality, so the case is outside the trial and has no tasks (R1)."
        )
    else:
        because = (
            f"S = {s} lies in the trial's window and {place(reg.municipality_code)} is a "
            "trial municipality, so the case is in the trial (R1)."
        )
    if reg.education_order:
        because += (
            " On S the member was under 25, without vocational education and without "
            "children: the target group for an education order (R3)."
        )
    value = {
        "started_on": s.isoformat(),
        "insurance": reg.insurance,
        "municipality_code": reg.municipality_code,
        "in_trial": reg.in_trial,
        "outside_reason": reg.outside_reason,
        "education_order": reg.education_order,
    }
    return [Explanation("enrolment", value, rule, because, noticed + registered)]


def _status(ev: Evidence) -> list[Explanation]:
    """The case's status on the day: in the trial, ended (by its exit), outside, notice."""
    status, day, exit_ = ev.view.status, ev.view.as_of, ev.view.exit
    basis = ev.find("NoticeSignedUp") + ev.find("Registered") + ev.exit_chain()
    if status == "outside_trial":
        because = "The case was recorded outside the trial when the member registered (R1)."
        return [Explanation("status", status, "R1", because, basis)]
    if status == "ended" and exit_ is not None:
        because = (
            f"As of {day} the case has ended: it left the trial on {exit_.on}, reason "
            f"{exit_.reason} ({exit_.rule})."
        )
        return [Explanation("status", status, exit_.rule, because, basis)]
    if status == "notice_period":
        because = f"As of {day} the member is under notice and not yet registered (R2)."
        return [Explanation("status", status, "R2", because, basis)]
    ahead = (
        f"its exit on {exit_.on} ({exit_.reason}, {exit_.rule}) is known but still ahead"
        if exit_
        else "no exit is known"
    )
    because = f"As of {day} the case is in the trial: it started on {ev.start} and {ahead}."
    return [Explanation("status", status, "R1", because, basis)]


def _counted(ev: Evidence, through: date | None = None) -> tuple[str, tuple[int, ...]]:
    """R8: the counted hours by month (through a month) in words, and their HoursPaid events."""
    payments = ev.view.facts.payments
    by_month = dict(ev.view.hours_by_month)  # as the view counted them, not counted again
    months = sorted(m for m in by_month if through is None or m <= through)
    ids = {p.payment_id for p in payments if p.month in months}
    words = " + ".join(f"{m:%Y-%m} {by_month[m]}" for m in months)
    return words, ev.find("HoursPaid", lambda e: e.data.get("payment_id") in ids)


def _hours(ev: Evidence) -> list[Explanation]:
    """R8: the hours that count, and the forecast of the exit while none is known."""
    view = ev.view
    assert view.facts.registration is not None
    insurance = view.facts.registration.insurance
    threshold = HOURS_THRESHOLD[insurance]
    words, paid = _counted(ev)
    left_out = len(view.facts.payments) - len(paid)
    because = f"{view.hours_paid} hours count towards the {threshold}-hour threshold ({insurance})"
    because += f": {words}" if words else ": none paid yet"
    if left_out:
        because += (
            f"; {left_out} payment(s) for a month before S's month or a frozen month left out"
        )
    out = [Explanation("hours_paid", float(view.hours_paid), "R8", because + " (R8).", paid)]
    if view.expected_end is not None:
        end, start = view.expected_end, ev.start
        because = (
            f"A forecast, not a decision: the hours paid ({words or 'none yet'}) and "
            f"{FULL_MONTH_HOURS[insurance]} hours for each month not paid yet "
            f"({start_month_share(start, insurance)} pro rata for S's month {start:%Y-%m}) "
            f"reach {threshold} hours in {end:%Y-%m}, so the trial is expected to end on {end}. "
            "Only hours actually paid end the trial (R8)."
        )
        basis = ev.find("Registered") + paid
        out.append(Explanation("expected_end", end.isoformat(), "R8", because, basis))
    return out


def _exit(ev: Evidence) -> list[Explanation]:
    """R3, R8 to R11, R16, R17 and R13: the earliest exit among the facts, and what it revised."""
    exit_, facts, day = ev.view.exit, ev.view.facts, ev.view.as_of
    if exit_ is None:
        return []
    on = exit_.on
    stored = ev.exit_basis()
    if stored is not None:
        because, basis = _stored_basis(ev, exit_.reason, on, stored)
    elif exit_.reason == "hours_threshold":  # a decision stored before its basis was
        assert facts.registration is not None
        words, basis = _counted(ev, through=on)
        threshold = HOURS_THRESHOLD[facts.registration.insurance]
        because = (
            f"The hours paid reach the {threshold}-hour threshold in {on:%Y-%m} ({words}), so "
            "the trial ends on the last day of that month (R8)."
        )
    elif exit_.reason == "moved_out":
        codes = [m.municipality_code for m in facts.moves if m.effective_on == on]
        basis = ev.find(
            "Moved",
            lambda e: (
                e.effective_on == on and not is_trial(int(e.data.get("municipality_code", 0)))
            ),
        )
        because = (
            f"The member moved to {place(codes[-1])}, not a trial municipality, on {on}, which "
            "ends the trial that day (R9)."
        )
    elif exit_.reason == "education_order":
        basis = ev.find("Registered")
        because = "The member is in the education-order target group: the case exits on S (R3)."
    else:
        type_, template = _DATED_EXITS[exit_.reason]
        dated = [e for e in ev.events if e.type == type_ and e.effective_on <= day]
        first = min((e.effective_on for e in dated), default=on)
        basis = tuple(e.version for e in dated if e.effective_on == first)
        because = template.format(d=first).capitalize()
        because += (
            f"; the exit cannot be before the case began, so it is on {on}." if first < on else "."
        )
    if on > day:
        because += f" It is still ahead: the case stays in the trial until {on}."
    chain, rule = ev.exit_chain(), exit_.rule
    replaced = ev.data_of(chain[-1]).get("replaces") if chain else None
    if replaced:
        rule += "+R13"
        because += (
            f" It revises the exit decided before, {replaced['reason']} on {replaced['on']}: "
            "a fact that arrived later moved it (R13)."
        )
    value = {"reason": exit_.reason, "on": on.isoformat(), "rule": exit_.rule}
    return [Explanation("exit", value, rule, because, tuple(sorted({*chain, *basis})))]


def _stored_basis(
    ev: Evidence, reason: str, on: date, stored: Mapping[str, Any]
) -> tuple[str, Versions]:
    """The exit's words and events from the basis stored with its decision (R13)."""
    if reason == "hours_threshold":
        months = " + ".join(f"{month} {hours}" for month, hours in stored["months"])
        ids = set(stored["payment_ids"])
        basis = ev.find("HoursPaid", lambda e: e.data.get("payment_id") in ids)
        because = (
            f"The hours paid reach the {stored['threshold']}-hour threshold in {on:%Y-%m} "
            f"({months}), so the trial ends on the last day of that month (R8)."
        )
        return because, basis
    if reason == "moved_out":
        code = int(stored["municipality_code"])
        moved_on = date.fromisoformat(stored["moved_on"])
        basis = ev.find("Moved", lambda e: e.effective_on == moved_on, municipality_code=code)
        because = (
            f"The member moved to {place(code)}, not a trial municipality, on {on}, which "
            "ends the trial that day (R9)."
        )
        return because, basis
    if reason == "education_order":
        because = "The member is in the education-order target group: the case exits on S (R3)."
        return because, ev.find("Registered")
    first = date.fromisoformat(stored["first_day"])
    (type_,) = stored["facts"]
    basis = ev.find(type_, lambda e: e.effective_on == first)
    because = _DATED_EXITS[reason][1].format(d=first).capitalize()
    because += (
        f"; the exit cannot be before the case began, so it is on {on}." if first < on else "."
    )
    return because, basis


def _handovers(ev: Evidence) -> list[Explanation]:
    """R12, R13: each handover published by then and effective by the day, and why it says so."""
    published = [e for e in ev.events if e.type == "HandedOver"]
    out = []
    for e in published:
        if e.effective_on > ev.view.as_of:
            continue
        data, content = e.data, e.data["content"]
        held, must = content["held"], content["jobcenter_must"]
        window = (str(content["started_on"]), str(content["effective_on"]))
        if data.get("counted") is not None:  # R12: the meetings it counted, as stored
            counted = {(m["kind"], m["held_on"]) for m in data["counted"]}
            meetings = [
                x.version
                for x in ev.events
                if x.type == "MeetingHeld"
                and x.version < e.version
                and (x.data.get("kind"), str(x.data.get("held_on"))) in counted
            ]
        else:  # a handover stored before the meetings it counted were
            meetings = [
                x.version
                for x in ev.events
                if x.type == "MeetingHeld"
                and x.version < e.version
                and window[0] <= str(x.data.get("held_on")) <= window[1]
            ]
        decided = [
            x.version for x in ev.events if x.type == "ExitDecided" and x.version < e.version
        ]
        if data["type"] == "handover_withdrawn":
            because = (
                f"Withdrawn: a later fact made the exit a deregistration on {window[1]}, which "
                "has no handover (R13, R17)."
            )
        else:
            because = (
                f"For the exit {content['reason']} on {window[1]}, to the jobcenter of "
                f"{place(int(content['jobcenter_municipality_code']))}: held in the trial job "
                f"{held['job']}, cv {held['cv']}, availability {held['availability']}, joint "
                f"{held['joint']}; the jobcenter must hold {JOB_CONVERSATIONS_WITHIN_6_MONTHS} - "
                f"{held['job']} = {must['job']} job and {JOINT_CONVERSATIONS_WITHIN_6_MONTHS} - "
                f"{held['joint']} = {must['joint']} joint conversations by S + 6 months = "
                f"{must['by']} (R12)."
            )
        if data["replaces"]:
            because = (
                f"Replaces {handover_number(data['replaces'])}, as what it tells the jobcenter "
                f"changed (R13). {because}"
            )
        later = [x for x in published if x.data.get("replaces") == data["message_id"]]
        if later:
            because += f" Replaced by {handover_number(later[0].data['message_id'])}."
        value = {
            "message_id": data["message_id"],
            "type": data["type"],
            "replaces": data["replaces"],
            **content,
        }
        versions = tuple(sorted({*decided[-1:], *meetings, e.version}))
        out.append(
            Explanation(
                handover_number(data["message_id"]), value, str(data["rule"]), because, versions
            )
        )
    return out
