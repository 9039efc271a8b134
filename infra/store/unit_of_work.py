"""The unit of work: one batch's aggregates loaded once, and all it accepted or rejected
saved together in one transaction."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate
from eventsourcing.persistence import Recording
from sqlalchemy import Connection, delete, insert, tuple_
from sqlalchemy.dialects import postgresql, sqlite

from domain.case import Case
from domain.member import Member
from domain.untrusted import safe_text
from infra.store import tables
from infra.store.bulk import bulk_insert
from infra.store.hashchain import registry_binding
from infra.store.shredding import ORPHAN_PREFIX, b64, letter_cpr, seal_letter
from infra.store.store import Store

AfterSave = Callable[[Connection, Sequence[Recording[UUID]], Mapping[UUID, Aggregate]], Any]
"""Called in the batch's transaction after its events are saved, with their recordings (the
events and their notification ids) and the batch's aggregates by id: the inline projection."""


class UnitOfWork:
    """One batch: aggregates loaded once, and everything the batch accepted or rejected
    saved together in one transaction (events, registry rows, message ids, dead letters)."""

    def __init__(self, store: Store, after_save: AfterSave | None = None) -> None:
        self.store = store
        self.after_save = after_save
        self._member_ids: dict[str, UUID | None] = {}
        self._loaded: dict[UUID, Aggregate] = {}
        self._registry_rows: list[dict[str, Any]] = []
        self._accepted: dict[str, dict[str, Any]] = {}
        self._dead_letters: dict[str, dict[str, Any]] = {}  # by content hash
        self._withdrawn: list[str] = []
        self._previously_accepted: set[str] = set()
        self._touched: dict[UUID, int] = {}

    def prefetch(self, cprs: Iterable[str], message_ids: Iterable[str]) -> None:
        """Look up a batch's members and message ids in two queries, not one per message."""
        cpr_list = list(cprs)
        found = self.store.member_ids(cpr_list)
        for cpr in cpr_list:
            self._member_ids.setdefault(cpr, found.get(cpr))
        self._previously_accepted |= self.store.processed(message_ids)

    # --- the Book protocol of domain.service ----------------------------------------------

    def member_id(self, cpr: str) -> UUID | None:
        if cpr not in self._member_ids:
            self._member_ids[cpr] = self.store.member_ids([cpr]).get(cpr)
        return self._member_ids[cpr]

    def enrol(self, cpr: str, birth_date: date, member: Member) -> None:
        self._member_ids[cpr] = member.id
        self._registry_rows.append(
            {
                "member_id": str(member.id),
                "cpr": cpr,
                "birth_date": birth_date,
                "enrolled_at": _now(),
                **registry_binding(self.store.secrets, str(member.id), cpr, birth_date),
            }
        )
        self.add(member)

    def member(self, member_id: UUID) -> Member:
        return self._get(member_id)  # type: ignore[return-value]

    def case(self, case_id: UUID) -> Case:
        return self._get(case_id)  # type: ignore[return-value]

    def add(self, aggregate: Case | Member) -> None:
        self._loaded[aggregate.id] = aggregate
        self._touch(aggregate)

    def cases(self) -> list[Case]:
        """The cases this unit of work loaded or opened: the ones its batch touched."""
        return [a for a in self._loaded.values() if isinstance(a, Case)]

    def adopt(self, aggregates: Iterable[Aggregate]) -> None:
        """Aggregates read elsewhere (one pass over the log), used as if loaded here."""
        for aggregate in aggregates:
            self._loaded.setdefault(aggregate.id, aggregate)

    def _get(self, aggregate_id: UUID) -> Aggregate:
        aggregate = self._loaded.get(aggregate_id) or self.store.cached(aggregate_id)
        if aggregate is None:
            aggregate = self.store.app.repository.get(aggregate_id)
        if aggregate_id not in self._loaded:
            self._loaded[aggregate_id] = aggregate
        self._touch(aggregate)
        return aggregate

    def _touch(self, aggregate: Aggregate) -> None:
        self._touched.setdefault(aggregate.id, len(aggregate.pending_events))

    # --- outcomes of one message ---------------------------------------------------------

    def begin_message(self) -> None:
        self._touched = {}

    def check_unchanged(self) -> None:
        """A rejected message must have changed nothing: the domain checks before it acts."""
        for aggregate_id, pending_before in self._touched.items():
            if len(self._loaded[aggregate_id].pending_events) != pending_before:
                raise RuntimeError(
                    f"a rejected message changed aggregate {aggregate_id}: this is a bug, "
                    "the batch is not saved"
                )

    def is_duplicate(self, message_id: str) -> bool:
        return message_id in self._previously_accepted or message_id in self._accepted

    def accept(self, message_id: str, member_id: UUID) -> None:
        """The message was applied; its source is on each of its events."""
        self._accepted[message_id] = {
            "message_hash": self.store.secrets.message_hash(message_id),
            "member_id": str(member_id),
            "recorded_at": _now(),
        }

    def withdraw(self, message_id: str) -> None:
        """An accepted message that was never applied (parked, then given up): its id is
        free again, so a corrected copy or a retry of its dead letter applies."""
        self._withdrawn.append(self.store.secrets.message_hash(message_id))

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
        """Keep a rejected message whole: its exact bytes in `value` (a file's line too) and
        a text form in `raw`; one from Kafka also goes to `<topic>.dlq` with its key. The
        same content rejected again is one row, seen once more (and open again).

        Every text is made safe to store here, whoever the caller: the message was rejected,
        maybe because the store could not keep it (NUL, lone surrogates).
        """
        from_kafka = source.get("partition") is not None
        kept_id = safe_text(message_id, limit=128) if message_id is not None else None
        now = _now()
        whole = value if value is not None else raw.encode()
        digest = self.store.secrets.content_hash(whole)
        seen = self._dead_letters.get(digest)
        if seen is not None:
            seen["seen_count"] += 1
            seen["last_seen"] = now
            return
        # Of a message over the size limit only its first bytes are kept, with its length and
        # sha256: a producer's 23 MB line is not a 23 MB row (nor a DLQ record too large).
        cut = None
        if len(whole) > self.store.dead_letter_bytes:
            cut = {"length": len(whole), "sha256": hashlib.sha256(whole).hexdigest()}
            kept = whole[: self.store.dead_letter_bytes]
            raw = safe_text(kept)
            value = kept if value is not None else None
        # Sealed under the key of the CPR the decoder reads in what is kept, so that erasing
        # that member erases the letter; no readable CPR: a key of its own, which expires.
        cpr = letter_cpr(value if value is not None else raw, key)
        key_id = self.store.ring.cpr_key_id(cpr) if cpr else ORPHAN_PREFIX + digest
        self._dead_letters[digest] = {
            # Sealed at commit with the key `key_id` (infra/store/shredding.py): the message, its
            # id and key and the error (which may quote it) may all carry a CPR.
            "_content": {
                "raw": safe_text(raw),
                "value": b64(value),
                "message_id": kept_id,
                "record_key": b64(key),
                "error": safe_text(error),
                **({"cut": cut} if cut else {}),
            },
            "key_id": key_id,
            "value": None,
            "record_key": None,
            "dlq_topic": f"{source['topic']}.dlq" if from_kafka else None,
            "message_id": None,
            "raw": None,
            "error": None,
            "error_field": safe_text(field, limit=128) if field is not None else None,
            "source": {
                **source,
                "topic": safe_text(str(source.get("topic")), limit=255),
                "message_id": None,
            },
            "recorded_at": now,
            "content_hash": digest,
            "last_seen": now,
            "seen_count": 1,
            "status": "open",
            "resolved_at": None,
        }

    def commit(self, offsets: Mapping[tuple[str, int], int] | None = None, group: str = "") -> int:
        """Save the batch in one transaction, with the consumer group's next offset per
        partition when it came from Kafka, and `after_save` (given when made) called in it
        once the events are saved; returns the number of events stored."""
        aggregates = [a for a in self._loaded.values() if a.pending_events]
        events = sum(len(a.pending_events) for a in aggregates)
        owners: dict[str, str | None] = {
            str(a.id): str(a.member_id) if isinstance(a, Case) else str(a.id) for a in aggregates
        }
        owners.update({row["key_id"]: None for row in self._dead_letters.values()})
        ring = self.store.ring
        new_keys = {}
        try:
            with self.store.datastore.transaction(commit=True) as session:
                connection = session.connection()
                new_keys = ring.ensure(connection, owners)
                ring.adopt(new_keys)  # the mapper seals with them during the save
                bulk_insert(connection, tables.members, self._registry_rows)
                bulk_insert(connection, tables.processed_messages, list(self._accepted.values()))
                _keep_dead_letters(session, [self._sealed(r) for r in self._dead_letters.values()])
                if self._withdrawn:
                    column = tables.processed_messages.c.message_hash
                    session.execute(
                        delete(tables.processed_messages).where(column.in_(self._withdrawn))
                    )
                if offsets:
                    _save_offsets(session, group, offsets)
                if aggregates:
                    recordings = self.store.app.save(*aggregates, session=session)
                    if self.after_save is not None:
                        self.after_save(connection, recordings, {a.id: a for a in aggregates})
        except BaseException:
            ring.forget(new_keys)  # not committed
            raise
        self.store.remember(self._loaded.values())
        return events

    def _sealed(self, row: dict[str, Any]) -> dict[str, Any]:
        cipher = self.store.ring.get(row["key_id"])
        assert cipher is not None
        out = {k: v for k, v in row.items() if k != "_content"}
        out["sealed"] = seal_letter(cipher, row["_content"], row["content_hash"])
        return out


def _keep_dead_letters(session: Any, rows: list[dict[str, Any]]) -> None:
    """Insert new dead letters; one whose content is kept already is seen once more, its
    error the latest, and open again (a retry that failed, or the producer sent it again)."""
    if not rows:
        return
    table = tables.dead_letters
    dialect = {"sqlite": sqlite, "postgresql": postgresql}[session.get_bind().dialect.name]
    statement = dialect.insert(table)
    session.execute(
        statement.on_conflict_do_update(
            index_elements=[table.c.content_hash],
            set_={
                "seen_count": table.c.seen_count + statement.excluded.seen_count,
                "last_seen": statement.excluded.last_seen,
                "error": statement.excluded.error,
                "sealed": statement.excluded.sealed,
                "key_id": statement.excluded.key_id,
                "error_field": statement.excluded.error_field,
                "status": "open",
                "resolved_at": None,
            },
        ),
        rows,
    )


def _save_offsets(session: Any, group: str, offsets: Mapping[tuple[str, int], int]) -> None:
    table = tables.source_offsets
    session.execute(
        delete(table).where(
            table.c.consumer_group == group,
            tuple_(table.c.topic, table.c.partition).in_(list(offsets)),
        )
    )
    session.execute(
        insert(table),
        [
            {"consumer_group": group, "topic": t, "partition": p, "next_offset": n}
            for (t, p), n in offsets.items()
        ],
    )


def _now() -> datetime:
    return datetime.now(UTC)
