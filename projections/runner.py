"""Projections fed from the notification log in pages: a page and its position, one transaction."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol

from eventsourcing.utils import get_topic
from sqlalchemy import Connection, Engine, select, update

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
) -> int:
    """Apply the events after the stored position, page by page; how many were applied.

    Each page's rows and the new position are written in one transaction, and the position
    moves only from the value the page was read after (compare and set), so two runners
    never apply the same page twice: the later one re-reads the position and goes on.
    `progress` is called with the position after each page.
    """
    topics = [get_topic(cls) for cls in projection.event_classes]
    name = projection.name
    with engine.begin() as conn:
        upsert(conn, positions, [{"name": name, "position": 0}], update=False)
        after = position(conn, name)
    applied = 0
    while True:
        page = read_page(after, page_size, topics)
        if not page:
            return applied
        last = page[-1][0]
        try:
            with engine.begin() as conn:
                moved = conn.execute(
                    update(positions)
                    .where(positions.c.name == name, positions.c.position == after)
                    .values(position=last)
                )
                if moved.rowcount != 1:
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


def rebuild(
    engine: Engine,
    read_page: ReadPage,
    projection: Projection,
    page_size: int = 1000,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Drop the projection's rows and position in one transaction, then catch up from the start."""
    with engine.begin() as conn:
        upsert(conn, positions, [{"name": projection.name, "position": 0}])  # locks it first
        projection.clear(conn)
    return catch_up(engine, read_page, projection, page_size, progress)
