"""Keys belong to their store (issue 19, point 2): a table of the fingerprints of the key
file's keys (an HMAC of a fixed label under each key, never a key). Left empty here: the
first command that writes with the keys it is given records them (infra/store/key_check.py),
so a store made before this release goes on with the key file it has.

Revision ID: 0006_keys_fingerprints
Revises: 0005_worklist_advisers
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_keys_fingerprints"
down_revision = "0005_worklist_advisers"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ledighed_key_fingerprints",
        sa.Column("name", sa.String(80), primary_key=True),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("ledighed_key_fingerprints")
