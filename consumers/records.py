"""An inbound message as it arrived, and where from: a file's line or a topic's offset."""

from __future__ import annotations

from dataclasses import dataclass

from domain.untrusted import safe_text

TOMBSTONE = (
    "a tombstone (a record with no value): there is no message to apply, and nothing of a "
    "member is deleted by one"
)


UPSTREAM = ""
"""The upstream systems' namespace of message ids: the id alone."""


def scope_of(topic: str) -> str:
    """The message-id namespace of a source topic (InboundRecord.id_scope)."""
    return topic if topic.startswith("http:adviser:") else UPSTREAM


def scoped_id(scope: str, message_id: str) -> str:
    """The id that makes a message a repeat: within its source's namespace."""
    return f"{scope}\x1f{message_id}" if scope else message_id


@dataclass(frozen=True)
class InboundRecord:
    """One message as it arrived: `value` keeps its exact bytes (for the dead letters and the
    DLQ), `raw` a text form of them that every store can keep (see `safe_text`)."""

    raw: str
    topic: str
    partition: int | None
    offset: int | None
    line: int | None = None
    value: bytes | None = None
    key: bytes | None = None  # a Kafka record's key (the member's CPR), kept for the DLQ
    unreadable: str | None = None
    """Why there is no message to parse (a tombstone, or a record the Kafka client could not
    decode): the record becomes a dead letter with this reason, never parsed."""

    @property
    def from_kafka(self) -> bool:
        return self.partition is not None

    def id_scope(self) -> str:
        """The namespace of this record's message id, so that no source can claim another's
        ids (issue 26): each adviser posting over HTTP has one of its own (`http:adviser:NAME`);
        the upstream systems (every Kafka topic, a file's lines, the `system` role over HTTP)
        share one, the id as sent, as every release before kept it."""
        return scope_of(self.topic)

    @property
    def payload(self) -> bytes | str:
        """What the parser reads: the exact bytes where there are any."""
        return self.value if self.value is not None else self.raw

    @classmethod
    def from_kafka_record(
        cls, topic: str, partition: int, offset: int, value: bytes | None, key: bytes | None = None
    ) -> InboundRecord:
        """A Kafka record; bytes that are not UTF-8 are rejected by the parser, and shown
        escaped in `raw`. A tombstone (no value) is a dead letter: there is nothing to delete."""
        if value is None:
            return cls._without_bytes(topic, partition, offset, TOMBSTONE, key)
        return cls(
            raw=safe_text(value),
            topic=topic,
            partition=partition,
            offset=offset,
            value=value,
            key=key,
        )

    @classmethod
    def undecodable(cls, topic: str, partition: int, offset: int, error: str) -> InboundRecord:
        """A record the Kafka client could not decode (its batch's codec, a corrupt batch):
        where it was and why; the client gives none of its bytes."""
        reason = f"the record could not be read from Kafka ({error}); its bytes are not kept"
        return cls._without_bytes(topic, partition, offset, reason, None)

    @classmethod
    def _without_bytes(
        cls, topic: str, partition: int, offset: int, reason: str, key: bytes | None
    ) -> InboundRecord:
        # `raw` names the record, so that each is a dead letter of its own (dead letters
        # are one per content) and the DLQ's copy says what it stands for.
        return cls(
            raw=f"[no message: {topic}:{partition}@{offset}]",
            topic=topic,
            partition=partition,
            offset=offset,
            key=key,
            unreadable=reason,
        )

    @classmethod
    def from_line(cls, data: bytes, source: str, number: int) -> InboundRecord:
        """Line `number` of a file (or standard input), without its line break."""
        return cls(
            raw=safe_text(data),
            topic=source,
            partition=None,
            offset=number,
            line=number,
            value=data,
        )
