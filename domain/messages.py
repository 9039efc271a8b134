"""The inbound contract (CONTRACT.md): one frozen pydantic model per message `type`, and the
one parse path every entry point validates a message through (`parse_message`).

Over 300 lines on purpose: the 17 models are the contract's table of message types, read
beside CONTRACT.md and generated into docs/inbound.schema.json as one schema, and
`parse_message` is the single door to them; the field types they are built from are in
domain/message_fields.py."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from typing import Annotated, Any, Literal, TypeAlias, cast, get_args

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    TypeAdapter,
    ValidationError,
    ValidationInfo,
    field_validator,
)

from domain.cpr import birth_date_from_cpr
from domain.message_fields import (
    JSON_SCHEMA_DRAFT,
    Cpr,
    EventDate,
    HolidayChannel,
    Hours,
    Identifier,
    Insurance,
    IsoDate,
    JobcenterTopic,
    LessIntensiveReason,
    MeetingKind,
    MessageId,
    Month,
    MunicipalityCode,
    Name,
    ProfileResult,
    Text,
    bad,
    show,
)
from domain.message_fields import (
    MAX_MONTH_HOURS as MAX_MONTH_HOURS,
)
from domain.message_fields import (
    InvalidMessage as InvalidMessage,
)
from domain.untrusted import (
    DEFAULT_LIMITS,
    Limits,
    UntrustedInputError,
    check_nesting,
    check_size,
    check_values,
    decode_json,
    may_hold_refused_values,
    safe_text,
)

# --- the messages ---------------------------------------------------------------------------


class BaseMessage(BaseModel):
    """What every inbound message has; `effective_on` is the day its fact takes effect."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    message_id: MessageId
    type: str
    cpr: Cpr

    @property
    def effective_on(self) -> date:
        raise NotImplementedError


class Unemployed(BaseMessage):
    """R1, R3: the member registered as unemployed; S = `registered_on`."""

    type: Literal["unemployed"]
    registered_on: EventDate
    insurance: Insurance
    municipality_code: MunicipalityCode
    birth_date: IsoDate
    vocational_education: StrictBool
    has_children: StrictBool
    adviser: Name | None = None

    @field_validator("birth_date")
    @classmethod
    def _birth_date_matches_cpr(cls, value: date, info: ValidationInfo) -> date:
        cpr = info.data.get("cpr")
        if isinstance(cpr, str) and birth_date_from_cpr(cpr) != value:
            raise bad(
                f"{value.isoformat()!r} is not the birth date that CPR {cpr} encodes "
                f"({birth_date_from_cpr(cpr).isoformat()})"
            )
        return value

    @property
    def effective_on(self) -> date:
        return self.registered_on


class AdviserAssigned(BaseMessage):
    """The a-kasse assigned an adviser (the worklist's filter)."""

    type: Literal["adviser_assigned"]
    adviser: Name
    assigned_on: EventDate

    @property
    def effective_on(self) -> date:
        return self.assigned_on


class NoticeSignup(BaseMessage):
    """R2: a member under notice signed up before becoming unemployed."""

    type: Literal["notice_signup"]
    signed_up_on: EventDate
    employment_ends_on: EventDate
    municipality_code: MunicipalityCode

    @field_validator("employment_ends_on")
    @classmethod
    def _ends_after_signup(cls, value: date, info: ValidationInfo) -> date:
        signed_up_on = info.data.get("signed_up_on")
        if isinstance(signed_up_on, date) and value < signed_up_on:
            raise bad(f"{value.isoformat()!r} is before signed_up_on {signed_up_on.isoformat()!r}")
        return value

    @property
    def effective_on(self) -> date:
        return self.signed_up_on


class HoursPaid(BaseMessage):
    """R8: hours of dagpenge paid for one month; `month` is that month's first day."""

    type: Literal["hours_paid"]
    payment_id: Identifier
    month: Month
    hours: Hours

    @property
    def month_last_day(self) -> date:
        """The last day of the payment month."""
        following = date(self.month.year + self.month.month // 12, self.month.month % 12 + 1, 1)
        return following - timedelta(days=1)

    @property
    def effective_on(self) -> date:
        return self.month


class Moved(BaseMessage):
    """R9: the member moved to another municipality, effective `moved_on`."""

    type: Literal["moved"]
    municipality_code: MunicipalityCode
    moved_on: EventDate

    @property
    def effective_on(self) -> date:
        return self.moved_on


class AkasseChanged(BaseMessage):
    """R10: the member left the a-kasse."""

    type: Literal["akasse_changed"]
    changed_on: EventDate

    @property
    def effective_on(self) -> date:
        return self.changed_on


class Deregistered(BaseMessage):
    """R17: the member is no longer unemployed."""

    type: Literal["deregistered"]
    deregistered_on: EventDate

    @property
    def effective_on(self) -> date:
        return self.deregistered_on


class MeetingBooked(BaseMessage):
    """R7: an adviser booked a meeting of `kind` on a day."""

    type: Literal["meeting_booked"]
    kind: MeetingKind
    on: EventDate

    @property
    def effective_on(self) -> date:
        return self.on


class MeetingHeld(BaseMessage):
    """R4, R5: a meeting of `kind` was held."""

    type: Literal["meeting_held"]
    kind: MeetingKind
    held_on: EventDate

    @property
    def effective_on(self) -> date:
        return self.held_on


class ExtraMeetingsAgreed(BaseMessage):
    """R5: member and adviser agreed on a more intensive course."""

    type: Literal["extra_meetings_agreed"]
    agreed_on: EventDate

    @property
    def effective_on(self) -> date:
        return self.agreed_on


class ProfileAssessed(BaseMessage):
    """R6: the member answered (or declined) the profile tool."""

    type: Literal["profile_assessed"]
    assessed_on: EventDate
    result: ProfileResult

    @property
    def effective_on(self) -> date:
        return self.assessed_on


class OptedOut(BaseMessage):
    """R11: member and adviser agreed the jobcenter helps the member better."""

    type: Literal["opted_out"]
    decided_on: EventDate
    note: Text

    @property
    def effective_on(self) -> date:
        return self.decided_on


class HolidayRequested(BaseMessage):
    """R14: the member asked for holiday from `first_day` to `last_day`, both included."""

    type: Literal["holiday_requested"]
    request_id: Identifier
    requested_on: EventDate
    first_day: EventDate
    last_day: EventDate
    channel: HolidayChannel

    @field_validator("last_day")
    @classmethod
    def _last_not_before_first(cls, value: date, info: ValidationInfo) -> date:
        first_day = info.data.get("first_day")
        if isinstance(first_day, date) and value < first_day:
            raise bad(f"{value.isoformat()!r} is before first_day {first_day.isoformat()!r}")
        return value

    @property
    def effective_on(self) -> date:
        return self.requested_on


class HolidayDecided(BaseMessage):
    """R14: an adviser settled a pending holiday request."""

    type: Literal["holiday_decided"]
    request_id: Identifier
    decided_on: EventDate
    approved: StrictBool

    @property
    def effective_on(self) -> date:
        return self.decided_on


class SicknessReported(BaseMessage):
    """R15: the member reported sick from `sick_from`."""

    type: Literal["sickness_reported"]
    sick_from: EventDate
    reported_on: EventDate

    @property
    def effective_on(self) -> date:
        return self.reported_on


class LessIntensiveRequested(BaseMessage):
    """R18: the member asked for a less intensive effort until `starts_on`."""

    type: Literal["less_intensive_requested"]
    requested_on: EventDate
    reason: LessIntensiveReason
    starts_on: EventDate
    documented: StrictBool

    @property
    def effective_on(self) -> date:
        return self.requested_on


class JobcenterContact(BaseMessage):
    """R19: the jobcenter contacted the member about an ordinary job or an activation offer."""

    type: Literal["jobcenter_contact"]
    on: EventDate
    about: JobcenterTopic
    note: Text

    @property
    def effective_on(self) -> date:
        return self.on


InboundMessage: TypeAlias = Annotated[
    Unemployed
    | AdviserAssigned
    | NoticeSignup
    | HoursPaid
    | Moved
    | AkasseChanged
    | Deregistered
    | MeetingBooked
    | MeetingHeld
    | ExtraMeetingsAgreed
    | ProfileAssessed
    | OptedOut
    | HolidayRequested
    | HolidayDecided
    | SicknessReported
    | LessIntensiveRequested
    | JobcenterContact,
    Field(discriminator="type"),
]
"""Any inbound message, told apart by its `type`."""

MESSAGE_TYPES: Mapping[str, type[BaseMessage]] = {
    get_args(cls.model_fields["type"].annotation)[0]: cls
    for cls in (
        Unemployed,
        AdviserAssigned,
        NoticeSignup,
        HoursPaid,
        Moved,
        AkasseChanged,
        Deregistered,
        MeetingBooked,
        MeetingHeld,
        ExtraMeetingsAgreed,
        ProfileAssessed,
        OptedOut,
        HolidayRequested,
        HolidayDecided,
        SicknessReported,
        LessIntensiveRequested,
        JobcenterContact,
    )
}
"""Each contract `type` and its model, in the contract's order."""

_ADAPTER: TypeAdapter[InboundMessage] = TypeAdapter(InboundMessage)


def contract_json_schema() -> dict[str, Any]:
    """The JSON Schema of every inbound message, generated from these models."""
    return {"$schema": JSON_SCHEMA_DRAFT, **_ADAPTER.json_schema()}


# --- parsing --------------------------------------------------------------------------------


def _load(raw: bytes | str | Mapping[str, object], limits: Limits) -> dict[str, Any]:
    """The decoded JSON object, after the checks that keep the decoder and the stores safe."""
    if isinstance(raw, Mapping):
        data: object = dict(raw)
    else:
        try:
            check_size(raw, limits)
        except UntrustedInputError as error:
            raise InvalidMessage(error.reason) from None
        try:
            text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
        except UnicodeDecodeError as error:
            raise InvalidMessage(
                f"the message is not UTF-8 text (byte 0x{error.object[error.start]:02x} "
                f"at position {error.start})"
            ) from None
        try:
            check_nesting(text, limits)
        except UntrustedInputError as error:
            raise InvalidMessage(error.reason) from None
        try:
            data = decode_json(text)
        except RecursionError:  # a nesting limit set above what the decoder can take
            raise InvalidMessage("the message is nested too deeply to decode") from None
        except UntrustedInputError as error:  # a repeated key
            raise InvalidMessage(error.reason, error.field, _lenient_message_id(text)) from None
        except ValueError as error:
            raise InvalidMessage(f"the message is not valid JSON ({error})") from None
    if not isinstance(data, dict):
        raise InvalidMessage(f"the message is a JSON {type(data).__name__}, not an object")
    try:
        if isinstance(raw, Mapping) or may_hold_refused_values(text):
            check_values(data, limits)
    except UntrustedInputError as error:
        field = error.field.split(".", 1)[0] if error.field else None
        raise InvalidMessage(error.reason, field, _best_message_id(data)) from None
    return data


def _lenient_message_id(text: str) -> str | None:
    """The message id of JSON text refused for a repeated key, read as json.loads reads it
    (the last value where a key repeats)."""
    data = decode_json(text, repeated_keys=True)
    return _best_message_id(data) if isinstance(data, dict) else None


def _best_message_id(data: Mapping[str, Any]) -> str | None:
    """The input's message id as far as it has one, in a form every store can keep."""
    value = data.get("message_id")
    if isinstance(value, str | int) and not isinstance(value, bool):
        return safe_text(str(value), limit=128) or None
    return None


_PLAIN_REASONS = {
    "string_type": "{value} is not a string",
    "string_too_short": "must not be empty",
    "string_too_long": "{value} is longer than {max_length} characters",
    "int_type": "{value} is not an integer",
    "bool_type": "{value} is not true or false",
    "literal_error": "{value} is not an allowed value (expected {expected})",
}


def _reason(error: Mapping[str, Any]) -> tuple[str, str | None]:
    """One readable sentence for pydantic's first error, and the field it is about."""
    field = ".".join(str(part) for part in error["loc"]) or None
    kind, context = error["type"], error.get("ctx") or {}
    where = f"field {field!r}" if field else "the message"
    if kind == "missing":
        return f"{where} is missing", field
    if kind == "ledighed":
        return f"{where}: {context['reason']}", field
    template = _PLAIN_REASONS.get(kind)
    if template is None:
        return f"{where}: {error['msg']}", field
    text = template.format(value=show(error.get("input")), **context)
    return (f"{where} {text}" if kind == "string_too_short" else f"{where}: {text}"), field


def parse_message(
    raw: bytes | str | Mapping[str, object], limits: Limits = DEFAULT_LIMITS
) -> InboundMessage:
    """The inbound message in `raw`: JSON text as it arrived (bytes or str), or an object
    decoded from this system's own records (kept messages).

    Raises InvalidMessage with a reason a person can read, the field concerned (where one
    is) and the message id (where the input has one, so that a dead letter can name it).
    Every failure that comes from the input's content is an InvalidMessage: its size and
    nesting (`limits`), its encoding, characters a store cannot keep, types, the contract.
    """
    data = _load(raw, limits)
    # JSON text must give numbers as JSON numbers; a decoded record of ours may hold hours
    # as the string pydantic dumps a Decimal to.
    context = {"json_text": not isinstance(raw, Mapping)}
    message_id = _best_message_id(data)
    kind = data.get("type")
    if kind is None:
        raise InvalidMessage("field 'type' is missing", "type", message_id)
    model = MESSAGE_TYPES.get(kind) if isinstance(kind, str) else None
    if model is None:
        expected = ", ".join(MESSAGE_TYPES)
        raise InvalidMessage(
            f"unknown message type {show(kind)}; expected one of {expected}", "type", message_id
        )
    try:
        message = cast(InboundMessage, model.model_validate(data, context=context))
    except ValidationError as error:
        reason, field = _reason(error.errors(include_url=False)[0])
        raise InvalidMessage(reason, field, message_id) from None
    if context["json_text"]:  # a kept record reads back as it was accepted (_arriving)
        _check_born(message, message_id)
    return message


def _check_born(message: InboundMessage, message_id: str | None) -> None:
    """No message is about a member not yet born on the day it dates (for `hours_paid`, by
    the payment month's last day): the birth date the CPR encodes (an `unemployed`'s
    `birth_date`, which must be that one) after it is refused, naming `birth_date` or
    `cpr`. The message's own day, not today: the contract takes facts dated after today."""
    born = birth_date_from_cpr(message.cpr)
    day = message.month_last_day if isinstance(message, HoursPaid) else message.effective_on
    if born <= day:
        return
    if isinstance(message, Unemployed):
        reason = (
            f"field 'birth_date': {born.isoformat()!r} is after registered_on "
            f"{day.isoformat()!r} (no one registers before being born)"
        )
        raise InvalidMessage(reason, "birth_date", message_id)
    reason = (
        f"field 'cpr': the CPR's birth date {born.isoformat()} is after {day.isoformat()}, "
        "the day this message is about (no one has a fact before being born)"
    )
    raise InvalidMessage(reason, "cpr", message_id)
