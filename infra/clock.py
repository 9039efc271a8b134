"""The clocks: `--known-at` moments as people write them in Denmark, and the runtime's "now"
(a `Clock`, built by infra/bootstrap.py and handed to the service and the tick)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Protocol
from zoneinfo import ZoneInfo

COPENHAGEN = ZoneInfo("Europe/Copenhagen")
# Only YYYY-MM-DD: date.fromisoformat also takes 20210305 and 2021-W10-1.
_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def parse_day(text: str) -> date:
    """A day as `--as-of` and the API's `as_of` take it; ValueError in words otherwise."""
    try:
        if _DAY.fullmatch(text) is None:
            raise ValueError(text)
        return date.fromisoformat(text)
    except (TypeError, ValueError):
        raise ValueError(f"{text!r} is not a date (expected YYYY-MM-DD)") from None


def parse_moment(text: str) -> datetime:
    """An ISO moment; without a zone it is Copenhagen time; a day alone means its end
    ("what had been recorded by 3 April" includes all of 3 April)."""
    try:
        if len(text) == 10:
            return _in_range(datetime.combine(date.fromisoformat(text), time.max, COPENHAGEN))
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(
            f"{text!r} is not a moment (expected YYYY-MM-DD or YYYY-MM-DDTHH:MM[:SS][+HH:MM])"
        ) from None
    return _in_range(moment if moment.tzinfo else moment.replace(tzinfo=COPENHAGEN))


def parse_since(text: str) -> datetime:
    """A moment as `parse_moment` reads it, but a day alone means its start ("since 3 April"
    includes all of 3 April)."""
    if len(text) == 10:
        try:
            day = date.fromisoformat(text)
        except ValueError:
            return parse_moment(text)  # which says what is wrong
        return _in_range(datetime.combine(day, time.min, COPENHAGEN))
    return parse_moment(text)


def _in_range(moment: datetime) -> datetime:
    """The moment, or the first or last moment in UTC where it has none (the stores compare
    in UTC; 0001-01-01 00:00 in Copenhagen is before UTC's first)."""
    try:
        moment.astimezone(UTC)
    except OverflowError:
        return (datetime.min if moment.year == 1 else datetime.max).replace(tzinfo=UTC)
    return moment


class Clock(Protocol):
    """What the runtime asks of "now": the day (the machine's local date, as `date.today()`)
    and the recorded moment (UTC). Tests hand in a fixed one."""

    def today(self) -> date: ...

    def now(self) -> datetime: ...


class SystemClock:
    """The machine's clock."""

    def today(self) -> date:
        return date.today()

    def now(self) -> datetime:
        return datetime.now(UTC)


SYSTEM_CLOCK = SystemClock()


@dataclass(frozen=True)
class DayClock:
    """A calendar that stands on one day (`LEDIGHED_TODAY`): the trial's years replayed
    through the service as they happened (the demo, the tests). Recorded moments stay real."""

    day: date

    def today(self) -> date:
        return self.day

    def now(self) -> datetime:
        return datetime.now(UTC)
