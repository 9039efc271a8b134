"""/metrics as Prometheus' tools read it (issue 19, point 5): counters end in `_total`, no
sentinel values, labels of bounded values, the default process and Python collectors, and a
scrape that reads the same rows with 20 dead letters as with 20,000."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample
from sqlalchemy import Engine, event, insert

from infra.http.api import create_app
from infra.http.api_auth import ROLES
from infra.settings import Settings
from infra.store import tables
from infra.store.store import Store


def families(text: str) -> dict[str, tuple[str, list[Sample]]]:
    """The scrape as prometheus_client's own parser reads it: name -> (type, samples)."""
    return {f.name: (f.type, f.samples) for f in text_string_to_metric_families(text)}


def test_counters_gauges_and_the_default_collectors_parse_as_prometheus_reads_them(
    tmp_path: Any,
) -> None:
    url = f"sqlite:///{tmp_path}/m.db"
    store = Store(url)
    try:
        text = TestClient(create_app(Settings(db_url=url), store)).get("/metrics").text
        found = families(text)
        status = {"consumer_lag": 4, "applied": 3, "accepted": 2, "duplicates": 1, "rejected": 0}
        running = TestClient(create_app(Settings(db_url=url), store, lambda: status))
        live = families(running.get("/metrics").text)
        unknown = TestClient(
            create_app(Settings(db_url=url), store, lambda: {"consumer_lag": None})
        )
        not_said = families(unknown.get("/metrics").text)
    finally:
        store.close()
    for name in ("ledighed_events_stored", "ledighed_handovers_published"):
        kind, samples = found[name]
        assert kind == "counter" and [s.name for s in samples] == [f"{name}_total"]
    assert found["ledighed_dead_letters"][0] == "gauge"
    assert found["ledighed_dead_letters_open"][0] == "gauge"
    # Not inside `ledighed run`, or a lag the broker did not give: left out, never -1.
    assert "ledighed_consumer_lag" not in found and "ledighed_consumer_lag" not in not_said
    assert live["ledighed_consumer_lag"] == ("gauge", [Sample("ledighed_consumer_lag", {}, 4.0)])
    kind, samples = live["ledighed_service_messages"]
    assert kind == "counter"
    assert {s.labels["outcome"]: s.value for s in samples} == {
        "accepted": 2.0,
        "duplicate": 1.0,
        "rejected": 0.0,
    }
    assert all(s.name == "ledighed_service_messages_total" for s in samples)
    # prometheus_client's default collectors: the process's and Python's numbers.
    for name in ("process_cpu_seconds", "process_resident_memory_bytes", "python_info"):
        assert name in found, name
    assert found["python_gc_collections"][0] == "counter"
    assert all(s.value >= 0 for _, samples in found.values() for s in samples)


def _letters(start: int, count: int, topics: list[str]) -> list[dict[str, Any]]:
    """Dead letters from every kind of source, each file and poster named differently."""
    now = datetime(2021, 3, 1, tzinfo=UTC)
    rows = []
    for i in range(start, start + count):
        kind = i % 5
        topic, dlq = {
            0: (f"upload-{i}.jsonl", None),
            1: (f"http:{ROLES[i % len(ROLES)]}:reader-{i}", None),
            2: (topics[i % len(topics)], f"{topics[i % len(topics)]}.dlq"),
            3: (f"retired-topic-{i}", f"retired-topic-{i}.dlq"),
            4: ("tick", None),
        }[kind]
        rows.append(
            {
                "source": {"message_id": None, "topic": topic, "partition": None, "offset": i},
                "recorded_at": now,
                "last_seen": now,
                "seen_count": 1,
                "content_hash": f"{i:064d}",
                "status": "resolved" if i % 7 == 0 else "open",
                "dlq_topic": dlq,
            }
        )
    return rows


@contextmanager
def statements() -> Iterator[list[tuple[str, Any]]]:
    """Every SQL statement any engine runs meanwhile, with its parameters."""
    seen: list[tuple[str, Any]] = []

    def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        seen.append((statement, parameters))

    event.listen(Engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(Engine, "before_cursor_execute", record)


def _scrape(client: TestClient, store: Store) -> tuple[int, int, str]:
    """(statements run, rows they return, the text) of one scrape; the rows counted by
    running each statement again."""
    with statements() as seen:
        text = client.get("/metrics").text
    with store.engine.connect() as conn:
        rows = sum(len(conn.exec_driver_sql(sql, params).fetchall()) for sql, params in seen)
    return len(seen), rows, text


def test_a_scrape_reads_as_many_rows_with_20_000_dead_letters_as_with_20(db_url: str) -> None:
    settings = Settings(db_url=db_url)
    store = Store(db_url)
    try:
        client = TestClient(create_app(settings, store))
        client.get("/metrics")  # a first connection's own set-up is not the scrape's
        with store.engine.begin() as conn:
            conn.execute(insert(tables.dead_letters), _letters(0, 20, settings.inbound_topics))
        few = _scrape(client, store)
        with store.engine.begin() as conn:
            rows = _letters(20, 19_980, settings.inbound_topics)
            for at in range(0, len(rows), 5000):
                conn.execute(insert(tables.dead_letters), rows[at : at + 5000])
        many = _scrape(client, store)
    finally:
        store.close()
    assert few[:2] == many[:2]  # the same statements, the same rows: the database counts
    assert many[1] < 20
    bounded = (
        set(settings.inbound_topics)
        | {f"http:{role}" for role in ROLES}
        | {"http", "file", "tick", "other"}
    )
    _, samples = families(many[2])["ledighed_dead_letters_open"]
    labels = {s.labels["source"]: s.value for s in samples}
    # Never a file's name or a poster's: one value per kind of source.
    assert set(labels) <= bounded and {"file", "tick", "other"} <= set(labels)
    assert sum(labels.values()) == sum(1 for i in range(20_000) if i % 7 != 0)
    assert labels["file"] == sum(1 for i in range(20_000) if i % 5 == 0 and i % 7 != 0)
    assert all(name in bounded for name in labels)
    dead = families(many[2])["ledighed_dead_letters"][1]
    assert dead == [Sample("ledighed_dead_letters", {}, 20_000.0)]
