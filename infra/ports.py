"""The unit-of-work port: what ingest's batch path (infra/ingest.py) needs of a store for
one batch. The store's `UnitOfWork` (infra/store/unit_of_work.py) implements it; so does
the tests' in-memory `FakeUnitOfWork` (tests/fakes.py), so that service tests run the same
batch path (parse, deduplicate, decide, reject, commit) as `ingest` and the consumers."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Protocol

from domain.case import Case
from domain.service import Book


class UnitOfWorkPort(Book, Protocol):
    """One batch: the `Book` the case service works on, plus the batch's outcomes."""

    def prefetch(self, cprs: Iterable[str], message_ids: Iterable[str]) -> None:
        """Look up the batch's members and message ids at once (a store may do nothing)."""

    def is_duplicate(self, message_id: str) -> bool:
        """Accepted before, in an earlier batch or earlier in this one."""

    def begin_message(self) -> None:
        """A message starts: what it changes is checked by `check_unchanged` if refused."""

    def check_unchanged(self) -> None:
        """Raise when the message just refused changed an aggregate (a bug)."""

    def accept(self, message_id: str, member_id: Any) -> None:
        """The message was applied for this member; its id is now a duplicate."""

    def reject(
        self,
        raw: str,
        error: str,
        field: str | None,
        message_id: str | None,
        source: dict[str, Any],
        value: bytes | None = None,
        key: bytes | None = None,
    ) -> None:
        """Keep a rejected message whole, with the reason, as a dead letter."""

    def withdraw(self, message_id: str) -> None:
        """An accepted message that was never applied (kept, then given up): its id is free
        again."""

    def cases(self) -> list[Case]:
        """The cases the batch loaded or opened."""

    def commit(self, offsets: Mapping[tuple[str, int], int] | None = None, group: str = "") -> int:
        """Save everything of the batch at once; the number of events stored."""
