"""The store's schema: the project's tables made and changed by Alembic migrations only.

`ledighed migrate` applies them; every other command checks at start that the store is
at this release's head and refuses, in one line, a store that is behind or ahead. A new,
empty store is migrated to the head when first opened. The event table
itself belongs to the eventsourcing library's recorder, which creates it.
"""

from __future__ import annotations

import fcntl
import hashlib
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import Connection, Engine, inspect, text

VERSION_TABLE = "ledighed_schema_version"
# A table every store since the first release has; without it and without a version the
# store is new.
FIRST_RELEASE_TABLE = "ledighed_members"
# PostgreSQL: one migrator at a time (two services starting on a new database).
ADVISORY_LOCK = 0x1ED16ED


class StoreNotMigrated(Exception):
    """The store's schema is not the one this release works with: one line says what to do."""


@dataclass(frozen=True)
class SchemaState:
    """Where a store's schema stands against this release's migrations."""

    current: str | None  # None: no version recorded
    head: str
    new: bool  # an empty store: no project tables at all

    @property
    def at_head(self) -> bool:
        return self.current == self.head

    @property
    def known(self) -> bool:
        """Written by this release or an earlier one (not by a newer one)."""
        if self.current is None:
            return True
        try:
            return _scripts().get_revision(self.current) is not None
        except CommandError:
            return False


def _config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(Path(__file__).parent))
    config.attributes["connection"] = connection
    return config


@cache  # the migrations of this release do not change while it runs
def _scripts() -> ScriptDirectory:
    return ScriptDirectory.from_config(_config())


def head() -> str:
    """This release's schema revision."""
    revision = _scripts().get_current_head()
    assert revision is not None
    return revision


def state(engine: Engine) -> SchemaState:
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE})
        current = context.get_current_revision()
        new = current is None and not inspect(conn).has_table(FIRST_RELEASE_TABLE)
    return SchemaState(current=current, head=head(), new=new)


@contextmanager
def one_migrator(engine: Engine) -> Iterator[None]:
    """One process at a time checks and migrates a store that is not at the head (two
    services starting on a new store): an advisory lock on PostgreSQL, a lock file for a
    SQLite file."""
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            conn.execute(text("SELECT pg_advisory_lock(:key)"), {"key": ADVISORY_LOCK})
            conn.commit()
            try:
                yield
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": ADVISORY_LOCK})
                conn.commit()
        return
    database = engine.url.database or ""
    if engine.dialect.name != "sqlite" or database in ("", ":memory:"):
        yield
        return
    key = hashlib.sha256(str(Path(database).resolve()).encode()).hexdigest()[:16]
    with (Path(tempfile.gettempdir()) / f"ledighed-migrate-{key}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def upgrade(
    engine: Engine, say: Callable[[str], None] = lambda _: None, secrets: Any = None
) -> tuple[str | None, str]:
    """Apply every migration the store lacks, each in its own transaction (a kill leaves the
    store at the last one applied, and `migrate` goes on from there); (from, to)."""
    with one_migrator(engine):
        return _upgrade(engine, say, secrets)


def _upgrade(
    engine: Engine, say: Callable[[str], None], secrets: Any = None
) -> tuple[str | None, str]:
    before = state(engine).current
    with engine.connect() as conn:
        config = _config(conn)
        config.attributes["say"] = say
        # The key file's keys (infra/store/secrets.py) for the migrations that need them; None:
        # the settings' key file for this store.
        config.attributes["secrets"] = secrets
        command.upgrade(config, "head")
    return before, head()


def check(engine: Engine, url: str, secrets: Any = None) -> None:
    """Refuse a store whose schema is not this release's; make a new one at the head (with
    these keys for the migrations that need them)."""
    if state(engine).at_head:
        return
    with one_migrator(engine):
        found = state(engine)  # again: another process may have just made it
        if found.at_head:
            return
        if found.new:
            _upgrade(engine, lambda _: None, secrets)
            return
    refuse(found, url)


def refuse(found: SchemaState, url: str) -> None:
    """Raise StoreNotMigrated for a store that is not new and not at the head."""
    if found.new or found.at_head:
        return
    if not found.known:
        raise StoreNotMigrated(
            f"the store {url} is at schema {found.current}, which this release does not know "
            f"(written by a newer release?); this release works with {found.head}"
        )
    where = found.current or "none (written before migrations existed)"
    raise StoreNotMigrated(
        f"the store {url} is behind this release (schema {where}, needs {found.head}): "
        f"back it up, then run `ledighed migrate --db {url}`"
    )
