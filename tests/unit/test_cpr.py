"""CPR numbers: shape, hyphen, and the century rule of RULES.md."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.cpr import birth_date_from_cpr, normalize_cpr


def _seventh_digits(year: int) -> list[int]:
    """The 7th digits that put a two-digit year in `year`'s century (the rule, spelled out)."""
    yy = year % 100
    if 1858 <= year <= 1899:
        return [5, 6, 7, 8]
    if 1900 <= year <= 1999:
        return [0, 1, 2, 3] + ([4, 9] if yy >= 37 else [])
    if 2000 <= year <= 2036:
        return [4, 9, 5, 6, 7, 8]
    if 2037 <= year <= 2057:
        return [5, 6, 7, 8]
    return []


@st.composite
def cpr_for(draw: st.DrawFn) -> tuple[date, str]:
    born = draw(st.dates(min_value=date(1858, 1, 1), max_value=date(2057, 12, 31)))
    seventh = draw(st.sampled_from(_seventh_digits(born.year)))
    serial = draw(st.integers(min_value=0, max_value=999))
    return born, f"{born:%d%m}{born.year % 100:02d}{seventh}{serial:03d}"


@given(cpr_for())
def test_every_birth_date_round_trips_through_its_cpr(case: tuple[date, str]) -> None:
    born, cpr = case
    assert birth_date_from_cpr(cpr) == born
    assert normalize_cpr(cpr) == cpr
    assert normalize_cpr(f"{cpr[:6]}-{cpr[6:]}") == cpr


@given(st.text(alphabet="0123456789-", max_size=12))
def test_any_text_either_normalizes_or_says_why(text: str) -> None:
    try:
        cpr = normalize_cpr(text)
    except ValueError as error:
        assert str(error)
    else:
        assert len(cpr) == 10 and cpr.isdigit()


@pytest.mark.parametrize(
    ("cpr", "born"),
    [
        ("0101361000", date(1936, 1, 1)),  # 7th digit 0-3: always the 1900s
        ("0101003999", date(1900, 1, 1)),
        ("0101364000", date(2036, 1, 1)),  # 4 and 9: 2000-2036 for years 00-36 ...
        ("0101374000", date(1937, 1, 1)),  # ... else the 1900s
        ("3112999999", date(1999, 12, 31)),
        ("0101009000", date(2000, 1, 1)),
        ("0101575000", date(2057, 1, 1)),  # 5-8: 2000-2057 for years 00-57 ...
        ("0101585000", date(1858, 1, 1)),  # ... else the 1800s
        ("3112998999", date(1899, 12, 31)),
    ],
)
def test_century_rule_edges(cpr: str, born: date) -> None:
    assert birth_date_from_cpr(cpr) == born


def test_29_february_exists_in_a_leap_year() -> None:
    assert birth_date_from_cpr("2902881234") == date(1988, 2, 29)
    assert birth_date_from_cpr("2902004321") == date(2000, 2, 29)  # 2000 is a leap year


@pytest.mark.parametrize("cpr", ["2902891234", "2902001321", "2902585321"])  # 1989, 1900, 1858
def test_29_february_refused_in_other_years(cpr: str) -> None:
    with pytest.raises(ValueError, match="not a real birth date"):
        normalize_cpr(cpr)


@pytest.mark.parametrize("cpr", ["3204901234", "0013901234", "0001901234", "3102901234"])
def test_impossible_birth_dates_refused(cpr: str) -> None:
    with pytest.raises(ValueError, match="not a real birth date"):
        birth_date_from_cpr(cpr)


def test_hyphen_after_sixth_digit_is_accepted_and_dropped() -> None:
    assert normalize_cpr("010190-1234") == "0101901234"
    assert birth_date_from_cpr("010190-1234") == date(1990, 1, 1)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "010190123",
        "01019012345",
        "01019-01234",
        "0101-901234",
        "010190 1234",
        "010190--1234",
        "01019O1234",
        " 0101901234",
        "0101901234\n",
        "٠١٠١٩٠١٢٣٤",
    ],
)
def test_wrong_shapes_refused_with_a_reason(text: str) -> None:
    with pytest.raises(ValueError, match="not a CPR number"):
        normalize_cpr(text)


def test_modulus_11_is_not_checked() -> None:
    assert normalize_cpr("0101901235") == "0101901235"
    assert normalize_cpr("0101901234") == "0101901234"
