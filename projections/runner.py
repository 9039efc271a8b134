"""Projections fed from the notification log in pages: a page and its position, one transaction."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager, nullcontext
from typing import Any, Protocol
from uuid import UUID

from eventsourcing.utils import get_topic
from sqlalchemy import Connection, Engine, Table, func, select, update

from projections.tables import positions, upsert

Page = Sequence[tuple[int, Any]]
"""(notification id, domain event) pairs, in notification order."""

ReadPage = Callable[[int, int, Sequence[str]], Page]
"""read_page(after, limit, topics): up to `limit` events after notification `after`."""


class Projection(Protocol):
    """A read model: its name, the events it reads, and how it clears and applies them."""

    name: str
    event_classes: Sequence[type[Any]]

    def clear(self, conn: Connection) -> None: ...

    def apply(self, conn: Connection, events: Page) -> None: ...

    def apply_saved(self, conn: Connection, events: Page, aggregates: Mapping[UUID, Any]) -> None:
        """As `apply`, for events just saved, with their aggregates as they now stand in
        memory (no replay, no load): the same rows as `apply` writes for them."""
        ...


class _Moved(Exception):
    """Another runner moved the position since it was read: read it again."""


def position(conn: Connection, name: str) -> int:
    """The id of the last notification the projection applied (0: none)."""
    stored = conn.execute(select(positions.c.position).where(positions.c.name == name)).scalar()
    return int(stored or 0)


def catch_up(
    engine: Engine,
    read_page: ReadPage,
    projection: Projection,
    page_size: int = 1000,
    progress: Callable[[int], None] | None = None,
    each_page: Callable[[], AbstractContextManager[Any]] = nullcontext,
) -> int:
    """Apply the events after the stored position, page by page; how many were applied.

    Each page's rows and the new position are written in one transaction, and the position
    moves only from the value the page was read after (compare and set), so two runners
    never apply the same page twice: the later one re-reads the position and goes on.
    `progress` is called with the position after each page; `each_page` is entered around
    each page's read and apply (the caller's: infra pauses the garbage collector there).
    """
    topics = [get_topic(cls) for cls in projection.event_classes]
    name = projection.name
    with engine.begin() as conn:
        upsert(conn, positions, [{"name": name, "position": 0}], update=False)
        after = position(conn, name)
    applied = 0
    while True:
        with each_page():
            page = read_page(after, page_size, topics)
        if not page:
            return applied
        last = page[-1][0]
        try:
            with each_page(), engine.begin() as conn:
                if not _move(conn, name, after, last):
                    raise _Moved
                projection.apply(conn, page)
        except _Moved:
            with engine.connect() as conn:
                after = position(conn, name)
            continue
        applied += len(page)
        after = last
        if progress is not None:
            progress(last)
        if len(page) < page_size:
            return applied


def _move(conn: Connection, name: str, after: int, last: int) -> bool:
    """The projection's position from `after` to `last`, by compare and set: False when
    another writer moved it meanwhile."""
    moved = conn.execute(
        update(positions)
        .where(positions.c.name == name, positions.c.position == after)
        .values(position=last)
    )
    return moved.rowcount == 1


def rebuild(
    engine: Engine,
    read_page: ReadPage,
    projection: Projection,
    page_size: int = 1000,
    progress: Callable[[int], None] | None = None,
    each_page: Callable[[], AbstractContextManager[Any]] = nullcontext,
) -> int:
    """Drop the projection's rows and position in one transaction, then catch up from the start."""
    with engine.begin() as conn:
        upsert(conn, positions, [{"name": projection.name, "position": 0}])  # locks it first
        projection.clear(conn)
    return catch_up(engine, read_page, projection, page_size, progress, each_page)


def apply_saved(
    conn: Connection,
    log: Table,
    projection: Projection,
    saved: Page,
    aggregates: Mapping[UUID, Any],
) -> bool:
    """Apply a batch's events in the transaction that saves them (inline projection): the
    events come from memory, not read back from the log. `saved` is every event the batch
    saved, in notification order, `log` the events table.

    Only a projection that has applied every event of its own before the batch's first is
    moved on, to the batch's last notification, by compare and set as `catch_up` does; one
    that lags (another writer's events, a failed catch-up) is left alone and returns False:
    its next catch-up applies the batch from the log, as before.
    """
    if not saved:
        return True
    name = projection.name
    first, last = saved[0][0], saved[-1][0]
    upsert(conn, positions, [{"name": name, "position": 0}], update=False)
    after = position(conn, name)
    if after >= last:
        return False  # cannot be: the batch is not committed yet
    if after < first - 1:
        topics = [get_topic(cls) for cls in projection.event_classes]
        pending = conn.execute(
            select(func.count()).where(log.c.id > after, log.c.id < first, log.c.topic.in_(topics))
        ).scalar_one()
        if pending:
            return False
    if not _move(conn, name, after, last):
        return False
    classes = tuple(projection.event_classes)
    projection.apply_saved(conn, [(i, e) for i, e in saved if isinstance(e, classes)], aggregates)
    return True
