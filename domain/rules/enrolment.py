"""R1 enrolment, R2 notice-period sign-up and R3 education order."""

from __future__ import annotations

from datetime import date
from typing import Literal

from domain.calendar import add_months
from domain.errors import Refusal
from domain.municipalities import is_trial
from domain.params import EDUCATION_ORDER_AGE_LIMIT, in_programme_window

OutsideReason = Literal["municipality", "window"]


def outside_reason(start: date, municipality_code: int) -> OutsideReason | None:
    """R1: why a case starting on S in this municipality is outside the trial, or None."""
    if not in_programme_window(start):
        return "window"
    if not is_trial(municipality_code):
        return "municipality"
    return None


def notice_signup_refusal(signed_up_on: date, municipality_code: int) -> Refusal | None:
    """R2: why a notice-period sign-up is refused (and which field), or None when accepted."""
    if not in_programme_window(signed_up_on):
        reason = (
            f"R2: notice sign-up on {signed_up_on} lies outside the trial window "
            "2020-01-01..2023-12-31"
        )
        return Refusal("R2", reason, "signed_up_on")
    if not is_trial(municipality_code):
        reason = (
            f"R2: notice sign-up from municipality {municipality_code}, "
            "which is not a trial municipality"
        )
        return Refusal("R2", reason, "municipality_code")
    return None


def is_under_age_limit(birth_date: date, start: date) -> bool:
    """R3: under 25 on S (a member whose 25th birthday is S is not under 25)."""
    return start < add_months(birth_date, 12 * EDUCATION_ORDER_AGE_LIMIT)


def education_order_applies(
    birth_date: date, start: date, vocational_education: bool, has_children: bool
) -> bool:
    """R3: under 25 on S, no vocational education and no children: the uddannelsespålæg group."""
    return is_under_age_limit(birth_date, start) and not vocational_education and not has_children
