"""The facts' JSON codec: any facts survive JSON and come back equal, fact for fact."""

from __future__ import annotations

import json
from dataclasses import fields, is_dataclass
from datetime import date
from decimal import Decimal
from types import UnionType
from typing import Any, Union, get_args, get_origin, get_type_hints

from hypothesis import given
from hypothesis import strategies as st

from domain.facts import CaseFacts, Payment, Registration, facts_from_json, facts_to_json


def _strategy(kind: Any) -> st.SearchStrategy[Any]:
    """Values of a fact field's type, built from the type as the codec reads it."""
    origin = get_origin(kind)
    if origin is Union or origin is UnionType:
        return st.one_of(*(_strategy(arg) for arg in get_args(kind)))
    if origin is tuple:
        return st.lists(_strategy(get_args(kind)[0]), max_size=3).map(tuple)
    if isinstance(kind, type) and is_dataclass(kind):
        hints = get_type_hints(kind)
        return st.builds(kind, **{f.name: _strategy(hints[f.name]) for f in fields(kind)})
    if kind is date:
        return st.dates()
    if kind is Decimal:
        return st.decimals(allow_nan=False, allow_infinity=False, places=2)
    return st.from_type(kind)


@given(_strategy(CaseFacts))
def test_any_facts_survive_json_unchanged(facts: CaseFacts) -> None:
    data = json.loads(json.dumps(facts_to_json(facts)))
    assert facts_from_json(data) == facts


def test_dates_are_iso_strings_and_hours_decimal_strings() -> None:
    registration = Registration(date(2021, 3, 1), "full_time", 751, True, None, False)
    facts = CaseFacts(registration=registration).add(
        "payments", Payment("p-1", date(2021, 3, 1), Decimal("160.30"))
    )
    data = facts_to_json(facts)
    assert data["registration"]["registered_on"] == "2021-03-01"
    assert data["payments"] == [{"payment_id": "p-1", "month": "2021-03-01", "hours": "160.30"}]
    assert data["notice"] is None and data["moves"] == []
    back = facts_from_json(data)
    assert back == facts
    assert str(back.payments[0].hours) == "160.30"  # the trailing zero too
