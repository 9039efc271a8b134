"""The read models' tables, their positions in the notification log, and an upsert for both."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Connection,
    Date,
    DateTime,
    MetaData,
    String,
    Table,
)
from sqlalchemy.dialects import postgresql, sqlite

metadata = MetaData()

# Each projection's position: the id of the last notification it applied.
positions = Table(
    "ledighed_projection_positions",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("position", BigInteger, nullable=False),
)

# The worklist's read model: one row per case, its current facts and what selects it.
worklist_cases = Table(
    "ledighed_worklist_cases",
    metadata,
    Column("case_id", String(36), primary_key=True),
    Column("member_id", String(36), nullable=False),
    Column("adviser", String(128), nullable=True),
    Column("opened_on", Date, nullable=False),
    Column("exit_on", Date, nullable=True),
    Column("in_trial", Boolean, nullable=False),
    Column("facts", JSON, nullable=False),
)

# Every adviser a case of the worklist has had (a superset: rows are only ever added), so
# that one adviser's worklist reads that adviser's cases by this primary key's index
# instead of every open case (issue 9, point 5).
worklist_advisers = Table(
    "ledighed_worklist_advisers",
    metadata,
    Column("adviser", String(128), primary_key=True),
    Column("case_id", String(36), primary_key=True),
)

# The handover feed: one row per HandedOver event, keyed by its notification id. No CPR:
# it is looked up in the member registry when the feed is read or published.
handover_feed = Table(
    "ledighed_handover_feed",
    metadata,
    Column("position", BigInteger, primary_key=True, autoincrement=False),
    Column("message_id", String(128), nullable=False, unique=True),
    Column("case_id", String(36), nullable=False),
    Column("member_id", String(36), nullable=False),
    Column("type", String(32), nullable=False),
    Column("payload", JSON, nullable=False),
)

# The outbox's marks: which feed messages went out. A rebuild never drops these, so a
# rebuilt feed is not published again.
handover_published = Table(
    "ledighed_handover_published",
    metadata,
    Column("message_id", String(128), primary_key=True),
    Column("published_at", DateTime(timezone=True), nullable=False),
)


def upsert(
    conn: Connection, table: Table, rows: Sequence[dict[str, Any]], update: bool = True
) -> None:
    """Insert the rows; one whose primary key exists is updated (or left alone: update=False)."""
    if not rows:
        return
    dialect = {"sqlite": sqlite, "postgresql": postgresql}[conn.dialect.name]
    statement = dialect.insert(table)
    keys = [c.name for c in table.primary_key.columns]
    if update:
        changes = {c.name: statement.excluded[c.name] for c in table.columns if c.name not in keys}
        conn.execute(statement.on_conflict_do_update(index_elements=keys, set_=changes), rows)
    else:
        conn.execute(statement.on_conflict_do_nothing(index_elements=keys), rows)
