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

_YEAR = r"([0-9]{3}[1-9]|[0-9]{2}[1-9][0-9]|[0-9][1-9][0-9]{2}|[1-9][0-9]{3})"  # 0001 to 9999
MONTH_PATTERN = rf"^{_YEAR}-(0[1-9]|1[0-2])$"
"""`YYYY-MM`, a month that exists (a year from 0001)."""
_LEAP_YEAR = r"([0-9]{2}(0[48]|[2468][048]|[13579][26])|(0[48]|[2468][048]|[13579][26])00)"
_DAY = (
    rf"({_YEAR}-((0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])|(0[13-9]|1[0-2])-(29|30)"
    rf"|(0[13578]|1[02])-31)|{_LEAP_YEAR}-02-29)"
)
DATE_PATTERN = rf"^{_DAY}$"
"""Exactly the days that exist, as `YYYY-MM-DD` (0001-01-01 to 9999-12-31, 29 February in
Gregorian leap years): a validator that skips `format: date` refuses what the parser does."""
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


def _parse_month(value: object) -> date:
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
    if isinstance(value, str) and (info.context or {}).get("json_text"):
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

Month: TypeAlias = Annotated[
    date,
    BeforeValidator(_parse_month),
    PlainSerializer(lambda month: f"{month:%Y-%m}", return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "pattern": MONTH_PATTERN}),
]
"""A month, given strictly as `YYYY-MM`, held as the date of its first day."""

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

MessageId: TypeAlias = Annotated[
    str, StringConstraints(strict=True, min_length=1, max_length=MAX_ID_CHARS)
]
Identifier: TypeAlias = Annotated[
    str, StringConstraints(strict=True, min_length=1, max_length=MAX_ID_CHARS)
]
"""An upstream system's id of a payment or a holiday request."""
Name: TypeAlias = Annotated[
    str, StringConstraints(strict=True, min_length=1, max_length=MAX_NAME_CHARS)
]
Text: TypeAlias = Annotated[str, StringConstraints(strict=True, max_length=MAX_NOTE_CHARS)]

Insurance: TypeAlias = Literal["full_time", "part_time"]
MeetingKind: TypeAlias = Literal["cv_and_job", "availability_and_job", "joint", "extra_job"]
ProfileResult: TypeAlias = Literal["short", "long", "declined"]
HolidayChannel: TypeAlias = Literal["jobnet", "message", "phone"]
LessIntensiveReason: TypeAlias = Literal["job", "barsel", "efterloen", "folkepension"]
JobcenterTopic: TypeAlias = Literal["ordinary_job", "activation_offer"]
