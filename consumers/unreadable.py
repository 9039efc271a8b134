"""Finding the records the Kafka client cannot decode: which partition, from which offset
to which, read with a reader of its own (no group) so that the group's consumer is untouched."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from kafka import KafkaConsumer, TopicPartition
from kafka.errors import CorruptRecordError, UnsupportedCodecError

from infra.failures import describe, is_store_or_broker_failure

READ_ERRORS: tuple[type[BaseException], ...] = (CorruptRecordError, UnsupportedCodecError)
"""What kafka-python raises for what the broker sent, not for the broker: a batch whose codec
it lacks, one that fails its CRC or cannot be parsed. Decoders raise their own errors too."""

SECURITY_PREFIXES = ("security_protocol", "ssl_", "sasl_")

MAX_SKIPPED = 500
"""Offsets one search steps over at most, so that the consumer polls again in time; the
next poll finds the rest."""


def is_read_failure(error: BaseException) -> bool:
    """Whether the client failed to decode a record, rather than reach the broker."""
    return isinstance(error, READ_ERRORS) or not is_store_or_broker_failure(error)


@dataclass(frozen=True)
class Unreadable:
    """Offsets first .. next - 1 of a partition cannot be decoded; `error` says why."""

    partition: TopicPartition
    first: int
    next: int
    error: str


def reader_like(consumer: KafkaConsumer) -> KafkaConsumer:
    """A consumer with no group that reads as `consumer` does (its brokers and security,
    isolation level and CRC checks), waiting little for an empty fetch."""
    config = consumer.config
    security = {k: v for k, v in config.items() if k.startswith(SECURITY_PREFIXES)}
    return KafkaConsumer(
        **security,
        bootstrap_servers=config["bootstrap_servers"],
        client_id="ledighed-unreadable",
        group_id=None,
        enable_auto_commit=False,
        isolation_level=config.get("isolation_level", "read_uncommitted"),
        check_crcs=config.get("check_crcs", True),
        fetch_max_wait_ms=100,
        max_poll_records=1,
    )


def find_unreadable(
    reader: KafkaConsumer,
    positions: dict[TopicPartition, int],
    wait_s: float = 0.5,
    limit: int = MAX_SKIPPED,
) -> Unreadable | None:
    """The first partition whose record at its position cannot be decoded, and how far the
    undecodable records go (a compressed batch fails as a whole), or None if none fails.
    Raises a failure of the broker."""
    for tp, start in positions.items():
        reader.assign([tp])
        error = _read_error(reader, tp, start, wait_s)
        if error is None:
            continue
        offset = start + 1
        while offset - start < limit and _read_error(reader, tp, offset, wait_s) is not None:
            offset += 1
        return Unreadable(tp, start, offset, describe(error))
    return None


def _read_error(
    reader: KafkaConsumer, tp: TopicPartition, offset: int, wait_s: float
) -> BaseException | None:
    """What reading from `offset` raises; None once a record comes, or nothing within wait_s
    (the end of the partition). Seeking elsewhere first is what lets kafka-python read
    again after an error: at the same position its next poll never returns."""
    reader.seek(tp, offset)
    deadline = time.monotonic() + wait_s
    while True:
        try:
            if reader.poll(timeout_ms=100, max_records=1):
                return None
        except Exception as error:
            if not is_read_failure(error):
                raise
            return error
        if time.monotonic() >= deadline:
            return None


def drop_buffered(consumer: Any) -> None:
    """Forget the fetched records a consumer holds (kafka-python's fetcher, a private part):
    after a decoding error that no partition repeats, its next poll would otherwise spin on
    the failed records for good."""
    fetcher = getattr(consumer, "_fetcher", None)
    close: Callable[[], None] | None = getattr(fetcher, "close", None)
    if close is not None:
        close()
