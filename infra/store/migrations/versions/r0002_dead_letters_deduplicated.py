"""Dead letters an operator can work: one row per content, seen how often and when, with
a status and the record's key (issue 11).

New columns first (nullable); then every kept row gets its content's hash, a batch at a
time, each batch committed, so a kill leaves the rows done so far and `ledighed migrate`
goes on with the rest; then the rows of one content are merged into the first one (its
count the sum, its last sighting the latest) and the columns made required and unique.

Revision ID: 0002_dead_letters_deduplicated
Revises: 0001_baseline
"""

from __future__ import annotations

import hashlib
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0002_dead_letters_deduplicated"
down_revision = "0001_baseline"
branch_labels = None
depends_on = None

BATCH = 1000
TABLE = "ledighed_dead_letters"


def content_hash(value: bytes | None, raw: str) -> str:
    """sha256 of the message's exact bytes (the text form for a row that has none)."""
    return hashlib.sha256(value if value is not None else raw.encode("utf-8")).hexdigest()


def _table() -> sa.Table:
    # Only the columns this migration reads and writes, as they are at this revision.
    return sa.Table(
        TABLE,
        sa.MetaData(),
        sa.Column("id", sa.BigInteger, primary_key=True),
        sa.Column("raw", sa.Text),
        sa.Column("value", sa.LargeBinary),
        sa.Column("recorded_at", sa.DateTime(timezone=True)),
        sa.Column("published_at", sa.DateTime(timezone=True)),
        sa.Column("content_hash", sa.String(64)),
        sa.Column("last_seen", sa.DateTime(timezone=True)),
        sa.Column("seen_count", sa.Integer),
        sa.Column("status", sa.String(16)),
    )


def add_columns(bind: Any) -> None:
    existing = {c["name"] for c in sa.inspect(bind).get_columns(TABLE)}
    new = [
        sa.Column("content_hash", sa.String(64), nullable=True),
        sa.Column("last_seen", sa.DateTime(timezone=True), nullable=True),
        sa.Column("seen_count", sa.Integer, nullable=True),
        sa.Column("status", sa.String(16), nullable=True),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("record_key", sa.LargeBinary, nullable=True),
    ]
    missing = [c for c in new if c.name not in existing]
    if missing:
        with op.batch_alter_table(TABLE) as batch:
            for column in missing:
                batch.add_column(column)


def fill(bind: Any, batch_size: int = BATCH, max_batches: int | None = None) -> int:
    """Hash the rows that have no hash yet, `batch_size` at a time; returns how many."""
    table = _table()
    done = 0
    batches = 0
    while max_batches is None or batches < max_batches:
        rows = bind.execute(
            sa.select(table.c.id, table.c.value, table.c.raw, table.c.recorded_at)
            .where(table.c.content_hash.is_(None))
            .order_by(table.c.id)
            .limit(batch_size)
        ).all()
        if not rows:
            break
        bind.execute(
            table.update()
            .where(table.c.id == sa.bindparam("row_id"))
            .values(
                content_hash=sa.bindparam("hash"),
                last_seen=sa.bindparam("seen"),
                seen_count=1,
                status="open",
            ),
            [
                {"row_id": r.id, "hash": content_hash(r.value, r.raw), "seen": r.recorded_at}
                for r in rows
            ],
        )
        # In the migration's autocommit block each statement commits by itself: a batch
        # done stays done after a kill.
        done += len(rows)
        batches += 1
    return done


def merge(bind: Any) -> None:
    """One row per content: the first keeps the sum of the counts and the last sighting."""
    table = _table()
    groups = bind.execute(
        sa.select(
            table.c.content_hash,
            sa.func.min(table.c.id),
            sa.func.sum(table.c.seen_count),
            sa.func.max(table.c.last_seen),
        )
        .group_by(table.c.content_hash)
        .having(sa.func.count() > 1)
    ).all()
    for digest, first, count, last in groups:
        bind.execute(
            table.update().where(table.c.id == first).values(seen_count=count, last_seen=last)
        )
        bind.execute(table.delete().where(table.c.content_hash == digest, table.c.id != first))


def upgrade() -> None:
    bind = op.get_bind()
    add_columns(bind)
    with op.get_context().autocommit_block():
        fill(bind)
    merge(bind)
    with op.batch_alter_table(TABLE) as batch:
        for name, type_ in (
            ("content_hash", sa.String(64)),
            ("last_seen", sa.DateTime(timezone=True)),
            ("seen_count", sa.Integer()),
            ("status", sa.String(16)),
        ):
            batch.alter_column(name, existing_type=type_, nullable=False)
        batch.create_unique_constraint("uq_ledighed_dead_letters_content", ["content_hash"])
