"""What the inbound consumer does when its poll raises: a failure of the broker waits and is
retried; records the client cannot decode become dead letters and the partition reads on
(issue 19). Fakes of kafka-python's consumer; the real broker is in tests/e2e."""

from __future__ import annotations

from collections.abc import Sequence
from types import SimpleNamespace
from typing import Any

from kafka import TopicPartition
from kafka.errors import CommitFailedError, KafkaConnectionError

from consumers.inbound import Backoff, InboundConsumer
from consumers.records import InboundRecord

TP = TopicPartition("payments.hours", 1)
UNREADABLE = {4, 5}  # the offsets of a batch the client cannot decode


class _Consumer:
    """The group's consumer: its poll raises `error` once, then returns nothing."""

    def __init__(self, error: BaseException) -> None:
        self.error: BaseException | None = error
        self.seeks: list[tuple[TopicPartition, int]] = []
        self.committed: list[dict[TopicPartition, Any]] = []

    def subscribe(self, topics: Sequence[str], listener: Any) -> None:
        pass

    def poll(self, timeout_ms: int, max_records: int) -> dict[TopicPartition, list[Any]]:
        error, self.error = self.error, None
        if error is not None:
            raise error
        return {}

    def assignment(self) -> set[TopicPartition]:
        return {TP}

    def position(self, tp: TopicPartition) -> int:
        return 4

    def end_offsets(self, tps: list[TopicPartition]) -> dict[TopicPartition, int]:
        return {tp: 9 for tp in tps}

    def seek(self, tp: TopicPartition, offset: int) -> None:
        self.seeks.append((tp, offset))

    def commit(self, offsets: dict[TopicPartition, Any], timeout_ms: int | None = None) -> None:
        self.committed.append(offsets)


class _Reader:
    """The reader outside the group: reading at an unreadable offset raises, as the
    client's decoders do."""

    def __init__(self) -> None:
        self.at = 0
        self.closed = False

    def assign(self, tps: list[TopicPartition]) -> None:
        pass

    def seek(self, tp: TopicPartition, offset: int) -> None:
        self.at = offset

    def poll(self, timeout_ms: int, max_records: int) -> dict[TopicPartition, list[Any]]:
        if self.at in UNREADABLE:
            raise RuntimeError("LZ4F_decompress failed with code: ERROR_frameType_unknown")
        return {TP: [SimpleNamespace(offset=self.at)]}

    def close(self) -> None:
        self.closed = True


class _Sink:
    def __init__(self) -> None:
        self.batches: list[tuple[list[InboundRecord], dict[tuple[str, int], int]]] = []

    def apply(self, records: Sequence[InboundRecord], offsets: dict[tuple[str, int], int]) -> None:
        self.batches.append((list(records), dict(offsets)))

    def positions(self, partitions: Sequence[tuple[str, int]]) -> dict[tuple[str, int], int]:
        return {}


def _inbound(error: BaseException, readers: list[_Reader]) -> tuple[InboundConsumer, Any, Any]:
    consumer, sink, waits = _Consumer(error), _Sink(), []

    def reader() -> Any:
        readers.append(_Reader())
        return readers[-1]

    inbound = InboundConsumer(
        consumer,  # type: ignore[arg-type]
        sink,
        [TP.topic],
        backoff=Backoff(sleep=waits.append),
        reader=reader,
    )
    return inbound, sink, waits


def test_a_broker_failure_while_polling_waits_and_is_retried_never_dead_lettered() -> None:
    readers: list[_Reader] = []
    inbound, sink, waits = _inbound(KafkaConnectionError(), readers)
    assert inbound.poll_once() == 0
    assert waits == [0.5] and sink.batches == [] and readers == []
    assert inbound.poll_once() == 0  # polled again
    assert inbound.consumer.error is None


def test_records_the_client_cannot_decode_become_dead_letters_and_the_partition_reads_on() -> None:
    readers: list[_Reader] = []
    inbound, sink, waits = _inbound(RuntimeError("LZ4F_decompress failed"), readers)
    assert inbound.poll_once() == 2
    ((records, offsets),) = sink.batches
    assert [(r.topic, r.partition, r.offset) for r in records] == [
        (TP.topic, 1, 4),
        (TP.topic, 1, 5),
    ]
    assert all(r.unreadable and "LZ4F_decompress failed" in r.unreadable for r in records)
    assert offsets == {(TP.topic, 1): 6}
    assert inbound.consumer.seeks == [(TP, 6)]  # after the dead letters are saved
    assert [{tp: m.offset for tp, m in c.items()} for c in inbound.consumer.committed] == [{TP: 6}]
    assert waits == [] and len(readers) == 1 and readers[0].closed


class _DroppedOnce(_Consumer):
    """A member whose first commit fails as when the group dropped it during the batch."""

    def __init__(self) -> None:
        super().__init__(RuntimeError("unused"))
        self.error = None
        self.batch = [SimpleNamespace(offset=n, value=b"{}", key=None) for n in (0, 1, 2)]

    def poll(self, timeout_ms: int, max_records: int) -> dict[TopicPartition, list[Any]]:
        batch, self.batch = self.batch, []
        return {TP: batch} if batch else {}

    def commit(self, offsets: dict[TopicPartition, Any], timeout_ms: int | None = None) -> None:
        if not self.committed and not getattr(self, "failed", False):
            self.failed = True
            raise CommitFailedError("the group has rebalanced")
        super().commit(offsets)


def test_a_failed_commit_is_made_after_the_next_poll_even_with_nothing_new() -> None:
    consumer, sink = _DroppedOnce(), _Sink()
    inbound = InboundConsumer(consumer, sink, [TP.topic])  # type: ignore[arg-type]
    assert inbound.poll_once() == 3
    assert consumer.committed == []  # the commit failed
    assert inbound.poll_once() == 0  # nothing new: the store's offsets are committed anyway
    assert [{tp: m.offset for tp, m in c.items()} for c in consumer.committed] == [{TP: 3}]
    assert inbound.poll_once() == 0
    assert len(consumer.committed) == 1  # once Kafka has them, no more commits
