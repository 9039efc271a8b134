"""The pages' Danish words for the contract's values (the values themselves are shown too)."""

from __future__ import annotations

import re
from decimal import Decimal

from domain.evidence import place
from domain.params import PROGRAMME_END as _END
from infra.text import moment
from infra.timeline_draw import ENGLISH as TIMELINE_ENGLISH
from infra.timeline_draw import Words

PROGRAMME_END = _END.isoformat()

STATUS = {
    "notice_period": "i opsigelsesperiode",
    "in_trial": "i forsøget",
    "ended": "afsluttet",
    "outside_trial": "uden for forsøget",
}
OUTSIDE_REASON = {
    "municipality": "kommunen er ikke med i forsøget",
    "window": "uden for forsøgets periode",
}
MEETING_KIND = {
    "cv_and_job": "CV- og jobsamtale",
    "availability_and_job": "rådigheds- og jobsamtale",
    "joint": "fælles samtale med jobcentret",
    "extra_job": "ekstra jobsamtale",
}
MEETING_STATE = {
    "due": "skal holdes",
    "held": "holdt",
    "overdue": "overskredet",
    "late": "holdt for sent",
    "early": "holdt for tidligt",
    "waived": "frafaldet",
    "handed_over": "overdraget til jobcentret",
}
HOLIDAY_STATUS = {"approved": "godkendt", "pending": "afventer afgørelse", "rejected": "afvist"}
HOLIDAY_REASON = {
    "short_notice": "varslet for sent",
    "clash": "falder på en booket samtale",
    "adviser": "afvist af rådgiveren",
}
EXIT_REASON = {
    "hours_threshold": "timegrænsen er nået",
    "moved_out": "flyttet ud af forsøgskommunen",
    "changed_akasse": "skiftet a-kasse",
    "opted_out": "fravalgt forsøget",
    "education_order": "uddannelsespålæg",
    "programme_ended": "forsøget er slut",
    "deregistered": "afmeldt",
}
LESS_INTENSIVE_STATUS = {"approved": "godkendt", "rejected": "afvist"}
LESS_INTENSIVE_REASON = {
    "job": "job",
    "barsel": "barsel",
    "efterloen": "efterløn",
    "folkepension": "folkepension",
}
HANDOVER_TYPE = {
    "handover": "overdragelse",
    "handover_revised": "revideret overdragelse",
    "handover_withdrawn": "trukket tilbage",
}
INSURANCE = {"full_time": "fuldtidsforsikret", "part_time": "deltidsforsikret"}
ROLE = {"adviser": "rådgiver", "auditor": "revisor", "jobcenter": "jobcenter", "system": "system"}
MESSAGE_TYPE = {
    "meeting_held": "samtale holdt",
    "meeting_booked": "samtale booket",
    "extra_meetings_agreed": "ekstra samtaler aftalt",
    "holiday_decided": "ferie afgjort",
    "opted_out": "fravalg af forsøget",
    "adviser_assigned": "rådgiver tildelt",
}


def task_words(task: str) -> str:
    """A worklist task (`meeting:<kind>`, `meeting:<kind>:rebook`, `holiday:<id>`,
    `sickness:late_report`) in words."""
    parts = task.split(":")
    if parts[0] == "meeting" and len(parts) >= 2:
        kind = MEETING_KIND.get(parts[1], parts[1])
        return f"{kind}: book igen" if parts[2:] == ["rebook"] else kind
    if parts[0] == "holiday":
        return f"ferieanmodning {':'.join(parts[1:])} skal afgøres"
    if task == "sickness:late_report":
        return "sygemelding meldt for sent"
    return task


def word(table: dict[str, str], value: object) -> str:
    """The value in words, or the value itself when there is no word for it."""
    return table.get(str(value), str(value)) if value is not None else "\u2013"


# --- a form's outcome (infra/ui/outcomes.py) --------------------------------------------------


def recorded(type_: str, on: str, detail: str) -> str:
    """"Samtale holdt 2021-12-20 registreret: CV- og jobsamtale, holdt for sent"."""
    what = word(MESSAGE_TYPE, type_)
    return f"{what[:1].upper()}{what[1:]} {on} registreret" + (f": {detail}" if detail else "")


def kept(on: str) -> str:
    """A message only kept on the member (KeptWithoutCase): not a plain success."""
    return f"Gemt på medlemmet: ingen sag dækker {on}; den anvendes, når en sag gør"


def duplicate(message_id: str) -> str:
    return f"Beskeden {message_id} var allerede registreret: intet nyt gemt"


def case_ended(reason: str | None) -> str:
    return "sagen er afsluttet" + (f" ({word(EXIT_REASON, reason)})" if reason else "")


def refused(rule: str | None, reason: str) -> str:
    """A refusal with the rule that refuses it; nothing was recorded on the case."""
    by = f" efter {rule}" if rule else ""
    return f"Afvist{by}, intet registreret på sagen: {refusal_reason(reason)}"


CONFIRM = {
    "opted_out": "Fravalget afslutter medlemmets forsøg (R11), og medlemmet overdrages til "
    "jobcentret. Det kan ikke gøres om her.",
}
PAST_END_CONFIRM = (
    "Serverens dag er efter forsøgets slut: beskeden afslutter sagen efter R16, og medlemmet "
    "overdrages til jobcentret."
)


# --- finding a member -------------------------------------------------------------------------


def cpr_error(text: str) -> str:
    return (
        f"{text[:20]!r} er ikke et CPR-nummer: skriv 10 cifre med en gyldig fødselsdato, "
        "med eller uden bindestreg (DDMMÅÅ-XXXX)."
    )


def no_member(cpr: str) -> str:
    return f"Der er ingen sag for CPR-nummer {cpr[:6]}-{cpr[6:]}."


def noun(n: int, one: str, many: str) -> str:
    """The noun or adjective in number with the count `n`: "overskreden", "overskredne"."""
    return one if n == 1 else many


def count(n: int, one: str, many: str) -> str:
    """"1 overskreden", "2 overskredne"."""
    return f"{n} {noun(n, one, many)}"


TASK_TYPE = {
    **{f"meeting:{k}": v for k, v in MEETING_KIND.items()},
    "holiday": "ferieanmodning",
    "sickness": "sygemelding",
}
SORT = {
    "due": "frist",
    "overdue": "dage overskredet",
    "adviser": "rådgiver",
    "municipality": "kommune",
}



# --- numbers, places, moments, as the pages write them ----------------------------------------


def number(value: float | Decimal | str, decimals: int = 2) -> str:
    """Danish number format: `1.234,56`."""
    text = f"{Decimal(str(value)):,.{decimals}f}"
    return text.replace(",", "\0").replace(".", ",").replace("\0", ".")


def municipality(code: object) -> str:
    """`København (101)`, as the command line writes it; a dash for none."""
    return place(int(str(code))) if code not in (None, "") else "\u2013"


def copenhagen(iso: object) -> str:
    """A recorded moment in Copenhagen time with its zone: `2021-04-03 09:30:12 CEST`."""
    return moment(iso, seconds=True, zone=True)


# --- the rules' refusals in Danish (the reason's words, by rule, with their values) -----------

WHAT = {
    "R7: a meeting cannot be booked": "R7: en samtale kan ikke bookes",
    "a meeting cannot be held": "en samtale kan ikke registreres som holdt",
    "R5: extra meetings cannot be agreed": "R5: ekstra samtaler kan ikke aftales",
    "R14: a holiday cannot be requested": "R14: der kan ikke anmodes om ferie",
}
REFUSALS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), danish)
    for pattern, danish in (
        (
            r"^(?P<what>.+): the member's case is in its notice period and has not started$",
            "{what}: medlemmets sag er i opsigelsesperioden og er ikke startet",
        ),
        (
            r"^(?P<what>.+) on (?P<day>\S+), before the case started on (?P<start>\S+)$",
            "{what} den {day}, før sagen startede {start}",
        ),
        (
            r"^R7: a meeting can only be booked while the case is in the trial$",
            "R7: en samtale kan kun bookes, mens sagen er i forsøget",
        ),
        (
            r"^R7: booking on (?P<on>\S+) lies after the case left the trial on (?P<exit>\S+)$",
            "R7: bookingen {on} ligger efter, at sagen forlod forsøget {exit}",
        ),
        (
            r"^R4: (?P<kind>\w+) was already held on (?P<day>\S+)$",
            "R4: {kind} er allerede holdt {day}",
        ),
        (
            r"^R14: holiday request '(?P<id>[^']+)' is not pending$",
            "R14: ferieanmodningen {id} afventer ikke afgørelse",
        ),
        (
            r"^R14: no holiday request '(?P<id>[^']+)' in the member's case$",
            "R14: der er ingen ferieanmodning {id} i medlemmets sag",
        ),
        (
            r"^field '(?P<field>\w+)': '(?P<value>[^']*)' is not a date.*$",
            "feltet {field}: {value!r} er ikke en dato (skriv ÅÅÅÅ-MM-DD)",
        ),
        (r"^field '(?P<field>\w+)' is missing$", "feltet {field} mangler"),
        (
            r"^field '(?P<field>\w+)': CPR '(?P<value>\d+)' gives day (?P<d>\d+), month "
            r"(?P<m>\d+), year (?P<y>\d+), which is not a real birth date$",
            "feltet {field}: CPR-nummeret {value} giver dag {d}, måned {m}, år {y}, som ikke "
            "er en rigtig fødselsdato",
        ),
        (
            r"^field '(?P<field>\w+)': (?P<value>\S+) is more than (?P<max>\S+) hours, a full "
            r"month \(R8\)$",
            "feltet {field}: {value} er mere end {max} timer, en fuld måned (R8)",
        ),
        (
            r"^field '(?P<field>\w+)': (?P<value>\S+) is not a Danish municipality code$",
            "feltet {field}: {value} er ikke en dansk kommunekode",
        ),
        (
            r"^R2: notice sign-up from municipality (?P<code>\d+), which is not a trial "
            r"municipality$",
            "R2: tilmelding under opsigelse fra {place}, som ikke er en forsøgskommune",
        ),
        (
            r"^unknown message type '(?P<value>[^']*)'; expected one of .*$",
            "ukendt beskedtype {value!r}: kontrakten kender den ikke",
        ),
        (
            r"^the message is not valid JSON \(.*\)$",
            "beskeden er ikke gyldig JSON",
        ),
        (r"^field '(?P<field>\w+)' must not be empty$", "feltet {field} må ikke være tomt"),
        (
            r"^field '(?P<field>\w+)': '(?P<value>[^']*)' is not an allowed value.*$",
            "feltet {field}: {value!r} er ikke en tilladt værdi",
        ),
    )
)
LABEL = {
    "held_on": "Holdt den",
    "on": "Dato",
    "agreed_on": "Aftalt den",
    "decided_on": "Besluttet den",
    "assigned_on": "Fra",
    "adviser": "Rådgiver",
    "kind": "Samtale",
    "note": "Note",
    "request_id": "Anmodning",
    # the contract's other fields, as a refused message from elsewhere names them
    "cpr": "CPR-nummer",
    "hours": "Timer",
    "month": "Måned",
    "municipality_code": "Kommunekode",
    "type": "Beskedtype",
    "effective_on": "Virkningsdato",
    "message_id": "Besked-id",
}
"""The forms' fields by their labels, as a refusal names them."""


def refusal_reason(reason: str) -> str:
    """A refusal's reason in Danish where the catalogue knows its shape, else as the rule
    gives it (the contract's English)."""
    for pattern, danish in REFUSALS:
        if found := pattern.match(reason):
            values = found.groupdict()
            if "what" in values:
                values["what"] = WHAT.get(values["what"], values["what"])
            if "kind" in values:
                values["kind"] = word(MEETING_KIND, values["kind"])
            if "code" in values:
                values["place"] = municipality(values["code"])
            if "max" in values:
                values["max"] = number(values["max"])
            if "field" in values:
                values["field"] = f"«{LABEL.get(values['field'], values['field'])}»"
            return danish.format(**values)
    return reason


# --- the auditor's explanation in words (never a repr) ----------------------------------------

FIELD = {
    "started_on": "start",
    "insurance": "forsikring",
    "municipality_code": "kommune",
    "in_trial": "i forsøget",
    "outside_reason": "uden for forsøget fordi",
    "education_order": "uddannelsespålæg",
    "kind": "samtale",
    "due_from": "vindue fra",
    "due_by": "frist",
    "held_on": "holdt",
    "state": "tilstand",
    "reason": "årsag",
    "rule": "regel",
    "status": "status",
    "first_day": "første dag",
    "last_day": "sidste dag",
    "on": "dato",
    "message_id": "besked",
    "type": "type",
    "replaces": "erstatter",
    "effective_on": "virkning",
    "jobcenter_municipality_code": "jobcenter",
    "held": "holdt",
    "job": "jobsamtaler",
    "joint": "fælles",
    "cv": "CV",
    "availability": "rådighed",
    "akasse_must": "a-kassen skal",
    "jobcenter_must": "jobcentret skal",
    "by": "senest",
    "joint_at_16_months": "fælles ved 16 måneder",
}
SUBJECT = {
    "enrolment": "tilmelding",
    "status": "status",
    "hours_paid": "timer betalt",
    "expected_end": "forventet slut",
    "holiday": "ferie",
    "exit": "udtræden",
    "handover": "overdragelse",
}
CODES = {
    **STATUS,
    **OUTSIDE_REASON,
    **MEETING_KIND,
    **MEETING_STATE,
    **EXIT_REASON,
    **INSURANCE,
    **HOLIDAY_STATUS,
    **HANDOVER_TYPE,
}


def subject(text: str) -> str:
    """An explanation's subject: `meeting:cv_and_job` → "samtale: CV- og jobsamtale"."""
    head, _, rest = text.partition(":")
    name = SUBJECT.get(head, "samtale" if head == "meeting" else head)
    return f"{name}: {CODES.get(rest, rest)}" if rest else name


def value(data: object, key: str = "") -> str:
    """A value of the explanation in Danish words: yes/no, numbers, places, codes by name,
    an object as "felt: værdi; ..."."""
    if isinstance(data, dict):
        return "; ".join(f"{FIELD.get(k, k)}: {value(v, k)}" for k, v in data.items()) or "\u2013"
    if isinstance(data, list):
        return ", ".join(value(v) for v in data) or "\u2013"
    if data is None:
        return "\u2013"
    if isinstance(data, bool):
        return "ja" if data else "nej"
    if key.endswith("municipality_code"):
        return municipality(data)
    if isinstance(data, float | Decimal):
        return number(data)
    return CODES.get(str(data), str(data))


# --- the timeline's words (infra/timeline_draw.py draws it; the command line keeps English) ---

TIMELINE_TEXT = {
    "as_of": "pr. {day}", "notice": "tilmeldt under opsigelse {day} (R2)", "start": "S {day} (R1)",
    "moved": "flyttet {old} → {new} den {day} (R9)", "exit": "udtræden: {reason} {day} ({rule})",
    "deregistered": "afmeldt {day} (R17)", "handover": "overdragelse #{n} {type} {day}",
    "to_jobcenter": " → jobcenter {code}", "replaced": " (erstattet)",
    "holiday": "ferie {status}", "span": "{what}{why} {first} til {last}",
    "sick": "syg fra {first}, meldt {last}", "late_report": ", meldt for sent (R15)",
    "less_intensive": "mindre intensiv indsats ({reason}) {first} til {last} (R18)",
    "rebook": ", syg: book igen", "d_status": "Status {status} pr. {day}.",
    "d_meeting": "Samtale {kind}: vindue {first} til {last}, {state}{held}.",
    "d_held": ", holdt {day}", "d_month": "{month} {hours} timer (i alt {total})",
    "d_hours": "Talte timer pr. udbetalingsmåned: {months}; grænse {threshold} timer.",
    "d_end": "Forventet slut efter R8-prognosen: {day}.", "status": "status {status}",
    "municipality": "kommune {code}", "hours_counted": "timer talt {hours} af {of}",
    "hours_to_exit": "timer talt til udtræden {hours} af {of}", "adviser": "rådgiver {name}",
    "case": "Sag {case}  ·  CPR {cpr}",
    "in_notice": "opsigelsesperiode (R2): sagen er ikke startet",
    "outside": "uden for forsøget ({reason}, R1): ingen samtaler, ingen timer",
    "absences": "ferie · sygdom", "no_absences": "ingen ferie, sygdom eller mindre intensiv "
    "indsats", "bookings": "bookinger (R7)", "no_bookings": "ingen bookinger",
    "name": "Tidslinje for sag {case} (CPR {cpr}) pr. {day}",
    "window": "{rule}: {first} til {last}", "held": "holdt {day}",
    "early": "for tidligt: holdt {day}", "late": "for sent: holdt {day}",
    "overdue": "overskredet: ikke holdt", "waived": "frafaldet (R18)",
    "due": "skal holdes, ikke holdt endnu",
    "handed_over": "overdraget (R12): ikke holdt i forsøget",
    "handed_over_held": "overdraget (R12): holdt {day}, efter udtræden",
    "hours_lane": "talte timer (R8)", "hours_note": "løbende sum pr. måned",
    "frozen": "frosset", "h": "{hours} t", "reaches": "når {threshold} t: R8-slut {day}",
    "threshold": "grænse {threshold} t", "forecast": "forventet slut {day} (R8-prognose)",
    "meetings": "samtaler", "absence": "fravær", "hours": "timer", "markers": "markeringer",
}  # fmt: skip
assert TIMELINE_TEXT.keys() == TIMELINE_ENGLISH.keys()
TIMELINE_CODES = {
    **MEETING_KIND, **MEETING_STATE, **EXIT_REASON, **INSURANCE, **HANDOVER_TYPE,
    **STATUS, **OUTSIDE_REASON, **HOLIDAY_STATUS, **HOLIDAY_REASON, **LESS_INTENSIVE_REASON,
    "short_notice_via_jobnet": "varslet for sent via jobnet",
    # the legend's keys
    "day held": "dag holdt", "holiday approved": "ferie godkendt",
    "holiday pending": "ferie afventer", "holiday rejected": "ferie afvist",
    "sickness": "sygdom", "less intensive": "mindre intensiv indsats", "booking": "booking",
    "earlier months": "tidligere måneder", "the month's hours": "månedens timer",
    "month reaching the threshold": "måned der når grænsen", "frozen month": "frosset måned",
    "threshold": "grænse", "R8 forecast": "R8-prognose", "notice sign-up": "tilmelding",
    "start S": "start S", "move": "flytning", "exit": "udtræden", "handover": "overdragelse",
    "as of": "vist pr.", "deregistration": "afmelding",
}  # fmt: skip
MONTHS = ("jan", "feb", "mar", "apr", "maj", "jun", "jul", "aug", "sep", "okt", "nov", "dec")
TIMELINE = Words(TIMELINE_TEXT, MONTHS, TIMELINE_CODES, ",")
"""The timeline in Danish, as the pages draw it."""
