"""The ledighedsforløb (case) aggregate: its state is only its events, facts and decisions alike.

Over 300 lines on purpose: it is one class, read top to bottom as the trial's verbs, and
every stored event names its class by this module and the class (`domain.case:Case.Moved`),
so its events cannot move to other modules or mixins without rewriting every store's
topics. What the rules decide is not here but in domain/rules/ (each rule's function, with
its basis); the class checks, calls them once and stores their decisions as events."""

from __future__ import annotations

from collections.abc import Container
from dataclasses import replace
from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.errors import Rejected
from domain.facts import (
    AdviserAssigned,
    Booking,
    CaseFacts,
    Dated,
    DecidedExit,
    Exit,
    HolidayDecision,
    HolidayRequest,
    JobcenterContact,
    LessIntensive,
    MeetingHeld,
    Move,
    NoticeSignup,
    Payment,
    ProfileAssessed,
    Registration,
    Sickness,
)
from domain.params import PROGRAMME_END, Settings
from domain.record import RELEASED_ON_EXIT
from domain.rules import enrolment
from domain.rules.bookings import standing_bookings
from domain.rules.exits import decide_exit, known_from, shown_by_day
from domain.rules.handover import handover, meetings_counted
from domain.rules.holiday import decide_holiday
from domain.rules.hours import payment_refusal
from domain.rules.less_intensive import decide_less_intensive
from domain.rules.sickness import is_late_report

Source = dict[str, Any]
# A fact a case let go: its tuple's name, the fact, the source of the message that brought it.
Released = tuple[str, Any, Source]


class Case(Aggregate):
    """One member's ledighedsforløb: what happened (facts) and what the rules decided.

    Every event carries `effective_on` (the day it takes effect) and `source` (the inbound
    message it came from); the library adds the version and when it was recorded.
    """

    class Event(Aggregate.Event):
        """Every stored event of a case. `class_version` is the version of an event's fields:
        a change of them raises it on that event's class, with a static upcaster
        `upcast_vN_vN+1(state)` beside it, so that stored events load as the new class."""

        class_version = 1

    @event("Opened")
    def __init__(self, member_id: UUID, effective_on: date, source: Source) -> None:
        self.member_id = member_id
        self.facts = CaseFacts()
        self.exit: Exit | None = None
        self.handovers: list[dict[str, Any]] = []
        # The facts the case holds by the message that brought each, in the order applied:
        # what a moved exit releases (not stored; every replay rebuilds it).
        self.received: dict[str, Released] = {}

    # --- reading -------------------------------------------------------------------------

    @property
    def registration(self) -> Registration | None:
        return self.facts.registration

    @property
    def is_in_trial(self) -> bool:
        """R1: registered with S in the window and a trial municipality."""
        return self.registration is not None and self.registration.in_trial

    def is_open_on(self, day: date) -> bool:
        """Whether a new registration on `day` would overlap this case."""
        if self.exit is not None:
            return day <= self.exit.on
        if self.registration is None:
            return True  # notice period: the registration belongs here
        return self.is_in_trial

    @property
    def live_handover(self) -> dict[str, Any] | None:
        """R13: the one handover that stands, if any."""
        if not self.handovers or self.handovers[-1]["type"] == "handover_withdrawn":
            return None
        return self.handovers[-1]

    def _record(self, name: str, fact: Any, source: Source) -> None:
        """A reported fact onto the tuple `name`, noted with the message that brought it."""
        self.facts = self.facts.add(name, fact)
        message_id = source.get("message_id")
        if message_id is not None:
            self.received[message_id] = (name, fact, source)

    # --- R2 and R1/R3: how a case begins -------------------------------------------------

    def sign_up_notice(
        self, signed_up_on: date, employment_ends_on: date, municipality_code: int, source: Source
    ) -> None:
        """R2: a member under notice signs up before becoming unemployed."""
        refusal = enrolment.notice_signup_refusal(signed_up_on, municipality_code)
        if refusal:
            raise refusal.rejected()
        self._notice_signed_up(
            signed_up_on, employment_ends_on, municipality_code, signed_up_on, source
        )

    @event("NoticeSignedUp")
    def _notice_signed_up(
        self,
        signed_up_on: date,
        employment_ends_on: date,
        municipality_code: int,
        effective_on: date,
        source: Source,
    ) -> None:
        self.facts = CaseFacts(
            notice=NoticeSignup(signed_up_on, employment_ends_on, municipality_code)
        )

    def record_notice(
        self, signed_up_on: date, employment_ends_on: date, municipality_code: int, source: Source
    ) -> None:
        """R2: a sign-up read after the registration it announced: recorded as the notice the
        case began with; what the registration decided (R1, R3) stands."""
        self._notice_recorded(
            signed_up_on, employment_ends_on, municipality_code, signed_up_on, source
        )

    @event("NoticeRecorded")
    def _notice_recorded(
        self,
        signed_up_on: date,
        employment_ends_on: date,
        municipality_code: int,
        effective_on: date,
        source: Source,
    ) -> None:
        notice = NoticeSignup(signed_up_on, employment_ends_on, municipality_code)
        self.facts = replace(self.facts, notice=notice)

    def register(
        self,
        registered_on: date,
        insurance: str,
        municipality_code: int,
        birth_date: date,
        vocational_education: bool,
        has_children: bool,
        adviser: str | None,
        source: Source,
    ) -> None:
        """R1 and R3: the case starts on S; whether it is in the trial is decided now, once.

        The birth date is personal data: only the R3 decision it leads to is recorded.
        """
        if self.registration is not None:
            raise Rejected(
                f"the case already started on {self.registration.registered_on}", rule="R1"
            )
        outside = enrolment.outside_reason(registered_on, municipality_code)
        education_order = outside is None and enrolment.education_order_applies(
            birth_date, registered_on, vocational_education, has_children
        )
        self._registered(
            registered_on=registered_on,
            insurance=insurance,
            municipality_code=municipality_code,
            in_trial=outside is None,
            outside_reason=outside,
            education_order=education_order,
            adviser=adviser,
            rule="R3" if education_order else "R1",
            effective_on=registered_on,
            source=source,
        )

    @event("Registered")
    def _registered(
        self,
        registered_on: date,
        insurance: Any,
        municipality_code: int,
        in_trial: bool,
        outside_reason: Any,
        education_order: bool,
        adviser: str | None,
        rule: str,
        effective_on: date,
        source: Source,
    ) -> None:
        self.facts = replace(
            self.facts,
            registration=Registration(
                registered_on,
                insurance,
                municipality_code,
                in_trial,
                outside_reason,
                education_order,
            ),
        )
        if adviser:
            self.facts = self.facts.add("advisers", AdviserAssigned(adviser, registered_on))

    # --- facts reported ------------------------------------------------------------------

    @event("AdviserAssigned")
    def assign_adviser(self, adviser: str, effective_on: date, source: Source) -> None:
        self._record("advisers", AdviserAssigned(adviser, effective_on), source)

    def pay_hours(self, payment_id: str, month: date, hours: Decimal, source: Source) -> None:
        """R8: hours paid for a month; refused above the month's maximum or when repeated."""
        insurance = self.registration.insurance if self.registration else "full_time"
        refusal = payment_refusal(self.facts.payments, Payment(payment_id, month, hours), insurance)
        if refusal:
            raise refusal.rejected()
        self._hours_paid(payment_id, month, hours, month, source)

    @event("HoursPaid")
    def _hours_paid(
        self, payment_id: str, month: date, hours: Decimal, effective_on: date, source: Source
    ) -> None:
        self._record("payments", Payment(payment_id, month, hours), source)

    @event("Moved")
    def move(self, municipality_code: int, effective_on: date, source: Source) -> None:
        """R9: the member's municipality from `effective_on` on."""
        self._record("moves", Move(municipality_code, effective_on), source)

    @event("AkasseChanged")
    def change_akasse(self, effective_on: date, source: Source) -> None:
        """R10: the member left the a-kasse."""
        self._record("akasse_changes", Dated(effective_on), source)

    @event("Deregistered")
    def deregister(self, effective_on: date, source: Source) -> None:
        """R17: the member is no longer unemployed (job, education)."""
        self._record("deregistrations", Dated(effective_on), source)

    @event("OptedOut")
    def opt_out(self, note: str, effective_on: date, source: Source) -> None:
        """R11: member and adviser agree the jobcenter helps the member better."""
        self._record("opt_outs", Dated(effective_on, note), source)

    def book_meeting(self, kind: str, on: date, source: Source) -> None:
        """R7: a booking lies on or after S, while the case is in the trial."""
        self._check_started("R7", "R7: a meeting cannot be booked", on, "on")
        assert self.registration is not None
        if not self.registration.in_trial:
            raise Rejected(
                "R7: a meeting can only be booked while the case is in the trial", rule="R7"
            )
        if self.exit is not None and on > self.exit.on:
            raise Rejected(
                f"R7: booking on {on} lies after the case left the trial on {self.exit.on}",
                "on",
                rule="R7",
            )
        self._meeting_booked(kind, on, on, source)

    @event("MeetingBooked")
    def _meeting_booked(self, kind: Any, on: date, effective_on: date, source: Source) -> None:
        self._record("bookings", Booking(kind, on), source)

    def hold_meeting(self, kind: str, held_on: date, source: Source) -> None:
        """R4/R5: a meeting held, in or out of its window; a mandatory one is held once."""
        self._check_started("R4", "a meeting cannot be held", held_on, "held_on")
        if kind != "extra_job":
            earlier = self.facts.held(kind)  # type: ignore[arg-type]
            if earlier is not None:
                raise Rejected(
                    f"R4: {kind} was already held on {earlier.held_on}", "kind", rule="R4"
                )
        self._meeting_held(kind, held_on, held_on, source)

    @event("MeetingHeld")
    def _meeting_held(self, kind: Any, held_on: date, effective_on: date, source: Source) -> None:
        self._record("meetings", MeetingHeld(kind, held_on), source)

    def agree_extra_meetings(self, agreed_on: date, source: Source) -> None:
        """R5: a more intensive course with a job conversation every 14 days."""
        self._check_started("R5", "R5: extra meetings cannot be agreed", agreed_on, "agreed_on")
        self._extra_meetings_agreed(agreed_on, source)

    @event("ExtraMeetingsAgreed")
    def _extra_meetings_agreed(self, effective_on: date, source: Source) -> None:
        self._record("extra_meetings_agreed", Dated(effective_on), source)

    @event("ProfileAssessed")
    def assess_profile(self, result: Any, effective_on: date, source: Source) -> None:
        """R6: advice only; recorded as given and never changes a rule."""
        self._record("profiles", ProfileAssessed(result, effective_on), source)

    def request_holiday(
        self,
        request_id: str,
        requested_on: date,
        first_day: date,
        last_day: date,
        channel: str,
        source: Source,
    ) -> None:
        """R14: decided now, from the bookings known now, and stored with the request."""
        self._check_started(
            "R14", "R14: a holiday cannot be requested", requested_on, "requested_on"
        )
        if any(r.request_id == request_id for r in self.facts.holiday_requests):
            raise Rejected(
                f"R14: holiday request {request_id!r} was already received",
                "request_id",
                rule="R14",
            )
        bookings = standing_bookings(self.facts.bookings, self.facts.meetings)
        status, reason = decide_holiday(requested_on, first_day, last_day, channel, bookings)
        self._holiday_requested(
            request_id,
            requested_on,
            first_day,
            last_day,
            channel,
            status,
            reason,
            "R14",
            requested_on,
            source,
        )

    @event("HolidayRequested")
    def _holiday_requested(
        self,
        request_id: str,
        requested_on: date,
        first_day: date,
        last_day: date,
        channel: Any,
        status: Any,
        reason: str | None,
        rule: str,
        effective_on: date,
        source: Source,
    ) -> None:
        self._record(
            "holiday_requests",
            HolidayRequest(request_id, requested_on, first_day, last_day, channel, status, reason),
            source,
        )

    def decide_holiday(
        self, request_id: str, decided_on: date, approved: bool, source: Source
    ) -> None:
        """R14: the adviser settles a pending request."""
        request = next((r for r in self.facts.holiday_requests if r.request_id == request_id), None)
        if request is None:
            raise Rejected(
                f"R14: no holiday request {request_id!r} in the member's case",
                "request_id",
                waits_for=f"holiday request {request_id!r}",
                rule="R14",
            )
        if (
            any(d.request_id == request_id for d in self.facts.holiday_decisions)
            or request.status != "pending"
        ):
            raise Rejected(
                f"R14: holiday request {request_id!r} is not pending", "request_id", rule="R14"
            )
        self._holiday_decided(request_id, approved, "R14", decided_on, source)

    @event("HolidayDecided")
    def _holiday_decided(
        self, request_id: str, approved: bool, rule: str, effective_on: date, source: Source
    ) -> None:
        self._record(
            "holiday_decisions", HolidayDecision(request_id, approved, effective_on), source
        )

    def report_sickness(self, sick_from: date, reported_on: date, source: Source) -> None:
        """R15: recorded; a late report and sick days on bookings show on the worklist."""
        self._check_started("R15", "R15: sickness cannot be reported", reported_on, "reported_on")
        late = is_late_report(sick_from, reported_on)
        self._sickness_reported(sick_from, reported_on, late, reported_on, source)

    @event("SicknessReported")
    def _sickness_reported(
        self,
        sick_from: date,
        reported_on: date,
        late_report: bool,
        effective_on: date,
        source: Source,
    ) -> None:
        self._record("sickness", Sickness(sick_from, reported_on, late_report), source)

    def request_less_intensive(
        self, requested_on: date, reason: str, starts_on: date, documented: bool, source: Source
    ) -> None:
        """R18: decided now and stored with the request."""
        self._check_started(
            "R18", "R18: less intensive effort cannot be requested", requested_on, "requested_on"
        )
        status, refusal = decide_less_intensive(requested_on, starts_on, documented)
        self._less_intensive_requested(
            requested_on,
            reason,
            starts_on,
            documented,
            status,
            refusal,
            "R18",
            requested_on,
            source,
        )

    @event("LessIntensiveRequested")
    def _less_intensive_requested(
        self,
        requested_on: date,
        reason: Any,
        starts_on: date,
        documented: bool,
        status: Any,
        refusal: Any,
        rule: str,
        effective_on: date,
        source: Source,
    ) -> None:
        self._record(
            "less_intensive",
            LessIntensive(requested_on, reason, starts_on, documented, status, refusal),
            source,
        )

    @event("JobcenterContacted")
    def record_jobcenter_contact(
        self, about: Any, note: str, effective_on: date, source: Source
    ) -> None:
        """R19: recorded as reported, never scheduled."""
        self._record("jobcenter_contacts", JobcenterContact(about, note, effective_on), source)

    def end_programme(self, source: Source) -> bool:
        """R16: the trial programme ends on 2023-12-31 for a case still in it (tick only)."""
        if not self.is_in_trial or self.facts.programme_ended:
            return False
        if self.exit is not None and self.exit.on <= PROGRAMME_END:
            return False
        self._programme_ended(PROGRAMME_END, source)
        return True

    @event("ProgrammeEnded")
    def _programme_ended(self, effective_on: date, source: Source) -> None:
        self.facts = self.facts.add("programme_ended", Dated(effective_on))

    def release(self, after: date, names: Container[str], source: Source) -> list[Released]:
        """Facts of the tuples `names` dated after `after` leave the case, in one event, as
        CONTRACT.md's periods say (a message belongs to the case that covers its day): after
        an exit that moved before them, or hours for the months of a case opened later. Each
        with the source of the message that brought it, in the order applied."""
        gone = [
            (message_id, entry)
            for message_id, entry in self.received.items()
            if entry[0] in names and entry[1].effective_on > after
        ]
        if not gone:
            return []
        self._facts_released([message_id for message_id, _ in gone], after, source)
        return [entry for _, entry in gone]

    @event("FactsReleased")
    def _facts_released(self, message_ids: list[str], effective_on: date, source: Source) -> None:
        gone: dict[str, set[int]] = {}
        for message_id in message_ids:
            name, fact, _ = self.received.pop(message_id)
            gone.setdefault(name, set()).add(id(fact))
        for name, facts in gone.items():
            self.facts = self.facts.without(name, facts)

    def _check_started(self, rule: str, what: str, day: date, field: str) -> None:
        """R1 for `rule`'s fact: the case has started (S is known) and `day` is not before S."""
        if self.registration is None:
            raise Rejected(
                f"{what}: the member's case is in its notice period and has not started",
                waits_for="the member's registration",
                rule=rule,
            )
        if day < self.registration.registered_on:
            raise Rejected(
                f"{what} on {day}, before the case started on {self.facts.start}", field, rule=rule
            )

    # --- decisions: exit (R3, R8 to R11, R16, R17) and handover (R12, R13) --------------------

    def settle(self, settings: Settings, source: Source, release: bool = False) -> list[Released]:
        """Decide the exit from every fact known, and publish or revise the handover (R13).
        With `release`, the facts dated after the exit leave the case first (`release`),
        and are returned, for the member's record.

        The decision is stored with every exit the facts imply and the basis of each; the
        case, its explanation, its timeline and the worklist show it and never decide again.
        """
        self._decide(settings, source)
        released = (
            self.release(self.exit.on, RELEASED_ON_EXIT, source)
            if release and self.exit is not None
            else []
        )
        if released:  # what an earlier day shows may have rested on them
            self._decide(settings, source)
        if self.exit is None or not self.is_in_trial:
            return released
        live = self.live_handover
        if self.exit.reason == "deregistered":
            if live is not None:  # R17 has no handover: withdraw the one that stood (R13)
                self._publish(
                    "handover_withdrawn",
                    {
                        **live["content"],
                        "reason": "deregistered",
                        "effective_on": self.exit.on.isoformat(),
                    },
                    source,
                )
            return released
        content = handover(self.facts, self.exit).as_dict()
        if live is None or live["content"] != content:
            self._publish("handover" if not self.handovers else "handover_revised", content, source)
        return released

    def after_release(self, settings: Settings, source: Source) -> None:
        """The decision again once facts left the case (hours a later case took over): the
        exits it names, and what each day shows, without them (R13)."""
        self._decide(settings, source)

    def _decide(self, settings: Settings, source: Source) -> None:
        """R13: the exit decided from every fact known, stored when it changed, or when what
        an earlier day shows changed."""
        decision = decide_exit(self.facts, settings)
        if decision is not None and decision.exit != self.exit:
            previous, exit_ = self.exit, decision.exit
            self._exit_decided(
                reason=exit_.reason,
                on=exit_.on,
                rule=exit_.rule,
                replaces=(
                    {
                        "reason": previous.reason,
                        "on": previous.on.isoformat(),
                        "rule": previous.rule,
                    }
                    if previous
                    else None
                ),
                known=decision.as_data(),
                effective_on=exit_.on,
                source=source,
            )
        elif decision is not None and shown_by_day(decision.known) != shown_by_day(
            self.facts.exits
        ):  # the exit stands, but what an earlier day shows changed: stored too, once
            new = [k.effective_on for k in decision.known if k not in self.facts.exits]
            self._exit_stands(
                known=decision.as_data(),
                effective_on=min(new, default=decision.exit.on),
                source=source,
            )

    def _publish(self, type_: str, content: dict[str, Any], source: Source) -> None:
        """R12/R13: the next handover message, stored with the meetings it counted as held."""
        assert self.exit is not None
        counted = [
            {"kind": m.kind, "held_on": m.held_on.isoformat()}
            for m in meetings_counted(self.facts, self.exit.on)
        ]
        number = len(self.handovers) + 1
        previous = self.handovers[-1]["message_id"] if self.handovers else None
        self._handed_over(
            message_id=f"{self.id}:handover:{number}",
            member_id=self.member_id,
            type=type_,
            replaces=previous,
            content=content,
            counted=counted,
            rule="R13" if previous else "R12",
            effective_on=date.fromisoformat(content["effective_on"]),
            source=source,
        )

    class ExitDecided(Event):
        """R13: the exit decided, the one it replaces, and (from version 2) `known`: every
        exit the facts implied, each with the day it is known from and its basis."""

        class_version = 2
        reason: Any
        on: date
        rule: str
        replaces: dict[str, str] | None
        known: list[dict[str, Any]] | None
        effective_on: date
        source: Source

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            """A decision stored before its basis was: only the exit itself is known."""
            state["known"] = None

    @event(ExitDecided)
    def _exit_decided(
        self,
        reason: Any,
        on: date,
        rule: str,
        replaces: dict[str, str] | None,
        known: list[dict[str, Any]] | None,
        effective_on: date,
        source: Source,
    ) -> None:
        self.exit = Exit(reason, on, rule)
        if known is None:  # stored before version 2: the decisions themselves are what it has
            decided = DecidedExit(reason, on, rule, known_from(reason, on))
            exits = (*self.facts.exits, decided)
        else:
            exits = _known_exits(known)
        self.facts = self.facts.with_exits(exits)

    @event("ExitStands")
    def _exit_stands(self, known: list[dict[str, Any]], effective_on: date, source: Source) -> None:
        """R13: a later fact left the exit decided as it was, but implies another exit known
        from an earlier day (an R8 month paid after a move out that month): every exit the
        facts imply, with its basis, as the exit decided's are."""
        self.facts = self.facts.with_exits(_known_exits(known))

    class HandedOver(Event):
        """R12/R13: a handover message as published, and (from version 2) `counted`: the
        meetings it counted as held in the trial, by kind and day."""

        class_version = 2
        message_id: str
        member_id: UUID
        type: str
        replaces: str | None
        content: dict[str, Any]
        counted: list[dict[str, str]] | None
        rule: str
        effective_on: date
        source: Source

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            """A handover stored before the meetings it counted were: only its content."""
            state["counted"] = None

    @event(HandedOver)
    def _handed_over(
        self,
        message_id: str,
        member_id: UUID,
        type: str,
        replaces: str | None,
        content: dict[str, Any],
        counted: list[dict[str, str]] | None,
        rule: str,
        effective_on: date,
        source: Source,
    ) -> None:
        self.handovers.append(
            {"message_id": message_id, "type": type, "replaces": replaces, "content": content}
        )


def _known_exits(known: list[dict[str, Any]]) -> tuple[DecidedExit, ...]:
    """The exits a decision stored (`ExitDecision.as_data`), as the facts keep them."""
    return tuple(
        DecidedExit(k["reason"], _day(k["on"]), k["rule"], _day(k["known_from"])) for k in known
    )


def _day(value: date | str) -> date:
    """A date stored in an event's data (a date, or its ISO text inside a JSON list)."""
    return value if isinstance(value, date) else date.fromisoformat(value)
