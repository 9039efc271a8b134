"""Text for people of the reads: case, history, worklist, handovers and explain."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from domain.evidence import place
from infra.text import (
    NOTHING,
    cell,
    handover_ref,
    hours,
    moment,
    pairs,
    phrase,
    short_case,
    source,
    table,
    words,
    wrap,
)


def _dated(on: object, reason: object, rule: object) -> str:
    return f"{cell(on)}, {words(reason)} ({cell(rule)})"


def case_text(case: dict[str, Any]) -> str:
    """One case: its facts as labelled lines, then its meetings and holidays as tables."""
    code = case.get("municipality_code")
    started = [
        cell(case.get("started_on")),
        f"{words(case.get('insurance'))} insured" if case.get("insurance") else None,
    ]
    expected, exit_ = case.get("expected_end"), case.get("exit")
    items = [
        ("case", short_case(case["case_id"])),
        ("cpr", cell(case.get("cpr"))),
        ("status", words(case.get("status"))),
        ("started", ", ".join(s for s in started if s)),
        ("municipality", place(int(code)) if code is not None else NOTHING),
        ("adviser", cell(case.get("adviser"))),
        ("hours paid", hours(case.get("hours_paid"))),
        (
            "expected end",
            f"{expected['on']} ({expected['rule']}, a forecast)" if expected else NOTHING,
        ),
        ("exit", _dated(exit_["on"], exit_["reason"], exit_["rule"]) if exit_ else NOTHING),
    ]
    if case.get("outside_reason"):
        items.append(("outside the trial", f"by its {words(case['outside_reason'])} (R1)"))
    li = case.get("less_intensive")
    if li:
        until = f" until {li['until']}" if li.get("until") else ""
        why = f", {words(li['reason'])}" if li.get("reason") else ""
        items.append(("less intensive", f"{words(li['status'])}{until}{why} ({li['rule']})"))
    lines = pairs(items)
    if case.get("meetings"):
        lines += ["", "meetings"]
        rows = [
            [
                words(m["kind"]),
                cell(m["due_from"]),
                cell(m["due_by"]),
                cell(m["held_on"]),
                words(m["state"]),
                cell(m["rule"]),
            ]
            for m in case["meetings"]
        ]
        header = ["kind", "due from", "due by", "held on", "state", "rule"]
        lines += ["  " + x for x in table(header, rows).splitlines()]
    if case.get("holidays"):
        lines += ["", "holidays"]
        rows = [
            [
                cell(h["request_id"]),
                cell(h["first_day"]),
                cell(h["last_day"]),
                words(h["status"]),
                words(h["reason"]),
                cell(h["rule"]),
            ]
            for h in case["holidays"]
        ]
        header = ["request", "first day", "last day", "status", "reason", "rule"]
        lines += ["  " + x for x in table(header, rows).splitlines()]
    return "\n".join(lines)


def cases_text(cases: Sequence[dict[str, Any]]) -> str:
    return "\n\n".join(case_text(c) for c in cases)


def history_text(rows: Sequence[dict[str, Any]]) -> str:
    """The audit trail: a line per event (case, version, type, effective day, recorded
    moment in Copenhagen time), then where it came from and its data, indented."""
    if not rows:
        return "(no events)"
    out = ["case      version  event, effective on, recorded at (Copenhagen time)"]
    type_width = max(len(r["type"]) for r in rows)
    for r in rows:
        case = short_case(r["case_id"]) if r["case_id"] else "member"
        out.append(
            f"{case:<8}  {r['version']:>7}  {r['type']:<{type_width}}  "
            f"{cell(r['effective_on'])}  {moment(r['recorded_at'], seconds=True)}"
        )
        out += wrap(f"from {source(r.get('source'))}", 10)
        if r.get("data"):
            out += wrap(phrase(r["data"]), 10)
    return "\n".join(out)


def worklist_text(rows: Sequence[dict[str, Any]]) -> str:
    header = ["due by", "overdue", "task", "cpr", "adviser", "case"]
    cells = [
        [
            cell(r["due_by"]),
            "yes" if r["overdue"] else "no",
            cell(r["task"]),
            cell(r["cpr"]),
            cell(r["adviser"]),
            short_case(r["case_id"]),
        ]
        for r in rows
    ]
    return table(header, cells, empty="no open tasks")


def handovers_text(rows: Sequence[dict[str, Any]]) -> str:
    """The feed: a row per message (its case's short reference and number), what the
    jobcenter must do below it."""
    header = ["handover", "type", "reason", "effective", "jobcenter", "cpr"]
    cells, notes = [], []
    for r in rows:
        code = r.get("jobcenter_municipality_code")
        cells.append(
            [
                handover_ref(r["message_id"]),
                words(r["type"]),
                words(r["reason"]),
                cell(r["effective_on"]),
                place(int(code)) if code is not None else NOTHING,
                cell(r["cpr"]),
            ]
        )
        notes.append(_must(r))
    return table(header, cells, notes=notes, empty="no handovers")


def _must(r: dict[str, Any]) -> str | None:
    held, jc, ak = r.get("held"), r.get("jobcenter_must"), r.get("akasse_must")
    if not (held and jc and ak):
        return None
    replaces = f"replaces {handover_ref(r['replaces'])}; " if r.get("replaces") else ""
    return replaces + (
        f"held {held['job']} job, {held['cv']} cv, {held['availability']} availability, "
        f"{held['joint']} joint; the jobcenter must hold {jc['job']} job and {jc['joint']} "
        f"joint by {jc['by']}; the a-kasse availability by {ak['availability_by']}, joint at "
        f"16 months {ak['joint_at_16_months']}"
    )


def explain_text(explained: dict[str, Any]) -> str:
    """Each derived fact as a heading (subject, its value in words, rule, events) and the
    reason in sentences below it."""
    known = explained.get("known_at")
    out = [
        f"Case {short_case(explained['case_id'])} of {cell(explained.get('cpr'))} as of "
        f"{explained['as_of']}"
        + (f", from what was known at {moment(known)}" if known else "")
        + "."
    ]
    for x in explained["explanations"]:
        versions = ", ".join(str(v) for v in x["events"])
        basis = f"from events {versions}" if versions else "from no stored event"
        out += ["", f"{words(x['subject'].replace(':', ' '))}: {_value(x['value'])}"]
        out += wrap(x["because"], 2)
        out += wrap(f"Rule {x['rule']}; {basis}.", 2)
    return "\n".join(out)


def _value(value: Any) -> str:
    """An explanation's value in a few words (the sentences below say the rest)."""
    if not isinstance(value, dict):
        return hours(value) if isinstance(value, float) else words(value)
    if "in_trial" in value:
        where = place(int(value["municipality_code"]))
        if value["in_trial"]:
            return f"in the trial from {value['started_on']}, {where}"
        return f"outside the trial ({words(value['outside_reason'])}), {where}"
    if "signed_up_on" in value:
        return f"signed up under notice on {value['signed_up_on']}"
    if "due_by" in value:
        held = f", held on {value['held_on']}" if value.get("held_on") else ""
        return f"{words(value['state'])}, due {value['due_from']} to {value['due_by']}{held}"
    if "message_id" in value:
        return (
            f"{words(value['type'])} {handover_ref(value['message_id'])}, "
            f"{words(value['reason'])} on {value['effective_on']}"
        )
    if "on" in value and "reason" in value:
        return f"{words(value['reason'])} on {value['on']}"
    if "first_day" in value:
        reason = f" ({words(value['reason'])})" if value.get("reason") else ""
        return f"{words(value['status'])}{reason}, {value['first_day']} to {value['last_day']}"
    if "status" in value:
        reason = f" ({words(value['reason'])})" if value.get("reason") else ""
        return f"{words(value['status'])}{reason}, until {cell(value.get('until'))}"
    return phrase(value)
