"""Applying inbound messages in batches: parse, deduplicate, decide, save in one transaction."""

from __future__ import annotations

import functools
import logging
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from itertools import islice
from typing import Any

from consumers.records import InboundRecord, scoped_id
from domain.errors import Rejected
from domain.messages import InboundMessage, InvalidMessage, parse_message
from domain.params import Settings
from domain.service import CaseService
from domain.untrusted import DEFAULT_LIMITS, Limits, safe_text
from infra import collector, projections
from infra.failures import describe, is_store_or_broker_failure
from infra.ports import UnitOfWorkPort
from infra.store.store import Store
from infra.store.unit_of_work import UnitOfWork
from infra.tick import TickReport, end_programme, reject_kept

log = logging.getLogger("ledighed.ingest")


@dataclass
class Report:
    """What a run of batches did, as `ingest --json` shows it."""

    accepted: int = 0
    duplicates: int = 0
    events: int = 0
    rejected: list[dict[str, Any]] = field(default_factory=list)
    programme_ended: int = 0
    """Cases the batches ended by R16 as the calendar's tick (`calendar_day`), not in --json."""

    def as_dict(self) -> dict[str, Any]:
        # A refusal's rule id is for the pages' words (infra/ui), not ingest's --json.
        rejected = [{k: v for k, v in r.items() if k != "rule"} for r in self.rejected]
        return {"accepted": self.accepted, "duplicates": self.duplicates, "rejected": rejected}

    def add(self, other: Report) -> None:
        """Count in what another (saved) batch did."""
        self.accepted += other.accepted
        self.duplicates += other.duplicates
        self.events += other.events
        self.rejected.extend(other.rejected)
        self.programme_ended += other.programme_ended


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
    limits: Limits = DEFAULT_LIMITS,
    calendar_day: date | None = None,
) -> None:
    """Apply the records in order, as if one at a time, and save them in one transaction.

    `calendar_day` is the service's today (its clock). When it is past the programme end,
    the cases the batch touched get R16 as the tick of that day, in the same transaction and
    recorded as the tick's events (infra/tick.py), so that a case read right after
    its messages arrive is right without waiting for the next daily tick. `ingest` passes
    none: it never applies R16 (RULES.md).

    A failure of the store or the broker is raised: nothing of the batch is saved and the
    store's cache is dropped, so the batch can be applied again from the stored state. A
    record's content never fails a batch (it is rejected); any other failure is a bug, so
    the records are then applied one at a time and the one that fails is kept as a dead
    letter with the error, the rest applied: one record never stalls a partition.
    """
    with collector.paused():
        _apply_batch_or_each(store, settings, records, report, offsets, group, limits, calendar_day)


def _apply_batch_or_each(
    store: Store,
    settings: Settings,
    records: Sequence[InboundRecord],
    report: Report,
    offsets: Mapping[tuple[str, int], int] | None,
    group: str,
    limits: Limits,
    calendar_day: date | None,
) -> None:
    attempt = Report()
    try:
        _apply_batch(store, settings, records, attempt, offsets, group, limits, calendar_day)
    except Exception as error:
        store.forget()
        if is_store_or_broker_failure(error):
            raise
        log.error(
            "batch failed, not for its content nor the store: applying it a record at a time",
            extra={"error": describe(error), "records": len(records)},
        )
        _apply_one_at_a_time(store, settings, records, report, group, limits, calendar_day)
        return
    except BaseException:
        store.forget()
        raise
    report.add(attempt)


def _apply_one_at_a_time(
    store: Store,
    settings: Settings,
    records: Sequence[InboundRecord],
    report: Report,
    group: str,
    limits: Limits,
    calendar_day: date | None,
) -> None:
    """Each record in a transaction of its own, with its partition's next offset; the one
    that fails is kept as a dead letter (and goes to the DLQ) with the error."""
    for record in records:
        offsets = None
        # Offsets only for a consumer group's batch (a retried dead letter has none).
        if group and record.partition is not None and record.offset is not None:
            offsets = {(record.topic, record.partition): record.offset + 1}
        single = Report()
        try:
            _apply_batch(store, settings, [record], single, offsets, group, limits, calendar_day)
        except Exception as error:
            store.forget()
            if is_store_or_broker_failure(error):
                raise
            single = Report()
            reason = f"could not be applied (a fault of this system, logged): {describe(error)}"
            message_id = _message_id(record, limits)
            log.error(
                "record could not be applied; kept as a dead letter",
                extra={
                    "error": describe(error),
                    "message_id": message_id,
                    "source": _source(record, message_id),
                },
            )
            uow = UnitOfWork(store)
            _reject(uow, single, record, reason, None, message_id)
            uow.commit(offsets, group)
        report.add(single)


def _message_id(record: InboundRecord, limits: Limits) -> str | None:
    if record.unreadable is not None:
        return None
    try:
        return parse_message(record.payload, limits).message_id
    except InvalidMessage as error:
        return error.message_id


def _apply_batch(
    store: Store,
    settings: Settings,
    records: Sequence[InboundRecord],
    report: Report,
    offsets: Mapping[tuple[str, int], int] | None,
    group: str,
    limits: Limits,
    calendar_day: date | None = None,
) -> None:
    uow = _unit_of_work(store)
    apply_records(uow, settings, records, report, offsets, group, limits, calendar_day)


def apply_records(
    uow: UnitOfWorkPort,
    settings: Settings,
    records: Sequence[InboundRecord],
    report: Report,
    offsets: Mapping[tuple[str, int], int] | None = None,
    group: str = "",
    limits: Limits = DEFAULT_LIMITS,
    calendar_day: date | None = None,
) -> None:
    """The batch path on a unit of work (the store's, or the tests' in-memory fake): parse
    each record, then apply them in order and commit (`_apply_to`)."""
    parsed: list[tuple[InboundRecord, InboundMessage | InvalidMessage]] = []
    for record in records:
        if record.unreadable is not None:  # a tombstone, or what the Kafka client could not read
            parsed.append((record, InvalidMessage(record.unreadable)))
            continue
        try:
            parsed.append((record, parse_message(record.payload, limits)))
        except InvalidMessage as error:
            parsed.append((record, error))
    _apply_to(uow, settings, parsed, report, offsets, group, calendar_day)


def apply_messages(
    store: Store,
    settings: Settings,
    parsed: Sequence[tuple[InboundRecord, InboundMessage | InvalidMessage]],
    report: Report,
    calendar_day: date | None = None,
) -> None:
    """Apply messages parsed already (each with its record, or the reason it is invalid), so
    that what a caller checked of a message is what is applied; as `apply_batch` otherwise."""
    try:
        _apply_to(_unit_of_work(store), settings, parsed, report, None, "", calendar_day)
    except BaseException:
        store.forget()
        raise


def _apply_to(
    uow: UnitOfWorkPort,
    settings: Settings,
    parsed: Sequence[tuple[InboundRecord, InboundMessage | InvalidMessage]],
    report: Report,
    offsets: Mapping[tuple[str, int], int] | None,
    group: str,
    calendar_day: date | None = None,
) -> None:
    """Deduplicate, decide each message in order (a refused one kept as a dead letter), R16
    by the calendar if given, and commit: one transaction."""
    service = CaseService(uow, settings)
    uow.prefetch(
        (m.cpr for _, m in parsed if not isinstance(m, InvalidMessage)),
        (_repeat_key(r, m) for r, m in parsed if not isinstance(m, InvalidMessage)),
    )
    for record, message in parsed:
        if isinstance(message, InvalidMessage):
            _reject(uow, report, record, message.reason, message.field, message.message_id)
            continue
        repeat_key = _repeat_key(record, message)
        if uow.is_duplicate(repeat_key):
            report.duplicates += 1
            continue
        source = _source(record, message.message_id)
        uow.begin_message()
        try:
            service.handle(message, source)
        except Rejected as error:
            uow.check_unchanged()
            _reject(
                uow, report, record, error.reason, error.field, message.message_id, error.rule
            )
            continue
        member_id = uow.member_id(message.cpr)
        assert member_id is not None
        uow.accept(repeat_key, member_id)
        report.accepted += 1
        for kept, refusal in service.take_refused():  # refused once what it waited for came
            reject_kept(uow, kept, message.cpr, refusal.reason, refusal.field)
            origin = kept["source"]
            report.rejected.append(
                {  # a file's line is its record's offset (`InboundRecord.from_line`)
                    "line": origin.get("offset") if origin.get("partition") is None else None,
                    "message_id": origin.get("message_id"),
                    "error": refusal.reason,
                    "error_field": refusal.field,
                }
            )
    if calendar_day is not None:  # R16 by the calendar, for the cases the batch touched
        ticked = TickReport()
        end_programme(service, uow.cases(), calendar_day, ticked)
        report.programme_ended += ticked.exits
    report.events += uow.commit(offsets, group)


def _repeat_key(record: InboundRecord, message: InboundMessage) -> str:
    """What makes the message a repeat: its id within its source's namespace."""
    return scoped_id(record.id_scope(), message.message_id)


def _unit_of_work(store: Store) -> UnitOfWork:
    """A batch's unit of work on the store, whose read models that are caught up take the
    batch's events in its transaction, from memory; the rest catch up from the log later
    (`infra/projections.catch_up`)."""
    if not store.project_inline:
        return UnitOfWork(store)
    return UnitOfWork(store, after_save=functools.partial(projections.apply_saved, store))


def _reject(
    uow: Any,
    report: Report,
    record: InboundRecord,
    reason: str,
    field: str | None,
    message_id: str | None,
    rule: str | None = None,
) -> None:
    uow.reject(
        record.raw,
        reason,
        field,
        message_id,
        _source(record, message_id),
        record.value,
        record.key,
    )
    report.rejected.append(
        {
            "line": record.line,
            "message_id": message_id,
            "error": reason,
            "error_field": field,
            "rule": rule,
        }
    )


def file_records(lines: Iterable[bytes | str], name: str) -> Iterator[InboundRecord]:
    """A JSON-lines file's records, read as bytes (a line that is not UTF-8 is rejected with
    its number, not the end of the run); blank lines are skipped, neither accepted nor
    rejected."""
    source = safe_text(name, limit=255)
    for number, line in enumerate(lines, start=1):
        data = line if isinstance(line, bytes) else line.encode("utf-8", "surrogatepass")
        data = data.rstrip(b"\r\n")
        if data.strip():
            yield InboundRecord.from_line(data, source, number)


def batches(records: Iterable[InboundRecord], size: int) -> Iterator[list[InboundRecord]]:
    iterator = iter(records)
    while batch := list(islice(iterator, size)):
        yield batch
