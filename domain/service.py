"""The application service: one inbound message in, the case's events out (no I/O here)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, timedelta
from typing import Any, Protocol
from uuid import UUID

from domain import messages as m
from domain.calendar import first_of_month
from domain.case import Case, Released, Source
from domain.cpr import birth_date_from_cpr
from domain.errors import Rejected
from domain.member import Member
from domain.params import DEFAULT_SETTINGS, PROGRAMME_END, Settings
from domain.record import message_of
from domain.rules.enrolment import notice_signup_refusal

# The facts an exit or a handover is decided from (R3, R8 to R13, R16, R17); other messages
# (bookings, holidays, sickness, profile, advisers, R19 contacts) cannot change either.
DECISION_INPUTS = (
    m.HoursPaid,
    m.Moved,
    m.AkasseChanged,
    m.Deregistered,
    m.MeetingHeld,
    m.OptedOut,
)


# What a parked message may wait for besides the registration: a holiday decision waits
# for its request (R14).
UNPARKS = (m.HolidayRequested,)


class Book(Protocol):
    """What the service needs of a store within one unit of work (a batch)."""

    def member_id(self, cpr: str) -> UUID | None:
        """The opaque id of the member with this CPR, if known."""

    def enrol(self, cpr: str, birth_date: date, member: Member) -> None:
        """Record a new member: the CPR and birth date go to the registry, not the events."""

    def member(self, member_id: UUID) -> Member: ...

    def case(self, case_id: UUID) -> Case: ...

    def add(self, aggregate: Case | Member) -> None:
        """Track a new aggregate so that its events are saved with the batch."""


class CaseService:
    """Turns each accepted message into events on the member's cases, in order."""

    def __init__(self, book: Book, settings: Settings = DEFAULT_SETTINGS) -> None:
        self.book = book
        self.settings = settings
        # Kept messages that the rules refused when what they waited for came, with why:
        # given up on the member, for the caller's dead letters (`take_refused`).
        self.refused: list[tuple[dict[str, Any], Rejected]] = []

    def take_refused(self) -> list[tuple[dict[str, Any], Rejected]]:
        """The kept messages refused since the last call, each with its refusal."""
        refused, self.refused = self.refused, []
        return refused

    def handle(self, message: m.InboundMessage, source: Source) -> None:
        """Apply one message; raises `Rejected` (before changing anything) when it breaks a rule."""
        if isinstance(message, m.NoticeSignup):
            # R2 before the member is enrolled: a refused sign-up leaves no trace.
            refusal = notice_signup_refusal(message.signed_up_on, message.municipality_code)
            if refusal:
                raise refusal.rejected()
        member = self._member(message, source)
        if isinstance(message, m.Unemployed | m.NoticeSignup):
            try:
                self._begin(member, message, source)
            except Rejected as refusal:
                if refusal.waits_for is None:
                    raise
                member.keep(_without_cpr(message), message.effective_on, source)
        else:
            if self._file(member, message, source) is None:
                member.keep(_without_cpr(message), message.effective_on, source)
                return
            if isinstance(message, UNPARKS) or _registration_waits(member):
                self._take_over_kept(member, message, source)

    def _begin(
        self,
        member: Member,
        message: m.Unemployed | m.NoticeSignup,
        source: Source,
        take_over: bool = True,
    ) -> Case:
        """A case begins or starts (R1, R2); one that waits for the member's case before it
        to end raises `Rejected` with `waits_for` (R1)."""
        if isinstance(message, m.Unemployed):
            return self._register(member, message, source, take_over)
        return self._sign_up_notice(member, message, source)

    def _file(self, member: Member, message: m.InboundMessage, source: Source) -> Case | None:
        """Apply the message to the case that covers its day and settle that case if the
        message is a decision input: that case; None when it must wait in the member's
        record (no case covers its day, or it needs a message not yet read). Raises
        `Rejected` when the rules refuse it."""
        case = self._case_for(member, message)
        if case is None:
            return None
        try:
            _apply(case, message, source)
        except Rejected as refusal:
            if refusal.waits_for is None:
                raise
            return None  # parked: what it waits for may come later on another topic
        if isinstance(message, DECISION_INPUTS):
            self._settle(member, case, source)
        return case

    def _settle(self, member: Member, case: Case, source: Source) -> None:
        """Decide the case's exit (R13), and let go of the facts dated after it: read before
        the exit that now precedes them, they wait in the member's record for the next case,
        as when read after it."""
        self._keep_released(member, case.settle(self.settings, source, release=True))

    def _keep_released(self, member: Member, released: list[Released]) -> None:
        for name, fact, origin in released:
            member.keep(message_of(name, fact, origin["message_id"]), fact.effective_on, origin)

    def end_programme(self, case: Case, on: date, source: Source) -> bool:
        """R16: on or after 2023-12-31, a case still in the trial exits with programme_ended."""
        if on < PROGRAMME_END or not case.end_programme(source):
            return False
        case.settle(self.settings, source)
        return True

    def give_up_waiting(
        self, member: Member, parked_at: Mapping[str, datetime], now: datetime, source: Source
    ) -> tuple[list[dict[str, Any]], str]:
        """Messages kept for what they need that have waited longer than `park_days` of
        recorded time (`parked_at`: when each was stored) are given up on, in one event;
        they and the reason, for the dead letters."""
        limit = timedelta(days=self.settings.park_days)
        due = [
            kept
            for kept in member.waiting
            if (at := parked_at.get(kept["source"].get("message_id"))) is not None
            and now - at > limit
        ]
        reason = (
            f"parked for more than {self.settings.park_days} days waiting for what it needs "
            "(a case covering its day, the member's registration, or its holiday request), "
            "which did not come; given up"
        )
        if due:
            member.give_up([k["source"]["message_id"] for k in due], reason, now.date(), source)
        return due, reason

    # --- members and their cases -----------------------------------------------------------

    def _member(self, message: m.InboundMessage, source: Source) -> Member:
        member_id = self.book.member_id(message.cpr)
        if member_id is not None:
            return self.book.member(member_id)
        birth_date = (
            message.birth_date
            if isinstance(message, m.Unemployed)
            else birth_date_from_cpr(message.cpr)
        )
        member = Member(effective_on=message.effective_on, source=source)
        self.book.enrol(message.cpr, birth_date, member)
        return member

    def _latest_case(self, member: Member) -> Case | None:
        return self.book.case(member.case_ids[-1]) if member.case_ids else None

    def _case_for(self, member: Member, message: m.InboundMessage) -> Case | None:
        """The case whose period covers the message's day (CONTRACT.md): the latest case
        opened (signed up, or S) on or before it, if its exit day is not before it; for
        hours, the latest case opened in or before the payment month (R8). None keeps it in
        the member's record: hours for a case in its notice period wait for S (R8), and a
        message dated after the member's latest case ended waits for the next case (one
        dated after an earlier case ended, before the next began, sets nothing)."""
        day = message.effective_on
        for case_id in reversed(member.case_ids):
            case = self.book.case(case_id)
            opened = case.facts.opened_on
            if isinstance(message, m.HoursPaid):
                if first_of_month(opened) <= day:
                    if case.registration is None:
                        return None  # R8: checked against the insurance once S is known
                    # A payment belongs to the latest case begun by its month, after its
                    # exit month too (nothing counts it there); a case opened later takes
                    # it over (`_open_case`).
                    return case
            elif opened <= day:
                return None if _ended_before(case, day) else case
        return None

    def _open_case(self, member: Member, opened_on: date, source: Source) -> Case:
        """A new case; hours the member's previous case held for its months on (R8: a payment
        belongs to the latest case begun by its month) wait for it in the member's record."""
        previous = self._latest_case(member)
        case = Case(member_id=member.id, effective_on=opened_on, source=source)
        self.book.add(case)
        member.open_case(case.id, opened_on, source)
        if previous is not None:
            before = first_of_month(opened_on) - timedelta(days=1)
            released = previous.release(before, ("payments",), source)
            if released:
                previous.after_release(self.settings, source)
                self._keep_released(member, released)
        return case

    def _check_no_open_case(self, latest: Case | None, day: date, what: str) -> None:
        if latest is None:
            return
        opened = latest.facts.opened_on
        if day <= opened:
            raise Rejected(
                f"{what} on {day}, but the member's latest case opened on {opened}", rule="R1"
            )
        if latest.is_open_on(day):
            # An exit read later (another topic) may still end it before `day`: kept.
            raise Rejected(
                f"{what} on {day}, but the member's case opened on {opened} is still open",
                waits_for="the end of the member's case",
                rule="R1",
            )

    def _sign_up_notice(self, member: Member, message: m.NoticeSignup, source: Source) -> Case:
        """R2; a sign-up read after the registration it announces is recorded on that case
        (CONTRACT.md) and changes nothing the rules decided from S."""
        latest = self._latest_case(member)
        if latest is not None and self._announced(member, latest, message.signed_up_on):
            latest.record_notice(
                message.signed_up_on, message.employment_ends_on, message.municipality_code, source
            )
            return latest
        self._check_no_open_case(latest, message.signed_up_on, "notice sign-up")
        case = self._open_case(member, message.signed_up_on, source)
        case.sign_up_notice(
            message.signed_up_on, message.employment_ends_on, message.municipality_code, source
        )
        return case

    def _announced(self, member: Member, case: Case, signed_up_on: date) -> bool:
        """R2: a sign-up on `signed_up_on` announces the case's registration: the case has S
        on or after it and no notice yet, and the member's case before it had ended by then."""
        registration = case.registration
        if registration is None or case.facts.notice is not None:
            return False
        if signed_up_on > registration.registered_on:
            return False
        earlier = member.case_ids[:-1]
        return not earlier or not self.book.case(earlier[-1]).is_open_on(signed_up_on)

    def _register(
        self, member: Member, message: m.Unemployed, source: Source, take_over: bool = True
    ) -> Case:
        """R1, R3: a registration starts the notice-period case, or opens a new one; then
        (unless the caller is taking over kept messages already) the kept ones apply."""
        latest = self._latest_case(member)
        if latest is not None and _announces(latest, message.registered_on):
            if message.registered_on < latest.facts.opened_on:
                raise Rejected(
                    f"registered on {message.registered_on}, before the notice sign-up on "
                    f"{latest.facts.opened_on}",
                    "registered_on",
                    rule="R2",
                )
            case = latest
        else:
            self._check_no_open_case(latest, message.registered_on, "registered as unemployed")
            case = self._open_case(member, message.registered_on, source)
        case.register(
            registered_on=message.registered_on,
            insurance=message.insurance,
            municipality_code=message.municipality_code,
            birth_date=message.birth_date,
            vocational_education=message.vocational_education,
            has_children=message.has_children,
            adviser=message.adviser,
            source=source,
        )
        self._settle(member, case, source)
        if take_over:
            self._take_over_kept(member, message, source)
        return case

    def _take_over_kept(self, member: Member, trigger: m.InboundMessage, source: Source) -> None:
        """Messages kept because they arrived before what they need (another topic may be
        read ahead: the registration, a holiday request) apply now where a case covers
        them, in the order they were accepted, each as if it had arrived right after what
        it waited for: after each one applied, the earlier ones still waiting are tried
        again (a decision kept before its kept request follows the request). So a decision
        (R14, R18) reflects every fact accepted before it, as in any other order. One the
        rules refuse is given up on, for the dead letters (`take_refused`)."""
        done: dict[str, UUID] = {}  # taken over here, by the case that took it
        registered: list[str] = []
        while True:
            for kept in member.waiting:
                message_id = kept["source"]["message_id"]
                if message_id in registered or (
                    message_id in done and message_id in self.book.case(done[message_id]).received
                ):
                    continue  # taken over here (and not let go again since)
                message = m.parse_message({**kept["message"], "cpr": trigger.cpr})
                try:
                    if isinstance(message, m.Unemployed | m.NoticeSignup):  # waited for an exit
                        case: Case | None = self._begin(
                            member, message, kept["source"], take_over=False
                        )
                    else:
                        case = self._file(member, message, kept["source"])
                except Rejected as refusal:
                    # What it waited for came and the rules refuse it, as they would have
                    # had it come after: a dead letter now, as then (one waiting for
                    # something else still waits; so does a registration or sign-up, which
                    # an exit moved earlier later on may still let in).
                    beginning = isinstance(message, m.Unemployed | m.NoticeSignup)
                    if refusal.waits_for is None and not beginning:
                        member.give_up([message_id], refusal.reason, trigger.effective_on, source)
                        self.refused.append((kept, refusal))
                    case = None
                if case is not None:
                    if isinstance(message, m.Unemployed | m.NoticeSignup):
                        registered.append(message_id)
                    done[message_id] = case.id
                    break  # what waited for this one comes right after it: from the first
            else:
                break
        taken: dict[UUID, list[str]] = {}
        for message_id, case_id in done.items():
            # not one that an exit let go meanwhile
            if message_id in registered or message_id in self.book.case(case_id).received:
                taken.setdefault(case_id, []).append(message_id)
        for case_id, message_ids in taken.items():
            member.mark_applied(message_ids, case_id, trigger.effective_on, source)


def _registration_waits(member: Member) -> bool:
    """A registration or sign-up kept until the member's case before it ends (R1)."""
    return any(k["message"].get("type") in _BEGINNINGS for k in member.waiting)


_BEGINNINGS = ("unemployed", "notice_signup")


def _ended_before(case: Case, day: date) -> bool:
    """The case's exit day lies before `day`."""
    return case.exit is not None and case.exit.on < day


def _announces(case: Case, registered_on: date) -> bool:
    """R2: the case is a notice period that this registration starts: not yet registered,
    and not ended before S (one ended by a `deregistered`, `akasse_changed` or `opted_out`
    read before the registration it follows is still the registration's case)."""
    return case.registration is None and (case.exit is None or registered_on <= case.exit.on)


def _without_cpr(message: m.InboundMessage) -> dict[str, Any]:
    """The message as kept in the member's record: personal data stays in the registry."""
    return message.model_dump(mode="json", exclude={"cpr"})


def _apply(case: Case, message: m.InboundMessage, source: Source) -> None:
    """One fact onto the case: the command that the message's type names."""
    match message:
        case m.AdviserAssigned():
            case.assign_adviser(message.adviser, message.assigned_on, source)
        case m.HoursPaid():
            case.pay_hours(message.payment_id, message.month, message.hours, source)
        case m.Moved():
            case.move(message.municipality_code, message.moved_on, source)
        case m.AkasseChanged():
            case.change_akasse(message.changed_on, source)
        case m.Deregistered():
            case.deregister(message.deregistered_on, source)
        case m.MeetingBooked():
            case.book_meeting(message.kind, message.on, source)
        case m.MeetingHeld():
            case.hold_meeting(message.kind, message.held_on, source)
        case m.ExtraMeetingsAgreed():
            case.agree_extra_meetings(message.agreed_on, source)
        case m.ProfileAssessed():
            case.assess_profile(message.result, message.assessed_on, source)
        case m.OptedOut():
            case.opt_out(message.note, message.decided_on, source)
        case m.HolidayRequested():
            case.request_holiday(
                message.request_id,
                message.requested_on,
                message.first_day,
                message.last_day,
                message.channel,
                source,
            )
        case m.HolidayDecided():
            case.decide_holiday(message.request_id, message.decided_on, message.approved, source)
        case m.SicknessReported():
            case.report_sickness(message.sick_from, message.reported_on, source)
        case m.LessIntensiveRequested():
            case.request_less_intensive(
                message.requested_on, message.reason, message.starts_on, message.documented, source
            )
        case m.JobcenterContact():
            case.record_jobcenter_contact(message.about, message.note, message.on, source)
        case _:
            raise Rejected(f"message type {message.type!r} does not apply to a case")
