"""The inbound contract's field types (CONTRACT.md): dates, months, hours, CPR numbers and
municipality codes as strictly as the contract gives them, each refused with a reason a
person can read. The messages themselves are in domain/messages.py."""

from __future__ import annotations

import json
import re
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Annotated, Literal, TypeAlias

from pydantic import (
    AfterValidator,
    BeforeValidator,
    PlainSerializer,
    Strict,
    StringConstraints,
    ValidationInfo,
    WithJsonSchema,
)
from pydantic_core import PydanticCustomError

from domain.cpr import CPR_PATTERN, normalize_cpr
from domain.municipalities import DANISH_MUNICIPALITIES, is_danish

JSON_SCHEMA_DRAFT = "https://json-schema.org/draft/2020-12/schema"
"""The draft the published schemas (docs/*.schema.json) declare: pydantic generates 2020-12."""


def _day_pattern(year: str, leap_year: str) -> str:
    """The days that exist as `YYYY-MM-DD`, for the years `year` matches (`leap_year`: those
    of them that are Gregorian leap years)."""
    return (
        rf"({year}-((0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])|(0[13-9]|1[0-2])-(29|30)"
        rf"|(0[13578]|1[02])-31)|{leap_year}-02-29)"
    )


_YEAR = r"([0-9]{3}[1-9]|[0-9]{2}[1-9][0-9]|[0-9][1-9][0-9]{2}|[1-9][0-9]{3})"  # 0001 to 9999
_LEAP_YEAR = r"([0-9]{2}(0[48]|[2468][048]|[13579][26])|(0[48]|[2468][048]|[13579][26])00)"
_DAY = _day_pattern(_YEAR, _LEAP_YEAR)
DATE_PATTERN = rf"^{_DAY}$"
"""Exactly the days that exist, as `YYYY-MM-DD` (0001-01-01 to 9999-12-31, 29 February in
Gregorian leap years): a validator that skips `format: date` refuses what the parser does."""

EARLIEST_DAY = date(2000, 1, 1)
"""The earliest day a message may date a fact (every date of the contract but `birth_date`,
and the payment month): twenty years before the programme window opens (2020-01-01,
RULES.md). A registration, sign-up or payment before the window is legitimate input (R1, R2:
recorded outside the trial, or refused by the rules with reason `window`); a day before 2000
is no fact of a member of today's a-kasse but a typing error or a default (0001-01-01,
1900-01-01), refused naming its field."""
_EVENT_YEAR = r"([2-9][0-9]{3})"  # 2000 to 9999: EARLIEST_DAY's year on
_EVENT_LEAP_YEAR = r"([2-9][0-9](0[48]|[2468][048]|[13579][26])|([2468][048]|[3579][26])00)"
EVENT_DATE_PATTERN = rf"^{_day_pattern(_EVENT_YEAR, _EVENT_LEAP_YEAR)}$"
"""Exactly the days that exist from EARLIEST_DAY on, as `YYYY-MM-DD`."""
MONTH_PATTERN = rf"^{_EVENT_YEAR}-(0[1-9]|1[0-2])$"
"""`YYYY-MM`, a month that exists, from EARLIEST_DAY's month on."""
_ZONE = r"(Z|[+ -]([01][0-9]|2[0-3]):[0-5][0-9])"
_TIME = r"([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\.[0-9]{1,6})?)?"
MOMENT_PATTERN = rf"^{_DAY}(T{_TIME}{_ZONE}?)?$"
"""A day, or a moment `YYYY-MM-DDTHH:MM[:SS[.ffffff]][+HH:MM]` (the API's `known_at`; a `+` left
unencoded in a query string arrives as a space)."""

MAX_MONTH_HOURS = Decimal("160.33")
"""R8: no month of dagpenge has more hours; part-time's 130.00 is the domain's check."""

_CENT = Decimal("0.01")
_DATE_SHAPE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")
_MONTH_SHAPE = re.compile(r"([0-9]{4})-([0-9]{2})")
_HOURS_SHAPE = re.compile(r"-?[0-9]+(\.[0-9]+)?")


class InvalidMessage(Exception):
    """An inbound message that breaks the contract; `reason` is one sentence a person can read."""

    def __init__(
        self, reason: str, field: str | None = None, message_id: str | None = None
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.field = field
        self.message_id = message_id


def show(value: object) -> str:
    """A short rendering of a bad value for an error message."""
    if value is None or isinstance(value, bool):
        return json.dumps(value)
    text = str(value) if isinstance(value, Decimal) else repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def bad(text: str) -> PydanticCustomError:
    return PydanticCustomError("ledighed", "{reason}", {"reason": text})


# --- field types ----------------------------------------------------------------------------


def _parse_date(value: object) -> date:
    if type(value) is date:  # a decoded value, e.g. a model dumped in Python mode
        return value
    if not isinstance(value, str):
        raise bad(f"{show(value)} is not a date (expected a string YYYY-MM-DD)")
    match = _DATE_SHAPE.fullmatch(value)
    if match is None:
        raise bad(f"{show(value)} is not a date in the form YYYY-MM-DD")
    try:
        return date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        raise bad(f"{show(value)} is not a date that exists (expected YYYY-MM-DD)") from None


def _arriving(info: ValidationInfo) -> bool:
    """Whether the message is JSON text as it arrived, not a decoded record of this system's
    own (a kept message): hours must be JSON numbers in text only (pydantic dumps a Decimal
    as a string), and the checks added to the contract since records were kept (blank names,
    days before EARLIEST_DAY, births after the message's day) apply as a message arrives,
    so that a record accepted before them reads back as it was accepted."""
    return bool((info.context or {}).get("json_text"))


def _parse_event_date(value: object, info: ValidationInfo) -> date:
    day = _parse_date(value)
    if day < EARLIEST_DAY and _arriving(info):
        raise bad(
            f"{show(value)} is before {EARLIEST_DAY.isoformat()}, the earliest day the contract "
            "takes"
        )
    return day


def _parse_month(value: object, info: ValidationInfo) -> date:
    month = _parse_month_shape(value)
    if month < EARLIEST_DAY and _arriving(info):
        raise bad(
            f"{show(value)} is before {EARLIEST_DAY:%Y-%m}, the earliest month the contract takes"
        )
    return month


def _parse_month_shape(value: object) -> date:
    if type(value) is date and value.day == 1:
        return value
    if not isinstance(value, str):
        raise bad(f"{show(value)} is not a month (expected a string YYYY-MM)")
    match = _MONTH_SHAPE.fullmatch(value)
    if match is None:
        raise bad(f"{show(value)} is not a month in the form YYYY-MM")
    try:
        return date(int(match[1]), int(match[2]), 1)
    except ValueError:
        raise bad(f"{show(value)} is not a month that exists (expected YYYY-MM)") from None


def _parse_hours(value: object, info: ValidationInfo) -> Decimal:
    if isinstance(value, bool):
        raise bad(f"{show(value)} is not a number of hours")
    if isinstance(value, str) and _arriving(info):
        raise bad(f"{show(value)} is a string; hours are a JSON number (e.g. 12.5)")
    if isinstance(value, str) and _HOURS_SHAPE.fullmatch(value) is None:
        raise bad(f"{show(value)} is not a number of hours")
    if not isinstance(value, str | int | float | Decimal):
        raise bad(f"{show(value)} is not a number of hours")
    try:
        hours = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    except InvalidOperation:
        raise bad(f"{show(value)} is not a number of hours") from None
    if not hours.is_finite():
        raise bad(f"{show(value)} is not a number of hours")
    if hours < 0:
        raise bad(f"{show(value)} is a negative number of hours")
    if hours > MAX_MONTH_HOURS:
        raise bad(f"{show(value)} is more than {MAX_MONTH_HOURS} hours, a full month (R8)")
    if hours != hours.quantize(_CENT):
        raise bad(f"{show(value)} has more than two decimals")
    return hours.quantize(_CENT)


def _parse_cpr(value: object) -> str:
    if not isinstance(value, str):
        raise bad(f"{show(value)} is not a CPR number (expected a string of 10 digits)")
    try:
        return normalize_cpr(value)
    except ValueError as error:
        raise bad(str(error)) from None


def _check_municipality(value: int) -> int:
    if not is_danish(value):
        raise bad(f"{value} is not a Danish municipality code")
    return value


IsoDate: TypeAlias = Annotated[
    date,
    BeforeValidator(_parse_date),
    WithJsonSchema({"type": "string", "format": "date", "pattern": DATE_PATTERN}),
]
"""A date that exists, given strictly as a `YYYY-MM-DD` string."""

EventDate: TypeAlias = Annotated[
    date,
    BeforeValidator(_parse_event_date),
    WithJsonSchema({"type": "string", "format": "date", "pattern": EVENT_DATE_PATTERN}),
]
"""The day of a fact: a date that exists, strictly `YYYY-MM-DD`, not before EARLIEST_DAY."""

Month: TypeAlias = Annotated[
    date,
    BeforeValidator(_parse_month),
    PlainSerializer(lambda month: f"{month:%Y-%m}", return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "pattern": MONTH_PATTERN}),
]
"""A month, given strictly as `YYYY-MM`, not before EARLIEST_DAY's, held as the date of its
first day."""

Hours: TypeAlias = Annotated[
    Decimal,
    BeforeValidator(_parse_hours),
    WithJsonSchema(
        {
            "type": "number",
            "minimum": 0,
            "maximum": float(MAX_MONTH_HOURS),
            "multipleOf": 0.01,
            "description": "hours paid for the month, a JSON number with at most two "
            "decimals, 0 to 160.33",
        }
    ),
]
"""Hours for one month: not negative, at most 160.33, at most two decimals."""

Cpr: TypeAlias = Annotated[
    str,
    BeforeValidator(_parse_cpr),
    WithJsonSchema({"type": "string", "pattern": CPR_PATTERN}),
]
"""A CPR number, normalized to its 10 digits; its first seven give a real birth date."""

MunicipalityCode: TypeAlias = Annotated[
    int,
    Strict(),
    AfterValidator(_check_municipality),
    WithJsonSchema({"type": "integer", "enum": sorted(DANISH_MUNICIPALITIES)}),
]
"""A Danish municipality code (kommunekode) as a JSON integer: 751, not "0751"."""

MAX_ID_CHARS = 128
"""The longest message id, payment id or holiday request id (characters): what the store's
message-id columns hold (VARCHAR(128) on PostgreSQL)."""

MAX_NAME_CHARS = 128
"""The longest adviser name (characters): what the worklist's `adviser` columns hold."""

MAX_NOTE_CHARS = 2000
"""The longest note (characters); notes are kept sealed in the events (JSON, no column
limit), bounded so that no one message's text grows without end."""

# What a name or id may not consist of alone: white space (what Python's str.strip and
# ECMA-262's \s trim, listed so that both engines read the schema's pattern alike) and the
# invisible zero-width characters. A name of them shows as nothing: no one can tell whose it is.
_BLANK = (
    r"\t\n\x0b\x0c\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200d\u2028\u2029\u202f\u205f\u2060"
    r"\u3000\ufeff"
)
NOT_BLANK_PATTERN = rf"[^{_BLANK}]"
"""Holds a character that is not blank (the schema's `pattern`: JSON Schema searches)."""
_NOT_BLANK = re.compile(NOT_BLANK_PATTERN)


def _not_blank(value: str, info: ValidationInfo) -> str:
    if _NOT_BLANK.search(value) is None and _arriving(info):
        raise bad(f"{show(value)} is blank (only white space or invisible characters)")
    return value


def _name_schema(max_length: int) -> WithJsonSchema:
    return WithJsonSchema(
        {"type": "string", "minLength": 1, "maxLength": max_length, "pattern": NOT_BLANK_PATTERN}
    )


MessageId: TypeAlias = Annotated[
    str,
    StringConstraints(strict=True, min_length=1, max_length=MAX_ID_CHARS),
    AfterValidator(_not_blank),
    _name_schema(MAX_ID_CHARS),
]
"""A message's id: 1 to 128 characters, not blank."""
Identifier: TypeAlias = Annotated[
    str,
    StringConstraints(strict=True, min_length=1, max_length=MAX_ID_CHARS),
    AfterValidator(_not_blank),
    _name_schema(MAX_ID_CHARS),
]
"""An upstream system's id of a payment or a holiday request: 1 to 128 characters, not blank."""
Name: TypeAlias = Annotated[
    str,
    StringConstraints(strict=True, min_length=1, max_length=MAX_NAME_CHARS),
    AfterValidator(_not_blank),
    _name_schema(MAX_NAME_CHARS),
]
"""An adviser's name: 1 to 128 characters, not blank."""
Text: TypeAlias = Annotated[str, StringConstraints(strict=True, max_length=MAX_NOTE_CHARS)]
"""A note: at most 2,000 characters, empty or blank allowed (a note is the adviser's free
comment beside a fact that its type and date already state)."""

Insurance: TypeAlias = Literal["full_time", "part_time"]
MeetingKind: TypeAlias = Literal["cv_and_job", "availability_and_job", "joint", "extra_job"]
ProfileResult: TypeAlias = Literal["short", "long", "declined"]
HolidayChannel: TypeAlias = Literal["jobnet", "message", "phone"]
LessIntensiveReason: TypeAlias = Literal["job", "barsel", "efterloen", "folkepension"]
JobcenterTopic: TypeAlias = Literal["ordinary_job", "activation_offer"]
