"""Inline projection: a batch's events go to the read models in the batch's own transaction,
from memory; the rows are those a catch-up from the log writes, at any batch size."""

from __future__ import annotations

import json
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain.params import Settings
from infra import projections
from infra.demo.demo_data import generate_lines
from infra.ingest import file_records
from infra.store.store import Store
from projections import runner
from projections.tables import handover_feed, positions, worklist_advisers, worklist_cases
from projections.worklist import Worklist
from tests.integration.test_projections import snapshot
from tests.scenario_helpers import SCENARIOS, ingest

RULES = Settings()
YEAR = generate_lines(seed=7, members=12)
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_NOW_KEYS = {"timestamp", "recorded_at"}  # when it was stored: differs from run to run


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    store = Store(db_url)
    yield store
    store.close()


def read_models(store: Store) -> dict[str, list[dict[str, Any]]]:
    """Every row of the read models' own tables (positions apart), in primary key order."""
    return {name: rows for name, rows in snapshot(store).items() if name != positions.name}


def stored_positions(store: Store) -> dict[str, int]:
    with store.engine.connect() as conn:
        return {name: runner.position(conn, name) for name in projections.NAMES}


def test_inline_rows_are_the_rows_a_rebuild_from_the_log_writes(store: Store) -> None:
    ingest(store, RULES, file_records(YEAR, "year"), 40)
    head = store.log_head()
    # Every batch was applied inline: nothing is left for a catch-up, each model at the head.
    assert stored_positions(store) == {"worklist": head, "handovers": head}
    assert projections.catch_up(store) == {"worklist": 0, "handovers": 0}
    inline = read_models(store)
    assert inline[worklist_cases.name] and inline[handover_feed.name]
    projections.rebuild(store, quiet=True)
    assert read_models(store) == inline


def test_a_model_that_lags_is_left_to_its_catch_up(store: Store) -> None:
    """Batches saved without inline projection (another writer, an older release) leave the
    worklist behind: later batches do not jump over them; a catch-up applies them all."""
    half = len(YEAR) // 2
    store.project_inline = False
    ingest(store, RULES, file_records(YEAR[:half], "year"), 40)
    store.project_inline = True
    ingest(store, RULES, file_records(YEAR[half:], "year"), 40)
    assert stored_positions(store)["worklist"] == 0
    applied = projections.catch_up(store)
    assert applied["worklist"] > 0
    assert stored_positions(store)["worklist"] == store.log_head()
    caught_up = read_models(store)
    projections.rebuild(store, quiet=True)
    assert read_models(store) == caught_up


def test_the_command_line_ingest_leaves_nothing_to_catch_up(store: Store) -> None:
    for path in sorted(SCENARIOS.glob("*.jsonl")):
        with open(path, "rb") as stream:
            ingest(store, RULES, file_records(stream, path.name))
    assert all(row["caught_up"] for row in projections.status(store))
    inline = read_models(store)
    projections.rebuild(store, quiet=True)
    assert read_models(store) == inline


# --- batching at any size gives the same store ----------------------------------------------


def canonical(store: Store) -> dict[str, Any]:
    """What the store holds, with the random ids named after the member's CPR and when it
    was stored left out: each member's events and its cases' (class, version, content), the
    read models, the accepted and rejected messages."""
    names: dict[str, str] = {}
    members = []
    for member_id, cpr in sorted(store.cprs().items(), key=lambda item: str(item[1])):
        names[str(member_id)] = f"member:{cpr}"
        member = store.member(member_id)
        for number, case_id in enumerate(member.case_ids):
            names[str(case_id)] = f"case:{cpr}:{number}"
        aggregates = [member_id, *member.case_ids]
        members.append([[_event(e) for e in store.events_of(a)] for a in aggregates])
    models = read_models(store)
    # The feed without its positions: those are notification ids. Within one batch the
    # events are saved aggregate by aggregate (the library's save), so feed rows of two
    # cases may come in another order at another batch size; each case's own order holds.
    models[handover_feed.name] = [
        {k: v for k, v in row.items() if k != "position"} for row in models[handover_feed.name]
    ]
    letters = [
        {k: row[k] for k in ("raw", "error", "error_field", "seen_count")}
        for row in store.dead_letters()
    ]
    text = json.dumps(
        {"members": members, "read models": models, "dead letters": letters},
        default=str,
        sort_keys=True,
    )
    named = json.loads(_UUID.sub(lambda m: names.get(m.group(0), "<unknown id>"), text))
    for table in (worklist_cases.name, handover_feed.name):  # by case, not by random id
        named["read models"][table].sort(key=lambda row: row["case_id"])
    named["read models"][worklist_advisers.name].sort(key=lambda r: (r["adviser"], r["case_id"]))
    return dict(named)


def _event(event: Any) -> dict[str, Any]:
    state = {k: v for k, v in vars(event).items() if k not in _NOW_KEYS}
    return {"class": type(event).__qualname__, **state}


def ingested(directory: Path, batch_size: int) -> dict[str, Any]:
    store = Store(f"sqlite:///{directory}/batch-{batch_size}.db")
    try:
        ingest(store, RULES, file_records(YEAR, "year"), batch_size)
        projections.catch_up(store)
        return canonical(store)
    finally:
        store.close()


@pytest.fixture(scope="module")
def one_batch() -> Iterator[dict[str, Any]]:
    with tempfile.TemporaryDirectory() as directory:
        yield ingested(Path(directory), len(YEAR))


@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(batch_size=st.integers(min_value=1, max_value=len(YEAR)))
def test_batching_at_any_size_gives_the_same_store(
    one_batch: dict[str, Any], batch_size: int
) -> None:
    with tempfile.TemporaryDirectory() as directory:
        assert ingested(Path(directory), batch_size) == one_batch


def test_a_read_model_that_fails_inline_costs_the_batch_nothing(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A fault in a read model's inline apply is rolled back to its savepoint: the batch is
    saved whole, the other model moves on, the failing one is left to its catch-up."""

    def broken(*_: Any) -> None:
        raise RuntimeError("a bug in the worklist")

    monkeypatch.setattr(Worklist, "apply_saved", broken)
    report = ingest(store, RULES, file_records(YEAR, "year"), 40)
    assert report.accepted and not [r for r in report.rejected if "fault" in r["error"]]
    head = store.log_head()
    assert stored_positions(store) == {"worklist": 0, "handovers": head}
    monkeypatch.undo()
    assert projections.catch_up(store)["worklist"] > 0
    caught_up = read_models(store)
    projections.rebuild(store, quiet=True)
    assert read_models(store) == caught_up
