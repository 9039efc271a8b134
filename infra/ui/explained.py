"""The auditor's explanation in Danish sentences, built from each explanation's values and the
case (domain/explain.py's English sentences are the command line's and the API's)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from domain.evidence import handover_number
from domain.params import (
    HOURS_THRESHOLD,
    JOB_CONVERSATIONS_WITHIN_6_MONTHS,
    JOINT_CONVERSATIONS_WITHIN_6_MONTHS,
    PROGRAMME_END,
    PROGRAMME_START,
)
from infra.ui.words import (
    EXIT_REASON,
    HANDOVER_TYPE,
    HOLIDAY_REASON,
    INSURANCE,
    MEETING_KIND,
    STATUS,
    municipality,
    number,
    word,
)

Case = Mapping[str, Any]


def _enrolment(v: Mapping[str, Any], rule: str, case: Case) -> str:
    """R1, R2, R3."""
    if "signed_up_on" in v:
        return (
            f"Tilmeldt {v['signed_up_on']} under opsigelse, bosat i "
            f"{municipality(v['municipality_code'])}, en forsøgskommune: sagen venter i "
            "opsigelsesperioden, til medlemmet melder sig ledig (R2)."
        )
    s, where = v["started_on"], municipality(v["municipality_code"])
    if v["outside_reason"] == "window":
        text = (
            f"S = {s} ligger uden for forsøgets periode {PROGRAMME_START} til {PROGRAMME_END}, "
            "så sagen er uden for forsøget og har ingen opgaver (R1)."
        )
    elif v["outside_reason"] == "municipality":
        text = (
            f"På S = {s} boede medlemmet i {where}, som ikke er en forsøgskommune, så sagen er "
            "uden for forsøget og har ingen opgaver (R1)."
        )
    else:
        text = (
            f"S = {s} ligger i forsøgets periode, og {where} er en forsøgskommune, så sagen er "
            "i forsøget (R1)."
        )
    if v.get("education_order"):
        text += (
            " På S var medlemmet under 25 år, uden erhvervsuddannelse og uden børn: "
            "målgruppen for et uddannelsespålæg (R3)."
        )
    return text


def _exit_words(exit_: Mapping[str, Any]) -> str:
    return f"{exit_['on']}, årsag: {word(EXIT_REASON, exit_['reason'])} ({exit_['rule']})"


def _status(v: Any, rule: str, case: Case) -> str:
    exit_, day = case.get("exit"), case["as_of"]
    if v == "outside_trial":
        return "Sagen blev registreret uden for forsøget, da medlemmet meldte sig ledig (R1)."
    if v == "ended" and exit_:
        return f"Pr. {day} er sagen afsluttet: den forlod forsøget {_exit_words(exit_)}."
    if v == "notice_period":
        return f"Pr. {day} er medlemmet under opsigelse og endnu ikke meldt ledig (R2)."
    ahead = f"dens udtræden {_exit_words(exit_)} er kendt, men ligger forude" if exit_ else (
        "ingen udtræden er kendt"
    )
    return f"Pr. {day} er sagen i forsøget: den startede {case['started_on']}, og {ahead}."


def _hours(v: Any, rule: str, case: Case) -> str:
    insurance = case["insurance"]
    return (
        f"{number(v)} timer tæller med mod grænsen på {HOURS_THRESHOLD[insurance]} timer "
        f"({word(INSURANCE, insurance)}): de betalte timer pr. udbetalingsmåned fra S's "
        "måned, uden frosne måneder (R8)."
    )


def _expected_end(v: Any, rule: str, case: Case) -> str:
    return (
        "En prognose, ikke en afgørelse: med de betalte timer og en fuld måneds timer for "
        f"hver måned, der endnu ikke er betalt, nås grænsen, så forsøget forventes at slutte "
        f"{v}. Kun timer, der faktisk er betalt, afslutter forsøget (R8)."
    )


_STATE = {
    "due": "Endnu ikke holdt pr. {day}.",
    "held": "Holdt {held}, inden for sit vindue.",
    "late": "Holdt {held}, efter fristen: registreret og talt med, markeret for sent (R4).",
    "early": "Holdt {held}, før vinduet åbnede: registreret og talt med, markeret for "
    "tidligt (R4).",
    "overdue": "Ikke holdt senest {due_by}, så overskredet fra dagen efter ({rule}).",
    "waived": "Fristen falder i en godkendt periode med mindre intensiv indsats, så den er "
    "frafaldet for altid (R18).",
    "handed_over": "Sagen forlod forsøget, før samtalen blev holdt i forsøget: den er nu "
    "jobcentrets (R12).",
}


def _meeting(v: Mapping[str, Any], rule: str, case: Case) -> str:
    """R4, R5, R20 (a shifted window says so by its rule), R18, R12."""
    kind = word(MEETING_KIND, v["kind"])
    text = f"{kind[:1].upper()}{kind[1:]} skal holdes fra {v['due_from']} til {v['due_by']}"
    text += f" ({v['rule']})"
    if "R20" in rule.split("+"):
        text += "; en frist på en weekend eller helligdag flyttes til en arbejdsdag (R20)"
    state = _STATE.get(str(v["state"]), str(v["state"]))
    if v["state"] == "handed_over" and v.get("held_on"):
        state = f"Holdt {v['held_on']}, efter at sagen forlod forsøget: tæller ikke med (R12)."
    values = {"day": case["as_of"], "held": v.get("held_on"), "due_by": v["due_by"]}
    return f"{text}. {state.format(**values, rule=v['rule'])}"


def _holiday(v: Mapping[str, Any], rule: str, case: Case) -> str:
    """R14: the request's days, how it was decided and why."""
    text = f"Ferie {v['first_day']} til {v['last_day']}: "
    reason = v.get("reason")
    status = str(v["status"])
    if status == "approved":
        text += "godkendt" + (f" ({word(HOLIDAY_REASON, reason)})" if reason else "")
    elif status == "pending":
        why = word(HOLIDAY_REASON, reason) if reason else "afventer"
        text += f"afventer rådgiverens afgørelse ({why})"
    else:
        text += "afvist" + (f" ({word(HOLIDAY_REASON, reason)})" if reason else "")
    return text + " (R14)."


def _less_intensive(v: Mapping[str, Any], rule: str, case: Case) -> str:
    """R18."""
    start = f"Anmodet {v['requested_on']}: "
    if v["reason"] == "undocumented":
        return start + "uden dokumentation, så den blev afvist (R18)."
    if v["reason"] == "too_early":
        return start + "for tidligt i forvejen, så den blev afvist (R18)."
    return (
        start + f"godkendt fra {v['requested_on']} til {v['until']}, begge dage med: ingen "
        "samtale har frist imens (R18)."
    )


def _exit(v: Mapping[str, Any], rule: str, case: Case) -> str:
    """R3, R8 to R11, R16, R17, and R13 when it revised an earlier exit."""
    reason, on = str(v["reason"]), v["on"]
    text = {
        "hours_threshold": f"De betalte timer når timegrænsen i {on[:7]}, så forsøget "
        f"slutter den sidste dag i måneden, {on} (R8).",
        "moved_out": f"Medlemmet flyttede {on} til en kommune uden for forsøget, hvilket "
        "afslutter forsøget samme dag (R9).",
        "education_order": "Medlemmet er i målgruppen for et uddannelsespålæg: sagen udtræder "
        "på S (R3).",
        "changed_akasse": f"Medlemmet forlod a-kassen; udtræden {on} (R10).",
        "opted_out": f"Medlem og rådgiver aftalte, at jobcentret hjælper medlemmet bedre; "
        f"udtræden {on} (R11).",
        "deregistered": f"Medlemmet blev afmeldt, ikke længere ledig; udtræden {on}: sagen "
        "lukker uden overdragelse (R17).",
        "programme_ended": f"Forsøget sluttede med sagen stadig i det; udtræden {on}, som "
        "tikket registrerede (R16).",
    }.get(reason, f"Udtræden {on}: {word(EXIT_REASON, reason)} ({v['rule']}).")
    if on > case["as_of"]:
        text += f" Den ligger forude: sagen er i forsøget til {on}."
    if "R13" in rule.split("+"):
        text += (
            " Den reviderer en tidligere afgjort udtræden: en oplysning, der kom senere, "
            "flyttede den (R13)."
        )
    return text


def _handover(v: Mapping[str, Any], rule: str, case: Case) -> str:
    """R12, R13: what the handover tells the jobcenter, and what it replaced."""
    if v["type"] == "handover_withdrawn":
        text = (
            f"Trukket tilbage: en senere oplysning gjorde udtræden til en afmelding "
            f"{v['effective_on']}, som ikke har nogen overdragelse (R13, R17)."
        )
    else:
        held, must = v["held"], v["jobcenter_must"]
        text = (
            f"For udtræden ({word(EXIT_REASON, v['reason'])}) {v['effective_on']}, til "
            f"jobcentret i {municipality(v['jobcenter_municipality_code'])}: holdt i forsøget "
            f"{held['job']} jobsamtaler (CV {held['cv']}, rådighed {held['availability']}) og "
            f"{held['joint']} fælles; jobcentret skal holde {JOB_CONVERSATIONS_WITHIN_6_MONTHS} "
            f"- {held['job']} = {must['job']} jobsamtaler og "
            f"{JOINT_CONVERSATIONS_WITHIN_6_MONTHS} - {held['joint']} = {must['joint']} fælles "
            f"senest S + 6 måneder = {must['by']} (R12)."
        )
    if v.get("replaces"):
        text = (
            f"Erstatter overdragelse #{handover_number(v['replaces']).rsplit(':')[-1]}, da "
            "det, den fortæller jobcentret, ændrede sig (R13). "
            f"{text}"
        )
    kind = word(HANDOVER_TYPE, v["type"])
    return f"{kind[:1].upper()}{kind[1:]}. {text}"


_BY_SUBJECT: dict[str, Callable[[Any, str, Case], str]] = {
    "enrolment": _enrolment,
    "status": _status,
    "hours_paid": _hours,
    "expected_end": _expected_end,
    "meeting": _meeting,
    "holiday": _holiday,
    "less_intensive": _less_intensive,
    "exit": _exit,
    "handover": _handover,
}


def because(explanation: Mapping[str, Any], case: Case) -> str:
    """An explanation's "because" in Danish, from its values, rule and the case shown (its
    `as_of`, `exit`, `started_on`, `insurance`)."""
    subject, value, rule = explanation["subject"], explanation["value"], explanation["rule"]
    head = str(subject).partition(":")[0]
    render = _BY_SUBJECT.get(head)
    if render is None:  # a subject this page does not know yet: the values in words
        return STATUS.get(str(value), str(value))
    return render(value, rule, case)
