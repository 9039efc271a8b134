"""The second clock: `--known-at` moments, as people write them in Denmark."""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

COPENHAGEN = ZoneInfo("Europe/Copenhagen")


def parse_moment(text: str) -> datetime:
    """An ISO moment; without a zone it is Copenhagen time; a day alone means its end
    ("what had been recorded by 3 April" includes all of 3 April)."""
    try:
        if len(text) == 10:
            return datetime.combine(date.fromisoformat(text), time.max, COPENHAGEN)
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(
            f"{text!r} is not a moment (expected YYYY-MM-DD or YYYY-MM-DDTHH:MM[:SS][+HH:MM])"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=COPENHAGEN)


def parse_since(text: str) -> datetime:
    """A moment as `parse_moment` reads it, but a day alone means its start ("since 3 April"
    includes all of 3 April)."""
    if len(text) == 10:
        try:
            return datetime.combine(date.fromisoformat(text), time.min, COPENHAGEN)
        except ValueError:
            pass  # parse_moment says what is wrong
    return parse_moment(text)
