"""The API's records of its reads: the access log for every one, a CaseRead for a case's."""

from __future__ import annotations

import threading
from collections.abc import Iterable
from datetime import date
from typing import Any
from uuid import UUID

from domain.member import Member
from infra.http.api_auth import Principal
from infra.http.api_support import CONFLICTS
from infra.store import access_log
from infra.store.store import Store


class ReadRecorder:
    """Records who read what; `writing` is the lock the API's writes to the log share."""

    def __init__(self, db: Store, writing: threading.Lock) -> None:
        self.db, self.writing = db, writing

    def access(
        self, who: Principal, what: str, member_ids: Iterable[UUID], rows: int, **query: Any
    ) -> None:
        """The read goes into the access log: who, what with which parameters, which
        members (by id: no CPR in it)."""
        access_log.record(
            self.db.engine,
            reader=who.name,
            role=who.role,
            source=who.source_topic,
            what=what,
            parameters=query,
            member_ids=member_ids,
            rows=rows,
        )

    def case_read(self, who: Principal, member_id: UUID, what: str, **query: Any) -> None:
        """A read of one member's case: into the access log, and into the member's audit
        trail as a CaseRead event (no CPR in it: the member is the id)."""
        self.access(who, what, [member_id], 1, **query)
        shown = " ".join(f"{k}={v}" for k, v in query.items() if v not in (None, False))
        source = {"message_id": None, "topic": who.source_topic, "partition": None, "offset": None}
        with self.writing:
            for attempt in range(3):
                member: Member = self.db.app.repository.get(member_id)
                member.record_read(
                    who.name, who.role, f"{what} {shown}".strip(), date.today(), source
                )
                try:
                    self.db.app.save(member)
                except CONFLICTS:
                    if attempt == 2:
                        raise
                    continue
                self.db.remember([member])  # the batch path's cache must not keep an older copy
                return
