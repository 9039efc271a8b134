"""The publisher: drains the handover outbox to `jobcenter.handovers` and the dead letters to
`<topic>.dlq`, marking each published only once the broker has acknowledged it."""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from kafka import KafkaProducer
from kafka.errors import KafkaError
from sqlalchemy import select, update

from infra.store import tables
from infra.store.shredding import open_row
from infra.store.store import Store

log = logging.getLogger("ledighed.publisher")

DEFAULT_MAX_REQUEST_SIZE = 1024 * 1024  # kafka-python's, and a broker's message.max.bytes
# A record's size beside its key, value and headers (the batch and record framing, which
# kafka-python counts), and the headers a cut copy adds: a margin, not a computation.
RECORD_OVERHEAD = 512
CUT_HEADERS_SIZE = 256


class Publisher:
    """Sends what the store says is due, in the order it was recorded, at least once."""

    def __init__(
        self,
        store: Store,
        producer: KafkaProducer,
        handover_topic: str,
        unpublished_handovers: Callable[[int], Sequence[dict[str, Any]]] | None = None,
        mark_handovers: Callable[[Sequence[str]], None] | None = None,
        flush_timeout_s: float = 10.0,
    ) -> None:
        self.store = store
        self.producer = producer
        self.handover_topic = handover_topic
        self.unpublished_handovers = unpublished_handovers
        self.mark_handovers = mark_handovers
        self.flush_timeout_s = flush_timeout_s
        self.handovers_published = 0
        # The largest record the producer sends (kafka-python's max_request_size).
        config = getattr(producer, "config", None) or {}
        self.max_request_size = int(config.get("max_request_size", DEFAULT_MAX_REQUEST_SIZE))
        self.dead_letters_published = 0

    def publish(self, limit: int = 500) -> int:
        """One round of both outboxes; returns how many messages the broker acknowledged."""
        return self.publish_handovers(limit) + self.publish_dead_letters(limit)

    def publish_handovers(self, limit: int) -> int:
        if self.unpublished_handovers is None or self.mark_handovers is None:
            return 0
        due = self.unpublished_handovers(limit)
        sent = self._send_in_order(
            [(self.handover_topic, h["case_id"].encode(), _json(h), []) for h in due]
        )
        if sent:
            self.mark_handovers([h["message_id"] for h in due[:sent]])
            self.handovers_published += sent
        return sent

    def publish_dead_letters(self, limit: int) -> int:
        table = tables.dead_letters
        with self.store.engine.connect() as conn:
            rows = list(
                conn.execute(
                    select(table)
                    .where(table.c.dlq_topic.is_not(None), table.c.published_at.is_(None))
                    .order_by(table.c.id)
                    .limit(limit)
                ).mappings()
            )
        rows = [open_row(self.store.ring, row) for row in rows]
        # A letter whose key was deleted (its member erased, or past its retention) has
        # nothing left to send: marked as done, never sent empty.
        unreadable = [r["id"] for r in rows if r["value"] is None and r["raw"] is None]
        if unreadable:
            self._mark_published(unreadable)
            rows = [r for r in rows if r["id"] not in set(unreadable)]
        sent = self._send_in_order([self._dead_letter_record(row) for row in rows])
        if sent:
            self._mark_published([row["id"] for row in rows[:sent]])
            self.dead_letters_published += sent
        return sent

    def _dead_letter_record(
        self, row: dict[str, Any]
    ) -> tuple[str, bytes | None, bytes, list[tuple[str, bytes]]]:
        """The DLQ copy of a dead letter: its value as it came, with the original key (the
        member's records stay together) and the contract's headers. One that would not fit
        the producer's max_request_size goes cut to fit, as does one the store kept cut (over
        the message limit): then headers `truncated` (the full length), `original_sha256`
        and `dead_letter_id` (the stored id) say so."""
        key = row["record_key"]
        value = row["value"] if row["value"] is not None else (row["raw"] or "").encode()
        headers = _dead_letter_headers(row)
        cut = row.get("cut")
        overhead = len(key or b"") + sum(len(k) + len(v) for k, v in headers) + RECORD_OVERHEAD
        room = self.max_request_size - overhead - CUT_HEADERS_SIZE
        if cut is None and len(value) + overhead > self.max_request_size:
            cut = {"length": len(value), "sha256": hashlib.sha256(value).hexdigest()}
        if cut is not None:
            value = value[: max(0, room)]
            headers += [
                ("truncated", str(cut["length"]).encode()),
                ("original_sha256", str(cut["sha256"]).encode()),
                ("dead_letter_id", str(row["id"]).encode()),
            ]
        return row["dlq_topic"], key, value, headers

    def _mark_published(self, letter_ids: list[int]) -> None:
        table = tables.dead_letters
        with self.store.engine.begin() as conn:
            conn.execute(
                update(table).where(table.c.id.in_(letter_ids)).values(published_at=datetime.now(UTC))
            )

    def _send_in_order(
        self, messages: Sequence[tuple[str, bytes | None, bytes, list[tuple[str, bytes]]]]
    ) -> int:
        """Send all, wait for the broker, and return the length of the acknowledged prefix:
        only that prefix is marked, so what follows a failure is sent again, in order."""
        if not messages:
            return 0
        futures = []
        for topic, key, value, headers in messages:
            try:
                futures.append(self.producer.send(topic, key=key, value=value, headers=headers))
            except KafkaError as error:  # refused before it left (too large, say): the rest wait
                log.warning("publish refused a record", extra={"error": str(error)[:300]})
                break
        try:
            self.producer.flush(timeout=self.flush_timeout_s)
        except Exception as error:
            log.warning("publish waits for the broker", extra={"error": str(error)[:300]})
        acknowledged = 0
        for future in futures:
            if not (future.is_done and future.succeeded()):
                break
            acknowledged += 1
        return acknowledged


def _json(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()


def _dead_letter_headers(row: Any) -> list[tuple[str, bytes]]:
    """CONTRACT.md: error, error_field, source_topic, source_partition, source_offset."""
    source = row["source"]
    return [
        ("error", (row["error"] or "").encode()),
        ("error_field", (row["error_field"] or "").encode()),
        ("source_topic", str(source["topic"]).encode()),
        ("source_partition", str(source["partition"]).encode()),
        ("source_offset", str(source["offset"]).encode()),
    ]
