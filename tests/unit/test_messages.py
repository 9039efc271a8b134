"""The inbound contract: every message type parses, and every broken one says what and where."""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain import messages as m
from domain.messages import InvalidMessage, parse_message

CPR = "0101901234"  # born 1990-01-01

VALID: dict[str, dict[str, Any]] = {
    "unemployed": {
        "registered_on": "2021-03-01",
        "insurance": "full_time",
        "municipality_code": 751,
        "birth_date": "1990-01-01",
        "vocational_education": False,
        "has_children": True,
    },
    "adviser_assigned": {"adviser": "Hanne", "assigned_on": "2021-03-02"},
    "notice_signup": {
        "signed_up_on": "2021-02-01",
        "employment_ends_on": "2021-02-28",
        "municipality_code": 101,
    },
    "hours_paid": {"payment_id": "p-1", "month": "2021-04", "hours": 160.33},
    "moved": {"municipality_code": 461, "moved_on": "2021-05-10"},
    "akasse_changed": {"changed_on": "2021-05-11"},
    "deregistered": {"deregistered_on": "2021-05-12"},
    "meeting_booked": {"kind": "joint", "on": "2021-05-13"},
    "meeting_held": {"kind": "cv_and_job", "held_on": "2021-05-14"},
    "extra_meetings_agreed": {"agreed_on": "2021-05-15"},
    "profile_assessed": {"assessed_on": "2021-05-16", "result": "declined"},
    "opted_out": {"decided_on": "2021-05-17", "note": "health"},
    "holiday_requested": {
        "request_id": "h-1",
        "requested_on": "2021-05-18",
        "first_day": "2021-06-01",
        "last_day": "2021-06-01",
        "channel": "phone",
    },
    "holiday_decided": {"request_id": "h-1", "decided_on": "2021-05-19", "approved": True},
    "sickness_reported": {"sick_from": "2021-05-19", "reported_on": "2021-05-20"},
    "less_intensive_requested": {
        "requested_on": "2021-05-21",
        "reason": "barsel",
        "starts_on": "2021-06-30",
        "documented": True,
    },
    "jobcenter_contact": {"on": "2021-05-22", "about": "ordinary_job", "note": ""},
}

EFFECTIVE_ON = {
    "unemployed": date(2021, 3, 1),
    "adviser_assigned": date(2021, 3, 2),
    "notice_signup": date(2021, 2, 1),
    "hours_paid": date(2021, 4, 1),
    "moved": date(2021, 5, 10),
    "akasse_changed": date(2021, 5, 11),
    "deregistered": date(2021, 5, 12),
    "meeting_booked": date(2021, 5, 13),
    "meeting_held": date(2021, 5, 14),
    "extra_meetings_agreed": date(2021, 5, 15),
    "profile_assessed": date(2021, 5, 16),
    "opted_out": date(2021, 5, 17),
    "holiday_requested": date(2021, 5, 18),
    "holiday_decided": date(2021, 5, 19),
    "sickness_reported": date(2021, 5, 20),
    "less_intensive_requested": date(2021, 5, 21),
    "jobcenter_contact": date(2021, 5, 22),
}


def message(kind: str, /, **changes: object) -> dict[str, object]:
    return {"message_id": f"{kind}-1", "type": kind, "cpr": CPR, **VALID[kind], **changes}


def rejection(raw: object) -> InvalidMessage:
    with pytest.raises(InvalidMessage) as caught:
        parse_message(raw)  # type: ignore[arg-type]
    return caught.value


def test_every_contract_type_has_a_model() -> None:
    assert set(m.MESSAGE_TYPES) == set(VALID) == set(EFFECTIVE_ON)


@pytest.mark.parametrize("kind", sorted(VALID))
def test_valid_message_parses_from_json_text_bytes_and_mapping(kind: str) -> None:
    raw = message(kind)
    parsed = parse_message(json.dumps(raw))
    assert type(parsed) is m.MESSAGE_TYPES[kind]
    assert parsed.type == kind and parsed.message_id == f"{kind}-1" and parsed.cpr == CPR
    assert parsed.effective_on == EFFECTIVE_ON[kind]
    assert parse_message(json.dumps(raw).encode()) == parsed
    assert parse_message(raw) == parsed


@pytest.mark.parametrize("kind", sorted(VALID))
def test_json_dump_parses_back_to_the_same_message(kind: str) -> None:
    # A dump decoded again is one of this system's own records (a kept message), where
    # pydantic writes hours as a string; JSON text from outside must give a number.
    parsed = parse_message(message(kind))
    assert parse_message(json.loads(parsed.model_dump_json())) == parsed
    assert parse_message(parsed.model_dump()) == parsed


@pytest.mark.parametrize("kind", sorted(VALID))
def test_models_are_frozen(kind: str) -> None:
    parsed = parse_message(message(kind))
    with pytest.raises(Exception, match="frozen"):
        parsed.message_id = "other"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("kind", "field"),
    [(kind, field) for kind in sorted(VALID) for field in ["message_id", "cpr", *VALID[kind]]],
)
def test_missing_field_is_named(kind: str, field: str) -> None:
    raw = message(kind)
    del raw[field]
    error = rejection(raw)
    assert error.field == field
    assert error.reason == f"field {field!r} is missing"


def test_unknown_extra_fields_are_ignored() -> None:
    parsed = parse_message(message("moved", colour="blue", moved_from=101))
    assert not hasattr(parsed, "colour")


def test_hyphenated_cpr_is_normalized() -> None:
    assert parse_message(message("moved", cpr="010190-1234")).cpr == CPR


def test_optional_adviser_on_unemployed() -> None:
    unemployed = parse_message(message("unemployed", adviser="Hanne"))
    assert isinstance(unemployed, m.Unemployed) and unemployed.adviser == "Hanne"
    assert isinstance(parse_message(message("unemployed")), m.Unemployed)


def test_hours_paid_month_is_its_first_day_and_knows_its_last() -> None:
    paid = parse_message(message("hours_paid", month="2024-02", hours="12.5"))
    assert isinstance(paid, m.HoursPaid)
    assert paid.month == date(2024, 2, 1) and paid.month_last_day == date(2024, 2, 29)
    assert paid.hours == Decimal("12.50")
    assert json.loads(paid.model_dump_json())["month"] == "2024-02"


# --- not a message at all ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "says"),
    [
        (b"\xff\xfe", "not UTF-8"),
        ("{", "not valid JSON"),
        ("", "not valid JSON"),
        ("[1, 2]", "JSON list, not an object"),
        ('"unemployed"', "JSON str, not an object"),
    ],
)
def test_not_a_json_object(raw: str | bytes, says: str) -> None:
    error = rejection(raw)
    assert says in error.reason and error.field is None and error.message_id is None


def test_unknown_type_lists_the_known_ones_and_keeps_the_message_id() -> None:
    error = rejection({"message_id": "x-9", "type": "foo", "cpr": CPR})
    assert error.field == "type" and error.message_id == "x-9"
    assert error.reason.startswith("unknown message type 'foo'; expected one of unemployed, ")
    assert "jobcenter_contact" in error.reason


def test_type_missing_or_not_a_string() -> None:
    assert rejection({"message_id": "x"}).reason == "field 'type' is missing"
    assert rejection({"message_id": "x", "type": 7}).field == "type"


# --- malformed fields -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "field", "value", "says"),
    [
        (
            "unemployed",
            "registered_on",
            "2021-02-30",
            "'2021-02-30' is not a date that exists (expected YYYY-MM-DD)",
        ),
        ("unemployed", "registered_on", 20210301, "20210301 is not a date"),
        ("unemployed", "registered_on", "2021-3-1", "not a date in the form YYYY-MM-DD"),
        ("unemployed", "registered_on", "2021-03-01T00:00:00", "not a date in the form"),
        ("unemployed", "registered_on", "01-03-2021", "not a date in the form"),
        ("unemployed", "registered_on", None, "null is not a date"),
        ("unemployed", "insurance", "fulltime", "'fulltime' is not an allowed value"),
        ("unemployed", "municipality_code", "0751", "'0751' is not an integer"),
        ("unemployed", "municipality_code", 751.0, "is not an integer"),
        ("unemployed", "municipality_code", True, "true is not an integer"),
        ("unemployed", "municipality_code", 9999, "9999 is not a Danish municipality code"),
        ("unemployed", "vocational_education", "false", "'false' is not true or false"),
        ("unemployed", "has_children", 1, "1 is not true or false"),
        ("unemployed", "adviser", "", "must not be empty"),
        ("unemployed", "birth_date", "1990-01-02", "is not the birth date that CPR"),
        ("unemployed", "cpr", "3102901234", "not a real birth date"),
        ("unemployed", "cpr", "12345", "is not a CPR number"),
        ("unemployed", "cpr", 101901234, "is not a CPR number"),
        ("unemployed", "message_id", "", "must not be empty"),
        ("unemployed", "message_id", "x" * 129, "longer than 128 characters"),
        ("unemployed", "message_id", 17, "17 is not a string"),
        (
            "notice_signup",
            "employment_ends_on",
            "2021-01-31",
            "'2021-01-31' is before signed_up_on '2021-02-01'",
        ),
        ("moved", "municipality_code", 0, "0 is not a Danish municipality code"),
        ("hours_paid", "hours", 160.34, "160.34 is more than 160.33 hours"),
        ("hours_paid", "hours", "160.34", "'160.34' is more than 160.33 hours"),
        ("hours_paid", "hours", -0.01, "-0.01 is a negative number of hours"),
        ("hours_paid", "hours", 10.123, "10.123 has more than two decimals"),
        ("hours_paid", "hours", "10.123", "has more than two decimals"),
        ("hours_paid", "hours", "ten", "'ten' is not a number of hours"),
        ("hours_paid", "hours", True, "true is not a number of hours"),
        ("hours_paid", "month", "2021-13", "'2021-13' is not a month that exists"),
        ("hours_paid", "month", "2021-00", "is not a month that exists"),
        ("hours_paid", "month", "2021-04-01", "not a month in the form YYYY-MM"),
        ("hours_paid", "month", 202104, "202104 is not a month"),
        ("hours_paid", "payment_id", "", "must not be empty"),
        ("meeting_booked", "kind", "lunch", "'lunch' is not an allowed value"),
        ("meeting_held", "kind", "cv", "'cv' is not an allowed value"),
        ("profile_assessed", "result", "medium", "is not an allowed value"),
        ("holiday_requested", "channel", "email", "is not an allowed value"),
        (
            "holiday_requested",
            "last_day",
            "2021-05-31",
            "'2021-05-31' is before first_day '2021-06-01'",
        ),
        ("holiday_decided", "approved", "yes", "'yes' is not true or false"),
        ("less_intensive_requested", "reason", "holiday", "is not an allowed value"),
        ("jobcenter_contact", "about", "praktik", "is not an allowed value"),
        ("opted_out", "note", 5, "5 is not a string"),
    ],
)
def test_malformed_field_is_named_with_its_value(
    kind: str, field: str, value: object, says: str
) -> None:
    error = rejection(message(kind, **{field: value}))
    assert error.field == field
    assert error.reason.startswith(f"field {field!r}")
    assert says in error.reason
    assert error.message_id == (f"{kind}-1" if field != "message_id" else _id_or_none(value))


def _id_or_none(value: object) -> str | None:
    if isinstance(value, str) and value:
        return value[:128]
    return str(value) if isinstance(value, int) else None


def test_the_reason_of_a_non_existent_date_reads_as_the_contract_says() -> None:
    error = rejection(message("unemployed", registered_on="2021-02-30"))
    assert error.reason == (
        "field 'registered_on': '2021-02-30' is not a date that exists (expected YYYY-MM-DD)"
    )
    assert str(error) == error.reason


def test_a_datetime_in_a_decoded_mapping_is_refused() -> None:
    error = rejection(message("moved", moved_on=datetime(2021, 5, 10, 12, 0)))
    assert error.field == "moved_on"


def test_29_february_in_a_message() -> None:
    assert parse_message(message("moved", moved_on="2024-02-29")).effective_on == date(2024, 2, 29)
    assert rejection(message("moved", moved_on="2023-02-29")).field == "moved_on"


def test_christianso_is_a_danish_municipality() -> None:
    moved = parse_message(message("moved", municipality_code=411))
    assert isinstance(moved, m.Moved) and moved.municipality_code == 411


def test_hours_boundaries() -> None:
    for hours in (0, "0", 160.33, "160.33", Decimal("160.33"), 410 // 4, "99.9"):
        parsed = parse_message(message("hours_paid", hours=hours))
        assert isinstance(parsed, m.HoursPaid)
    assert rejection(message("hours_paid", hours=160.34)).field == "hours"


@given(st.dates(min_value=date(1, 1, 1), max_value=date(9999, 12, 31)))
def test_every_real_date_is_accepted_in_iso_form(day: date) -> None:
    parsed = parse_message(message("deregistered", deregistered_on=day.isoformat()))
    assert parsed.effective_on == day


@given(st.integers(min_value=0, max_value=16033))
def test_every_hours_value_with_two_decimals_up_to_a_full_month_is_accepted(cents: int) -> None:
    hours = Decimal(cents) / 100
    for text in (json.dumps(message("hours_paid", hours=float(hours))), _with_hours_as(hours)):
        parsed = parse_message(text)
        assert isinstance(parsed, m.HoursPaid) and parsed.hours == hours


def _with_hours_as(hours: Decimal) -> str:
    """The message as JSON text whose hours are the number written exactly as `hours`."""
    return json.dumps(message("hours_paid", hours=0)).replace('"hours": 0', f'"hours": {hours}')


@given(st.integers(min_value=16034, max_value=10**7))
def test_every_hours_value_above_a_full_month_is_refused(cents: int) -> None:
    error = rejection(message("hours_paid", hours=str(Decimal(cents) / 100)))
    assert error.field == "hours"


def test_contract_json_schema_covers_every_type() -> None:
    schema = m.contract_json_schema()
    assert set(schema["discriminator"]["mapping"]) == set(VALID)
    month = schema["$defs"]["HoursPaid"]["properties"]["month"]
    assert month["type"] == "string" and "pattern" in month
    json.dumps(schema)
