"""The pages' Danish words for the contract's values (the values themselves are shown too)."""

from __future__ import annotations

from domain.params import PROGRAMME_END as _END

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
    return f"Afvist{by}, intet registreret på sagen: {reason}"


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


def count(n: int, one: str, many: str) -> str:
    """"1 overskreden", "2 overskredne": the noun or adjective in number with the count."""
    return f"{n} {one if n == 1 else many}"


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
