"""An inbound message as it arrived, and where from: a file's line or a topic's offset."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class InboundRecord:
    """One message as it arrived; `value` keeps a Kafka record's bytes unchanged (for the DLQ)."""

    raw: str
    topic: str
    partition: int | None
    offset: int | None
    line: int | None = None
    value: bytes | None = None

    @property
    def from_kafka(self) -> bool:
        return self.partition is not None

    @classmethod
    def from_kafka_record(
        cls, topic: str, partition: int, offset: int, value: bytes | None
    ) -> InboundRecord:
        """A Kafka record; bytes that are not UTF-8 are shown with replacement characters
        (and rejected as not JSON), the original bytes stay in `value`."""
        data = value or b""
        return cls(
            raw=data.decode("utf-8", errors="replace"),
            topic=topic,
            partition=partition,
            offset=offset,
            value=data,
        )
