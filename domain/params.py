"""The trial's parameters (RULES.md, "Parameters"), and the settings the fund may change."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Literal

Insurance = Literal["full_time", "part_time"]

PROGRAMME_START = date(2020, 1, 1)
PROGRAMME_END = date(2023, 12, 31)

FULL_MONTH_HOURS: dict[Insurance, Decimal] = {
    "full_time": Decimal("160.33"),
    "part_time": Decimal("130.00"),
}
HOURS_THRESHOLD: dict[Insurance, Decimal] = {
    "full_time": Decimal("410"),
    "part_time": Decimal("333"),
}
HOLIDAY_NOTICE_DAYS = 14
LESS_INTENSIVE_WINDOW_DAYS = 42
EDUCATION_ORDER_AGE_LIMIT = 25
EXTRA_MEETING_INTERVAL_DAYS = 14
HANDOVER_MONTHS = 6
JOINT_AT_MONTHS = 16
JOB_CONVERSATIONS_WITHIN_6_MONTHS = 4
JOINT_CONVERSATIONS_WITHIN_6_MONTHS = 2


def in_programme_window(day: date) -> bool:
    """R1: the trial's window, 2020-01-01 to 2023-12-31, both days included."""
    return PROGRAMME_START <= day <= PROGRAMME_END


@dataclass(frozen=True)
class Settings:
    """What the fund may configure; the rules read these, never the environment.

    `frozen_months` (R8) lists first-of-month dates whose paid hours do not count,
    for the COVID-19 freezes where the fund's legal advice says they apply.
    """

    frozen_months: frozenset[date] = field(default_factory=frozenset)
    # A message parked for what it needs (README: across topics) that has waited this many
    # days of recorded time is given up on and goes to the dead letters.
    park_days: int = 30


DEFAULT_SETTINGS = Settings()
