"""Applying inbound messages in batches: parse, deduplicate, decide, save in one transaction."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import islice
from typing import Any

from consumers.records import InboundRecord
from domain.errors import Rejected
from domain.messages import InboundMessage, InvalidMessage, parse_message
from domain.params import Settings
from domain.service import CaseService
from infra.store import Store


@dataclass
class Report:
    """What a run of batches did, as `ingest --json` shows it."""

    accepted: int = 0
    duplicates: int = 0
    events: int = 0
    rejected: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"accepted": self.accepted, "duplicates": self.duplicates, "rejected": self.rejected}


def _source(record: InboundRecord, message_id: str | None) -> dict[str, Any]:
    return {
        "message_id": message_id,
        "topic": record.topic,
        "partition": record.partition,
        "offset": record.offset,
    }


def apply_batch(
    store: Store,
    settings: Settings,
    records: Sequence[InboundRecord],
    report: Report,
    offsets: Mapping[tuple[str, int], int] | None = None,
    group: str = "",
) -> None:
    """Apply the records in order, as if one at a time, and save them in one transaction.

    If anything fails, nothing of the batch is saved and the store's cache is dropped, so
    the batch can be applied again from the stored state.
    """
    try:
        _apply_batch(store, settings, records, report, offsets, group)
    except BaseException:
        store.forget()
        raise


def _apply_batch(
    store: Store,
    settings: Settings,
    records: Sequence[InboundRecord],
    report: Report,
    offsets: Mapping[tuple[str, int], int] | None,
    group: str,
) -> None:
    parsed: list[tuple[InboundRecord, InboundMessage | InvalidMessage]] = []
    for record in records:
        try:
            parsed.append((record, parse_message(record.raw)))
        except InvalidMessage as error:
            parsed.append((record, error))
    _apply_parsed(store, settings, parsed, report, offsets, group)


def apply_messages(
    store: Store,
    settings: Settings,
    parsed: Sequence[tuple[InboundRecord, InboundMessage | InvalidMessage]],
    report: Report,
) -> None:
    """Apply messages parsed already (each with its record, or the reason it is invalid), so
    that what a caller checked of a message is what is applied; as `apply_batch` otherwise."""
    try:
        _apply_parsed(store, settings, parsed, report, None, "")
    except BaseException:
        store.forget()
        raise


def _apply_parsed(
    store: Store,
    settings: Settings,
    parsed: Sequence[tuple[InboundRecord, InboundMessage | InvalidMessage]],
    report: Report,
    offsets: Mapping[tuple[str, int], int] | None,
    group: str,
) -> None:
    uow = store.unit_of_work()
    service = CaseService(uow, settings)
    uow.prefetch(
        (m.cpr for _, m in parsed if not isinstance(m, InvalidMessage)),
        (m.message_id for _, m in parsed if not isinstance(m, InvalidMessage)),
    )
    for record, message in parsed:
        if isinstance(message, InvalidMessage):
            _reject(uow, report, record, message.reason, message.field, message.message_id)
            continue
        if uow.is_duplicate(message.message_id):
            report.duplicates += 1
            continue
        source = _source(record, message.message_id)
        uow.begin_message()
        try:
            service.handle(message, source)
        except Rejected as error:
            uow.check_unchanged()
            _reject(uow, report, record, error.reason, error.field, message.message_id)
            continue
        member_id = uow.member_id(message.cpr)
        assert member_id is not None
        uow.accept(message.message_id, member_id)
        report.accepted += 1
    report.events += uow.commit(offsets, group)


def _reject(
    uow: Any,
    report: Report,
    record: InboundRecord,
    reason: str,
    field: str | None,
    message_id: str | None,
) -> None:
    uow.reject(record.raw, reason, field, message_id, _source(record, message_id), record.value)
    report.rejected.append(
        {"line": record.line, "message_id": message_id, "error": reason, "error_field": field}
    )


def file_records(lines: Iterable[str], name: str) -> Iterator[InboundRecord]:
    """A JSON-lines file's records; blank lines are skipped, neither accepted nor rejected."""
    for number, line in enumerate(lines, start=1):
        text = line.rstrip("\r\n")
        if text.strip():
            yield InboundRecord(raw=text, topic=name, partition=None, offset=number, line=number)


def batches(records: Iterable[InboundRecord], size: int) -> Iterator[list[InboundRecord]]:
    iterator = iter(records)
    while batch := list(islice(iterator, size)):
        yield batch


def ingest(
    store: Store,
    settings: Settings,
    records: Iterable[InboundRecord],
    batch_size: int = 2000,
    progress: Any = None,
) -> Report:
    """Apply every record in file order, `batch_size` messages to a transaction."""
    report = Report()
    for batch in batches(records, batch_size):
        apply_batch(store, settings, batch, report)
        if progress is not None:
            progress.update(len(batch))
    return report
