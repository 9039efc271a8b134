"""The handover feed's read model (R12/R13) and its outbox: which messages went out."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from sqlalchemy import Connection, delete, select

from domain.case import Case
from projections.runner import Page
from projections.tables import handover_feed, handover_published, upsert


@dataclass(frozen=True)
class FeedRow:
    """One handover message as stored: the event's content plus message_id, type, replaces."""

    position: int
    message_id: str
    case_id: str
    member_id: str
    type: str
    payload: dict[str, Any]


class HandoverFeed:
    """Each HandedOver event becomes one feed row, at its notification id."""

    name = "handovers"
    event_classes: Sequence[type[Any]] = (Case.HandedOver,)  # type: ignore[attr-defined]

    def clear(self, conn: Connection) -> None:
        conn.execute(delete(handover_feed))  # the published marks stay

    def apply(self, conn: Connection, events: Page) -> None:
        rows = feed_rows(events)
        if rows:
            conn.execute(handover_feed.insert(), rows)

    def apply_saved(self, conn: Connection, events: Page, aggregates: Mapping[UUID, Any]) -> None:
        """Just-saved events: the same rows (the events alone say all of them)."""
        self.apply(conn, events)


def feed_rows(events: Page) -> list[dict[str, Any]]:
    """The feed rows these HandedOver events make, each at its notification id."""
    return [
        {
            "position": position,
            "message_id": event.message_id,
            "case_id": str(event.originator_id),
            "member_id": str(event.member_id),
            "type": event.type,
            "payload": handover_payload(event),
        }
        for position, event in events
    ]


def differences(
    stored: Sequence[FeedRow], events: Page, whole: bool = True
) -> list[dict[str, Any]]:
    """Where stored feed rows are not what their events make: a row whose content differs
    from its event's, a row with no HandedOver event at its position (extra) and, when the
    rows are the `whole` feed, an event with no row (missing). By position and message id."""
    made = {row["position"]: row for row in feed_rows(events)}
    found = []
    for row in stored:
        expected = made.pop(row.position, None)
        if expected is None:
            problem = "a feed row with no handover event at its position"
        elif _canonical(expected) != _canonical(vars(row)):
            problem = "the feed row is not what its handover event makes"
        else:
            continue
        found.append({"position": row.position, "message_id": row.message_id, "problem": problem})
    if whole:
        found += [
            {
                "position": p,
                "message_id": r["message_id"],
                "problem": "a handover event with no feed row",
            }
            for p, r in made.items()
        ]
    return sorted(found, key=lambda f: int(f["position"]))


def _canonical(row: Mapping[str, Any]) -> str:
    # As stored: the JSON column gives back what json made of the payload's dates.
    return json.dumps(dict(row), sort_keys=True, default=str)


def handover_payload(event: Any) -> dict[str, Any]:
    """A HandedOver event's message without case id and CPR."""
    return {
        **event.content,
        "message_id": event.message_id,
        "type": event.type,
        "replaces": event.replaces,
    }


def _rows(conn: Connection, query: Any) -> list[FeedRow]:
    return [FeedRow(**row._mapping) for row in conn.execute(query)]


def feed(conn: Connection, after: int = 0) -> list[FeedRow]:
    """The feed after position `after`, in the order the events were recorded."""
    query = select(handover_feed).where(handover_feed.c.position > after)
    return _rows(conn, query.order_by(handover_feed.c.position))


def unpublished(conn: Connection, limit: int) -> list[FeedRow]:
    """The first `limit` feed rows not yet marked published, in feed order (the outbox)."""
    marked = select(handover_published.c.message_id).where(
        handover_published.c.message_id == handover_feed.c.message_id
    )
    query = select(handover_feed).where(~marked.exists()).order_by(handover_feed.c.position)
    return _rows(conn, query.limit(limit))


def mark_published(
    conn: Connection, message_ids: Iterable[str], at: datetime | None = None
) -> None:
    """Mark these messages published (again is a no-op: the first mark stays)."""
    published_at = at or datetime.now(UTC)
    rows = [{"message_id": m, "published_at": published_at} for m in dict.fromkeys(message_ids)]
    upsert(conn, handover_published, rows, update=False)
