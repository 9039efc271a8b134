"""The access log: every read of personal data (who, when, which members by id, how).

Revision ID: 0003_access_log
Revises: 0002_dead_letters_deduplicated
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_access_log"
down_revision = "0002_dead_letters_deduplicated"
branch_labels = None
depends_on = None


def upgrade() -> None:
    existing = set(sa.inspect(op.get_bind()).get_table_names())
    # Stores that ran the API before this migration existed made these tables themselves.
    if "ledighed_access_log" not in existing:
        op.create_table(
            "ledighed_access_log",
            sa.Column("entry_id", sa.Integer, primary_key=True, autoincrement=True),
            sa.Column("read_at", sa.DateTime(timezone=True), nullable=False),
            sa.Column("reader", sa.String(200), nullable=False),
            sa.Column("role", sa.String(32), nullable=False),
            sa.Column("source", sa.String(300), nullable=False),
            sa.Column("what", sa.String(64), nullable=False),
            sa.Column("parameters", sa.Text, nullable=False),
            sa.Column("rows", sa.Integer, nullable=False),
        )
    if "ledighed_access_log_members" not in existing:
        op.create_table(
            "ledighed_access_log_members",
            sa.Column(
                "entry_id",
                sa.Integer,
                sa.ForeignKey("ledighed_access_log.entry_id"),
                primary_key=True,
            ),
            sa.Column("member_id", sa.String(36), primary_key=True),
        )
        op.create_index(
            "ix_ledighed_access_log_members_member_id",
            "ledighed_access_log_members",
            ["member_id"],
        )
