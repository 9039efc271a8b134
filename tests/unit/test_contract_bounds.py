"""The contract's bounds beyond shape (issue 26, point 7): names and ids that are blank, days
before the earliest a message may date, births after the message's day and numbers too long
to be a value are refused naming their field; a record of this system's own reads back as
it was accepted."""

from __future__ import annotations

import json
import re
from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain import messages as m
from domain.message_fields import (
    EARLIEST_DAY,
    EVENT_DATE_PATTERN,
    MONTH_PATTERN,
    NOT_BLANK_PATTERN,
)
from domain.messages import InvalidMessage, parse_message
from domain.untrusted import MAX_NUMBER_CHARS
from infra.store.shredding import letter_cpr
from tests.unit.test_messages import CPR, VALID, message


def refusal(raw: dict[str, object] | str) -> InvalidMessage:
    with pytest.raises(InvalidMessage) as caught:
        parse_message(raw if isinstance(raw, str) else json.dumps(raw))
    return caught.value


# --- blank names and ids ---------------------------------------------------------------------

NAMES = [("adviser_assigned", "adviser"), ("unemployed", "adviser"), ("hours_paid", "payment_id")]
NAMES += [("holiday_requested", "request_id"), ("holiday_decided", "request_id")]
NAMES += [(kind, "message_id") for kind in ("moved", "adviser_assigned")]
BLANKS = [" ", "   ", "\t", "\n", "\r\n ", "\u00a0", "\u3000", "\u2003", "\u200b", "\ufeff"]


@pytest.mark.parametrize(("kind", "field"), NAMES)
@pytest.mark.parametrize("blank", BLANKS)
def test_a_name_or_id_that_is_blank_is_refused_naming_its_field(
    kind: str, field: str, blank: str
) -> None:
    error = refusal(message(kind, **{field: blank}))
    assert error.field == field
    assert error.reason == (
        f"field {field!r}: {blank!r} is blank (only white space or invisible characters)"
    )


@pytest.mark.parametrize("name", ["x", " anna ", "\u3000Hanne", "ø", "-", "0"])
def test_a_name_with_a_visible_character_is_taken_as_it_is(name: str) -> None:
    parsed = parse_message(json.dumps(message("adviser_assigned", adviser=name)))
    assert isinstance(parsed, m.AdviserAssigned) and parsed.adviser == name
    assert re.search(NOT_BLANK_PATTERN, name)


@pytest.mark.parametrize("kind", ["opted_out", "jobcenter_contact"])
@pytest.mark.parametrize("note", ["", "   ", "\n\t"])
def test_a_blank_note_is_accepted(kind: str, note: str) -> None:
    """The fund's reading: a note is the adviser's free comment beside a fact its type and
    date already state; an empty note is the contract's own, and blank says no more."""
    parsed = parse_message(json.dumps(message(kind, note=note)))
    assert isinstance(parsed, m.OptedOut | m.JobcenterContact) and parsed.note == note


def test_blank_is_white_space_to_python_and_ecma_262_and_the_zero_width_characters() -> None:
    zero_width = {"\u200b", "\u200c", "\u200d", "\u2060", "\ufeff"}  # \ufeff: ECMA's \s
    for code in range(0x10000):
        char = chr(code)
        blank = char.isspace() or char in zero_width
        assert (re.search(NOT_BLANK_PATTERN, char) is None) == blank, hex(code)


ONE_CHARACTER = [" ", "\t", "\n", "\u00a0", "\u3000", "\u2003", "\u200b", "\ufeff", "\u2060"]


@given(st.text(alphabet=st.sampled_from([*ONE_CHARACTER, "a", "é"]), min_size=1, max_size=128))
def test_the_blank_check_and_the_schema_pattern_agree(name: str) -> None:
    try:
        parse_message(json.dumps(message("adviser_assigned", adviser=name)))
        accepted = True
    except InvalidMessage:
        accepted = False
    assert accepted == (re.search(NOT_BLANK_PATTERN, name) is not None)


# --- the earliest day ------------------------------------------------------------------------

DATE_FIELDS = [
    (kind, field)
    for kind, fields in VALID.items()
    for field, value in fields.items()
    if field != "birth_date" and isinstance(value, str) and re.fullmatch(r"\d{4}-\d\d-\d\d", value)
]


def test_every_date_field_but_the_birth_date_is_bounded() -> None:
    assert len(DATE_FIELDS) == 21


@pytest.mark.parametrize(("kind", "field"), DATE_FIELDS)
@pytest.mark.parametrize("day", ["0001-01-01", "1900-01-01", "1970-01-01", "1999-12-31"])
def test_a_day_before_the_earliest_is_refused_naming_its_field(
    kind: str, field: str, day: str
) -> None:
    error = refusal(message(kind, **{field: day}))
    assert error.field == field
    assert error.reason == (
        f"field {field!r}: {day!r} is before 2000-01-01, the earliest day the contract takes"
    )


@pytest.mark.parametrize("month", ["0001-01", "1900-06", "1999-12"])
def test_a_payment_month_before_the_earliest_is_refused(month: str) -> None:
    error = refusal(message("hours_paid", month=month))
    assert error.field == "month"
    assert error.reason == (
        f"field 'month': {month!r} is before 2000-01, the earliest month the contract takes"
    )


def test_registrations_before_the_programme_window_are_still_taken() -> None:
    """R1: a registration before the window (2020-01-01) is recorded outside the trial, and
    R2 refuses a sign-up then by its rule: neither is the contract's to refuse."""
    for day in ("2000-01-01", "2015-06-30", "2019-12-31"):
        parsed = parse_message(json.dumps(message("unemployed", registered_on=day)))
        assert parsed.effective_on == date.fromisoformat(day)
    signup = message("notice_signup", signed_up_on="2019-12-15", employment_ends_on="2019-12-31")
    assert parse_message(json.dumps(signup)).effective_on == date(2019, 12, 15)
    paid = parse_message(json.dumps(message("hours_paid", month="2000-01")))
    assert paid.effective_on == EARLIEST_DAY


def test_a_kept_record_reads_back_as_it_was_accepted() -> None:
    """A decoded record of this system's own (a kept message, accepted before these checks)
    is read as it was: a member's registration never fails on a message kept years ago."""
    kept = message("adviser_assigned", adviser="   ", assigned_on="0001-01-01", message_id=" ")
    parsed = parse_message(kept)
    assert isinstance(parsed, m.AdviserAssigned) and parsed.assigned_on == date(1, 1, 1)
    assert parse_message(message("hours_paid", month="1900-01")).effective_on == date(1900, 1, 1)
    born_later = message("meeting_held", cpr="0101304000", held_on="2021-01-01")
    assert parse_message(born_later).effective_on == date(2021, 1, 1)


@given(st.dates(min_value=date(1, 1, 1), max_value=date(9999, 12, 31)))
def test_every_real_date_from_the_earliest_day_is_taken_and_none_before(day: date) -> None:
    text = json.dumps(message("deregistered", deregistered_on=day.isoformat()))
    if day >= EARLIEST_DAY:
        assert parse_message(text).effective_on == day
    else:
        assert refusal(text).field == "deregistered_on"


def _every_day(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def test_the_date_pattern_is_exactly_the_days_that_exist_from_the_earliest() -> None:
    pattern = re.compile(EVENT_DATE_PATTERN)
    years = [*range(1895, 2031), 2096, 2100, 2104, 2200, 2300, 2400, 2800, 3000, 3200, 9996]
    years += [9999]
    for year in years:
        for month in range(0, 14):
            for day in range(0, 33):
                text = f"{year:04d}-{month:02d}-{day:02d}"
                try:
                    exists = date(year, month, day) >= EARLIEST_DAY
                except ValueError:
                    exists = False
                assert bool(pattern.search(text)) == exists, text
    assert not pattern.search("0001-01-01") and not pattern.search("1900-01-01")


def test_the_month_pattern_starts_at_the_earliest_month() -> None:
    pattern = re.compile(MONTH_PATTERN)
    for year in (1, 1000, 1900, 1999, 2000, 2021, 9999):
        for month in range(0, 14):
            text = f"{year:04d}-{month:02d}"
            assert bool(pattern.search(text)) == (year >= 2000 and 1 <= month <= 12), text


# --- births after the message's day ------------------------------------------------------------


def test_a_registration_before_the_birth_is_refused_naming_the_birth_date() -> None:
    # 0101304000: born 2030-01-01 (7th digit 4, year 30: the 2000s by the century rule).
    error = refusal(message("unemployed", cpr="0101304000", birth_date="2030-01-01"))
    assert error.field == "birth_date" and error.message_id == "unemployed-1"
    assert error.reason == (
        "field 'birth_date': '2030-01-01' is after registered_on '2021-03-01' "
        "(no one registers before being born)"
    )


def test_a_registration_after_the_birth_is_taken() -> None:
    late = message("unemployed", cpr="0101304000", birth_date="2030-01-01")
    assert parse_message(json.dumps({**late, "registered_on": "2048-01-01"})).cpr == "0101304000"


@pytest.mark.parametrize("kind", sorted(set(VALID) - {"unemployed"}))
def test_any_message_about_a_member_not_yet_born_is_refused_naming_the_cpr(kind: str) -> None:
    error = refusal(message(kind, cpr="0101304000"))
    assert error.field == "cpr"
    assert "the CPR's birth date 2030-01-01 is after" in error.reason


def test_hours_for_the_month_of_the_birth_are_not_refused_for_the_birth() -> None:
    # 1504214000: born 2021-04-15; hours for April 2021 (the month holds the birth day).
    assert parse_message(json.dumps(message("hours_paid", cpr="1504214000"))).cpr == "1504214000"
    assert refusal(message("hours_paid", cpr="1505214000")).field == "cpr"


# --- numbers too long to be a value ----------------------------------------------------------


def _with(kind: str, field: str, number: str) -> str:
    return json.dumps(message(kind, **{field: 0})).replace(f'"{field}": 0', f'"{field}": {number}')


@pytest.mark.parametrize(
    ("kind", "field", "number"),
    [
        ("hours_paid", "hours", "9" * 5000),
        ("hours_paid", "hours", "1" * 4301),
        ("hours_paid", "hours", "0." + "0" * 5000 + "1"),
        ("moved", "municipality_code", "7" * 5000),
        ("moved", "municipality_code", "-" + "7" * 41),
        ("moved", "colour", "1" * 5000),
        ("hours_paid", "hours", "1e" + "9" * 50),
    ],
)
def test_a_number_too_long_to_be_a_value_is_refused_naming_its_field(
    kind: str, field: str, number: str
) -> None:
    error = refusal(_with(kind, field, number))
    assert error.field == field and error.message_id == f"{kind}-1"
    assert error.reason == (
        f"field {field!r}: a number of {len(number)} characters, longer than the "
        f"{MAX_NUMBER_CHARS} allowed"
    )


def test_a_long_number_deep_in_a_message_is_named_by_its_path() -> None:
    error = refusal(_with("moved", "extra", '{"list": [1, ' + "2" * 5000 + "]}"))
    assert error.field == "extra"
    assert error.reason.startswith("field 'extra.list.1': a number of 5000 characters")


def test_numbers_up_to_the_limit_are_read_as_numbers() -> None:
    hours = "12.5" + "0" * (MAX_NUMBER_CHARS - 4)
    parsed = parse_message(_with("hours_paid", "hours", hours))
    assert isinstance(parsed, m.HoursPaid) and str(parsed.hours) == "12.50"
    assert refusal(_with("hours_paid", "hours", hours + "0")).field == "hours"


def test_a_dead_letter_with_a_5000_digit_number_is_sealed_under_its_cpr() -> None:
    text = _with("hours_paid", "hours", "9" * 5000)
    assert letter_cpr(text) == CPR
    assert letter_cpr(text[:-1]) == CPR  # cut short: not JSON, read as far as it goes
    assert letter_cpr(text.replace(f'"{CPR}"', "9" * 5000)) is None
