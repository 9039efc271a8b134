"""Dead letters an operator works: list them, read one as it came, apply them again."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from uuid import UUID

from sqlalchemy import select, update

from consumers.records import InboundRecord
from infra.ingest import Report
from infra.store import tables
from infra.store.shredding import letter_cpr, open_row
from infra.store.store import Store

STATUSES = ("open", "resolved", "all")


def listing(
    store: Store,
    status: str = "open",
    topic: str | None = None,
    day: date | None = None,
    members: list[UUID] | None = None,
) -> list[dict[str, Any]]:
    """The dead letters, first seen first: by status, source topic (or file) and the day
    they were last seen (UTC); the members they belong to go into `members` if given (for
    the access log)."""
    table = tables.dead_letters
    query = select(table).order_by(table.c.id)
    if status != "all":
        query = query.where(table.c.status == status)
    if day is not None:
        start = datetime.combine(day, time(), UTC)
        query = query.where(table.c.last_seen >= start, table.c.last_seen < start + timedelta(1))
    with store.engine.connect() as conn:
        rows = [open_row(store.ring, r) for r in conn.execute(query).mappings()]
    shown = [r for r in rows if topic is None or r["source"].get("topic") == topic]
    if members is not None:
        members.extend(_members(store, shown))
    return [_summary(r) for r in shown]


def _members(store: Store, opened: list[dict[str, Any]]) -> list[UUID]:
    """The members whose CPRs the opened letters are sealed under (letter_cpr: the CPR the
    decoder reads); an erased letter, or one of no member, names none."""
    cprs = {
        letter_cpr(r["value"] if r["value"] is not None else r["raw"], r["record_key"])
        for r in opened
        if r["value"] is not None or r["raw"] is not None
    }
    return sorted(store.member_ids(c for c in cprs if c is not None).values())


def _summary(row: dict[str, Any]) -> dict[str, Any]:
    # A message over the size limit is kept cut: its full length and sha256 are shown.
    cut = {"cut": row["cut"]} if row.get("cut") else {}
    return {
        "id": row["id"],
        "message_id": row["message_id"],
        "source": row["source"],
        "error": row["error"],
        "error_field": row["error_field"],
        "first_seen": _iso(row["recorded_at"]),
        "last_seen": _iso(row["last_seen"]),
        "count": row["seen_count"],
        "status": row["status"],
        **cut,
    }


def _iso(moment: datetime) -> str:
    # SQLite hands back naive datetimes: they were stored in UTC.
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return aware.astimezone(UTC).isoformat()


def raw_bytes(
    store: Store, letter_id: int, members: list[UUID] | None = None
) -> bytes | None:
    """The message exactly as it came (None: no such dead letter); its member goes into
    `members` if given."""
    table = tables.dead_letters
    with store.engine.connect() as conn:
        found = conn.execute(select(table).where(table.c.id == letter_id)).mappings().first()
    if found is None:
        return None
    row = open_row(store.ring, found)
    if row["raw"] is None and row["value"] is None:
        raise ValueError(f"dead letter {letter_id} was erased (its key is deleted)")
    if members is not None:
        members.extend(_members(store, [row]))
    return row["value"] if row["value"] is not None else row["raw"].encode("utf-8")


def retry(
    store: Store,
    apply: Callable[[InboundRecord, Report], None],
    letter_ids: list[int] | None,
) -> dict[str, list[int]]:
    """Apply open dead letters again through the normal path, one at a time and in the
    order they were first seen (`None`: all open ones). One that applies now (or whose
    message id was accepted meanwhile, e.g. a corrected copy) is marked resolved; one still
    refused stays open, its error the latest. `apply` applies one record through the
    normal path, with the retry on a version conflict (`Ledighed.apply_retrying`)."""
    table = tables.dead_letters
    query = select(table).where(table.c.status == "open").order_by(table.c.id)
    if letter_ids is not None:
        query = query.where(table.c.id.in_(letter_ids))
    with store.engine.connect() as conn:
        rows = [open_row(store.ring, r) for r in conn.execute(query).mappings()]
    rows = [r for r in rows if r["raw"] is not None]  # erased ones cannot apply
    outcome: dict[str, list[int]] = {"resolved": [], "still_rejected": []}
    superseded = store.processed(r["message_id"] for r in rows if r["message_id"] is not None)
    for row in rows:
        if row.get("cut"):  # only its first bytes are kept: it cannot apply as it came
            outcome["still_rejected"].append(row["id"])
            continue
        if row["message_id"] in superseded:  # a corrected copy with its id was accepted
            _resolve(store, row["id"])
            outcome["resolved"].append(row["id"])
            continue
        source = row["source"]
        record = InboundRecord(
            raw=row["raw"],
            topic=str(source.get("topic")),
            partition=source.get("partition"),
            offset=source.get("offset"),
            line=source.get("offset") if source.get("partition") is None else None,
            value=row["value"],
            key=row["record_key"],
        )
        report = Report()
        apply(record, report)
        # Its own refusal only: a kept message refused once this one came is a letter apart.
        if any(r["message_id"] == row["message_id"] for r in report.rejected):
            outcome["still_rejected"].append(row["id"])
            continue
        _resolve(store, row["id"])
        outcome["resolved"].append(row["id"])
    return outcome


def _resolve(store: Store, letter_id: int) -> None:
    table = tables.dead_letters
    with store.engine.begin() as conn:
        conn.execute(
            update(table)
            .where(table.c.id == letter_id)
            .values(status="resolved", resolved_at=datetime.now(UTC))
        )
