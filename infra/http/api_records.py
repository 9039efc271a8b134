"""The API's records of its reads: the access log for every one, a CaseRead for a case's."""

from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import Any
from uuid import UUID

from infra.application import Ledighed
from infra.http.api_auth import Principal


class ReadRecorder:
    """Records who read what; `writing` is the lock the API's writes to the log share."""

    def __init__(self, ledighed: Ledighed, writing: threading.Lock) -> None:
        self.ledighed, self.writing = ledighed, writing

    def access(
        self, who: Principal, what: str, member_ids: Iterable[UUID], rows: int, **query: Any
    ) -> None:
        """The read goes into the access log: who, what with which parameters, which
        members (by id: no CPR in it)."""
        self.ledighed.record_access(
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
            self.ledighed.record_read(
                member_id, who.name, who.role, f"{what} {shown}".strip(), source
            )
