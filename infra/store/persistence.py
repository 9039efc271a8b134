"""eventsourcing-sqlalchemy with the events of a batch inserted together, not one by one,
their hash chain beside them and their notification ids back."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from eventsourcing.persistence import Notification, ProcessRecorder, StoredEvent
from eventsourcing_sqlalchemy import factory as sqlalchemy_factory
from eventsourcing_sqlalchemy.datastore import SQLAlchemyDatastore
from eventsourcing_sqlalchemy.recorders import (
    SQLAlchemyAggregateRecorder,
    SQLAlchemyApplicationRecorder,
    SQLAlchemyProcessRecorder,
)
from sqlalchemy import Connection, Table, func, select, text
from sqlalchemy import event as sa_event
from sqlalchemy.orm import Session

from infra.store.bulk import bulk_insert
from infra.store.hashchain import record_hashes
from infra.store.migrations import one_migrator
from infra.store.secrets import Secrets, for_store
from infra.store.tables import chain_seals, event_hashes

CHAIN_HEADS_KEPT = 500_000
"""Aggregates whose last link a recorder keeps (about 100 MB at most); past it, it starts over."""
_PENDING_HEADS = "ledighed_chain_heads"  # in a session's info: its transaction's new links


class BatchInsert:
    """The insert of the project's recorders (a mixin before the library's recorder class):
    a batch's events go in together (COPY on PostgreSQL, one executemany on SQLite) with
    their hash chain (infra/store/hashchain.py), and the notification ids come back in order.

    The library adds one ORM object per event and flushes them with RETURNING, because it
    wants each notification id back; here the ids are known without that:
    reserved from the sequence under the table lock on PostgreSQL, read back under the
    write lock on SQLite. A duplicate version raises the library's IntegrityError
    (infra/store/bulk.py), on every store and on the hash table's insert too.
    """

    # Provided by the library's recorder this is mixed into.
    datastore: Any
    events_record_cls: Any
    events_table_name: str
    schema_name: str | None
    _has_autoincrementing_ids: bool
    _id_sequence: str | None = None
    # The chain's key (set by infra.store.Store; else the settings' key file for this store).
    secrets: Secrets | None = None
    # Each aggregate's last committed link (version, hash), set by the first insert.
    _chain_heads: dict[str, tuple[int, str]] | None = None

    def create_table(self) -> None:
        """The events table (the library's) and the hash chain this recorder also writes;
        idempotent (checkfirst), so the project's migrations may create them as well."""
        assert self.datastore.engine is not None
        # Two first opens of a new store at once: one creates, the other waits and then
        # finds the tables (a check and a create are not atomic otherwise). The lock is the
        # migrations' own: an advisory lock on PostgreSQL, a lock file for a SQLite file.
        with one_migrator(self.datastore.engine):
            self._create_tables()

    def _create_tables(self) -> None:
        super().create_table()  # type: ignore[misc]
        assert self.datastore.engine is not None
        event_hashes.create(self.datastore.engine, checkfirst=True)
        chain_seals.create(self.datastore.engine, checkfirst=True)

    def _insert_stored_events(
        self, session: Session, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int]:
        if not self._has_autoincrementing_ids:
            # Snapshots (no notification ids): derived state, outside the chain, which
            # covers the events only (a snapshot's hash would take its event's key).
            super()._insert_stored_events(session, stored_events, **kwargs)  # type: ignore[misc]
            return []
        if not stored_events:
            return []
        table: Table = self.events_record_cls.__table__
        rows = [
            {
                "originator_id": e.originator_id,
                "originator_version": e.originator_version,
                "topic": e.topic,
                "state": e.state,
            }
            for e in stored_events
        ]
        self._lock_table(session)  # type: ignore[attr-defined]  # ids in commit order (PostgreSQL)
        ids = self._insert_rows(session.connection(), table, rows)
        if self._chain_heads is None:
            self._chain_heads = {}
        heads = record_hashes(session, stored_events, self.chain_secrets(), self._chain_heads)
        self._keep_heads_on_commit(session, heads)
        self._notify_channel(session)
        return ids

    def _keep_heads_on_commit(self, session: Session, heads: dict[str, tuple[int, str]]) -> None:
        """Each aggregate's last link, kept once its transaction has committed, so that the
        next batch chains onto it without reading the table (measured: the read was half of
        the hash chain's time on SQLite). A committed link never changes, whoever wrote it
        (another instance's later link has a later version, and the next event of a stale
        aggregate conflicts on its version anyway); a rollback forgets what it wrote."""
        pending = session.info.get(_PENDING_HEADS)
        if pending is None:
            pending = session.info[_PENDING_HEADS] = {}

            def committed(session: Session) -> None:
                done = session.info.pop(_PENDING_HEADS, None) or {}
                kept = self._chain_heads
                assert kept is not None
                if len(kept) + len(done) > CHAIN_HEADS_KEPT:
                    kept.clear()
                kept.update(done)

            def rolled_back(session: Session) -> None:
                session.info.pop(_PENDING_HEADS, None)

            sa_event.listen(session, "after_commit", committed, once=True)
            sa_event.listen(session, "after_rollback", rolled_back, once=True)
        pending.update(heads)

    def chain_secrets(self) -> Secrets:
        if self.secrets is None:
            url = self.datastore.engine.url.render_as_string(hide_password=False)
            self.secrets = for_store(url)
        return self.secrets

    def _insert_rows(self, conn: Connection, table: Table, rows: list[dict[str, Any]]) -> list[int]:
        """Insert the rows; their notification ids, in order."""
        if conn.dialect.name == "postgresql":
            # Under the table lock no other writer takes ids from the sequence (every
            # recorder locks before it inserts), so a block reserved with one setval is
            # ours and in commit order; COPY then writes the ids explicitly.
            last = conn.execute(
                text(
                    "SELECT setval(CAST(:seq AS regclass),"
                    " nextval(CAST(:seq AS regclass)) + :n - 1)"
                ),
                {"seq": self._sequence(conn, table), "n": len(rows)},
            ).scalar_one()
            ids = list(range(last - len(rows) + 1, last + 1))
            bulk_insert(conn, table, [{"id": i, **row} for i, row in zip(ids, rows, strict=True)])
            return ids
        # SQLite: the insert holds the database's write lock until commit, and rowids are
        # given as max(id)+1.. in insert order, so the new rows are the last len(rows) ids.
        bulk_insert(conn, table, rows)
        last = conn.execute(select(func.max(table.c.id))).scalar_one()
        return list(range(last - len(rows) + 1, last + 1))

    def _sequence(self, conn: Connection, table: Table) -> str:
        if self._id_sequence is None:
            name = f"{table.schema}.{table.name}" if table.schema else table.name
            sequence = conn.execute(select(func.pg_get_serial_sequence(name, "id"))).scalar_one()
            assert sequence is not None, f"{name}.id has no sequence"
            self._id_sequence = sequence
        return self._id_sequence

    def select_notifications(
        self,
        start: int | None,
        limit: int,
        stop: int | None = None,
        topics: Sequence[str] = (),
        *,
        inclusive_of_start: bool = True,
    ) -> list[Notification]:
        """The library's query, in SQLAlchemy Core rather than through the ORM (a third of
        the time of a projection's catch-up went to building ORM objects from the rows)."""
        table: Table = self.events_record_cls.__table__
        query = select(
            table.c.id,
            table.c.originator_id,
            table.c.originator_version,
            table.c.topic,
            table.c.state,
        )
        if start is not None:
            query = query.where(table.c.id >= start if inclusive_of_start else table.c.id > start)
        if stop is not None:
            query = query.where(table.c.id <= stop)
        if topics:
            query = query.where(table.c.topic.in_(topics))
        query = query.order_by(table.c.id).limit(limit)
        with self.datastore.transaction(commit=False) as session:
            return [
                Notification(
                    id=row[0],
                    originator_id=row[1],
                    originator_version=row[2],
                    topic=row[3],
                    state=bytes(row[4]) if isinstance(row[4], memoryview) else row[4],
                )
                for row in session.connection().execute(query)
            ]

    def _notify_channel(self, session: Session) -> None:
        """Only an application recorder has a channel (the library's method)."""
        notify = getattr(super(), "_notify_channel", None)
        if notify is not None:
            notify(session)


class BatchAggregateRecorder(BatchInsert, SQLAlchemyAggregateRecorder):
    """The library's aggregate recorder with the batch insert (and, by the aggregate
    recorder's contract, no ids back)."""


class BatchApplicationRecorder(BatchInsert, SQLAlchemyApplicationRecorder):
    """The library's application recorder with the batch insert."""


class BatchProcessRecorder(BatchInsert, SQLAlchemyProcessRecorder, ProcessRecorder):
    """The library's process recorder (events and tracking in one transaction) with the
    batch insert."""


SQLITE_BUSY_TIMEOUT_S = 30.0
"""How long a writer on a SQLite file waits for another to finish (SQLite takes one writer
at a time) before it is refused with "database is locked"."""


class Datastore(SQLAlchemyDatastore):
    """The library's datastore; a SQLite file waits for another writer instead of failing
    at once (the driver's default is 5 s)."""

    def __init__(self, *, url: str | None = None, **kwargs: Any) -> None:
        if url and url.startswith("sqlite") and ":memory:" not in url and "mode=memory" not in url:
            kwargs.setdefault("connect_args", {"timeout": SQLITE_BUSY_TIMEOUT_S})
        super().__init__(url=url, **kwargs)


class Factory(sqlalchemy_factory.SQLAlchemyFactory):
    """The persistence module's factory: every recorder that writes events writes them with
    the batch insert and the hash chain, and creates the tables it writes. The tracking
    recorder is the library's: it writes only positions, no events."""

    datastore_class = Datastore
    aggregate_recorder_class = BatchAggregateRecorder
    application_recorder_class = BatchApplicationRecorder
    process_recorder_class = BatchProcessRecorder
