"""The inbound consumer: poll a batch, apply it with its offsets in one transaction, then
commit to Kafka; on every assignment resume from the offsets the store saved, and bring
Kafka's committed offsets up to them."""

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
from consumers.unreadable import (
    Unreadable,
    drop_buffered,
    find_unreadable,
    is_read_failure,
    reader_like,
)
from infra.failures import describe

log = logging.getLogger("ledighed.consumer")

COMMIT_TIMEOUT_MS = 10_000
"""How long a commit to Kafka may wait for the broker; one that times out is tried again."""

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
        # Their next owner commits the store's offsets for them on its assignment.
        for tp in revoked:
            self.inbound.uncommitted.pop((tp.topic, tp.partition), None)
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
        reader: Callable[[], KafkaConsumer] | None = None,
    ) -> None:
        self.consumer = consumer
        self.sink = sink
        self.batch_size = batch_size
        self.backoff = backoff or Backoff()
        self.should_stop = should_stop
        self.reader = reader or (lambda: reader_like(consumer))
        self.applied = 0
        self.uncommitted: dict[tuple[str, int], int] = {}
        """The store's next offsets that Kafka may not have yet (a commit failed, or the
        partition was just assigned): committed after every poll until Kafka has them."""
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
                # Kafka's copy may be behind (a commit failed when this or another member
                # was dropped from the group): committed after the poll, not in its callback.
                self.uncommitted[(tp.topic, tp.partition)] = offset
        log.info("partitions assigned", extra={"partitions": _names(assigned)})

    def poll_once(self, timeout_ms: int = 500) -> int:
        """Poll one batch and apply it; returns how many records it applied."""
        records, skipped = self._poll(timeout_ms)
        if not records:
            self._commit_to_kafka()
            return 0
        offsets: dict[tuple[str, int], int] = {}
        for record in records:
            assert record.partition is not None and record.offset is not None
            offsets[(record.topic, record.partition)] = record.offset + 1
        if self._with_retries(lambda: self.sink.apply(records, offsets)) is _GAVE_UP:
            return 0  # stopping: nothing of the batch was saved, it is read again next time
        if skipped is not None and skipped.partition in self.consumer.assignment():
            # Saved as dead letters: read on after them (a next owner resumes from the store).
            self.consumer.seek(skipped.partition, skipped.next)
        self.uncommitted.update(offsets)
        self._commit_to_kafka()
        self.applied += len(records)
        return len(records)

    def _poll(self, timeout_ms: int) -> tuple[list[InboundRecord], Unreadable | None]:
        """One poll's records. A failure of the broker waits and returns none; records the
        client cannot decode come back as dead letters, with where to read on after them."""
        try:
            polled = self.consumer.poll(timeout_ms=timeout_ms, max_records=self.batch_size)
        except Exception as error:
            if not is_read_failure(error):
                delay = self.backoff.wait()
                log.warning(
                    "poll failed, retrying", extra={"error": describe(error), "retry_in_s": delay}
                )
                return [], None
            return self._unreadable(error)
        self.backoff.reset()
        return [
            InboundRecord.from_kafka_record(tp.topic, tp.partition, r.offset, r.value, r.key)
            for tp, batch in polled.items()
            for r in batch
        ], None

    def _unreadable(self, error: BaseException) -> tuple[list[InboundRecord], Unreadable | None]:
        """The records the client failed to decode, found with a reader of their own, as
        dead letters (topic, partition, offset and the client's error), logged once."""
        try:
            owned = sorted(self.consumer.assignment())
            at = {tp: self.consumer.position(tp) for tp in owned}
            ends = self.consumer.end_offsets(owned)
            # The partitions with records to read first: an empty one costs a wait.
            positions = dict(sorted(at.items(), key=lambda item: ends[item[0]] <= item[1]))
            reader = self.reader()
            try:
                found = find_unreadable(reader, positions)
            finally:
                reader.close()
        except Exception as failure:  # the broker, while searching: the next poll tries again
            drop_buffered(self.consumer)
            delay = self.backoff.wait()
            log.warning(
                "poll failed, retrying", extra={"error": describe(failure), "retry_in_s": delay}
            )
            return [], None
        if found is None:
            # No partition fails on its own: drop what the consumer buffered and poll again.
            drop_buffered(self.consumer)
            delay = self.backoff.wait()
            log.error(
                "poll failed; reading again",
                extra={"error": describe(error), "retry_in_s": delay},
            )
            return [], None
        tp = found.partition
        log.warning(
            "records could not be read from Kafka; kept as dead letters and skipped",
            extra={
                "topic": tp.topic,
                "partition": tp.partition,
                "offsets": f"{found.first}-{found.next - 1}",
                "error": found.error,
            },
        )
        return [
            InboundRecord.undecodable(tp.topic, tp.partition, offset, found.error)
            for offset in range(found.first, found.next)
        ], found

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

    def _commit_to_kafka(self) -> None:
        """Commit the store's offsets that Kafka may lack, for the partitions this member
        owns. The store already has them; Kafka's copy is for the tools that show lag, so a
        failure (say, this member was dropped from the group during a long batch) is kept
        for the next poll, which rejoins the group first."""
        if not self.uncommitted:
            return
        owned = self.consumer.assignment()
        todo = {k: n for k, n in self.uncommitted.items() if TopicPartition(*k) in owned}
        if not todo:
            return
        try:
            self.consumer.commit(
                {TopicPartition(t, p): OffsetAndMetadata(n, "", -1) for (t, p), n in todo.items()},
                timeout_ms=COMMIT_TIMEOUT_MS,
            )
        except Exception as error:
            log.info(
                "kafka commit failed, tried again after the next poll",
                extra={"error": describe(error)},
            )
            return
        for key, n in todo.items():
            if self.uncommitted.get(key) == n:
                del self.uncommitted[key]

    def assigned(self) -> int:
        """How many inbound partitions this member of the group holds now."""
        return len(self.consumer.assignment())

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
        self._commit_to_kafka()  # what a failed commit left behind, before the member leaves
        self.consumer.close(autocommit=False)


_GAVE_UP = object()
