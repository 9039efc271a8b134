"""Migration 0004 converts what an old store holds (message ids to keyed hashes, dead letters
sealed, chains sealed), a batch at a time, and goes on after a kill; nothing is lost."""

from __future__ import annotations

import gzip
import importlib
import shutil
import subprocess
from pathlib import Path

from alembic import command
from alembic.operations import Operations
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, func, select, text

from infra.store import access_log, migrations, tables
from infra.store.secrets import for_store
from infra.store.store import Store, sqlalchemy_url
from tools.release_store import run_cli

R0 = Path(__file__).parents[1] / "releases" / "r0-5f78691"
MIGRATION = importlib.import_module("infra.store.migrations.versions.r0004_erasure_and_keyed_chain")


def _old_store(db_url: str) -> str:
    if db_url.startswith("sqlite:///"):
        target = Path(db_url[len("sqlite:///") :])
        with gzip.open(R0 / "store.sqlite.gz", "rb") as src, target.open("wb") as dst:
            shutil.copyfileobj(src, dst)
        return db_url
    libpq = sqlalchemy_url(db_url).replace("postgresql+psycopg://", "postgresql://")
    dump = gzip.decompress((R0 / "store.postgres.sql.gz").read_bytes())
    subprocess.run(["psql", "-q", "-v", "ON_ERROR_STOP=1", libpq], input=dump, check=True,
                   capture_output=True)
    return db_url


def test_migration_0004_converts_an_old_store_in_batches_and_goes_on_after_a_kill(
    db_url: str,
) -> None:
    url = _old_store(db_url)
    engine = create_engine(sqlalchemy_url(url))
    secrets = for_store(url)
    with engine.connect() as conn:
        message_ids = set(
            conn.execute(text("SELECT message_id FROM ledighed_processed_messages")).scalars()
        )
        raws = sorted(
            conn.execute(text("SELECT DISTINCT raw FROM ledighed_dead_letters")).scalars()
        )
        aggregates = conn.execute(
            text("SELECT count(DISTINCT originator_id) FROM ledighed_event_hashes")
        ).scalar_one()
    assert len(message_ids) > 1000 and raws and aggregates > 300
    # The state a kill in migration 0004 leaves: its tables and columns made, a few batches
    # of each conversion committed, its revision not stamped.
    with engine.connect() as conn:
        config = migrations._config(conn)
        command.upgrade(config, "0003_access_log")
        conn.commit()
        with Operations.context(MigrationContext.configure(conn)):
            MIGRATION.add_tables_and_columns(conn)
        conn.commit()
        assert MIGRATION.hash_message_ids(conn, secrets, batch_size=100, max_batches=2) == 200
        assert MIGRATION.seal_chains(conn, secrets, batch_size=50, max_batches=2) == 100
        assert MIGRATION.seal_dead_letters(conn, secrets, batch_size=2, max_batches=1) == 2
        conn.commit()
    assert migrations.state(engine).current == "0003_access_log"
    engine.dispose()
    answer = run_cli(["migrate", "--json", "--db", url])
    assert answer["output"] == {"from": "0003_access_log", "to": migrations.head()}

    store = Store(url)
    try:
        assert store.processed(message_ids) == message_ids  # every id still a duplicate
        letters = store.dead_letters()
        assert sorted({r["raw"] for r in letters}) == raws
        assert all(r["sealed"] is not None and r["key_id"] for r in letters)
        with store.engine.connect() as conn:
            stored = conn.execute(
                text("SELECT count(*) FROM ledighed_dead_letters WHERE raw IS NOT NULL")
            ).scalar_one()
            aggregate_seals = tables.chain_seals.c.originator_id != access_log.HEAD
            seals = conn.execute(
                select(func.count()).select_from(tables.chain_seals).where(aggregate_seals)
            ).scalar()
        assert stored == 0 and seals == aggregates
    finally:
        store.close()
    assert run_cli(["audit", "verify", "--json", "--db", url])["output"]["breaks"] == []
