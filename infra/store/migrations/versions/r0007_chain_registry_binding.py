"""The registry bound to the members (issue 26, point 4): each registry row gets an HMAC
under the chain key over its member id, CPR and birth date (`binding`, `binding_key_id`),
computed here for the rows there are, so that `audit verify` shows a CPR moved to another
member's row. Erased rows (no CPR) stay unbound.

Revision ID: r0007_chain_registry_binding
Revises: 0006_keys_fingerprints
"""

from __future__ import annotations

import importlib

import sqlalchemy as sa
from alembic import op

from infra.store.hashchain import registry_binding

revision = "r0007_chain_registry_binding"
down_revision = "0006_keys_fingerprints"
branch_labels = None
depends_on = None

# The key file's keys as migration 0004 finds them (handed over, or the store's own file).
_secrets = importlib.import_module(
    "infra.store.migrations.versions.r0004_erasure_and_keyed_chain"
)._secrets

_meta = sa.MetaData()
members = sa.Table(
    "ledighed_members",
    _meta,
    sa.Column("member_id", sa.String(36), primary_key=True),
    sa.Column("cpr", sa.String(10)),
    sa.Column("birth_date", sa.Date),
    sa.Column("binding", sa.String(64)),
    sa.Column("binding_key_id", sa.String(32)),
)


def upgrade() -> None:
    with op.batch_alter_table("ledighed_members") as batch:
        batch.add_column(sa.Column("binding", sa.String(64), nullable=True))
        batch.add_column(sa.Column("binding_key_id", sa.String(32), nullable=True))
    bind = op.get_bind()
    secrets = _secrets(bind)
    rows = bind.execute(
        sa.select(members.c.member_id, members.c.cpr, members.c.birth_date).where(
            members.c.cpr.is_not(None), members.c.birth_date.is_not(None)
        )
    ).all()
    for member_id, cpr, birth in rows:
        bind.execute(
            members.update()
            .where(members.c.member_id == member_id)
            .values(**registry_binding(secrets, member_id, cpr, birth))
        )


def downgrade() -> None:
    with op.batch_alter_table("ledighed_members") as batch:
        batch.drop_column("binding_key_id")
        batch.drop_column("binding")
