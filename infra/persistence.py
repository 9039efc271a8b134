"""eventsourcing-sqlalchemy with the events of a batch inserted together, not one by one."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from eventsourcing.persistence import StoredEvent
from eventsourcing_sqlalchemy.factory import Factory as SQLAlchemyFactory
from eventsourcing_sqlalchemy.recorders import SQLAlchemyApplicationRecorder
from sqlalchemy.orm import Session

from infra.bulk import bulk_insert
from infra.hashchain import record_hashes


class BatchApplicationRecorder(SQLAlchemyApplicationRecorder):
    """The library's recorder, but a batch's events go in together (COPY on PostgreSQL,
    one executemany on SQLite), with their hash chain (infra/hashchain.py).

    The library adds one ORM object per event and flushes them one statement at a time,
    because it wants each notification id back.
    """

    def _insert_stored_events(
        self, session: Session, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int]:
        if not stored_events:
            return []
        table = self.events_record_cls.__table__
        rows = [
            {
                "originator_id": e.originator_id,
                "originator_version": e.originator_version,
                "topic": e.topic,
                "state": e.state,
            }
            for e in stored_events
        ]
        self._lock_table(session)  # notification ids in commit order (PostgreSQL)
        bulk_insert(session.connection(), table, rows)
        record_hashes(session, stored_events)
        self._notify_channel(session)
        # No notification ids back (RETURNING costs a third more per row): the application
        # does not use them, and the library's contract allows None.
        return None  # type: ignore[return-value]


class Factory(SQLAlchemyFactory):
    """The persistence module's factory, with the batch recorder."""

    application_recorder_class = BatchApplicationRecorder
