"""The inbound consumer: poll a batch, apply it with its offsets in one transaction, then
commit to Kafka; on every assignment resume from the offsets the store saved."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from eventsourcing.persistence import IntegrityError
from kafka import KafkaConsumer, TopicPartition
from kafka.consumer.subscription_state import ConsumerRebalanceListener
from kafka.structs import OffsetAndMetadata

from consumers.records import InboundRecord
from infra.failures import describe

log = logging.getLogger("ledighed.consumer")

CONFLICT_RETRIES = 3
"""Version conflicts in a row retried at once, before they wait like any other failure."""


class Sink(Protocol):
    """Where batches go: the store, through the same application service as `ingest`."""

    def apply(self, records: Sequence[InboundRecord], offsets: dict[tuple[str, int], int]) -> None:
        """Apply the records in order and save them with the next offsets, in one transaction."""

    def positions(self, partitions: Sequence[tuple[str, int]]) -> dict[tuple[str, int], int]:
        """The next offset to apply per partition, as saved with the last batch."""


@dataclass
class Backoff:
    """Waits between retries of a batch that failed for a reason other than its content."""

    first_s: float = 0.5
    max_s: float = 30.0
    sleep: Callable[[float], None] = time.sleep
    failures: int = field(default=0)

    def wait(self) -> float:
        delay = min(self.max_s, self.first_s * 2**self.failures)
        self.failures += 1
        self.sleep(delay)
        return delay

    def reset(self) -> None:
        self.failures = 0


class _ResumeFromStore(ConsumerRebalanceListener):  # type: ignore[misc]
    def __init__(self, inbound: InboundConsumer) -> None:
        self.inbound = inbound

    def on_partitions_revoked(self, revoked: Any) -> None:
        log.info("partitions revoked", extra={"partitions": _names(revoked)})

    def on_partitions_assigned(self, assigned: Any) -> None:
        self.inbound.resume(list(assigned))


def _names(partitions: Any) -> list[str]:
    return sorted(f"{tp.topic}:{tp.partition}" for tp in partitions)


class InboundConsumer:
    """One member of the consumer group; `poll_once` does one batch, start to end."""

    def __init__(
        self,
        consumer: KafkaConsumer,
        sink: Sink,
        topics: Sequence[str],
        batch_size: int = 2000,
        backoff: Backoff | None = None,
        should_stop: Callable[[], bool] = lambda: False,
    ) -> None:
        self.consumer = consumer
        self.sink = sink
        self.batch_size = batch_size
        self.backoff = backoff or Backoff()
        self.should_stop = should_stop
        self.applied = 0
        consumer.subscribe(list(topics), listener=_ResumeFromStore(self))

    def resume(self, assigned: list[TopicPartition]) -> None:
        """Seek every assigned partition to the offset the store saved (from the start if none)."""
        stored = self._with_retries(
            lambda: self.sink.positions([(tp.topic, tp.partition) for tp in assigned])
        )
        for tp in assigned:
            offset = (stored or {}).get((tp.topic, tp.partition))
            if offset is None:
                self.consumer.seek_to_beginning(tp)
            else:
                self.consumer.seek(tp, offset)
        log.info("partitions assigned", extra={"partitions": _names(assigned)})

    def poll_once(self, timeout_ms: int = 500) -> int:
        """Poll one batch and apply it; returns how many records it applied."""
        polled = self.consumer.poll(timeout_ms=timeout_ms, max_records=self.batch_size)
        records = [
            InboundRecord.from_kafka_record(tp.topic, tp.partition, r.offset, r.value, r.key)
            for tp, batch in polled.items()
            for r in batch
        ]
        if not records:
            return 0
        offsets: dict[tuple[str, int], int] = {}
        for record in records:
            assert record.partition is not None and record.offset is not None
            offsets[(record.topic, record.partition)] = record.offset + 1
        if self._with_retries(lambda: self.sink.apply(records, offsets)) is _GAVE_UP:
            return 0  # stopping: nothing of the batch was saved, it is read again next time
        self._commit_to_kafka(offsets)
        self.applied += len(records)
        return len(records)

    def _with_retries(self, action: Callable[[], Any]) -> Any:
        """Retry a failure of the store or the broker with back-off; never skip the batch.
        A version conflict (another instance saved one of the batch's aggregates; the sink
        dropped its cached aggregates) is retried at once, a few times, before it waits too.

        The sink raises nothing else: a record's content is a rejected message, and a batch
        that fails otherwise is applied a record at a time (infra.ingest.apply_batch)."""
        conflicts = 0
        while True:
            try:
                result = action()
                self.backoff.reset()
                return result
            except Exception as error:  # the database or the network: the sink raises no other
                if self.should_stop():
                    return _GAVE_UP
                if isinstance(error, IntegrityError) and conflicts < CONFLICT_RETRIES:
                    conflicts += 1
                    log.info(
                        "version conflict, batch applied again from the store",
                        extra={"error": describe(error)},  # never the SQL's parameters (CPRs)
                    )
                    continue
                delay = self.backoff.wait()
                log.warning(
                    "batch failed, retrying",
                    extra={"error": describe(error), "retry_in_s": delay},
                )

    def _commit_to_kafka(self, offsets: dict[tuple[str, int], int]) -> None:
        # The store already has these offsets; Kafka's copy only helps tools that show lag.
        try:
            self.consumer.commit(
                {
                    TopicPartition(t, p): OffsetAndMetadata(n, "", -1)
                    for (t, p), n in offsets.items()
                }
            )
        except Exception as error:
            log.info("kafka commit skipped", extra={"error": describe(error)})

    def lag(self) -> int:
        """Records behind the end of the assigned partitions."""
        assigned = list(self.consumer.assignment())
        if not assigned:
            return 0
        try:
            ends = self.consumer.end_offsets(assigned)
            return sum(max(0, ends[tp] - self.consumer.position(tp)) for tp in assigned)
        except Exception:
            return -1

    def close(self) -> None:
        self.consumer.close(autocommit=False)


_GAVE_UP = object()
