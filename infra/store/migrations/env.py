"""Alembic's environment: migrate the connection the caller hands over (infra.store.migrations)."""

from __future__ import annotations

from alembic import context

from infra.store.migrations import VERSION_TABLE

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    version_table=VERSION_TABLE,
    # SQLite alters a table by copying it: Alembic's batch mode does that.
    render_as_batch=True,
    transaction_per_migration=True,
)
with context.begin_transaction():
    context.run_migrations()
