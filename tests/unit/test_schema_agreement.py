"""The published inbound schema (docs/inbound.schema.json) and the service's parser agree on
every scenario line and on a generated set of mutations of them: what one refuses, so does
the other.

The schema is checked with the `jsonschema` library, format checking on. Both the schema and
each message are decoded with JSON numbers as decimals (`parse_float=Decimal`), as the
service decodes them: `751.0` stays a decimal, which a JSON Schema `integer` refuses, and
`multipleOf: 0.01` and `maximum: 160.33` compare exactly, not in binary floating point.

What a JSON Schema cannot say, and so the only disagreements allowed (`_CROSS_FIELD`): a
check that compares two fields of one message (an `unemployed`'s `birth_date` must be the
one its CPR encodes; `employment_ends_on` not before `signed_up_on`; `last_day` not before
`first_day`; the birth date the CPR encodes not after the message's day). The service refuses
those, the schema accepts them; the test requires exactly that and nothing else. The bounds
on one field are the schema's too: the earliest day (2000-01-01) and month by the date and
month patterns, a blank name or id by a pattern of a character that is not blank.

Not generated here, because they are checks on text rather than shape
(domain/untrusted.py): control characters and lone surrogates in strings, the size and
nesting limits, NaN and Infinity (not JSON), numbers longer than 40 characters (a schema
may take one in a field it does not name), and a final newline inside a string that a
pattern ends with `$` (Python's `re` lets `$` match before it; ECMA-262, which JSON Schema
names, does not).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from domain.cpr import CPR_PATTERN, birth_date_from_cpr, normalize_cpr
from domain.messages import HoursPaid, InvalidMessage, parse_message
from tests.scenario_helpers import SCENARIOS

SCHEMA = json.loads(
    (Path(__file__).parents[2] / "docs" / "inbound.schema.json").read_text(), parse_float=Decimal
)
VALIDATOR = jsonschema.Draft202012Validator(SCHEMA, format_checker=jsonschema.FormatChecker())
LINES = [
    line
    for path in sorted(SCENARIOS.glob("*.jsonl"))
    for line in path.read_text(encoding="utf-8").splitlines()
    if line.strip()
]

# Raw JSON text for a field's value, by the kind of field (what the scenario lines hold).
DATES = [
    *[
        "2021-3-5",
        "2021-02-30",
        "2021-02-29",
        "2020-02-29",
        "0000-01-01",
        "0001-01-01",
        "1900-01-01",
        "1999-12-31",
        "2000-01-01",
        "2000-02-29",
        "2021-13-01",
        "2021-03-05T00:00:00",
    ],
    *[" 2021-03-05", "20210305", "2021-W10-1", "९९९९-01-01"],
]
CPRS = [
    "0101901234",
    "010190-1234",
    "0000000000",
    "3102851234",
    "2902001234",
    "2902004234",
    "2902961234",
]
CPRS += ["2902971234", "3104901234", "3012901234", "01019012345", "010190 1234", "010190--1234"]
VARIANTS: dict[str, list[str]] = {
    "date": [json.dumps(text) for text in DATES] + ["20210305", "0", "null", "true", "[]"],
    "month": [
        '"2021-1"',
        '"2021-13"',
        '"2021-00"',
        '"0000-05"',
        '"1900-01"',
        '"1999-12"',
        '"2000-01"',
        '"2021-01-01"',
        '"2021-02"',
        "202101",
        "null",
    ],
    "hours": [
        "12.555",
        "12.55",
        "12.5",
        "12",
        "0",
        "0.00",
        "160.33",
        "160.34",
        "160.330",
        "-1",
        "-0.01",
        "1e2",
        "1E3",
        "1.0e-3",
        '"12.5"',
        "true",
        "null",
    ],
    "municipality_code": [
        "751.0",
        "751",
        "999",
        "411",
        "101",
        "0",
        "-751",
        '"751"',
        '"0751"',
        "7.51e2",
        "true",
        "null",
        "100000000000000000000751",
    ],
    "cpr": [json.dumps(text) for text in CPRS] + ["101901234", "null"],
    "bool": ["true", "false", "1", "0", '"true"', "null"],
    "name": ['""', '" "', '"\\t \\n"', '"\\u3000"', '"\\u200b"', '" x "', '"x"', "1", "null", "[]"],
    "text": ['""', '"a note"', "1", "null"],
    "enum": ['"no_such_value"', '""', "1", "null"],
    "type": ['"no_such_type"', '""', "1", "null"],
    "message_id": [
        '""',
        '"   "',
        '"\\ufeff"',
        '"x"',
        json.dumps("x" * 128),
        json.dumps("x" * 129),
        "1",
        "null",
    ],
}
KIND = dict.fromkeys(["adviser", "payment_id", "request_id"], "name")
KIND |= dict.fromkeys(["vocational_education", "has_children", "approved", "documented"], "bool")
KIND |= dict.fromkeys(["insurance", "kind", "result", "channel", "reason", "about"], "enum")
KIND |= {name: name for name in ("message_id", "type", "cpr", "hours", "month")}
KIND |= {"municipality_code": "municipality_code", "note": "text"}
_HOLE = '"\\u0000hole"'


def _kind(field: str, value: Any) -> str:
    if field in KIND:
        return KIND[field]
    assert isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value), field
    return "date"


def mutations(line: str) -> Iterator[str]:
    """The line itself, then each field given every variant of its kind, then each field left
    out, then one field too many."""
    yield line
    try:
        message = json.loads(line)
    except ValueError:
        return
    if not isinstance(message, dict):
        return
    for field, value in message.items():
        for raw in VARIANTS[_kind(field, value)]:
            yield json.dumps({**message, field: "\u0000hole"}).replace(_HOLE, raw)
        yield json.dumps({name: v for name, v in message.items() if name != field})
    yield json.dumps({**message, "unknown_field": 1})


@cache
def _schema_accepts(text: str) -> bool:
    try:
        instance = json.loads(text, parse_float=Decimal)
    except ValueError:
        return False  # not JSON: no schema applies to it
    return VALIDATOR.is_valid(instance)


@cache
def _service_refusal(text: str) -> InvalidMessage | None:
    try:
        parse_message(text)
    except InvalidMessage as error:
        return error
    return None


def _cross_field(text: str) -> bool:
    """Whether the message breaks only a check between two of its fields (module docstring)."""
    message = json.loads(text, parse_float=Decimal)
    kind = message.get("type")
    if kind == "unemployed":
        return birth_date_from_cpr(message["cpr"]).isoformat() != message["birth_date"]
    if kind == "notice_signup":
        return message["employment_ends_on"] < message["signed_up_on"]
    if kind == "holiday_requested" and message["last_day"] < message["first_day"]:
        return True
    return _born_after_its_day(message)


def _born_after_its_day(message: dict[str, Any]) -> bool:
    """Whether the CPR's birth date is after the day the message is about (read as a record
    of this system's own is, without that check)."""
    try:
        parsed = parse_message(message)
    except InvalidMessage:
        return False
    day = parsed.month_last_day if isinstance(parsed, HoursPaid) else parsed.effective_on
    return birth_date_from_cpr(parsed.cpr) > day


CASES = sorted({text for line in LINES for text in mutations(line)})


def test_the_mutations_cover_both_answers() -> None:
    accepted = sum(_schema_accepts(text) for text in CASES)
    assert len(LINES) > 60 and len(CASES) > 3000
    assert 500 < accepted < len(CASES) - 500


@pytest.mark.parametrize("chunk", range(8))
def test_schema_and_parser_agree(chunk: int) -> None:
    disagreements = []
    for text in CASES[chunk::8]:
        by_schema, refusal = _schema_accepts(text), _service_refusal(text)
        if by_schema == (refusal is None):
            continue
        if by_schema and refusal is not None and _cross_field(text):
            continue  # the schema cannot compare two fields (module docstring)
        disagreements.append((text, by_schema, refusal and refusal.reason))
    assert disagreements == []


def test_the_cross_field_exceptions_are_refused_by_the_service() -> None:
    refused = [text for text in CASES if _schema_accepts(text) and _service_refusal(text)]
    assert refused and all(_cross_field(text) for text in refused)


def test_the_cpr_pattern_is_exactly_normalize_cpr() -> None:
    # Every day and month from 00 to 33 and 00 to 13, every two-digit year and 7th digit.
    pattern = re.compile(CPR_PATTERN)
    days, months, years = range(34), range(14), range(100)
    for head in (f"{d:02d}{m:02d}{y:02d}" for d in days for m in months for y in years):
        for seventh in "0123456789":
            cpr = f"{head}{seventh}234"
            try:
                valid = normalize_cpr(cpr) == cpr
            except ValueError:
                valid = False
            assert bool(pattern.search(cpr)) == valid, cpr
