"""`ledighed run`: consumers, projections, the publisher and the daily tick in one process."""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any
from uuid import UUID

from sqlalchemy import make_url

from consumers.inbound import Backoff, InboundConsumer
from consumers.records import InboundRecord
from infra import bootstrap as compose
from infra import projections
from infra.failures import describe
from infra.ingest import Report, apply_batch
from infra.kafka.publisher import Publisher
from infra.reads import feed_message
from infra.clock import Clock
from infra.tick import tick
from infra.settings import Settings
from infra.store.store import Store
from projections import handovers as handover_feed

log = logging.getLogger("ledighed.service")

"""How long the service waits for the brokers when it starts (kafka-python waits 30 s):
an address with no broker behind it is a mistake to say at once."""


@dataclass
class StoreSink:
    """The consumer's sink: `ingest`'s batch path, with the partitions' next offsets."""

    store: Store
    settings: Settings
    totals: Report = field(default_factory=Report)
    retrying: bool = False

    def apply(self, records: Sequence[InboundRecord], offsets: dict[tuple[str, int], int]) -> None:
        if self.retrying:
            # A failed attempt may have saved some records one at a time (a batch isolating
            # a fault, infra/ingest.py) with their offsets: apply only those after them.
            saved = self.store.stored_offsets(
                self.settings.kafka_group, {(r.topic, r.partition or 0) for r in records}
            )
            records = [
                r for r in records if (r.offset or 0) >= saved.get((r.topic, r.partition or 0), 0)
            ]
        self.retrying = True
        report = Report()  # a failed attempt counts nothing
        apply_batch(
            self.store,
            self.settings.rule_settings(),
            records,
            report,
            offsets,
            self.settings.kafka_group,
            self.settings.limits(),
        )
        self.retrying = False
        self.totals.add(report)

    def positions(self, partitions: Sequence[tuple[str, int]]) -> dict[tuple[str, int], int]:
        # Called on every assignment. While this instance did not own a partition, another
        # one may have changed its members (say, opened a new case); a cached member would
        # still send the next message to the old case, and nothing conflicts when no write
        # touches the stale member. So resume from the store's state, as from its offsets.
        self.store.forget()
        return self.store.stored_offsets(self.settings.kafka_group, partitions)


class Service:
    """The running service; `run()` returns when `stop()` was called (SIGTERM/SIGINT)."""

    def __init__(
        self,
        settings: Settings,
        bootstrap: str,
        report_every_s: float = 5.0,
        clock: Clock | None = None,
    ) -> None:
        self.settings = settings
        self.clock = clock or compose.clock()
        self.bootstrap = bootstrap
        self.report_every_s = report_every_s
        self.stopping = threading.Event()
        self.store = compose.store(settings.db_url)
        self.sink = StoreSink(self.store, settings)
        self.consumer = InboundConsumer(
            compose.kafka_consumer(settings, bootstrap),
            self.sink,
            settings.inbound_topics,
            settings.batch_size,
            backoff=Backoff(sleep=self._pause),
            should_stop=self.stopping.is_set,
        )
        self.publisher = Publisher(
            self.store,
            compose.kafka_producer(bootstrap),
            settings.topic_handovers,
            unpublished_handovers=self.unpublished_handovers,
            mark_handovers=self.mark_handovers,
        )
        self.read_models = list(compose.read_models(self.store).values())
        self.follow_up_backoff = Backoff(sleep=self._pause)
        self.last_tick: date | None = None
        # The latest progress numbers, for the HTTP API's /health and /metrics (another thread).
        self.status: dict[str, Any] = {}

    def stop(self, *_: Any) -> None:
        self.stopping.set()

    def install_signal_handlers(self) -> None:
        signal.signal(signal.SIGTERM, self.stop)
        signal.signal(signal.SIGINT, self.stop)

    def run(self) -> None:
        db = make_url(self.store.url).render_as_string(hide_password=True)
        log.info("service started", extra={"kafka": self.bootstrap, "db": db})
        last_report = time.monotonic()
        applied_at_report = 0
        try:
            while not self.stopping.is_set():
                self.consumer.poll_once(timeout_ms=500)
                self.follow_up()
                now = time.monotonic()
                if now - last_report >= self.report_every_s:
                    rate = (self.consumer.applied - applied_at_report) / (now - last_report)
                    self.report(rate)
                    last_report, applied_at_report = now, self.consumer.applied
        finally:
            self.close()
        log.info("service stopped", extra={"applied": self.consumer.applied})

    def follow_up(self) -> None:
        """Projections, publisher and tick after each batch. They resume from what the store
        says, so a failure (the database or the broker away) is logged and tried again
        after a pause, while the consumer goes on retrying its own way."""
        try:
            self.catch_up()
            self.publisher.publish()
            self.daily_tick()
            self.follow_up_backoff.reset()
        except Exception as error:
            log.warning(
                "follow-up failed, trying again",
                extra={"error": describe(error)},
            )
            self.follow_up_backoff.wait()

    def _pause(self, seconds: float) -> None:
        """A back-off's sleep that a stop cuts short."""
        self.stopping.wait(seconds)

    def catch_up(self) -> None:
        """Projections follow the log (the handover projection fills the outbox)."""
        projections.catch_up(self.store, chosen=self.read_models)

    def unpublished_handovers(self, limit: int) -> list[dict[str, Any]]:
        """The outbox: feed messages not yet acknowledged by the broker, in feed order."""
        with self.store.engine.connect() as conn:
            rows = handover_feed.unpublished(conn, limit)
        cprs = self.store.cprs(UUID(row.member_id) for row in rows)
        return [feed_message(r.case_id, r.payload, cprs.get(UUID(r.member_id))) for r in rows]

    def mark_handovers(self, message_ids: Sequence[str]) -> None:
        with self.store.engine.begin() as conn:
            handover_feed.mark_published(conn, message_ids)

    def daily_tick(self) -> None:
        """R16 once a day: at start and whenever the date changes."""
        today = self.clock.today()
        if self.last_tick == today:
            return
        result = tick(self.store, today, self.settings.rule_settings(), clock=self.clock)
        # Dead letters of no known member stay readable for the retention, then expire.
        self.store.expire_dead_letters(self.settings.dead_letter_retention_days)
        self.last_tick = today
        if result.exits:
            log.info("tick", extra={"on": today.isoformat(), **result.as_dict()})

    def report(self, rate: float) -> None:
        self.status = {
            "consumer_lag": self.consumer.lag(),
            "records_per_s": round(rate, 1),
            "applied": self.consumer.applied,
            "accepted": self.sink.totals.accepted,
            "duplicates": self.sink.totals.duplicates,
            "rejected": len(self.sink.totals.rejected),
            "events": self.sink.totals.events,
            "handovers_published": self.publisher.handovers_published,
            "dead_letters_published": self.publisher.dead_letters_published,
        }
        log.info("progress", extra=self.status)

    def close(self) -> None:
        try:
            self.publisher.publish()
        except Exception as error:  # no traceback: it could show SQL with CPR numbers bound
            log.warning(
                "final publish failed; the outbox keeps the rest",
                extra={"error": describe(error)},
            )
        self.consumer.close()
        self.publisher.producer.close(timeout=5)
        self.store.close()
