"""Properties of the case engine over generated message sequences for one member (hypothesis).

Each scenario is one member: optionally a notice sign-up (R2), an `unemployed` on S (R1,
R3), then up to 18 messages dated from 30 days before S on (hours for S's month - 1 on),
some of which the rules refuse or keep in the member's record. The properties:

1. replay: every case rebuilt from its stored events has the same facts, exit and
   handovers (also after a round trip through the store's transcoder);
2. the stored exit is the earliest of `exit_candidates`, and the handover says it (R12, R13);
3. no meeting is due, and no handover date lies, before S (R4, R5, R12, R20);
4. saving and reloading the aggregates between batches changes nothing.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain.calendar import add_months, first_of_month, is_working_day
from domain.case import Case
from domain.params import DEFAULT_SETTINGS
from domain.rules.exits import REASON_PRECEDENCE, earliest_exit, exit_candidates
from domain.rules.handover import handover
from domain.rules.meetings import MANDATORY_WINDOWS, mandatory_window
from domain.view import case_view
from tests.fakes import Desk, assert_r13_chain, replay

CPRS = {"0101901234": "1990-01-01", "2902004123": "2000-02-29"}  # 2000-02-29: R3 group
EDGE_STARTS = [
    date(2020, 1, 1),
    date(2020, 2, 29),
    date(2021, 1, 31),
    date(2021, 8, 31),
    date(2022, 12, 12),
    date(2023, 3, 24),
    date(2023, 12, 31),
    date(2019, 12, 31),  # outside the window
]
CODES = [751, 101, 147, 461, 411]  # three trial, Odense, Christiansø
KINDS = ["cv_and_job", "availability_and_job", "joint", "extra_job"]
HOURS = ["0", "50.00", "89.34", "130.00", "160.33", "160.33", "160.33"]
FAR = date(2030, 1, 1)
PROPERTY_SETTINGS = settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


def iso(day: date) -> str:
    return day.isoformat()


@st.composite
def message_on(draw: st.DrawFn, start: date, cpr: str) -> dict[str, Any]:
    """One message dated from 30 days before S (in a notice period, or no case yet) on."""
    day = start + timedelta(days=draw(st.integers(-30, 200)))
    later = day + timedelta(days=draw(st.integers(0, 30)))
    kind = draw(
        st.sampled_from(
            [
                *["hours_paid"] * 3,
                "moved",
                "akasse_changed",
                "deregistered",
                "opted_out",
                "meeting_booked",
                "meeting_held",
                "meeting_held",
                "extra_meetings_agreed",
                "profile_assessed",
                "holiday_requested",
                "holiday_decided",
                "sickness_reported",
                "less_intensive_requested",
                "jobcenter_contact",
                "adviser_assigned",
                "unemployed",
            ]
        )
    )
    fields: dict[str, Any]
    match kind:
        case "hours_paid":
            month = add_months(first_of_month(start), draw(st.integers(-1, 4)))
            fields = {
                "payment_id": f"p{draw(st.integers(1, 10))}",
                "month": f"{month:%Y-%m}",
                "hours": draw(st.sampled_from(HOURS)),
            }
        case "moved":
            fields = {"municipality_code": draw(st.sampled_from(CODES)), "moved_on": iso(day)}
        case "akasse_changed":
            fields = {"changed_on": iso(day)}
        case "deregistered":
            fields = {"deregistered_on": iso(day)}
        case "opted_out":
            fields = {"decided_on": iso(day), "note": "x"}
        case "meeting_booked":
            fields = {"kind": draw(st.sampled_from(KINDS)), "on": iso(day)}
        case "meeting_held":
            fields = {"kind": draw(st.sampled_from(KINDS)), "held_on": iso(day)}
        case "extra_meetings_agreed":
            fields = {"agreed_on": iso(day)}
        case "profile_assessed":
            fields = {"assessed_on": iso(day), "result": "short"}
        case "holiday_requested":
            fields = {
                "request_id": f"h{draw(st.integers(1, 3))}",
                "requested_on": iso(day),
                "first_day": iso(later),
                "last_day": iso(later + timedelta(days=draw(st.integers(0, 10)))),
                "channel": draw(st.sampled_from(["jobnet", "message", "phone"])),
            }
        case "holiday_decided":
            fields = {
                "request_id": f"h{draw(st.integers(1, 3))}",
                "decided_on": iso(day),
                "approved": draw(st.booleans()),
            }
        case "sickness_reported":
            fields = {
                "sick_from": iso(day),
                "reported_on": iso(day + timedelta(days=draw(st.integers(0, 3)))),
            }
        case "less_intensive_requested":
            fields = {
                "requested_on": iso(day),
                "reason": "job",
                "starts_on": iso(day + timedelta(days=draw(st.integers(0, 60)))),
                "documented": draw(st.booleans()),
            }
        case "jobcenter_contact":
            fields = {"on": iso(day), "about": "ordinary_job", "note": "x"}
        case "adviser_assigned":
            fields = {"adviser": "Bo", "assigned_on": iso(day)}
        case _:  # a new registration later on: a second case, or refused
            fields = {
                "registered_on": iso(day + timedelta(days=1)),
                "insurance": "full_time",
                "municipality_code": draw(st.sampled_from(CODES)),
                "birth_date": CPRS[cpr],
                "vocational_education": True,
                "has_children": False,
            }
    return {"type": kind, "cpr": cpr, **fields}


@st.composite
def scenarios(draw: st.DrawFn) -> list[dict[str, Any]]:
    """A member's messages, each with a unique message id."""
    cpr = draw(st.sampled_from(sorted(CPRS)))
    start = draw(
        st.one_of(st.sampled_from(EDGE_STARTS), st.dates(date(2020, 1, 1), date(2023, 12, 31)))
    )
    messages: list[dict[str, Any]] = []
    if draw(st.booleans()):  # R2: a notice sign-up 1..40 days before S, in Aarhus
        signed_up = start - timedelta(days=draw(st.integers(1, 40)))
        messages.append(
            {
                "type": "notice_signup",
                "cpr": cpr,
                "signed_up_on": iso(signed_up),
                "employment_ends_on": iso(start - timedelta(days=1)),
                "municipality_code": 751,
            }
        )
    messages.append(
        {
            "type": "unemployed",
            "cpr": cpr,
            "registered_on": iso(start),
            "insurance": draw(st.sampled_from(["full_time", "part_time"])),
            "municipality_code": draw(st.sampled_from([751, 751, 751, 101, 461])),
            "birth_date": CPRS[cpr],
            "vocational_education": draw(st.booleans()),
            "has_children": draw(st.booleans()),
        }
    )
    body = draw(st.lists(message_on(start, cpr), max_size=14))
    if draw(st.booleans()):  # R8: a run of monthly payments from S's month, in any order
        full = draw(st.sampled_from(["160.33", "130.00"]))
        body += [
            {
                "type": "hours_paid",
                "cpr": cpr,
                "payment_id": f"run{k}",
                "month": f"{add_months(first_of_month(start), k):%Y-%m}",
                "hours": full,
            }
            for k in range(draw(st.integers(1, 4)))
        ]
    messages += draw(st.permutations(body))
    return [{"message_id": f"m{i}", **m} for i, m in enumerate(messages)]


def run(messages: list[dict[str, Any]], reload_before: frozenset[int] = frozenset()) -> Desk:
    """Apply the messages in order; save and reload every aggregate before the given ones."""
    desk = Desk()
    for i, message in enumerate(messages):
        if i in reload_before:
            desk.book.reload()
        desk.try_send(message)
    return desk


def cpr_of(messages: list[dict[str, Any]]) -> str:
    return str(messages[0]["cpr"])


def state(desk: Desk, cpr: str) -> list[tuple[Any, ...]]:
    """Everything decided for the member, with case ids replaced by the case's index."""
    cases = desk.cases(cpr)
    index = {case.id: n for n, case in enumerate(cases)}

    def handovers(case: Case) -> list[tuple[Any, ...]]:
        return [
            (
                h["message_id"].split(":", 1)[1],
                h["type"],
                h["replaces"].split(":", 1)[1] if h["replaces"] else None,
                h["content"],
            )
            for h in case.handovers
        ]

    kept = [
        (k["message"], k["effective_on"], k["source"], index.get(k["applied_to"]))
        for k in (desk.member(cpr).kept if desk.book.member_id(cpr) else [])
    ]
    return [
        *((case.facts, case.exit, handovers(case), case.version) for case in cases),
        tuple(kept),
    ]


# --- 1. replay --------------------------------------------------------------------------------


@PROPERTY_SETTINGS
@given(scenarios())
def test_replaying_the_stored_events_gives_the_same_facts_exit_and_handovers(
    messages: list[dict[str, Any]],
) -> None:
    desk = run(messages)
    cpr = cpr_of(messages)
    before = state(desk, cpr)
    desk.book.commit()
    for case_id, events in desk.book.stored.items():
        if case_id in desk.book.cases:
            rebuilt = replay(events)
            original = desk.book.cases[case_id]
            assert isinstance(rebuilt, Case)
            assert rebuilt.facts == original.facts
            assert rebuilt.exit == original.exit
            assert rebuilt.handovers == original.handovers
    desk.book.reload()
    assert state(desk, cpr) == before


_APP: Any = None


def _transcoding_app() -> Any:
    """The store's own application (in memory), for its event mapper and transcoder."""
    global _APP
    if _APP is None:
        from infra.store.store import LedighedApplication

        _APP = LedighedApplication(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    return _APP


@settings(max_examples=40, deadline=None)
@given(scenarios())
def test_events_survive_the_stores_transcoder(messages: list[dict[str, Any]]) -> None:
    # event sourcing: every event mapped to a stored record and back rebuilds the same case
    desk = run(messages)
    desk.book.commit()
    mapper = _transcoding_app().mapper
    for case_id, case in desk.book.cases.items():
        events = [
            mapper.to_domain_event(mapper.to_stored_event(e)) for e in desk.book.stored[case_id]
        ]
        rebuilt = replay(events)
        assert isinstance(rebuilt, Case)
        assert (rebuilt.facts, rebuilt.exit, rebuilt.handovers) == (
            case.facts,
            case.exit,
            case.handovers,
        )


# --- 2. the exit is the earliest candidate ----------------------------------------------------


@PROPERTY_SETTINGS
@given(scenarios())
def test_the_exit_is_the_earliest_candidate_and_the_handover_says_it(
    messages: list[dict[str, Any]],
) -> None:
    desk = run(messages)
    for case in desk.cases(cpr_of(messages)):
        candidates = list(exit_candidates(case.facts, DEFAULT_SETTINGS))
        assert case.exit == earliest_exit(case.facts, DEFAULT_SETTINGS)
        if not candidates:
            assert case.exit is None
            assert case.handovers == []
            continue
        assert case.exit in candidates
        assert case.exit.on == min(c.on for c in candidates)
        same_day = [c.reason for c in candidates if c.on == case.exit.on]
        assert case.exit.reason == min(same_day, key=REASON_PRECEDENCE.index)
        # the view as of any later day shows the same exit, and the case as ended
        far = case_view(case.facts, FAR, DEFAULT_SETTINGS)
        assert far.exit == case.exit
        assert far.status == "ended"
        assert far.tasks() == []
        # R12/R13: one live handover, and it says the exit (none for R17 or a notice period)
        assert_r13_chain(case.handovers)
        if case.registration is None or case.exit.reason == "deregistered":
            assert case.live_handover is None
        else:
            live = case.live_handover
            assert live is not None
            assert live["content"] == handover(case.facts, case.exit).as_dict()


# --- 3. nothing is due before S ---------------------------------------------------------------


@PROPERTY_SETTINGS
@given(scenarios())
def test_no_meeting_due_and_no_handover_date_before_s(messages: list[dict[str, Any]]) -> None:
    desk = run(messages)
    for case in desk.cases(cpr_of(messages)):
        start = case.facts.start
        if start is None:
            assert case.handovers == []
            continue
        # R5, R7, R14, R15, R18: no such fact of the case is dated before S
        facts = case.facts
        for fact in (
            *facts.meetings,
            *facts.bookings,
            *facts.extra_meetings_agreed,
            *facts.holiday_requests,
            *facts.sickness,
            *facts.less_intensive,
        ):
            assert fact.effective_on >= start, fact
        days = {start, start + timedelta(days=30), start + timedelta(days=100), FAR}
        if case.exit is not None:
            days.add(max(case.exit.on, start))
        for day in days:
            view = case_view(case.facts, day, DEFAULT_SETTINGS)
            for meeting in view.meetings:
                assert meeting.due_from <= meeting.due_by, meeting
                assert meeting.due_from >= start, meeting
                assert meeting.due_by >= start, meeting
                assert meeting.held_on is None or meeting.held_on >= start
            for task in view.tasks():
                assert task.due_by >= start or task.task.startswith(("holiday:", "sickness:"))
            if view.expected_end is not None:
                assert view.expected_end >= start
        for published in case.handovers:
            content = published["content"]
            assert date.fromisoformat(content["effective_on"]) >= start
            assert date.fromisoformat(content["started_on"]) == start
            assert date.fromisoformat(content["jobcenter_must"]["by"]) > start
            assert date.fromisoformat(content["akasse_must"]["availability_by"]) > start
            assert date.fromisoformat(content["akasse_must"]["joint_at_16_months"]) > start


# --- 4. batches are only transaction boundaries ------------------------------------------------


@PROPERTY_SETTINGS
@given(scenarios(), st.sets(st.integers(1, 16), max_size=4))
def test_saving_and_reloading_between_batches_changes_nothing(
    messages: list[dict[str, Any]], splits: set[int]
) -> None:
    cpr = cpr_of(messages)
    one_by_one = run(messages)
    in_batches = run(messages, frozenset(splits))
    assert state(in_batches, cpr) == state(one_by_one, cpr)
    assert in_batches.accepted == one_by_one.accepted
    assert [r for r, _ in in_batches.rejected] == [r for r, _ in one_by_one.rejected]


# --- R20: every window is a pair of working days, inside the raw window ------------------------


@settings(max_examples=300, deadline=None)
@given(st.dates(date(2020, 1, 1), date(2024, 12, 31)))
def test_r20_every_mandatory_window_is_working_days_within_the_plain_window(start: date) -> None:
    for kind, (from_days, by_days) in MANDATORY_WINDOWS.items():
        window = mandatory_window(kind, start)
        assert is_working_day(window.due_from) and is_working_day(window.due_by)
        assert start + timedelta(days=from_days) <= window.due_from <= window.due_by
        assert window.due_by <= start + timedelta(days=by_days)
        # R20 moves a date only past days that are not working days
        for gap in range((window.due_from - start).days - from_days):
            assert not is_working_day(start + timedelta(days=from_days + gap))
        for gap in range(by_days - (window.due_by - start).days):
            assert not is_working_day(start + timedelta(days=by_days - gap))
