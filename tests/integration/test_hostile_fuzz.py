"""Fuzzing the parse and ingest path on both stores: arbitrary bytes and mutated valid messages
never crash it, and every line is either applied (accepted or a duplicate) or a dead letter."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from domain.params import Settings as RuleSettings
from infra.ingest import file_records
from infra.store import tables
from infra.store.store import Store
from tests.kafka_helpers import hours, registration
from tests.scenario_helpers import ingest

CPR = "0101901234"  # born 1990-01-01
EXAMPLES = 250
"""Inputs per test and store; the README's 'Hostile input' counts them."""

FUZZ = settings(
    max_examples=EXAMPLES,
    derandomize=True,  # the same inputs every run: a failure is reproducible, the time fixed
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

VALID: list[dict[str, Any]] = [
    hours("v-hours", "2021-04", 100.5, CPR),
    {"type": "adviser_assigned", "adviser": "anna", "assigned_on": "2021-03-02"},
    {"type": "meeting_held", "kind": "cv_and_job", "held_on": "2021-03-20"},
    {"type": "opted_out", "decided_on": "2021-06-01", "note": "health"},
    {"type": "jobcenter_contact", "on": "2021-05-22", "about": "ordinary_job", "note": "x"},
    {"type": "moved", "municipality_code": 461, "moved_on": "2021-05-10"},
    {
        "type": "holiday_requested",
        "request_id": "h-1",
        "requested_on": "2021-05-18",
        "first_day": "2021-06-01",
        "last_day": "2021-06-03",
        "channel": "phone",
    },
    registration("v-reg", CPR, "2022-03-01"),
]

ANY_CHARACTER = st.characters(codec=None, exclude_categories=())  # NUL, surrogates, controls
JSON_LEAF = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(ANY_CHARACTER, max_size=12)
    | st.sampled_from(["2021-03-01", "2021-13-01", "12.5", "0101901234", "", " "])
)
JSON_VALUE = st.recursive(
    JSON_LEAF,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner),
    max_leaves=8,
)
DEEP = "\u2603DEEP\u2603"
"""Placeholder for a nesting too deep for json.dumps itself: replaced in the text."""


@st.composite
def mutated_messages(draw: st.DrawFn) -> bytes:
    """A valid message with one or two changes: a field set to any JSON value (NaN, NUL,
    lone surrogates included), dropped, nested deep, or the text cut or given a stray byte."""
    number = draw(st.integers(min_value=0, max_value=10**6))
    message = {"message_id": f"fz-{number}", "cpr": CPR, **draw(st.sampled_from(VALID))}
    depth = 0
    for _ in range(draw(st.integers(min_value=1, max_value=2))):
        field = draw(st.sampled_from([*message, "extra", *"ab"]))
        change = draw(st.sampled_from(["set", "set", "drop", "deep", "keep"]))
        if change == "set":
            message[field] = draw(JSON_VALUE)
        elif change == "keep":
            continue
        elif change == "drop":
            message.pop(field, None)
        else:
            depth = draw(st.integers(min_value=20, max_value=3000))
            message[field] = DEEP
    text = json.dumps(message, ensure_ascii=draw(st.booleans()))
    if depth:
        for placeholder in (json.dumps(DEEP), json.dumps(DEEP, ensure_ascii=False)):
            text = text.replace(placeholder, "[" * depth + "]" * depth)
    data = text.encode("utf-8", "surrogatepass")  # a lone surrogate unescaped: not UTF-8
    edit = draw(st.sampled_from(["none", "none", "cut", "byte"]))
    if edit != "none" and data:
        at = draw(st.integers(min_value=0, max_value=len(data) - 1))
        stray = draw(st.binary(min_size=1, max_size=1))
        data = data[:at] if edit == "cut" else data[:at] + stray + data[at:]
    return data


@pytest.fixture
def registered_store(db_url: str) -> Iterator[Store]:
    """A store on which the fuzzed member is registered, so that mutations reach the rules."""
    store = Store(db_url)
    try:
        line = json.dumps(registration("fz-reg", CPR)).encode()
        assert ingest(store, RuleSettings(), file_records([line], "setup")).accepted == 1
        yield store
    finally:
        store.close()


def dead_letter_count(store: Store) -> int:
    """Rejections kept: a content rejected again is its dead letter seen once more."""
    column = tables.dead_letters.c.seen_count
    with store.engine.connect() as conn:
        return int(conn.execute(select(func.coalesce(func.sum(column), 0))).scalar_one())


def check_every_line_is_applied_or_a_dead_letter(store: Store, data: bytes) -> None:
    lines = data.split(b"\n")
    records = list(file_records(lines, "fuzz"))
    before = dead_letter_count(store)
    report = ingest(store, RuleSettings(), records, batch_size=3)  # no exception: no crash
    assert report.accepted + report.duplicates + len(report.rejected) == len(records)
    event(f"accepted: {report.accepted > 0}")  # --hypothesis-show-statistics shows the mix
    for rejected in report.rejected:
        event(f"rejected: {rejected['error'].split('(')[0].split(':')[0][:40]}")
    assert dead_letter_count(store) - before == len(report.rejected)  # sightings
    # Each rejected line is kept whole; read back through the store (the content is sealed,
    # infra/store/shredding.py).
    kept = {row["value"] for row in store.dead_letters()}
    for rejected in report.rejected:
        assert lines[rejected["line"] - 1].rstrip(b"\r") in kept


@FUZZ
@given(data=st.binary(max_size=200))
def test_arbitrary_bytes_are_applied_or_dead_letters(registered_store: Store, data: bytes) -> None:
    check_every_line_is_applied_or_a_dead_letter(registered_store, data)


@FUZZ
@given(messages=st.lists(mutated_messages(), min_size=1, max_size=3))
def test_mutated_messages_are_applied_or_dead_letters(
    registered_store: Store, messages: list[bytes]
) -> None:
    check_every_line_is_applied_or_a_dead_letter(registered_store, b"\n".join(messages))
