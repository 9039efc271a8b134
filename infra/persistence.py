"""eventsourcing-sqlalchemy with the events of a batch inserted in one statement, not one each."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from eventsourcing.persistence import StoredEvent
from eventsourcing_sqlalchemy.factory import Factory as SQLAlchemyFactory
from eventsourcing_sqlalchemy.recorders import SQLAlchemyApplicationRecorder
from sqlalchemy import insert
from sqlalchemy.orm import Session

from infra.hashchain import record_hashes


class BatchApplicationRecorder(SQLAlchemyApplicationRecorder):
    """The library's recorder, but a batch's events go in as one multi-row INSERT.

    The library adds one ORM object per event and flushes them one statement at a time
    (it wants each notification id back); SQLAlchemy Core's "insertmanyvalues" returns
    the ids of a multi-row INSERT in parameter order on SQLite and PostgreSQL alike.
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
        statement = insert(table).returning(table.c.id, sort_by_parameter_order=True)
        ids = list(session.execute(statement, rows).scalars())
        record_hashes(session, stored_events)
        self._notify_channel(session)
        return ids


class Factory(SQLAlchemyFactory):
    """The persistence module's factory, with the batch recorder."""

    application_recorder_class = BatchApplicationRecorder
