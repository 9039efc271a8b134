"""The facts a case knows, as plain values; the case aggregate keeps them, the rules read them."""

from __future__ import annotations

from dataclasses import dataclass, fields, is_dataclass, replace
from datetime import date
from decimal import Decimal
from functools import cache
from types import UnionType
from typing import Any, Literal, Union, get_args, get_origin, get_type_hints

from domain.params import Insurance

MeetingKind = Literal["cv_and_job", "availability_and_job", "joint", "extra_job"]
MANDATORY_MEETINGS: tuple[MeetingKind, ...] = ("cv_and_job", "availability_and_job", "joint")
HolidayStatus = Literal["approved", "pending", "rejected"]
# In precedence order: of two exits on one day, the one listed first wins (R13).
ExitReason = Literal[
    "education_order",
    "deregistered",
    "changed_akasse",
    "moved_out",
    "opted_out",
    "hours_threshold",
    "programme_ended",
]


@dataclass(frozen=True)
class NoticeSignup:
    signed_up_on: date
    employment_ends_on: date
    municipality_code: int

    @property
    def effective_on(self) -> date:
        return self.signed_up_on


@dataclass(frozen=True)
class Registration:
    """R1 and R3: the start S and what the rules decided from it on that day."""

    registered_on: date
    insurance: Insurance
    municipality_code: int
    in_trial: bool
    outside_reason: Literal["municipality", "window"] | None
    education_order: bool

    @property
    def effective_on(self) -> date:
        return self.registered_on


@dataclass(frozen=True)
class AdviserAssigned:
    adviser: str
    effective_on: date


@dataclass(frozen=True)
class Payment:
    payment_id: str
    month: date  # first day of the payment month
    hours: Decimal

    @property
    def effective_on(self) -> date:
        return self.month


@dataclass(frozen=True)
class Move:
    municipality_code: int
    effective_on: date


@dataclass(frozen=True)
class Dated:
    """A fact that is only a day: a change of a-kasse, a deregistration, an agreement."""

    effective_on: date
    note: str = ""


@dataclass(frozen=True)
class Booking:
    kind: MeetingKind
    on: date

    @property
    def effective_on(self) -> date:
        return self.on


@dataclass(frozen=True)
class MeetingHeld:
    kind: MeetingKind
    held_on: date

    @property
    def effective_on(self) -> date:
        return self.held_on


@dataclass(frozen=True)
class ProfileAssessed:
    result: Literal["short", "long", "declined"]
    effective_on: date


@dataclass(frozen=True)
class HolidayRequest:
    """R14: a request and the decision made when it arrived."""

    request_id: str
    requested_on: date
    first_day: date
    last_day: date
    channel: Literal["jobnet", "message", "phone"]
    status: HolidayStatus
    reason: str | None

    @property
    def effective_on(self) -> date:
        return self.requested_on


@dataclass(frozen=True)
class HolidayDecision:
    request_id: str
    approved: bool
    effective_on: date


@dataclass(frozen=True)
class Sickness:
    """R15: a sickness report, and whether it was late, as decided when it arrived."""

    sick_from: date
    reported_on: date
    late_report: bool | None = None

    def __post_init__(self) -> None:
        if self.late_report is None:  # a read model's row from before the flag was kept here
            object.__setattr__(self, "late_report", self.reported_on > self.sick_from)

    @property
    def effective_on(self) -> date:
        return self.reported_on


@dataclass(frozen=True)
class LessIntensive:
    """R18: a request and the decision made when it arrived."""

    requested_on: date
    reason: Literal["job", "barsel", "efterloen", "folkepension"]
    starts_on: date
    documented: bool
    status: Literal["approved", "rejected"]
    refusal: Literal["too_early", "undocumented"] | None

    @property
    def effective_on(self) -> date:
        return self.requested_on

    @property
    def until(self) -> date:
        return self.starts_on


@dataclass(frozen=True)
class JobcenterContact:
    """R19: recorded as reported, never scheduled."""

    about: Literal["ordinary_job", "activation_offer"]
    note: str
    effective_on: date


@dataclass(frozen=True)
class Exit:
    reason: ExitReason
    on: date
    rule: str


@dataclass(frozen=True)
class DecidedExit:
    """An exit the stored decision names (R13): the one it chose or another the facts imply,
    and the day from which the facts it rests on are in effect (an as-of day before that
    does not know it)."""

    reason: ExitReason
    on: date
    rule: str
    effective_on: date

    @property
    def exit(self) -> Exit:
        return Exit(self.reason, self.on, self.rule)


@dataclass(frozen=True)
class CaseFacts:
    """Everything one case knows, in arrival order within each kind."""

    notice: NoticeSignup | None = None
    registration: Registration | None = None
    advisers: tuple[AdviserAssigned, ...] = ()
    payments: tuple[Payment, ...] = ()
    moves: tuple[Move, ...] = ()
    akasse_changes: tuple[Dated, ...] = ()
    deregistrations: tuple[Dated, ...] = ()
    opt_outs: tuple[Dated, ...] = ()
    bookings: tuple[Booking, ...] = ()
    meetings: tuple[MeetingHeld, ...] = ()
    extra_meetings_agreed: tuple[Dated, ...] = ()
    profiles: tuple[ProfileAssessed, ...] = ()
    holiday_requests: tuple[HolidayRequest, ...] = ()
    holiday_decisions: tuple[HolidayDecision, ...] = ()
    sickness: tuple[Sickness, ...] = ()
    less_intensive: tuple[LessIntensive, ...] = ()
    jobcenter_contacts: tuple[JobcenterContact, ...] = ()
    programme_ended: tuple[Dated, ...] = ()
    # The exits of the latest stored decision (R13), not a fact reported: replaced whole by
    # each decision, never appended to.
    exits: tuple[DecidedExit, ...] = ()

    def add(self, name: str, fact: Any) -> CaseFacts:
        """A copy with `fact` appended to the tuple `name`."""
        # A shallow copy, not dataclasses.replace: this runs for every event of every
        # case replayed, and replace() re-runs __init__ (a third of ingest's domain time).
        copied = object.__new__(CaseFacts)
        copied.__dict__.update(self.__dict__)
        copied.__dict__[name] = (*getattr(self, name), fact)
        return copied

    def without(self, name: str, identities: set[int]) -> CaseFacts:
        """A copy whose tuple `name` leaves out the facts of these `id()`s (shallow, as `add`)."""
        copied = object.__new__(CaseFacts)
        copied.__dict__.update(self.__dict__)
        copied.__dict__[name] = tuple(f for f in getattr(self, name) if id(f) not in identities)
        return copied

    def with_exits(self, exits: tuple[DecidedExit, ...]) -> CaseFacts:
        """A copy whose exits are those of a new decision (shallow, as `add`)."""
        copied = object.__new__(CaseFacts)
        copied.__dict__.update(self.__dict__)
        copied.__dict__["exits"] = exits
        return copied

    def as_of(self, day: date) -> CaseFacts:
        """Only the facts that take effect on or before `day`."""
        changes: dict[str, Any] = {
            name: tuple(f for f in getattr(self, name) if f.effective_on <= day)
            for name in _FACT_TUPLES
        }
        if self.notice is not None and self.notice.effective_on > day:
            changes["notice"] = None
        if self.registration is not None and self.registration.effective_on > day:
            changes["registration"] = None
        return replace(self, **changes)

    @property
    def start(self) -> date | None:
        """S, once the member has registered as unemployed."""
        return self.registration.registered_on if self.registration else None

    @property
    def opened_on(self) -> date:
        """The first day the case exists: S, or the notice sign-up before it."""
        if self.notice is not None:
            return self.notice.signed_up_on
        assert self.registration is not None
        return self.registration.registered_on

    def adviser(self) -> str | None:
        """The adviser assigned last (by effective day, then arrival)."""
        latest = max(
            enumerate(self.advisers), key=lambda p: (p[1].effective_on, p[0]), default=None
        )
        return latest[1].adviser if latest else None

    def held(self, kind: MeetingKind) -> MeetingHeld | None:
        """The first time a meeting of `kind` was held."""
        return min(
            (m for m in self.meetings if m.kind == kind), key=lambda m: m.held_on, default=None
        )


_FACT_TUPLES = [
    name
    for name, f in CaseFacts.__dataclass_fields__.items()
    if name not in ("notice", "registration")
]


# --- JSON: the facts as a read model stores them --------------------------------------------


def facts_to_json(facts: CaseFacts) -> dict[str, Any]:
    """The facts as JSON-ready data: dates as ISO strings, hours as decimal strings."""
    data = _encode(facts)
    assert isinstance(data, dict)
    return data


def facts_from_json(data: dict[str, Any]) -> CaseFacts:
    """The facts back from `facts_to_json`, each fact rebuilt by its field's type."""
    facts = _decode(CaseFacts, data)
    assert isinstance(facts, CaseFacts)
    return facts


def _encode(value: Any) -> Any:
    if value is None or isinstance(value, str | int):  # bool is an int
        return value
    if isinstance(value, tuple):
        return [_encode(item) for item in value]
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return _ENCODERS[type(value)](value)


# A field's value as `_encode` gives it, written out so that the common types (exactly
# str, int, bool, None, date, Decimal, a tuple) cost no call: a worklist row encodes a
# case's facts after every batch that touches it, some sixty values a case.
_FIELD = (
    "(x if (x := v.{name}) is None or (t := type(x)) is str or t is int or t is bool"
    " else x.isoformat() if t is date else str(x) if t is Decimal"
    " else [_E[type(i)](i) for i in x] if t is tuple else _encode(x))"
)


class _Encoders(dict[type, Any]):
    """A type's encoder, made on first use: a fact's (a dataclass's) has its fields by
    name, in order, each encoded as `_encode` would; any other type's is `_encode`."""

    def __missing__(self, cls: type) -> Any:
        if not is_dataclass(cls):
            self[cls] = _encode
            return _encode
        items = ", ".join(f"{name!r}: {_FIELD.format(name=name)}" for name in _names(cls))
        namespace = {"_encode": _encode, "_E": self, "date": date, "Decimal": Decimal}
        exec(f"def encode(v):\n    return {{{items}}}\n", namespace)
        self[cls] = encoder = namespace["encode"]
        return encoder


_ENCODERS = _Encoders()


@cache
def _names(cls: type) -> tuple[str, ...]:
    return tuple(f.name for f in fields(cls))


@cache
def _hints(cls: type) -> dict[str, Any]:
    return get_type_hints(cls)


def _decode(kind: Any, value: Any) -> Any:
    origin = get_origin(kind)
    if origin is Union or origin is UnionType:  # X | None
        (inner,) = (arg for arg in get_args(kind) if arg is not type(None))
        return None if value is None else _decode(inner, value)
    if origin is tuple:  # tuple[X, ...]
        return tuple(_decode(get_args(kind)[0], item) for item in value)
    if isinstance(kind, type) and is_dataclass(kind):
        hints = _hints(kind)
        # A field missing from data written before it existed (CaseFacts.exits) keeps its
        # default.
        return kind(
            **{
                f.name: _decode(hints[f.name], value[f.name])
                for f in fields(kind)
                if f.name in value
            }
        )
    if kind is date:
        return date.fromisoformat(value)
    if kind is Decimal:
        return Decimal(value)
    return value  # str, int, bool, a Literal
