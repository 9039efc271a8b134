"""CPR numbers: the shape `DDMMYYSSSS` (or `DDMMYY-SSSS`) and the birth date they encode."""

from __future__ import annotations

import re
from datetime import date

_CPR_SHAPE = re.compile(r"([0-9]{6})-?([0-9]{4})")

# Exactly the CPR numbers `normalize_cpr` accepts, as a JSON Schema (ECMA-262) pattern: the
# day exists in its month, and 29 February only in a leap year, which the two-digit year
# and (for year 00) the century rule's 7th digit decide: 00 is 2000 (a leap year) for a 7th
# digit of 4 to 9, 1900 for 0 to 3. Checked against `normalize_cpr` for every date in
# tests/unit/test_schema_agreement.py.
CPR_PATTERN = (
    r"^((((0[1-9]|1[0-9]|2[0-8])(0[1-9]|1[0-2])|(29|30)(0[13-9]|1[0-2])|31(0[13578]|1[02]))"
    r"[0-9]{2}|2902(0[48]|[2468][048]|[13579][26]))-?[0-9]|290200-?[4-9])[0-9]{3}$"
)


def _digits(text: str) -> str:
    match = _CPR_SHAPE.fullmatch(text) if isinstance(text, str) else None
    if match is None:
        raise ValueError(
            f"{text!r} is not a CPR number "
            "(expected 10 digits DDMMYYSSSS, a hyphen after the sixth digit allowed)"
        )
    return match.group(1) + match.group(2)


def _century(year_in_century: int, seventh: int) -> int:
    """The CPR century rule (RULES.md): the 7th digit and the two-digit year give the century."""
    if seventh <= 3:
        return 1900
    if seventh in (4, 9):
        return 2000 if year_in_century <= 36 else 1900
    return 2000 if year_in_century <= 57 else 1800


def birth_date_from_cpr(cpr: str) -> date:
    """The birth date a CPR number encodes, by the CPR century rule; ValueError if none exists."""
    digits = _digits(cpr)
    day, month, year_in_century = int(digits[0:2]), int(digits[2:4]), int(digits[4:6])
    year = _century(year_in_century, int(digits[6])) + year_in_century
    try:
        return date(year, month, day)
    except ValueError:
        raise ValueError(
            f"CPR {cpr!r} gives day {day:02d}, month {month:02d}, year {year}, "
            "which is not a real birth date"
        ) from None


def normalize_cpr(text: str) -> str:
    """The CPR number's 10 digits; ValueError unless it has the right shape and a real birth date.

    The modulus-11 check is not made: numbers issued since 2007 need not pass it.
    """
    digits = _digits(text)
    birth_date_from_cpr(digits)
    return digits
