"""The access log chained (issue 26, point 4): each entry gets a link, an HMAC under the
chain key over the previous entry's link and its own content (`link`, `key_id`), computed
here for the entries there are, oldest first, and the newest is sealed as the log's head in
`ledighed_chain_seals` (infra/store/access_log.py), so that `audit verify` shows an entry
deleted or edited.

Revision ID: r0008_chain_access_log
Revises: r0007_chain_registry_binding
"""

from __future__ import annotations

import importlib

import sqlalchemy as sa
from alembic import op

from infra.store.access_log import entry_link, seal_head
from infra.store.hashchain import GENESIS

revision = "r0008_chain_access_log"
down_revision = "r0007_chain_registry_binding"
branch_labels = None
depends_on = None

_secrets = importlib.import_module(
    "infra.store.migrations.versions.r0004_erasure_and_keyed_chain"
)._secrets

_meta = sa.MetaData()
log = sa.Table(
    "ledighed_access_log",
    _meta,
    sa.Column("entry_id", sa.Integer, primary_key=True),
    sa.Column("read_at", sa.DateTime(timezone=True)),
    sa.Column("reader", sa.String(200)),
    sa.Column("role", sa.String(32)),
    sa.Column("source", sa.String(300)),
    sa.Column("what", sa.String(64)),
    sa.Column("parameters", sa.Text),
    sa.Column("rows", sa.Integer),
    sa.Column("link", sa.String(64)),
    sa.Column("key_id", sa.String(32)),
)
log_members = sa.Table(
    "ledighed_access_log_members",
    _meta,
    sa.Column("entry_id", sa.Integer),
    sa.Column("member_id", sa.String(36)),
)


def upgrade() -> None:
    with op.batch_alter_table("ledighed_access_log") as batch:
        batch.add_column(sa.Column("link", sa.String(64), nullable=True))
        batch.add_column(sa.Column("key_id", sa.String(32), nullable=True))
    bind = op.get_bind()
    secrets = _secrets(bind)
    members: dict[int, list[str]] = {}
    for entry_id, member in bind.execute(sa.select(log_members)):
        members.setdefault(entry_id, []).append(member)
    previous, last = GENESIS, 0
    for row in bind.execute(sa.select(log).order_by(log.c.entry_id)).all():
        previous = entry_link(
            secrets.chain_key, previous, row.entry_id, row, members.get(row.entry_id, [])
        )
        last = row.entry_id
        bind.execute(
            log.update()
            .where(log.c.entry_id == row.entry_id)
            .values(link=previous, key_id=secrets.chain_key_id)
        )
    # Sealed also when empty (at entry 0): every writer then finds a head row to lock.
    seal_head(bind, secrets, last, previous, exists=False)


def downgrade() -> None:
    op.execute("DELETE FROM ledighed_chain_seals WHERE originator_id = 'access-log'")
    with op.batch_alter_table("ledighed_access_log") as batch:
        batch.drop_column("key_id")
        batch.drop_column("link")
