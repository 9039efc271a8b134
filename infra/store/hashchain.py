"""Tamper evidence: each stored event's hash covers its content and its predecessor's hash
in the same aggregate, so an edited, removed or inserted row breaks the chain."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from eventsourcing.persistence import StoredEvent
from sqlalchemy import Engine, Table, func, select, tuple_
from sqlalchemy.orm import Session

from infra.store.bulk import bulk_insert
from infra.store.tables import event_hashes

GENESIS = "0" * 64


def link_hash(previous: str, originator_id: UUID, version: int, topic: str, state: bytes) -> str:
    """sha256 over the predecessor's hash and everything stored of the event."""
    digest = hashlib.sha256()
    for part in (previous, str(originator_id), str(version), topic):
        digest.update(part.encode())
        digest.update(b"\x00")
    digest.update(state)
    return digest.hexdigest()


def record_hashes(session: Session, stored_events: Sequence[StoredEvent]) -> None:
    """Chain the new events onto their aggregates' last stored hashes, in the same transaction."""
    latest: dict[str, str] = {}
    wanted = {
        (str(e.originator_id), e.originator_version - 1)
        for e in stored_events
        if e.originator_version > 1
    }
    for first in _chunks(sorted(wanted), 500):
        rows = session.execute(
            select(event_hashes.c.originator_id, event_hashes.c.hash).where(
                tuple_(event_hashes.c.originator_id, event_hashes.c.originator_version).in_(first)
            )
        )
        latest.update({originator: digest for originator, digest in rows})
    rows_out = []
    for event in stored_events:
        originator = str(event.originator_id)
        previous = GENESIS if event.originator_version == 1 else latest.get(originator, "")
        digest = link_hash(
            previous, event.originator_id, event.originator_version, event.topic, event.state
        )
        latest[originator] = digest
        rows_out.append(
            {
                "originator_id": originator,
                "originator_version": event.originator_version,
                "hash": digest,
            }
        )
    bulk_insert(session.connection(), event_hashes, rows_out)


@dataclass(frozen=True)
class Break:
    """The first link of an aggregate's chain that does not hold, and why."""

    originator_id: str
    version: int
    problem: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "aggregate_id": self.originator_id,
            "version": self.version,
            "problem": self.problem,
        }


def verify(engine: Engine, events: Table, page: int = 5000) -> tuple[int, list[Break]]:
    """Check every aggregate's chain; the number of events checked and the first break of
    each aggregate whose chain is broken."""
    breaks: dict[str, Break] = {}
    last_version: dict[str, int] = {}
    checked = 0
    current: str | None = None
    previous = GENESIS
    expected_version = 1
    for originator, version, topic, state, stored in _joined(engine, events, page):
        checked += 1
        last_version[originator] = version
        if originator != current:
            current, previous, expected_version = originator, GENESIS, 1
        if originator in breaks:
            continue
        if version != expected_version:
            problem = f"version {expected_version} is missing (next stored is {version})"
            breaks[originator] = Break(originator, expected_version, problem)
            continue
        digest = link_hash(previous, UUID(originator), version, topic, _as_bytes(state))
        if stored is None:
            breaks[originator] = Break(originator, version, "the event has no stored hash")
        elif stored != digest:
            problem = "the event's content or its predecessor does not match its stored hash"
            breaks[originator] = Break(originator, version, problem)
        previous, expected_version = digest, version + 1
    # A chain cut at its end leaves hashes with no event behind them.
    with engine.connect() as conn:
        hashed = conn.execute(
            select(
                event_hashes.c.originator_id, func.max(event_hashes.c.originator_version)
            ).group_by(event_hashes.c.originator_id)
        )
        for originator, top in hashed:
            stored_top = last_version.get(originator, 0)
            if top > stored_top and originator not in breaks:
                problem = (
                    f"version {stored_top + 1} is missing (its hash is stored, the event is not)"
                )
                breaks[originator] = Break(originator, stored_top + 1, problem)
    return checked, list(breaks.values())


def _joined(
    engine: Engine, events: Table, page: int
) -> Iterator[tuple[str, int, str, Any, str | None]]:
    """Every stored event with its stored hash, by aggregate and version, a page at a time."""
    columns = (events.c.originator_id, events.c.originator_version, events.c.topic, events.c.state)
    after: tuple[Any, int] | None = None
    with engine.connect() as conn:
        while True:
            query = select(*columns).order_by(events.c.originator_id, events.c.originator_version)
            if after is not None:
                query = query.where(
                    tuple_(events.c.originator_id, events.c.originator_version) > after
                )
            rows = list(conn.execute(query.limit(page)))
            if not rows:
                return
            keys = [(str(r[0]), r[1]) for r in rows]
            stored = dict(
                ((o, v), h)
                for o, v, h in conn.execute(
                    select(
                        event_hashes.c.originator_id,
                        event_hashes.c.originator_version,
                        event_hashes.c.hash,
                    ).where(
                        tuple_(event_hashes.c.originator_id, event_hashes.c.originator_version).in_(
                            keys
                        )
                    )
                )
            )
            for (originator, version), row in zip(keys, rows, strict=True):
                yield originator, version, row[2], row[3], stored.get((originator, version))
            after = (rows[-1][0], rows[-1][1])


def _as_bytes(state: Any) -> bytes:
    # A row edited by hand may come back as text rather than bytes.
    return state.encode() if isinstance(state, str) else bytes(state)


def _chunks(items: list[tuple[str, int]], size: int) -> Iterator[list[tuple[str, int]]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]
