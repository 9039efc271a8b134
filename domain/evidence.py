"""The stored events behind a case's derived facts, and the explanation that names them."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from typing import Any

import holidays

from domain import municipalities
from domain.params import Settings
from domain.view import CaseView

Versions = tuple[int, ...]


@dataclass(frozen=True)
class EventRecord:
    """One stored event of the case as the audit trail shows it (dates as ISO strings)."""

    version: int
    type: str
    effective_on: date
    data: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_history(cls, row: Mapping[str, Any]) -> EventRecord:
        """From a `history` row: its version, type, effective_on (ISO) and data."""
        on = date.fromisoformat(str(row["effective_on"]))
        return cls(int(row["version"]), str(row["type"]), on, dict(row["data"]))


@dataclass(frozen=True)
class Explanation:
    """One derived fact: its value, the rule that derives it, why, and from which events."""

    subject: str
    value: Any
    rule: str
    because: str
    events: Versions

    def as_dict(self) -> dict[str, Any]:
        return {
            "subject": self.subject,
            "value": self.value,
            "rule": self.rule,
            "because": self.because,
            "events": list(self.events),
        }


@dataclass(frozen=True)
class Evidence:
    """A case's stored events (by version) beside its view as of a day."""

    events: tuple[EventRecord, ...]
    view: CaseView
    settings: Settings

    def find(
        self,
        type_: str,
        where: Callable[[EventRecord], bool] | None = None,
        effective: bool = True,
        **data: Any,
    ) -> Versions:
        """The versions of the events of `type_` whose data match `data` and pass `where`,
        among those effective by the view's day (all of them when `effective` is false)."""
        return tuple(
            e.version
            for e in self.events
            if e.type == type_
            and all(e.data.get(k) == v for k, v in data.items())
            and (where is None or where(e))
            and (not effective or e.effective_on <= self.view.as_of)
        )

    @property
    def start(self) -> date:
        """S."""
        assert self.view.facts.registration is not None
        return self.view.facts.registration.registered_on

    def exit_chain(self) -> Versions:
        """R13: the ExitDecided event of the view's exit and the decisions it replaced."""
        exit_ = self.view.exit
        wanted: Mapping[str, Any] | None = (
            {"reason": exit_.reason, "on": exit_.on.isoformat()} if exit_ else None
        )
        chain: list[int] = []
        for e in reversed(self.events):
            if (
                wanted
                and e.type == "ExitDecided"
                and (e.data.get("reason"), e.data.get("on")) == (wanted["reason"], wanted["on"])
            ):
                chain.append(e.version)
                wanted = e.data.get("replaces")
        return tuple(sorted(chain))

    def exit_basis(self) -> Mapping[str, Any] | None:
        """The basis stored with the view's exit by the latest decision that knew it (R13);
        None for a decision stored before bases were (then the facts are read instead)."""
        exit_ = self.view.exit
        if exit_ is None:
            return None
        for e in reversed(self.events):
            if e.type in ("ExitDecided", "ExitStands"):
                for known in e.data.get("known") or ():
                    if (known["reason"], known["on"]) == (exit_.reason, exit_.on.isoformat()):
                        return dict(known["basis"])
                return None
        return None

    def data_of(self, version: int) -> Mapping[str, Any]:
        return next(e.data for e in self.events if e.version == version)


@cache
def _holiday_names(year: int) -> Mapping[date, str]:
    return dict(holidays.country_holidays("DK", years=year, language="da"))


def day_name(day: date) -> str:
    """R20: why a day is no working day: its public holiday's Danish name, or its weekday."""
    return _holiday_names(day.year).get(day) or f"a {day:%A}"


def place(code: int) -> str:
    """A municipality as a case worker reads it: `Aarhus (751)`."""
    return f"{municipalities.name(code)} ({code})" if municipalities.is_danish(code) else str(code)


def handover_number(message_id: object) -> str:
    """`handover:<n>` from a handover's message id `<case id>:handover:<n>`."""
    return str(message_id).split(":", 1)[1]
