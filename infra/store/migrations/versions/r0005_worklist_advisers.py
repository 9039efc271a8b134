"""One adviser's worklist by an index: every adviser each worklist case has had (issue 9,
point 5), filled from the worklist's rows already stored, so no rebuild is needed.

Revision ID: 0005_worklist_advisers
Revises: 0004_erasure_and_keyed_chain
"""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0005_worklist_advisers"
down_revision = "0004_erasure_and_keyed_chain"
branch_labels = None
depends_on = None

BATCH = 5000


def upgrade() -> None:
    table = op.create_table(
        "ledighed_worklist_advisers",
        sa.Column("adviser", sa.String(128), primary_key=True),
        sa.Column("case_id", sa.String(36), primary_key=True),
    )
    cases = sa.table("ledighed_worklist_cases", sa.column("case_id"), sa.column("facts"))
    bind = op.get_bind()
    rows: list[dict[str, str]] = []
    for case_id, facts in bind.execute(sa.select(cases.c.case_id, cases.c.facts)):
        rows.extend({"adviser": a, "case_id": case_id} for a in _advisers(facts))
        if len(rows) >= BATCH:
            bind.execute(sa.insert(table), rows)
            rows = []
    if rows:
        bind.execute(sa.insert(table), rows)


def _advisers(facts: Any) -> set[str]:
    """The advisers named in a worklist row's facts (as `facts_to_json` writes them)."""
    data = json.loads(facts) if isinstance(facts, str) else facts
    return {a["adviser"] for a in data.get("advisers") or () if a.get("adviser")}


def downgrade() -> None:
    op.drop_table("ledighed_worklist_advisers")
