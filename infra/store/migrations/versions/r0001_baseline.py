"""The project's tables as the first release made them (with create_all, before migrations).

A store written by that release already has them: each is created only where missing,
so the store is adopted as it is and stamped.

Revision ID: 0001_baseline
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001_baseline"
down_revision = None
branch_labels = None
depends_on = None


def _tables() -> list[tuple[str, list[sa.Column]]]:  # type: ignore[type-arg]
    # Frozen copies of the definitions of that release: later changes go in later
    # migrations, never here.
    big_id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
    aware = sa.DateTime(timezone=True)
    return [
        ("ledighed_members", [
            sa.Column("member_id", sa.String(36), primary_key=True),
            sa.Column("cpr", sa.String(10), unique=True, nullable=True),
            sa.Column("birth_date", sa.Date, nullable=True),
            sa.Column("enrolled_at", aware, nullable=False),
            sa.Column("erased_at", aware, nullable=True),
        ]),
        ("ledighed_processed_messages", [
            sa.Column("message_id", sa.String(128), primary_key=True),
            sa.Column("member_id", sa.String(36), nullable=False),
            sa.Column("recorded_at", aware, nullable=False),
        ]),
        ("ledighed_dead_letters", [
            sa.Column("id", big_id, primary_key=True, autoincrement=True),
            sa.Column("message_id", sa.String(128), nullable=True),
            sa.Column("raw", sa.Text, nullable=False),
            sa.Column("error", sa.Text, nullable=False),
            sa.Column("error_field", sa.String(128), nullable=True),
            sa.Column("source", sa.JSON, nullable=False),
            sa.Column("recorded_at", aware, nullable=False),
            sa.Column("value", sa.LargeBinary, nullable=True),
            sa.Column("dlq_topic", sa.String(255), nullable=True),
            sa.Column("published_at", aware, nullable=True),
        ]),
        ("ledighed_event_hashes", [
            sa.Column("originator_id", sa.String(36), primary_key=True),
            sa.Column("originator_version", sa.Integer, primary_key=True),
            sa.Column("hash", sa.String(64), nullable=False),
        ]),
        ("ledighed_source_offsets", [
            sa.Column("consumer_group", sa.String(255), primary_key=True),
            sa.Column("topic", sa.String(255), primary_key=True),
            sa.Column("partition", sa.Integer, primary_key=True),
            sa.Column("next_offset", sa.BigInteger, nullable=False),
        ]),
        ("ledighed_projection_positions", [
            sa.Column("name", sa.String(64), primary_key=True),
            sa.Column("position", sa.BigInteger, nullable=False),
        ]),
        ("ledighed_worklist_cases", [
            sa.Column("case_id", sa.String(36), primary_key=True),
            sa.Column("member_id", sa.String(36), nullable=False),
            sa.Column("adviser", sa.String(128), nullable=True),
            sa.Column("opened_on", sa.Date, nullable=False),
            sa.Column("exit_on", sa.Date, nullable=True),
            sa.Column("in_trial", sa.Boolean, nullable=False),
            sa.Column("facts", sa.JSON, nullable=False),
        ]),
        ("ledighed_handover_feed", [
            sa.Column("position", sa.BigInteger, primary_key=True, autoincrement=False),
            sa.Column("message_id", sa.String(128), nullable=False, unique=True),
            sa.Column("case_id", sa.String(36), nullable=False),
            sa.Column("member_id", sa.String(36), nullable=False),
            sa.Column("type", sa.String(32), nullable=False),
            sa.Column("payload", sa.JSON, nullable=False),
        ]),
        ("ledighed_handover_published", [
            sa.Column("message_id", sa.String(128), primary_key=True),
            sa.Column("published_at", aware, nullable=False),
        ]),
    ]


def upgrade() -> None:
    existing = set(sa.inspect(op.get_bind()).get_table_names())
    for name, columns in _tables():
        if name not in existing:
            op.create_table(name, *columns)
