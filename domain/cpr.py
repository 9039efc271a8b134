"""CPR numbers: the shape `DDMMYYSSSS` (or `DDMMYY-SSSS`) and the birth date they encode."""

from __future__ import annotations

import re
from datetime import date

_CPR_SHAPE = re.compile(r"([0-9]{6})-?([0-9]{4})")


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
