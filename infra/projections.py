"""The store's read models: catch them up with the log, rebuild them, report where they are."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Recording
from eventsourcing.utils import get_topic
from sqlalchemy import Connection, func, select

from infra import collector
from infra.failures import describe, is_store_or_broker_failure
from infra.progress import bar as progress_bar
from infra.store.store import Store
from projections import runner
from projections.handovers import FeedRow, HandoverFeed, differences, feed
from projections.runner import Projection
from projections.tables import positions
from projections.worklist import Worklist

log = logging.getLogger("ledighed.projections")

NAMES = ("worklist", "handovers")

PAGE_SIZE = 20_000
"""Events a page of a catch-up or a rebuild (one transaction each). The worklist writes a
row per case a page touches, and a case's row costs more than its events, so a long
catch-up is faster in big pages (a 3,000-member year: 1,000 a page 11.0 s, 10,000 7.4 s,
50,000 6.7 s, against 3.0 s for reading the log alone)."""


def projections(store: Store) -> dict[str, Projection]:
    """Every read model of the store, by name."""
    return {"worklist": Worklist(store.case), "handovers": HandoverFeed()}


def _chosen(store: Store, names: Iterable[str] | None) -> list[Projection]:
    every = projections(store)
    return [every[name] for name in (NAMES if names is None else names)]


def catch_up(
    store: Store,
    names: Iterable[str] | None = None,
    progress: Callable[[int], None] | None = None,
    chosen: Iterable[Projection] | None = None,
) -> dict[str, int]:
    """Apply what the log has beyond each read model's position; events applied by name.

    A long-running caller passes its own projection objects (`chosen`), so that the
    worklist keeps the cases it has already seen instead of loading them again.
    """
    models = _chosen(store, names) if chosen is None else list(chosen)
    if _at_head(store, [p.name for p in models]):
        return {p.name: 0 for p in models}
    return {
        p.name: runner.catch_up(
            store.engine, store.read_page, p, PAGE_SIZE, progress, collector.paused
        )
        for p in models
    }


def _at_head(store: Store, names: Sequence[str]) -> bool:
    """Whether every model named has applied the log up to its last notification, as inline
    projection leaves them after each batch: then a catch-up has nothing to read. One look
    instead of each model's transaction and page read: the service catches up after every
    batch, and on PostgreSQL those round trips were an eighth of its time at 500 records/s."""
    query = select(positions.c.name, positions.c.position).where(positions.c.name.in_(names))
    with store.engine.connect() as conn:
        stored = {name: position for name, position in conn.execute(query)}
    if set(stored) != set(names):
        return False
    head = store.log_head()
    return all(position >= head for position in stored.values())


def apply_saved(
    store: Store,
    conn: Connection,
    recordings: Sequence[Recording[UUID]],
    aggregates: Mapping[UUID, Any],
) -> dict[str, bool]:
    """Apply a batch's events, just saved in the transaction of `conn`, to every read model
    that is caught up (inline projection), from the events and aggregates in memory; a
    model that lags is left to its next catch-up. Whether each was applied, by name."""
    saved = sorted(((r.notification.id, r.domain_event) for r in recordings), key=_first)
    applied = {}
    for projection in _chosen(store, None):
        # In a savepoint: a read model that fails here (a fault of this program) is left to
        # its catch-up, as before inline projection, and never costs the batch its save.
        try:
            with conn.begin_nested():
                applied[projection.name] = runner.apply_saved(
                    conn, store.events_table, projection, saved, aggregates
                )
        except Exception as error:
            if is_store_or_broker_failure(error):
                raise
            log.error(
                "inline projection failed; the read model is left to its catch-up",
                extra={"projection": projection.name, "error": describe(error)},
            )
            applied[projection.name] = False
    return applied


def _first(pair: tuple[int, Any]) -> int:
    return pair[0]


def rebuild(
    store: Store, names: Iterable[str] | None = None, quiet: bool = False
) -> dict[str, int]:
    """Drop each read model and build it again from the log, with a progress bar on stderr."""
    applied = {}
    for projection in _chosen(store, names):
        head = store.log_head()
        with progress_bar(total=head, desc=projection.name, unit=" events", disable=quiet) as bar:

            def advance(position: int, bar: Any = bar) -> None:
                bar.update(max(0, position - bar.n))

            applied[projection.name] = runner.rebuild(
                store.engine, store.read_page, projection, PAGE_SIZE, advance, collector.paused
            )
            advance(head)  # the log's tail may hold none of this model's events
    return applied


def verify_feed(store: Store) -> tuple[int, list[dict[str, Any]]]:
    """The handover feed as stored against the feed its events make (the projection's own
    code), up to the position it has applied: the rows checked, and each row that differs,
    is extra or is missing (`audit verify`)."""
    topics = [get_topic(cls) for cls in HandoverFeed.event_classes]
    with store.engine.connect() as conn:
        applied = runner.position(conn, HandoverFeed.name)
        stored = feed(conn)
    events: list[tuple[int, Any]] = []
    after = 0
    while page := store.read_page(after, PAGE_SIZE, topics, stop=applied):
        events += page
        after = page[-1][0]
    return len(stored), differences(stored, events)


def refused_handovers(store: Store, rows: Sequence[FeedRow]) -> list[dict[str, Any]]:
    """Outbox rows that are not what the events at their positions make (read in one range
    of the log, never a rebuild): before publishing, these are refused."""
    if not rows:
        return []
    topics = [get_topic(cls) for cls in HandoverFeed.event_classes]
    first, last = min(r.position for r in rows), max(r.position for r in rows)
    events = store.read_page(first - 1, last - first + 1, topics, stop=last)
    return differences(rows, events, whole=False)


def status(store: Store) -> list[dict[str, Any]]:
    """Each read model's position beside the log's head, and how many of the events it
    reads are still to apply (`pending`): a model whose events are all applied is caught
    up even when the log's head is further on (events it does not read)."""
    head = store.log_head()
    events = store.events_table
    rows = []
    with store.engine.connect() as conn:
        for name, projection in projections(store).items():
            position = runner.position(conn, name)
            topics = [get_topic(cls) for cls in projection.event_classes]
            pending = conn.execute(
                select(func.count()).where(events.c.id > position, events.c.topic.in_(topics))
            ).scalar_one()
            rows.append(
                {
                    "name": name,
                    "position": position,
                    "head": head,
                    "pending": pending,
                    "caught_up": pending == 0,
                }
            )
    return rows
