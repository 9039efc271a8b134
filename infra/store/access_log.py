"""The access log: every read of personal data over HTTP (who, when, which members, how asked)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from sqlalchemy import insert, select
from sqlalchemy.engine import Engine

from infra.store import tables

access_log = tables.access_log
access_log_members = tables.access_log_members


def record(
    engine: Engine,
    *,
    reader: str,
    role: str,
    source: str,
    what: str,
    parameters: dict[str, Any],
    member_ids: Iterable[UUID],
    rows: int,
    read_at: datetime | None = None,
) -> int:
    """One read, its members by id (each once), in one transaction; the entry's id."""
    # the parameters given (an `after` of 0 included; a flag left off and None are not)
    shown = {k: _plain(v) for k, v in parameters.items() if v is not None and v is not False}
    members = sorted({str(m) for m in member_ids})
    with engine.begin() as conn:
        entry_id = conn.execute(
            insert(access_log).values(
                read_at=read_at or datetime.now(UTC),
                reader=reader,
                role=role,
                source=source,
                what=what,
                parameters=json.dumps(shown, sort_keys=True),
                rows=rows,
            )
        ).inserted_primary_key[0]
        if members:
            conn.execute(
                insert(access_log_members),
                [{"entry_id": entry_id, "member_id": m} for m in members],
            )
    return int(entry_id)


def _plain(value: Any) -> Any:
    return value if isinstance(value, bool | int | float | str) else str(value)


def entries(
    engine: Engine,
    *,
    member_id: UUID | None = None,
    reader: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    after: int = 0,
    limit: int = 1000,
) -> list[dict[str, Any]]:
    """The reads, oldest first, after entry `after`: of one member, by one reader, in a time
    span; each with the ids of the members it showed."""
    query = select(access_log).where(access_log.c.entry_id > after)
    if member_id is not None:
        query = query.where(
            access_log.c.entry_id.in_(
                select(access_log_members.c.entry_id).where(
                    access_log_members.c.member_id == str(member_id)
                )
            )
        )
    if reader is not None:
        query = query.where(access_log.c.reader == reader)
    if since is not None:  # compared in UTC, as stored (SQLite keeps no zone)
        query = query.where(access_log.c.read_at >= _utc(since))
    if until is not None:
        query = query.where(access_log.c.read_at <= _utc(until))
    query = query.order_by(access_log.c.entry_id).limit(limit)
    with engine.connect() as conn:
        rows = conn.execute(query).all()
        ids = [row.entry_id for row in rows]
        members: dict[int, list[str]] = {entry_id: [] for entry_id in ids}
        if ids:
            found = conn.execute(
                select(access_log_members.c.entry_id, access_log_members.c.member_id)
                .where(access_log_members.c.entry_id.in_(ids))
                .order_by(access_log_members.c.entry_id, access_log_members.c.member_id)
            )
            for entry_id, member in found:
                members[entry_id].append(member)
    return [
        {
            "entry_id": row.entry_id,
            "read_at": _utc(row.read_at).isoformat(),
            "reader": row.reader,
            "role": row.role,
            "source": row.source,
            "what": row.what,
            "parameters": json.loads(row.parameters),
            "rows": row.rows,
            "member_ids": members[row.entry_id],
        }
        for row in rows
    ]


def _utc(moment: datetime) -> datetime:
    """A moment in UTC; one without a zone (SQLite gives them back so) was stored in UTC."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
